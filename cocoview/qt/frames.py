"""Frames: an image decoded and its masks composited, in worker threads, cached, prefetched.

The GUI thread only asks for a frame and receives it through a queued signal;
decoding (image file, masks, RLEs) and compositing never run on it. Masks are
blended into a copy of the image in the worker (one opaque pixmap to paint:
~0.5 ms instead of ~2 ms for a translucent overlay pixmap at 1280×900). A frame
that arrives for an image the user has already left is cached, not shown.
Decoding is the model's (:func:`cocoview.model.images.open_image`): damaged,
huge or outside-the-folder files give a placeholder and a message, a picture
shown anyway with a problem (truncated, other size than the JSON) a notice.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPolygonF

from cocoview.model.dataset import Dataset
from cocoview.model.images import (
    LARGE_PIXELS,
    MAX_PIXELS,
    Decoded,
    decode,
    open_image,
    placeholder,
)
from cocoview.model.look import Look, apply_colors, blend_masks, item_key
from cocoview.model.overlays import Overlays, edited_items
from cocoview.qt.canvas_items import polygons_of
from cocoview.qt.jobs import Jobs
from cocoview.qt.qimage import bgrx_to_qimage

__all__ = ["LARGE_PIXELS", "MAX_PIXELS", "Frame", "FrameLoader", "composite", "decode_image"]
#: what the placeholder adds for a file the user may choose to open
OUTSIDE_HINT = "\n\nFile → Allow Images Outside the Images Folder opens it."
MISSING_HINT = "\n\nFile → Set Images Folder… (Ctrl+I) points the dataset at its images."

#: what a composite was made for: hidden categories, opacity in 1/100, detections shown,
#: detections' minimum score in 1/100
DEFAULT_LOOK = Look()


@dataclass
class Frame:
    """What the canvas needs for one image."""

    image_id: int
    width: int  # the JSON's size (scene coordinates)
    height: int
    base: QImage  # the image (or a grey placeholder), Format_RGB32
    error: str  # why the image could not be shown ("" if it was)
    overlays: Overlays
    composite: QImage | None = None  # base with the masks blended in (None: no masks)
    look: Look | None = None
    #: outlines as QPolygonF (value types: built in the worker), by look.item_key
    polys: dict[int, list[QPolygonF]] = field(default_factory=dict)
    base_bgrx: np.ndarray | None = field(default=None, repr=False)
    notice: str = ""  # what is wrong with a picture shown anyway (truncated, other size)
    file_missing: bool = False  # no file at the path: the canvas offers Set Images Folder
    #: shown at once after an edit (outlines, boxes, labels edited; the masks' fill the
    #: frame's until the worker's frame comes: see :func:`provisional`)
    provisional: bool = False

    @property
    def nbytes(self) -> int:
        n = self.base.sizeInBytes()
        if self.composite is not None:
            n += self.composite.sizeInBytes()
        if self.base_bgrx is not None:
            n += self.base_bgrx.nbytes
        return int(n)


def decode_image(path: Path | None, width: int = -1,
                 height: int = -1) -> tuple[np.ndarray | None, str]:
    """Decode an image file to BGRX (``QImage.Format_RGB32`` bytes), reduced if huge.

    ``width`` × ``height`` is the JSON's size (for the EXIF-orientation rule).
    Returns (pixels, "") or (None, why not).
    """
    d = decode(path, width, height, max_pixels=LARGE_PIXELS)
    return _bgrx(d), d.error


def _bgrx(d: Decoded) -> np.ndarray | None:
    return None if d.rgb is None else cv2.cvtColor(d.rgb, cv2.COLOR_RGB2BGRA)


def composite(base_bgrx: np.ndarray, overlays: Overlays, visible: set[int] | None,
              look: Look) -> QImage | None:
    """The base image with the visible masks blended in (None: no masks at all)."""
    apply_colors(overlays.items, look.by_instance)  # the outlines and boxes follow
    if not any(it.has_mask for it in overlays.items):
        return None
    layer = overlays.mask_layer(categories=visible, opacity=1.0, results=look.results,
                                min_score=look.min_score)
    return bgrx_to_qimage(blend_masks(base_bgrx, layer, look.opacity))


def _make_frame(ds: Dataset, image_id: int, look: Look, allow_outside: bool) -> Frame:
    """Everything the canvas needs for one image, made in a worker."""
    row = ds.image_row(image_id)
    d = open_image(ds, image_id, allow_outside=allow_outside, max_pixels=LARGE_PIXELS)
    ov = ds.overlays(image_id)
    if (int(ds.image_width[row]) <= 0 or int(ds.image_height[row]) <= 0) and d.size:
        ov.width, ov.height = d.size  # no size in the JSON: the picture's
    w, h = ov.width, ov.height
    bgrx = _bgrx(d)
    if bgrx is None:
        bgrx = cv2.cvtColor(placeholder(w, h, LARGE_PIXELS), cv2.COLOR_RGB2BGRA)
    error = d.error
    if d.failure is not None and d.failure.code == "image-path-outside":
        error += OUTSIDE_HINT
    elif d.failure is not None and d.failure.code == "image-missing":
        error += MISSING_HINT
    comp = composite(bgrx, ov, look.categories(ds), look)
    polys = {item_key(it.row, it.is_result): polygons_of(it) for it in ov.items}
    return Frame(image_id, w, h, bgrx_to_qimage(bgrx), error, ov, comp, look, polys, bgrx,
                 d.notice, d.failure is not None and d.failure.code == "image-missing")


def _remake_overlays(ds: Dataset, frame: Frame, look: Look) -> Frame:
    """An edited image's frame (issue 17): its decoded pixels kept, its overlays, masks
    and outlines made again from ``ds`` (the edited view): no file read, no decode."""
    if frame.base_bgrx is None:
        raise RuntimeError("the frame has no pixels to blend")
    ov = ds.overlays(frame.image_id)
    ov.width, ov.height = frame.width, frame.height
    comp = composite(frame.base_bgrx, ov, look.categories(ds), look)
    polys = {item_key(it.row, it.is_result): polygons_of(it) for it in ov.items}
    return replace(frame, overlays=ov, composite=comp, look=look, polys=polys)


def provisional(frame: Frame, ds: Dataset) -> Frame | None:
    """``frame``'s drawn items as the edited view ``ds`` has them (GUI thread: nothing
    decoded, ~0.1 ms for 20 objects; the masks' fill stays the frame's), shown while
    the worker makes the edited frame (~10-25 ms): an edit shows on the canvas in the
    frame it is made in. None: nothing drawn changed."""
    try:
        image_row = ds.image_row(frame.image_id)
    except KeyError:
        return None
    items = edited_items(ds, frame.overlays.items, image_row)
    if items is None:
        return None
    return replace(frame, overlays=replace(frame.overlays, items=items), provisional=True)


def _reblend(ds: Dataset, frame: Frame, look: Look) -> QImage | None:
    """The masks of a cached frame blended again (other hidden categories or opacity)."""
    if frame.base_bgrx is None:
        raise RuntimeError("the frame has no pixels to blend")
    return composite(frame.base_bgrx, frame.overlays, look.categories(ds), look)


class FrameLoader(QObject):
    """Asks workers for frames; caches them by image id (bounded in MB); prefetches."""

    frameReady = Signal(object)  # Frame for the image currently wanted
    lookReady = Signal(object)  # the wanted Frame, re-blended (hidden categories, opacity)
    failed = Signal("qlonglong", str)  # type: ignore[arg-type]  # image id, message

    def __init__(self, parent: QObject | None = None, cache_mb: int = 384,
                 threads: int = 2) -> None:
        super().__init__(parent)
        self.jobs = Jobs(self, threads)
        self.cache: OrderedDict[int, Frame] = OrderedDict()
        self.cache_bytes = 0
        self.cache_limit = cache_mb * 1024 * 1024
        self.dataset: Dataset | None = None
        self.wanted = -1
        self.look: Look = DEFAULT_LOOK
        self.allow_outside = False  # open files outside the images folder (a user setting)
        self._pending: set[int] = set()  # image ids with a frame job under way
        self._serial = 0  # counts the edits seen (set_view)
        self._fresh_from: dict[int, int] = {}  # image id → the first serial still valid

    # ----- API ----------------------------------------------------------
    def set_dataset(self, ds: Dataset | None) -> None:
        self.dataset = ds
        self.cache.clear()
        self.cache_bytes = 0
        self.wanted = -1
        self.jobs.cancel()  # results of the old dataset are dropped
        self._pending.clear()

    def set_view(self, ds: Dataset | None, image_ids: list[int] | None = None) -> None:
        """The dataset was edited (issue 17): frames are made from ``ds`` (the edited view)
        from now on; those of ``image_ids`` (None: every image) are made again, the
        wanted one first. Frames of other images stay cached."""
        self.dataset = ds
        self._serial += 1
        reuse = self.cache.get(self.wanted)  # its pixels serve the edited frame
        if reuse is not None and reuse.base_bgrx is None:
            reuse = None
        if image_ids is None:
            self.cache.clear()
            self.cache_bytes = 0
            self.jobs.cancel()
            self._pending.clear()
        else:
            for iid in image_ids:
                old = self.cache.pop(iid, None)
                if old is not None:
                    self.cache_bytes -= old.nbytes
                self._pending.discard(iid)
                self._fresh_from[iid] = self._serial  # a frame made before is dropped
        if ds is not None and self.wanted >= 0 and (image_ids is None
                                                     or self.wanted in image_ids):
            if reuse is not None:  # the pixels are kept: only the overlays are made again
                self._pending.add(self.wanted)
                self.jobs.submit(ds, partial(_remake_overlays, frame=reuse, look=self.look),
                                 partial(self._frame_done, serial=self._serial),
                                 partial(self._frame_failed, self.wanted), priority=2,
                                 at_once=True)
            else:
                self._submit_frame(self.wanted, priority=2)

    def refresh(self) -> None:
        """Make every frame again (the images folder changed); the wanted one first."""
        self.cache.clear()
        self.cache_bytes = 0
        self.jobs.cancel()
        self._pending.clear()
        if self.dataset is not None and self.wanted >= 0:
            self._submit_frame(self.wanted, priority=1)

    def set_allow_outside(self, on: bool) -> None:
        """Whether files outside the images folder are opened; frames made under the
        other choice are dropped and the wanted one is made again."""
        if on == self.allow_outside:
            return
        self.allow_outside = on
        self.cache.clear()
        self.cache_bytes = 0
        self.jobs.cancel()  # results still in flight become stale
        self._pending.clear()
        if self.dataset is not None and self.wanted >= 0:
            self._submit_frame(self.wanted, priority=1)

    def set_look(self, hidden: set[int], opacity: float, results: bool = True,
                 min_score: float = 0.3, by_instance: bool = False) -> None:
        """Hidden categories, opacity or detection display changed: re-blend the frame."""
        self.use_look(Look(frozenset(hidden), opacity, results, min_score, by_instance))

    def use_look(self, look: Look) -> None:
        """Blend with ``look`` from now on; the wanted frame is re-blended if it differs."""
        # rounded to the percent: a slider's tiny moves make no new blend
        look = replace(look, opacity=round(look.opacity, 2), min_score=round(look.min_score, 2))
        if look == self.look:
            return
        self.look = look
        frame = self.cache.get(self.wanted)
        if frame is not None and frame.look != look:
            self._submit_look(frame)

    def request(self, image_id: int) -> None:
        """Want ``image_id`` now: from the cache at once, or as soon as a worker has it."""
        self.wanted = image_id
        frame = self.cache.get(image_id)
        if frame is not None:
            self.cache.move_to_end(image_id)
            self.frameReady.emit(frame)
            if frame.look != self.look:
                self._submit_look(frame)
            return
        self._submit_frame(image_id, priority=1)

    def prefetch(self, image_ids: list[int]) -> None:
        for iid in image_ids:
            if iid not in self.cache and iid not in self._pending:
                self._submit_frame(iid, priority=0)

    def shutdown(self, msecs: int = 5000) -> bool:
        """Drop queued jobs and wait for running ones; True when no worker is left."""
        self.jobs.cancel()
        return self.jobs.wait(msecs)

    # ----- internals ----------------------------------------------------
    def _submit_frame(self, image_id: int, priority: int) -> None:
        if self.dataset is None or image_id in self._pending:
            return
        self._pending.add(image_id)
        self.jobs.submit(self.dataset, partial(_make_frame, image_id=image_id, look=self.look,
                                               allow_outside=self.allow_outside),
                         partial(self._frame_done, serial=self._serial),
                         partial(self._frame_failed, image_id),
                         priority=priority, at_once=image_id == self.wanted)

    def _submit_look(self, frame: Frame) -> None:
        if self.dataset is None:
            return
        look = self.look
        self.jobs.submit(self.dataset, partial(_reblend, frame=frame, look=look),
                         partial(self._look_done, frame.image_id, look, made=frame),
                         partial(self._frame_failed, frame.image_id), priority=2)

    def _frame_failed(self, image_id: int, exc: Exception) -> None:
        self._pending.discard(image_id)
        if image_id == self.wanted:
            self.failed.emit(image_id, f"{type(exc).__name__}: {exc}")

    def _frame_done(self, frame: Frame, serial: int = 0) -> None:
        if serial < self._fresh_from.get(frame.image_id, 0):
            return  # made before an edit of its image; a new one is on its way
        self._pending.discard(frame.image_id)
        self._store(frame)
        if frame.image_id == self.wanted:
            self.frameReady.emit(frame)
            if frame.look != self.look:
                self._submit_look(frame)

    def _look_done(self, image_id: int, look: Look, composite_: QImage | None,
                   made: Frame | None = None) -> None:
        frame = self.cache.get(image_id)
        if frame is None or look != self.look or (made is not None and frame is not made):
            return  # a newer look is on its way
        self.cache_bytes -= frame.nbytes
        frame.composite = composite_
        frame.look = look
        self.cache_bytes += frame.nbytes
        if image_id == self.wanted:
            self.lookReady.emit(frame)

    def _store(self, frame: Frame) -> None:
        old = self.cache.pop(frame.image_id, None)
        if old is not None:
            self.cache_bytes -= old.nbytes
        self.cache[frame.image_id] = frame
        self.cache_bytes += frame.nbytes
        while self.cache_bytes > self.cache_limit and len(self.cache) > 1:
            iid = next(iter(self.cache))
            if iid == self.wanted:
                self.cache.move_to_end(iid)
                continue
            self.cache_bytes -= self.cache.pop(iid).nbytes
