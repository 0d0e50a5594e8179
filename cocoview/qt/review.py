"""The evaluation of the open results file, run in a worker (qt/jobs.py) when a dataset
with results is shown; the GUI thread never waits for it. Holds the latest
:class:`cocoview.model.review.Review` for the canvas, the inspector and the docks."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, Signal, Slot

from cocoview.model.dataset import Dataset
from cocoview.model.evaluation import Evaluation
from cocoview.model.evaluation.remote import EvalProcess, Unavailable
from cocoview.model.review import Review, at_setting, iou_types
from cocoview.qt.jobs import Jobs
from cocoview.qt.state import ViewerState


def coverage_message(ds: Dataset) -> str:
    """How many results match no image of the ground truth, and why ("" : all match)."""
    res = ds.results
    if res is None:
        return ""
    total = len(res.file.anns)
    kept = len(res)
    if total == kept:
        return ""
    name = res.file.path.name
    if kept == 0:
        return (f"None of the {total:,} results in {name} matches an image of the ground "
                "truth (their image_id values are not among its image ids)")
    return (f"{total - kept:,} of the {total:,} results in {name} refer to image ids not in "
            "the ground truth; they are left out")


def _evaluate_at(ds: Dataset, report: Callable[[float], None], *, base: Evaluation | None,
                 iou_type: str, iou_thr: float, area: str,
                 proc: EvalProcess | None = None) -> tuple[Evaluation, Review]:
    """The evaluation at one setting: a new one, or ``base``'s verdicts at another IoU
    threshold / area range; with what the dock draws computed here, off the GUI thread.
    The heavy work goes to ``proc``'s child process (this thread then only waits and
    receives), in-process if it cannot."""
    report(-1.0)
    importlib.import_module("cocoview.qt.plots")  # the dock's pyqtgraph (0.5 s), off the GUI

    def poll() -> None:
        report(-1.0)  # raises Cancelled once the request is cancelled or superseded

    if base is None:
        if proc is not None:
            with contextlib.suppress(Unavailable):
                base = proc.evaluate(ds, iou_type=iou_type, poll=poll)
        if base is None:
            poll()  # not cancelled meanwhile (a shutdown ends the process too)
            base = ds.evaluate(iou_type=iou_type)
    report(0.6)
    ev: Evaluation | None = None
    if proc is not None and proc.holds(base):
        with contextlib.suppress(Unavailable):
            ev = proc.at_setting(base, iou_thr, area, poll=poll)
    if ev is None:
        poll()
        ev = at_setting(base, iou_thr, area)
    review = Review(ds, ev)
    report(0.8)
    return base, review.prepare()


class ReviewController(QObject):
    """Evaluates ``state``'s dataset when it has results; ``reviewChanged`` carries the
    :class:`Review` (None: no results, or the evaluation failed)."""

    reviewChanged = Signal(object)
    #: a message for the status bar (coverage, progress, failures)
    message = Signal(str)
    #: an evaluation is under way (True) or over (False)
    busyChanged = Signal(bool)
    #: its fraction done (-1: unknown)
    progress = Signal(float)

    def __init__(self, state: ViewerState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.review: Review | None = None
        self.jobs = Jobs(self)
        #: what the next evaluation computes: IoU type, the verdicts' IoU threshold and area
        self.iou_type, self.iou_thr, self.area = "bbox", 0.5, "all"
        self._bases: dict[str, Evaluation] = {}  # per IoU type: its full evaluation
        #: the child process that evaluates (the GUI process keeps its GIL)
        self.process = EvalProcess()
        self.destroyed.connect(self.process.close)
        state.datasetChanged.connect(self._dataset_changed)

    def running(self) -> bool:
        return self.jobs.running("evaluate")

    def cancel(self) -> None:
        self.jobs.cancel("evaluate")
        self.busyChanged.emit(False)
        self.message.emit("Evaluation cancelled")

    def iou_types(self) -> tuple[str, ...]:
        """The IoU types the open results support."""
        ds = self.state.dataset
        return iou_types(ds) if ds is not None else ()

    def evaluate(self, iou_type: str | None = None, iou_thr: float | None = None,
                 area: str | None = None) -> None:
        """Evaluate at another setting, in the worker (the newest request wins). Another
        IoU threshold or area range of an evaluated IoU type only recomputes the verdicts."""
        ds = self.state.dataset
        self.iou_type = iou_type or self.iou_type
        self.iou_thr = float(iou_thr) if iou_thr is not None else self.iou_thr
        self.area = area or self.area
        if ds is None or ds.results is None or len(ds.results) == 0:
            return
        fn: Callable[..., tuple[Evaluation, Review]] = partial(
            _evaluate_at, base=self._bases.get(self.iou_type), iou_type=self.iou_type,
            iou_thr=self.iou_thr, area=self.area, proc=self.process)
        self.jobs.submit(ds, fn, self._set_evaluated, self._failed, channel="evaluate",
                         on_progress=self.progress.emit)
        self.busyChanged.emit(True)

    @Slot()
    def _dataset_changed(self) -> None:
        self.jobs.cancel("evaluate")
        self._set(None)
        ds = self.state.dataset
        if ds is None or ds.results is None:
            self.process.close()  # what it holds belongs to the previous dataset
            return
        cover = coverage_message(ds)
        if cover:
            self.message.emit(cover)
        if len(ds.results) == 0:
            return
        self._bases = {}
        types = iou_types(ds)
        self.iou_type = "bbox" if "bbox" in types or not types else types[0]
        self.evaluate()  # fn(ds, report): Cancel ends it at a report
        if not cover:
            self.message.emit(f"Evaluating {len(ds.results):,} detections…")

    def _set_evaluated(self, out: tuple[Evaluation, Review]) -> None:
        base, review = out
        self._bases[base.iou_type] = base
        self.busyChanged.emit(False)
        self._set(review)

    def _set(self, review: Review | None) -> None:
        self.review = review
        self.reviewChanged.emit(review)
        if review is not None:
            c = review.counts(self.state.min_score)
            ev = review.evaluation
            self.message.emit(f"Evaluated {ev.iou_type} at IoU {ev.iou_thr:.2f}, min score "
                              f"{self.state.min_score:.2f}: {c['tp']:,} TP, {c['fp']:,} FP, "
                              f"{c['gt_missed']:,} missed GT")

    def _failed(self, exc: Exception) -> None:
        self.busyChanged.emit(False)
        self.message.emit(f"Evaluation failed: {exc}")

    def shutdown(self) -> None:
        self.jobs.cancel()
        self.process.close()  # a job waiting on it gives up
        self.jobs.wait(5000)
