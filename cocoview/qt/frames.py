"""Frames: an image decoded and its overlays built, in worker threads, cached, prefetched.

The GUI thread only asks for a frame and receives it through a queued signal;
decoding (image file, masks, RLEs) never runs on it. A frame that arrives for
an image the user has already left is kept in the cache but not shown.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

from cocoview.model.dataset import Dataset
from cocoview.model.overlays import Overlays
from cocoview.qt.qimage import bgra_to_qimage, bgrx_to_qimage

#: above this many pixels an image is decoded at reduced resolution (still shown at full size)
LARGE_PIXELS = 24_000_000
#: Pillow's own bomb limit is ~179 MP; past this we do not decode at all
MAX_PIXELS = 1_000_000_000


@dataclass
class Frame:
    """What the canvas needs for one image."""

    image_id: int
    width: int  # the JSON's size (scene coordinates)
    height: int
    image: QImage | None  # None: missing/unreadable → placeholder
    error: str
    overlays: Overlays
    mask: QImage | None = None  # premultiplied, alpha 1.0; the canvas sets the opacity
    mask_key: frozenset[int] | None = None  # hidden categories the mask was made for
    nbytes: int = 0


def decode_image(path: Path | None) -> tuple[QImage | None, str]:
    """Decode an image file to ``QImage.Format_RGB32`` (BGRX), reduced if huge."""
    if path is None:
        return None, "the image has no file name"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, f"image file not found: {path}"
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    if not data:
        return None, f"image file is empty: {path}"
    flags = cv2.IMREAD_COLOR
    try:
        with Image.open(path) as im:
            pixels = im.width * im.height
        if pixels > MAX_PIXELS:
            return None, f"image too large to show ({pixels / 1e6:.0f} megapixels): {path}"
        if pixels > LARGE_PIXELS:
            scale = 2 if pixels <= 4 * LARGE_PIXELS else 4 if pixels <= 16 * LARGE_PIXELS else 8
            flags = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                     8: cv2.IMREAD_REDUCED_COLOR_8}[scale]
    except (OSError, ValueError, Image.DecompressionBombError):
        pass  # let OpenCV try; it reports failure below
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if bgr is None:
        try:  # Pillow reads a few formats OpenCV does not (e.g. some palette PNGs)
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
            bgr = rgb[..., ::-1]
        except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
            return None, f"cannot decode image {path}: {exc}"
    bgrx = cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2BGRA)
    return bgrx_to_qimage(bgrx), ""


def build_mask(overlays: Overlays, visible: set[int] | None) -> QImage | None:
    if not any(it.has_mask for it in overlays.items):
        return None
    layer = overlays.mask_layer(categories=visible, opacity=1.0, results=True, min_score=0.0)
    return bgra_to_qimage(layer)


class _Emitter(QObject):
    done = Signal(object, object)  # (job id, Frame | QImage | Exception)


class _FrameJob(QRunnable):
    def __init__(self, job: int, ds: Dataset, image_id: int, visible: set[int] | None,
                 emitter: _Emitter) -> None:
        super().__init__()
        self.job, self.ds, self.image_id, self.visible = job, ds, image_id, visible
        self.emitter = emitter

    def run(self) -> None:
        try:
            ds = self.ds
            info = ds.image(self.image_id)
            image, error = decode_image(info.path)
            ov = ds.overlays(self.image_id)
            mask = build_mask(ov, self.visible)
            w = info.width if info.width > 0 else ov.width
            h = info.height if info.height > 0 else ov.height
            nbytes = (image.sizeInBytes() if image is not None else 0) + (
                mask.sizeInBytes() if mask is not None else 0)
            key = frozenset() if self.visible is None else frozenset(self.visible)
            result: object = Frame(self.image_id, w, h, image, error, ov, mask, key, nbytes)
        except Exception as exc:  # reported to the GUI, never lost in a thread
            result = exc
        self.emitter.done.emit(self.job, result)


class _MaskJob(QRunnable):
    def __init__(self, job: int, frame: Frame, visible: set[int] | None,
                 emitter: _Emitter) -> None:
        super().__init__()
        self.job, self.frame, self.visible, self.emitter = job, frame, visible, emitter

    def run(self) -> None:
        try:
            result: object = build_mask(self.frame.overlays, self.visible)
        except Exception as exc:
            result = exc
        self.emitter.done.emit(self.job, result)


class FrameLoader(QObject):
    """Asks workers for frames; caches them by image id (bounded in MB); prefetches."""

    frameReady = Signal(object)  # Frame for the image currently wanted
    maskReady = Signal(int, object)  # image id, QImage | None (after a visibility change)
    failed = Signal(int, str)  # image id, message

    def __init__(self, parent: QObject | None = None, cache_mb: int = 256,
                 threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.cache: OrderedDict[int, Frame] = OrderedDict()
        self.cache_bytes = 0
        self.cache_limit = cache_mb * 1024 * 1024
        self.dataset: Dataset | None = None
        self.wanted = -1
        self.visible: set[int] | None = None
        self._ids = itertools.count(1)
        self._jobs: dict[int, tuple[str, int]] = {}  # job id → (kind, image id)
        self._pending: set[int] = set()  # image ids with a frame job under way
        self._running: dict[int, QRunnable] = {}
        self._emitter = _Emitter()
        self._emitter.done.connect(self._on_done)

    # ----- API ----------------------------------------------------------
    def set_dataset(self, ds: Dataset | None) -> None:
        self.dataset = ds
        self.cache.clear()
        self.cache_bytes = 0
        self.wanted = -1
        self._jobs.clear()
        self._pending.clear()

    def set_visible(self, visible: set[int] | None) -> None:
        """Hidden categories changed: remake the current mask; drop stale cached masks."""
        self.visible = visible
        frame = self.cache.get(self.wanted)
        if frame is not None:
            self._submit_mask(frame)

    def request(self, image_id: int) -> None:
        """Want ``image_id`` now: from the cache at once, or as soon as a worker has it."""
        self.wanted = image_id
        frame = self.cache.get(image_id)
        if frame is not None:
            self.cache.move_to_end(image_id)
            self.frameReady.emit(frame)
            if frame.mask_key != self._key():
                self._submit_mask(frame)
            return
        self._submit_frame(image_id, priority=1)

    def prefetch(self, image_ids: list[int]) -> None:
        for iid in image_ids:
            if iid not in self.cache and iid not in self._pending:
                self._submit_frame(iid, priority=0)

    def shutdown(self, msecs: int = 5000) -> bool:
        """Wait for the workers; True when none is left running."""
        self.pool.clear()
        return bool(self.pool.waitForDone(msecs))

    # ----- internals ----------------------------------------------------
    def _key(self) -> frozenset[int]:
        return frozenset() if self.visible is None else frozenset(self.visible)

    def _submit_frame(self, image_id: int, priority: int) -> None:
        if self.dataset is None or image_id in self._pending:
            return
        job = next(self._ids)
        self._jobs[job] = ("frame", image_id)
        self._pending.add(image_id)
        visible = None if self.visible is None else set(self.visible)
        runnable = _FrameJob(job, self.dataset, image_id, visible, self._emitter)
        self._start(job, runnable, priority)

    def _submit_mask(self, frame: Frame) -> None:
        job = next(self._ids)
        self._jobs[job] = ("mask", frame.image_id)
        visible = None if self.visible is None else set(self.visible)
        self._start(job, _MaskJob(job, frame, visible, self._emitter), 2)

    def _start(self, job: int, runnable: QRunnable, priority: int) -> None:
        # Python keeps the runnable alive until its result is in: with Qt's
        # auto-delete, PySide may free the wrapper while run() still uses it.
        runnable.setAutoDelete(False)
        self._running[job] = runnable
        self.pool.start(runnable, priority)

    @Slot(object, object)
    def _on_done(self, job: int, result: object) -> None:
        self._running.pop(job, None)
        kind, image_id = self._jobs.pop(job, ("stale", -1))
        if kind == "stale":
            return  # from a dataset that is no longer open
        if kind == "frame":
            self._pending.discard(image_id)
            if isinstance(result, Exception):
                if image_id == self.wanted:
                    self.failed.emit(image_id, f"{type(result).__name__}: {result}")
                return
            assert isinstance(result, Frame)
            self._store(result)
            if image_id == self.wanted:
                self.frameReady.emit(result)
                if result.mask_key != self._key():
                    self._submit_mask(result)
            return
        frame = self.cache.get(image_id)
        if isinstance(result, Exception):
            self.failed.emit(image_id, f"{type(result).__name__}: {result}")
            return
        if frame is not None:
            old = frame.mask.sizeInBytes() if frame.mask is not None else 0
            frame.mask = result if isinstance(result, QImage) else None
            frame.mask_key = self._key()
            new = frame.mask.sizeInBytes() if frame.mask is not None else 0
            frame.nbytes += new - old
            self.cache_bytes += new - old
        if image_id == self.wanted:
            self.maskReady.emit(image_id, result)

    def _store(self, frame: Frame) -> None:
        old = self.cache.pop(frame.image_id, None)
        if old is not None:
            self.cache_bytes -= old.nbytes
        self.cache[frame.image_id] = frame
        self.cache_bytes += frame.nbytes
        while self.cache_bytes > self.cache_limit and len(self.cache) > 1:
            iid, f = next(iter(self.cache.items()))
            if iid == self.wanted:
                self.cache.move_to_end(iid)
                continue
            self.cache.pop(iid)
            self.cache_bytes -= f.nbytes
