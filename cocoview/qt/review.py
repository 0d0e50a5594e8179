"""The evaluation of the open results file, run in a worker (qt/jobs.py) when a dataset
with results is shown; the GUI thread never waits for it. Holds the latest
:class:`cocoview.model.review.Review` for the canvas, the inspector and the docks."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from cocoview.model.dataset import Dataset
from cocoview.model.review import Review
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


def _evaluate(ds: Dataset, report: Callable[[float], None]) -> Review:
    report(-1.0)
    ev = ds.evaluate(iou_type="bbox")
    report(0.9)
    return Review(ds, ev)


class ReviewController(QObject):
    """Evaluates ``state``'s dataset when it has results; ``reviewChanged`` carries the
    :class:`Review` (None: no results, or the evaluation failed)."""

    reviewChanged = Signal(object)
    #: a message for the status bar (coverage, progress, failures)
    message = Signal(str)

    def __init__(self, state: ViewerState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.review: Review | None = None
        self.jobs = Jobs(self)
        state.datasetChanged.connect(self._dataset_changed)

    def running(self) -> bool:
        return self.jobs.running("evaluate")

    def cancel(self) -> None:
        self.jobs.cancel("evaluate")
        self.message.emit("Evaluation cancelled")

    @Slot()
    def _dataset_changed(self) -> None:
        self.jobs.cancel("evaluate")
        self._set(None)
        ds = self.state.dataset
        if ds is None or ds.results is None:
            return
        cover = coverage_message(ds)
        if cover:
            self.message.emit(cover)
        if len(ds.results) == 0:
            return
        fn: Callable[..., Review] = _evaluate  # fn(ds, report): Cancel ends it at a report
        self.jobs.submit(ds, fn, self._set, self._failed, channel="evaluate",
                         on_progress=lambda _f: None)
        if not cover:
            self.message.emit(f"Evaluating {len(ds.results):,} detections…")

    def _set(self, review: Review | None) -> None:
        self.review = review
        self.reviewChanged.emit(review)
        if review is not None:
            c = review.counts(self.state.min_score)
            self.message.emit(f"Evaluated at IoU {review.evaluation.iou_thr:.2f}, min score "
                              f"{self.state.min_score:.2f}: {c['tp']:,} TP, {c['fp']:,} FP, "
                              f"{c['gt_missed']:,} missed GT")

    def _failed(self, exc: Exception) -> None:
        self.message.emit(f"Evaluation failed: {exc}")

    def shutdown(self) -> None:
        self.jobs.cancel()
        self.jobs.wait(5000)
