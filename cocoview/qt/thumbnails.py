"""Thumbnails made in a thread pool, cached on the GUI thread.

``get(image_id)`` answers from a memory-bounded LRU or returns None and queues a
job. Our own pending stack (newest request first, oldest dropped past
``max_pending``) feeds the pool a few jobs at a time, so rows that scrolled out
of view are served last or never. While requests keep coming (a view scrolling:
each paint asks for its cells) no new job starts: the pool is fed once they pause
for ``pause_ms``, so the workers do not compete with the scrolling GUI thread (for
the GIL, and for the cores) for cells that are gone by then. Jobs make a
``QImage`` (never a ``QPixmap``) and report back through a queued signal; results
of an older generation (before :meth:`clear`) are dropped.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from functools import partial
from typing import TYPE_CHECKING

import cv2
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtGui import QImage

from cocoview.model.thumbnail import placeholder_thumbnail, render_thumbnail, thumbnail_size
from cocoview.qt.jobs import Jobs
from cocoview.qt.qimage import bgrx_to_qimage
from cocoview.qt.state import ViewerState

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

log = logging.getLogger(__name__)
#: requests closer together than this are a view scrolling: jobs wait for the pause
PAUSE_MS = 60


def _thumbnail(ds: Dataset, image_id: int, size: int, categories: set[int] | None,
               allow_outside: bool, by_instance: bool = False) -> QImage:
    """One thumbnail, made in a worker; a damaged record gives a placeholder, not a hole."""
    try:
        rgb = render_thumbnail(ds, image_id, size, categories, allow_outside=allow_outside,
                               by_instance=by_instance)
    except Exception:
        log.exception("thumbnail of image %s failed", image_id)
        try:
            row = ds.image_row(image_id)
            w, h = int(ds.image_width[row]), int(ds.image_height[row])
        except KeyError:
            w = h = 0
        rgb = placeholder_thumbnail(w, h, size)
    bgrx = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA)  # Format_RGB32: blitted without conversion
    return bgrx_to_qimage(bgrx)


class ThumbnailCache(QObject):
    """Thumbnails of the images of ``state.dataset``, with ``state``'s visible categories."""

    #: a thumbnail asked for with :meth:`get` is now cached
    thumbnailReady = Signal(object)  # image id: an int (``Signal(int)`` is 32-bit in Qt)

    def __init__(self, state: ViewerState, size: int = 160, max_mb: float = 96.0,
                 threads: int | None = None, max_pending: int = 256,
                 device_pixel_ratio: float = 1.0, parent: QObject | None = None,
                 pause_ms: int = PAUSE_MS) -> None:
        super().__init__(parent)
        self.state = state
        self.size = size  # device pixels
        self.device_pixel_ratio = device_pixel_ratio
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.max_pending = max_pending
        self._jobs = Jobs(self, threads)
        self._cache: OrderedDict[int, QImage] = OrderedDict()
        self._stale: dict[int, QImage] = {}  # before a category toggle: shown until redone
        self._bytes = 0
        self._pending: OrderedDict[int, None] = OrderedDict()  # newest last
        self._running: set[int] = set()
        self._closed = False
        self.hits = 0
        self.misses = 0
        self.started = 0  # jobs handed to the pool
        self._pause = QTimer(self)  # running: requests came within pause_ms (scrolling)
        self._pause.setSingleShot(True)
        self._pause.setInterval(max(pause_ms, 0))
        self._pause.timeout.connect(self._feed)
        self._pause_ms = pause_ms
        state.datasetChanged.connect(self.clear)
        state.visibilityChanged.connect(self._restyle)
        state.imagePolicyChanged.connect(self._restyle)
        state.colorByInstanceChanged.connect(lambda _on: self._restyle())
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ----- asking -------------------------------------------------------
    def get(self, image_id: int) -> QImage | None:
        """The cached thumbnail, or None after queueing a job (duplicates coalesce)."""
        image_id = int(image_id)
        img = self._cache.get(image_id)
        if img is not None:
            self._cache.move_to_end(image_id)
            self.hits += 1
            return img
        self.misses += 1
        if self._closed or self.state.dataset is None:
            return None
        if image_id not in self._running:
            self._pending[image_id] = None
            self._pending.move_to_end(image_id)  # asked again: it is wanted now
            while len(self._pending) > self.max_pending:
                self._pending.popitem(last=False)  # scrolled out long ago
            self._request()
        return None

    def _request(self) -> None:
        """A request: fed at once after a pause, else when the requests pause."""
        if self._pause_ms <= 0:
            self._feed()
        elif self._pause.isActive():
            self._pause.start()  # still coming: wait for the pause
        else:
            self._pause.start()
            self._feed()

    def peek(self, image_id: int) -> QImage | None:
        """The cached thumbnail without queueing anything or touching the LRU order."""
        return self._cache.get(int(image_id))

    def stale(self, image_id: int) -> QImage | None:
        """The thumbnail made before the last category toggle, to show until the new one."""
        return self._stale.get(int(image_id))

    def forget_pending(self) -> None:
        """Drop every queued request (e.g. the view jumped far away)."""
        self._pending.clear()

    # ----- bookkeeping --------------------------------------------------
    @property
    def cached_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._cache)

    def pending_count(self) -> int:
        return len(self._pending) + len(self._running)

    def clear(self, keep_stale: bool = False) -> None:
        """Forget every thumbnail and queued request; results still in flight are dropped.

        ``keep_stale`` keeps the old images reachable through :meth:`stale` (same
        images, other overlays) so views need not flash placeholders meanwhile.
        """
        self._jobs.cancel()  # queued jobs never start; results in flight are dropped
        self._stale = dict(self._cache) if keep_stale else {}
        self._cache = OrderedDict()
        self._bytes = 0
        self._pending.clear()
        self._running.clear()

    def _restyle(self) -> None:
        self.clear(keep_stale=True)

    def shutdown(self) -> None:
        """Stop taking requests and wait for the workers: no thread outlives this call."""
        self._closed = True
        self._pause.stop()
        self._pending.clear()
        self._stale.clear()
        self._jobs.cancel()
        self._jobs.wait()

    def active_threads(self) -> int:
        return self._jobs.active_threads()

    def _feed(self) -> None:
        ds = self.state.dataset
        if ds is None:
            return
        limit = 2 * self._jobs.threads  # one queued behind each worker
        cats = self.state.visible_categories()
        while self._pending and len(self._running) < limit:
            image_id, _ = self._pending.popitem(last=True)  # newest first
            self._running.add(image_id)
            self.started += 1
            self._jobs.submit(
                ds, partial(_thumbnail, image_id=image_id, size=self.size, categories=cats,
                            by_instance=self.state.color_by_instance,
                            allow_outside=self.state.allow_outside_images),
                partial(self._on_done, image_id))

    def _on_done(self, image_id: int, img: QImage) -> None:
        if self._closed:
            return
        self._running.discard(image_id)
        img.setDevicePixelRatio(self.device_pixel_ratio)
        self._store(image_id, img)
        if not self._pause.isActive():  # scrolling: the pause feeds the pool
            self._feed()
        self.thumbnailReady.emit(image_id)

    def _store(self, image_id: int, img: QImage) -> None:
        self._stale.pop(image_id, None)
        old = self._cache.pop(image_id, None)
        if old is not None:
            self._bytes -= old.sizeInBytes()
        self._cache[image_id] = img
        self._bytes += img.sizeInBytes()
        while self._bytes > self.max_bytes and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._bytes -= dropped.sizeInBytes()

    def expected_size(self, width: int, height: int) -> tuple[int, int]:
        """The (w, h) a thumbnail of a ``width × height`` image will have."""
        return thumbnail_size(width, height, self.size)
