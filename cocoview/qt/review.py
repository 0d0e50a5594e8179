"""The evaluation of the open results file, run in a worker (qt/jobs.py) when a dataset
with results is shown; the GUI thread never waits for it. Holds the latest
:class:`cocoview.model.review.Review` for the canvas, the inspector and the docks."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from cocoview.model.compare import Comparison
from cocoview.model.dataset import Dataset, Results
from cocoview.model.errors import CocoFormatError
from cocoview.model.evaluation import Evaluation
from cocoview.model.evaluation.remote import EvalProcess, Unavailable
from cocoview.model.loader import load_file
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


def _evaluate_at(ds: Dataset, report: Callable[[float], None], *,
                 models: dict[str, tuple[Results, Evaluation | None]], iou_type: str,
                 iou_thr: float, area: str, proc: EvalProcess | None = None,
                 min_score: float | None = None
                 ) -> tuple[dict[str, tuple[Evaluation, Review]], list[str]]:
    """Each model's evaluation at one setting: a new one, or its ``base``'s verdicts at
    another IoU threshold / area range; with what the dock draws computed here, off the
    GUI thread. ``models``: "a" (and "b") → (its results, its base evaluation or None).
    Model B that cannot be evaluated so (e.g. segm of box-only results) is left out and
    said in the notes; model A's failure is the job's. The heavy work of the model the
    dataset draws (``ds.results``) goes to ``proc``'s child process (this thread then
    only waits and receives), in-process if it cannot. ``min_score``: the operating point
    at the request, whose counts and tables the views will ask for first."""
    report(-1.0)
    importlib.import_module("cocoview.qt.plots")  # the dock's pyqtgraph (0.5 s), off the GUI

    def poll() -> None:
        report(-1.0)  # raises Cancelled once the request is cancelled or superseded

    out: dict[str, tuple[Evaluation, Review]] = {}
    notes: list[str] = []
    for k, (key, (res, base)) in enumerate(models.items()):
        remote = proc if proc is not None and res is ds.results else None
        try:
            if base is None and remote is not None:
                with contextlib.suppress(Unavailable):
                    base = remote.evaluate(ds, iou_type=iou_type, poll=poll)
            if base is None:
                poll()  # not cancelled meanwhile (a shutdown ends the process too)
                base = ds.evaluate(res.file, iou_type=iou_type)
        except ValueError as exc:
            if key == "a":
                raise
            notes.append(f"Model B ({res.file.path.name}) not compared: {exc}")
            continue
        ev: Evaluation | None = None
        if remote is not None and remote.holds(base):
            with contextlib.suppress(Unavailable):
                ev = remote.at_setting(base, iou_thr, area, poll=poll)
        if ev is None:
            poll()
            ev = at_setting(base, iou_thr, area)
        out[key] = (base, Review(ds, ev, results=res).prepare(min_score))
        report((k + 1) / len(models))
    if len(out) == 2:
        comp = Comparison(out["a"][1].evaluation, out["b"][1].evaluation)
        for _base, rv in out.values():
            rv.comparison = comp
    return out, notes


def _load_other(ds: Dataset, report: Callable[[float], None], *, path: Path) -> Results:
    """Model B's results file, indexed and matched to the images (in the worker)."""
    report(-1.0)
    f = load_file(path)
    if not f.is_list and f.kind != "results":
        raise CocoFormatError(f.path, "not a results file (expected a JSON list of "
                              "detections)", 0)
    return Results(ds, f)


#: an edit re-runs the evaluation once no other edit came for this long (ms)
EDIT_DEBOUNCE_MS = 300


class ReviewController(QObject):
    """Evaluates ``state``'s dataset when it has results; ``reviewChanged`` carries the
    :class:`Review` of the model on the canvas (None: no results, or the evaluation
    failed). A second results file (:meth:`add_comparison`, model B) is evaluated at the
    same setting beside the first (model A); :meth:`show` puts either on the canvas."""

    reviewChanged = Signal(object)
    #: a message for the status bar (coverage, progress, failures)
    message = Signal(str)
    #: an evaluation is under way (True) or over (False)
    busyChanged = Signal(bool)
    #: its fraction done (-1: unknown)
    progress = Signal(float)
    #: model A vs B: the :class:`Comparison` (None: one results file)
    comparisonChanged = Signal(object)
    #: the model on the canvas changed ("a" / "b"): ``ds.results`` is now its detections
    shownChanged = Signal(str)

    def __init__(self, state: ViewerState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.review: Review | None = None
        self.jobs = Jobs(self)
        #: what the next evaluation computes: IoU type, the verdicts' IoU threshold and area
        self.iou_type, self.iou_thr, self.area = "bbox", 0.5, "all"
        #: the results files: "a" (opened with the dataset), "b" (added for comparison)
        self.models: dict[str, Results] = {}
        #: the model whose detections the canvas draws ("a" / "b")
        self.shown = "a"
        self.reviews: dict[str, Review] = {}
        self.comparison: Comparison | None = None
        self._bases: dict[tuple[str, str], Evaluation] = {}  # (model, IoU type) → full
        #: the child process that evaluates (the GUI process keeps its GIL)
        self.process = EvalProcess()
        self.destroyed.connect(self.process.close)
        state.datasetChanged.connect(self._dataset_changed)
        # the "Evaluated …" line gives the counts at the operating point: it follows
        state.minScoreChanged.connect(lambda _s: self._say_evaluated())
        #: an edit (or undo) evaluates again once the edits pause (issue 17)
        self._after_edits = QTimer(self)
        self._after_edits.setSingleShot(True)
        self._after_edits.setInterval(EDIT_DEBOUNCE_MS)
        self._after_edits.timeout.connect(self._evaluate_edited)
        state.edited.connect(self._edited)

    def running(self) -> bool:
        return self.jobs.running("evaluate") or self.jobs.running("compare")

    def cancel(self) -> None:
        self.jobs.cancel("evaluate")
        self.jobs.cancel("compare")
        self.busyChanged.emit(False)
        self.message.emit("Evaluation cancelled")

    def iou_types(self) -> tuple[str, ...]:
        """The IoU types the open results support."""
        ds = self.state.dataset
        return iou_types(ds) if ds is not None else ()

    def names(self) -> dict[str, str]:
        """Each model's file name ("a" / "b" → name)."""
        return {k: r.file.path.name for k, r in self.models.items()}

    def evaluate(self, iou_type: str | None = None, iou_thr: float | None = None,
                 area: str | None = None) -> None:
        """Evaluate at another setting, in the worker (the newest request wins). Another
        IoU threshold or area range of an evaluated IoU type only recomputes the verdicts."""
        ds = self._ground_truth()
        self.iou_type = iou_type or self.iou_type
        self.iou_thr = float(iou_thr) if iou_thr is not None else self.iou_thr
        self.area = area or self.area
        if ds is None or not self.models or len(self.models["a"]) == 0:
            return
        models = {k: (r, self._bases.get((k, self.iou_type))) for k, r in self.models.items()
                  if len(r)}
        fn: Callable[..., tuple[dict[str, tuple[Evaluation, Review]], list[str]]] = partial(
            _evaluate_at, models=models, iou_type=self.iou_type, iou_thr=self.iou_thr,
            area=self.area, proc=self.process if ds is self.state.dataset else None,
            min_score=self.state.min_score)
        self.jobs.submit(ds, fn, self._set_evaluated, self._failed, channel="evaluate",
                         on_progress=self.progress.emit)
        self.busyChanged.emit(True)

    def _ground_truth(self) -> Dataset | None:
        """What the detections are evaluated against: the dataset as the edits make it
        (the opened one while nothing is edited)."""
        return self.state.view

    def _edited(self, _edit: object) -> None:
        """An edit or an undo: evaluate again on the edited data, once edits pause."""
        if self.models and self.state.dataset is not None:
            self._after_edits.start()

    def _evaluate_edited(self) -> None:
        """Every evaluation made again on the edited ground truth (newest wins). It runs
        in this process: the child evaluates a file it opens, and the edits are not in
        any file (see docs/decisions/edits.md)."""
        if not self.models or self.state.dataset is None:
            return
        self._bases = {}
        self.evaluate()

    def add_comparison(self, path: Path) -> None:
        """Open a second results file (model B) beside the first and evaluate both."""
        ds = self.state.dataset
        if ds is None or "a" not in self.models:
            self.message.emit("Open a dataset with a results file first (model A)")
            return
        self.jobs.submit(ds, partial(_load_other, path=Path(path)), self._other_loaded,
                         lambda exc: self._failed(exc, f"Could not open {Path(path).name} "
                                                       "for comparison"),
                         channel="compare", on_progress=self.progress.emit)
        self.busyChanged.emit(True)
        self.message.emit(f"Opening {Path(path).name} for comparison…")

    def _other_loaded(self, res: Results) -> None:
        if self.shown == "b":
            self.show("a")
        self.models["b"] = res
        self._bases = {k: v for k, v in self._bases.items() if k[0] != "b"}
        self.reviews.pop("b", None)
        self._set_comparison(None)
        for p in res.problems:
            self.message.emit(f"{res.file.path.name}: {p.message}")
        if len(res) == 0:
            del self.models["b"]
            self.busyChanged.emit(False)
            return
        self.evaluate()

    def remove_comparison(self) -> None:
        """Back to one results file (model A)."""
        if "b" not in self.models:
            return
        self.show("a")
        del self.models["b"]
        self.reviews.pop("b", None)
        self._bases = {k: v for k, v in self._bases.items() if k[0] != "b"}
        self._set_comparison(None)
        for rv in self.reviews.values():
            rv.comparison = None
        if self.review is not None:
            self._set(self.review)

    def show(self, which: str) -> None:
        """Draw model ``which``'s detections ("a" / "b") and review them."""
        ds = self.state.dataset
        if ds is None or which not in self.models or which == self.shown:
            return
        self.state.select(-1)  # a detection row of the other file means nothing here
        self.shown = which
        ds.results = self.models[which]
        self.shownChanged.emit(which)
        rv = self.reviews.get(which)
        if rv is not None:
            self._set(rv)
        self.message.emit(f"Showing model {which.upper()}: {self.names()[which]}")

    def toggle_shown(self) -> None:
        """The other model on the canvas (the A/B shortcut)."""
        if "b" not in self.models:
            self.message.emit("One results file: File ▸ Add Results for Comparison… opens "
                              "a second one (model B)")
            return
        self.show("b" if self.shown == "a" else "a")

    @Slot()
    def _dataset_changed(self) -> None:
        self._after_edits.stop()
        self.jobs.cancel("evaluate")
        self.jobs.cancel("compare")
        self.models, self.reviews, self.shown, self._bases = {}, {}, "a", {}
        self._set_comparison(None)
        self._set(None)
        ds = self.state.dataset
        if ds is None or ds.results is None:
            self.process.close()  # what it holds belongs to the previous dataset
            return
        self.models["a"] = ds.results
        cover = coverage_message(ds)
        if cover:
            self.message.emit(cover)
        if len(ds.results) == 0:
            return
        types = iou_types(ds)
        self.iou_type = "bbox" if "bbox" in types or not types else types[0]
        self.evaluate()  # fn(ds, report): Cancel ends it at a report
        if not cover:
            self.message.emit(f"Evaluating {len(ds.results):,} detections…")

    def _set_evaluated(self, done: tuple[dict[str, tuple[Evaluation, Review]],
                                         list[str]]) -> None:
        out, notes = done
        for key, (base, review) in out.items():
            self._bases[(key, base.iou_type)] = base
            self.reviews[key] = review
        if "b" not in out:
            self.reviews.pop("b", None)
            if self.shown == "b":
                self.show("a")
        self.busyChanged.emit(False)
        comp = out["a"][1].comparison
        if comp is not None:
            names = self.names()
            comp.names = (names["a"], names["b"])
        self._set_comparison(comp)
        shown = out.get(self.shown) or out["a"]
        self._set(shown[1])
        for note in notes:  # after the counts: the status bar shows the last message
            self.message.emit(note)

    def _set_comparison(self, comp: Comparison | None) -> None:
        if comp is not self.comparison:
            self.comparison = comp
            self.comparisonChanged.emit(comp)

    def _set(self, review: Review | None) -> None:
        self.review = review
        self.reviewChanged.emit(review)
        self._say_evaluated()

    def evaluated_text(self) -> str:
        """The status line of the review on the canvas: its setting and the TP / FP /
        missed GT counts at the current min score ("" : no review)."""
        review = self.review
        if review is None:
            return ""
        c = review.counts(self.state.min_score)
        ev = review.evaluation
        which = f"model {self.shown.upper()}: " if self.comparison is not None else ""
        return (f"Evaluated {which}{ev.iou_type} at IoU {ev.iou_thr:.2f}, min score "
                f"{self.state.min_score:.2f}: {c['tp']:,} TP, {c['fp']:,} FP, "
                f"{c['gt_missed']:,} missed GT")

    def _say_evaluated(self) -> None:
        text = self.evaluated_text()
        if text:
            self.message.emit(text)

    def _failed(self, exc: Exception, what: str = "Evaluation failed") -> None:
        self.busyChanged.emit(False)
        self.message.emit(f"{what}: {exc}")

    def shutdown(self) -> None:
        self.jobs.cancel()
        self.process.close()  # a job waiting on it gives up
        self.jobs.wait(5000)
