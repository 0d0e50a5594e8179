"""The current image filter: one object the filter panel and the category tree both edit.

:class:`FilterModel` holds an :class:`~cocoview.model.filters.ImageFilter`,
emits :attr:`FilterModel.changed` at once on every edit and applies the filter
to :class:`ViewerState` after a short pause (``state.set_image_list``). The two
slow criteria (image file missing, validation problems) are computed once per
dataset in a worker, with progress, before a filter that needs them is applied.
The filter lives for the session and is forgotten when another dataset opens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from cocoview.model import filter_index
from cocoview.model.dataset import Dataset
from cocoview.model.edited import edited_filter
from cocoview.model.filters import FilterExtras, ImageFilter, Match, Slow
from cocoview.model.filters import filter_images as _filter_images
from cocoview.qt.jobs import Jobs
from cocoview.qt.state import ViewerState

log = logging.getLogger(__name__)

#: what the worker is doing, shown beside its progress
SLOW_TEXT: dict[Slow, str] = {"missing": "Checking image files…",
                              "problems": "Validating the dataset…",
                              "review": "Evaluating the results…"}
DELAY_MS = 150
#: from this many annotations on, the filter is computed in the worker (train2017's
#: 860 k take ~5 ms on the GUI thread; 20 M took ~200 ms, a visible stall)
ASYNC_MIN_ANNOTATIONS = 2_000_000


def _compute_extra(ds: Dataset, report: Callable[[float], None], extras: FilterExtras,
                   what: Slow) -> None:
    """Compute one slow criterion into ``extras`` (cached there for the dataset)."""
    if what == "missing":
        extras.missing_files(ds, report)
    elif what == "review":
        report(-1.0)
        extras.review_of(ds)
    else:
        report(-1.0)
        extras.problem_images(ds)


def _index_job(ds: Dataset, what: str) -> None:
    """Build the filter index's order ``what``, or page the index in (``warm``)."""
    index = filter_index.index_of(ds)
    if index is None:
        return
    if what == "warm":
        index.warm()
    else:
        index.build(what)


def needed_slow(flt: ImageFilter) -> list[Slow]:
    """The slow criteria ``flt`` uses (the criteria registry knows)."""
    return flt.slow()


def _built(_none: None) -> None:
    pass


def _not_built(exc: Exception) -> None:
    # only an accelerator: the filters scan instead (a full disk, a file gone meanwhile)
    log.warning("the filter index was not built: %s: %s", type(exc).__name__, exc)


class FilterModel(QObject):
    """The session's image filter; applies itself to the viewer state (debounced)."""

    #: the filter was edited (the new :class:`ImageFilter`); emitted at once
    changed = Signal(object)
    #: the filter was applied: matching images, images in the dataset
    applied = Signal(int, int)
    #: a slow criterion is being computed: its description ("" when the worker is idle)
    busyChanged = Signal(str)
    #: fraction of the slow criterion done (-1: unknown)
    progress = Signal(float)
    #: a slow criterion could not be computed (message)
    failed = Signal(str)
    #: whether the browsed image list still follows the filter (it does not after, e.g.,
    #: a double-click in the category tree set another list)
    followingChanged = Signal(bool)

    def __init__(self, state: ViewerState, parent: QObject | None = None,
                 delay_ms: int = DELAY_MS) -> None:
        super().__init__(parent)
        self.state = state
        self._state = state
        self._applied_filter = ImageFilter()  # what the browsed list was made from
        self._extras = FilterExtras(min_score=state.min_score)
        self._ready: set[Slow] = set()
        self._waiting = False  # an apply waits for a slow criterion
        self._applying = False  # we are the ones setting state.image_list
        self._label = "all images"  # the label of the list we set last
        self.following = True
        self.matched = len(state.image_list)
        self._jobs = Jobs(self)  # one thread: the frame workers need the other core
        # its own thread: a filter never waits behind an index build (once per file)
        self._index_jobs = Jobs(self)
        self.computing = False  # an asynchronous apply is under way
        self._pending_filter = ImageFilter()  # the filter it computes
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.apply_now)
        state.model.filter_changed.connect(self._model_filter_changed)
        state.datasetChanged.connect(self._dataset_changed)
        state.imageListChanged.connect(self._list_changed)
        state.minScoreChanged.connect(self._min_score_changed)

    # ----- reading ------------------------------------------------------
    @property
    def filter(self) -> ImageFilter:
        return self._state.model.filter

    @property
    def dataset(self) -> Dataset | None:
        return self._state.dataset

    @property
    def list_is_result(self) -> bool:
        """Whether the browsed list is this filter's result as applied (not narrowed by
        a search): then its length is the match count, deleted images gone (issue 17)."""
        return self.following and self._state.image_list_label == self._label

    def describe(self) -> str:
        return self.filter.describe(self._state.dataset)

    def busy(self) -> str:
        """What the worker is computing ("" when idle)."""
        for what in SLOW_TEXT:
            if self._jobs.running(f"slow:{what}"):
                return SLOW_TEXT[what]
        return "Filtering…" if self.computing else ""

    def idle(self) -> bool:
        """No result is still to come (tests wait for this)."""
        return self._jobs.idle()

    def is_ready(self, what: Slow) -> bool:
        """Whether the slow criterion ``what`` is known for the open dataset."""
        return what in self._ready

    # ----- editing ------------------------------------------------------
    def set_filter(self, flt: ImageFilter, immediate: bool = False) -> None:
        """Replace the filter; it is applied after a short pause (or now)."""
        self._state.model.set_filter(flt)  # the model's event re-emits ``changed``
        if immediate:
            self.apply_now()
        elif flt != self._applied_filter or not self.following:
            self._timer.start()

    def _model_filter_changed(self, flt: ImageFilter) -> None:
        self.changed.emit(flt)

    def update(self, **changes: Any) -> None:
        """Change some criteria, e.g. ``update(crowd="without")``."""
        self.set_filter(self.filter.with_(**changes))

    def clear(self) -> None:
        """No filter: every image (applied at once)."""
        self.set_filter(ImageFilter(), immediate=True)

    def set_categories(self, category_ids: list[int] | tuple[int, ...], match: Match,
                       immediate: bool = False) -> None:
        self.set_filter(self.filter.with_(categories=tuple(dict.fromkeys(category_ids)),
                                           match=match), immediate)

    def show_with(self, category_ids: list[int]) -> None:
        """Images with any of ``category_ids`` (other criteria are kept)."""
        self.set_categories(category_ids, "any", immediate=True)

    def require(self, category_id: int) -> None:
        """Images that also have ``category_id``: the categories so far plus it, mode *all*.

        From a *none* filter it starts afresh (excluded categories cannot be required).
        """
        cats = () if self.filter.match == "none" else self.filter.categories
        self.set_categories((*cats, category_id), "all", immediate=True)

    def exclude(self, category_ids: list[int]) -> None:
        """Images without ``category_ids``: added to a *none* filter, else a new one."""
        cats = self.filter.categories if self.filter.match == "none" else ()
        self.set_categories((*cats, *category_ids), "none", immediate=True)

    # ----- applying -----------------------------------------------------
    @Slot()
    def apply_now(self) -> None:
        """Apply the filter to the viewer state now (after the slow criteria are known)."""
        self._timer.stop()
        ds = self._state.view  # the edited data (issue 17)
        if ds is None:
            return
        flt = self.filter
        edits = self._state.model.edits
        filter_images = _filter_images if edits is None else partial(
            edited_filter, image_deleted=edits.image_deleted.copy())
        missing = [w for w in needed_slow(flt) if w not in self._ready]
        if missing:
            self._waiting = True
            self._compute(ds, missing)
            return
        self._waiting = False
        if len(ds.anns) >= ASYNC_MIN_ANNOTATIONS:
            self._pending_filter = flt
            self._set_computing(True)
            self._jobs.submit(ds, partial(filter_images, flt=flt, extras=self._extras),
                              self._apply_done, self._apply_failed, channel="apply",
                              priority=1)  # ahead of a queued slow criterion
            return
        self._jobs.cancel("apply")  # an older, slower answer must not replace this one
        self._set_computing(False)
        self._show(ds, flt, filter_images(ds, flt, self._extras))

    def _apply_done(self, ids: Any) -> None:
        self._set_computing(False)
        ds = self._state.dataset
        if ds is not None:
            self._show(ds, self._pending_filter, ids)

    def _apply_failed(self, exc: Exception) -> None:
        self._set_computing(False)
        self.failed.emit(f"filtering failed: {type(exc).__name__}: {exc}")

    def _set_computing(self, on: bool) -> None:
        if on != self.computing:
            self.computing = on
            self.busyChanged.emit(self.busy())

    def _show(self, ds: Dataset, flt: ImageFilter, ids: Any) -> None:
        self._applied_filter = flt
        self._label = flt.describe(ds)
        self.matched = len(ids)
        self._applying = True
        try:
            self._state.set_image_list(ids, self._label)
        finally:
            self._applying = False
        self._set_following(True)
        self.applied.emit(len(ids), len(ds.image_ids))

    def _compute(self, ds: Dataset, which: list[Slow]) -> None:
        for what in which:
            if self._jobs.running(f"slow:{what}"):
                continue
            self._jobs.submit(ds, partial(_compute_extra, extras=self._extras, what=what),
                              partial(self._slow_done, what), partial(self._slow_failed, what),
                              channel=f"slow:{what}", on_progress=self.progress.emit)
        self.busyChanged.emit(self.busy())

    def _slow_done(self, what: Slow, _none: None) -> None:
        self._ready.add(what)
        self.busyChanged.emit(self.busy())
        if self._waiting and not self.busy():
            self.apply_now()

    def _slow_failed(self, what: Slow, exc: Exception) -> None:
        self._waiting = False
        self.busyChanged.emit(self.busy())
        self.failed.emit(f"{SLOW_TEXT[what].rstrip('…')} failed: {type(exc).__name__}: {exc}")

    # ----- the review criteria (has FP / has missed) ------------------------
    def set_review(self, review: Any) -> None:
        """The evaluation the app made (``ReviewController.reviewChanged``): the review
        criteria use it instead of evaluating once more (None: forget it)."""
        self._extras.review = review
        self._extras.min_score = self._state.min_score
        if review is None:
            self._ready.discard("review")
            return
        self._jobs.cancel("slow:review")
        self._ready.add("review")
        if self._waiting or any(c == "review" for c in needed_slow(self.filter)):
            self.apply_now()

    def _min_score_changed(self, value: float) -> None:
        """The operating point moved: the review criteria count again."""
        self._extras.min_score = float(value)
        if "review" in needed_slow(self.filter) and self.following:
            self._timer.start()

    def cancel(self) -> None:
        """Stop waiting for slow criteria (a running one stops at its next progress report,
        or finishes unseen)."""
        for what in SLOW_TEXT:
            self._jobs.cancel(f"slow:{what}")
        self._waiting = False
        self.busyChanged.emit("")

    def cancel_slow(self) -> None:
        """Give up the slow criteria not computed yet: they leave the filter."""
        self.cancel()
        drop: dict[str, Any] = {}
        if "missing" not in self._ready:
            drop["file_missing"] = None
        if "problems" not in self._ready:
            drop["has_problems"] = None
            drop["problem"] = None
        if "review" not in self._ready:
            drop["has_fp"] = None
            drop["has_missed"] = None
            drop["compare"] = None
        self.set_filter(self.filter.with_(**drop), immediate=True)

    def shutdown(self, msecs: int = 5000) -> bool:
        """Cancel the workers and wait for them (call from the window's closeEvent)."""
        self._timer.stop()
        self.cancel()
        self._jobs.cancel()
        self._index_jobs.cancel()
        return self._jobs.wait(msecs) and self._index_jobs.wait(msecs)

    # ----- following the state --------------------------------------------
    def _dataset_changed(self) -> None:
        """A new dataset: a fresh filter and fresh caches (the state shows every image)."""
        self.cancel()
        self._timer.stop()
        self._jobs.cancel()  # an apply under way belongs to the old dataset
        self._index_jobs.cancel()
        self.computing = False
        self._extras = FilterExtras(min_score=self._state.min_score)
        self._ready = set()
        self._applied_filter = ImageFilter()
        self._label = "all images"
        self.matched = len(self._state.image_list)
        self._state.model.set_filter(ImageFilter())  # (cleared by the model already)
        self._set_following(True)
        ds = self._state.dataset
        self.applied.emit(self.matched, len(ds.image_ids) if ds is not None else 0)
        self._build_index(ds)

    def _build_index(self, ds: Dataset | None) -> None:
        """At 20 M annotations, order the rows by category and box size behind the other
        work (~1 s each, once per file: kept in the index cache), so that later filters
        read only the rows they can keep (:mod:`cocoview.model.filter_index`)."""
        index = filter_index.index_of(ds) if ds is not None else None
        if ds is None or index is None:
            return
        for what in [*index.missing(), "warm"]:  # the page-in last
            self._index_jobs.submit(ds, partial(_index_job, what=what), _built, _not_built,
                                    channel=f"index:{what}", priority=-1)

    def _list_changed(self) -> None:
        if self._applying:
            return
        label = self._state.image_list_label
        # the image browser's search narrows our list and says so: "ours; name contains …"
        ours = label == self._label or label.startswith(self._label + ";") or (
            self._label == "all images" and label.startswith("name "))
        self._set_following(ours)

    def _set_following(self, on: bool) -> None:
        if on != self.following:
            self.following = on
            self.followingChanged.emit(on)
