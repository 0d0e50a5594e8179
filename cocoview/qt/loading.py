"""Opening datasets in a worker thread, with progress and cancel.

A first open of a big file comes in two steps (issue 18): ``preview`` brings a
:class:`PreviewDataset` — every image, no annotations yet — as soon as the images
are indexed, so the list and the first picture show while the annotations are
still being indexed; ``loaded`` brings the whole dataset (or ``failed`` /
``cancelled`` say the annotations did not come).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.model.errors import CocoFormatError
from cocoview.model.file_index import FileIndex
from cocoview.model.loader import Cancelled, load_file


class PreviewDataset(Dataset):
    """A big file's images (and categories) shown while its annotations are still being
    indexed: it has no annotations, and it is not to be edited or saved."""


@dataclass(frozen=True)
class OpenRequest:
    files: tuple[Path, ...]
    images: Path | None = None
    results: Path | None = None
    label: str = field(default="", compare=False)
    cache: bool = field(default=True, compare=False)
    #: a second results file (model B), added for comparison once the dataset is open
    compare: Path | None = None

    def describe(self) -> str:
        return self.label or ", ".join(p.name for p in self.files)


class _LoadThread(QThread):
    progress = Signal(float, str)
    preview = Signal(object, object)  # OpenRequest, PreviewDataset
    loaded = Signal(object, object)  # OpenRequest, Dataset
    failed = Signal(object, str)  # OpenRequest, message
    cancelled = Signal(object)

    def __init__(self, req: OpenRequest, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.req = req
        self.stop = threading.Event()

    def run(self) -> None:
        req = self.req
        try:
            if len(req.files) == 1 and req.results is None:  # cocoview.open, with a preview
                fi = load_file(req.files[0], lambda f, what: self.progress.emit(f, what),
                               self.stop.is_set, req.cache, isolate=True, store_soon=True,
                               preview=self._preview)
                ds = Dataset([fi], req.images)
            else:
                ds = cocoview.open(list(req.files), images=req.images,
                                   results=req.results, cache=req.cache,
                                   isolate=True,  # big files: parsed in a child, the GUI runs on
                                   progress=lambda f, what: self.progress.emit(f, what),
                                   cancelled=self.stop.is_set)
        except Cancelled:
            self.cancelled.emit(self.req)
        except CocoFormatError as exc:
            self.failed.emit(self.req, str(exc))
        except MemoryError:
            self.failed.emit(self.req, f"{self.req.describe()}: out of memory")
        except Exception as exc:  # any other failure is still a message, not a crash
            self.failed.emit(self.req, f"{self.req.describe()}: {type(exc).__name__}: {exc}")
        else:
            ds.warm()  # the counts the views show, computed here rather than on the GUI thread
            self.loaded.emit(self.req, ds)

    def _preview(self, fi: FileIndex) -> None:
        if self.stop.is_set():
            return
        ds = PreviewDataset([fi], self.req.images)
        ds.warm()
        self.preview.emit(self.req, ds)


class DatasetLoader(QObject):
    """One load at a time: a new request cancels the one under way."""

    started = Signal(object)  # OpenRequest
    progress = Signal(float, str)
    #: the images of the file being opened, before its annotations (OpenRequest, PreviewDataset)
    preview = Signal(object, object)
    loaded = Signal(object, object)
    failed = Signal(object, str)
    cancelled = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job: _LoadThread | None = None
        self._old: list[_LoadThread] = []

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def open(self, req: OpenRequest) -> None:
        self.cancel()
        t = _LoadThread(req, self)
        t.progress.connect(self.progress)
        t.preview.connect(self._on_preview)
        t.loaded.connect(self._on_loaded)
        t.failed.connect(self._on_failed)
        t.cancelled.connect(self.cancelled)
        t.finished.connect(lambda: self._reap(t))
        self.job = t
        self.started.emit(req)
        t.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.stop.set()
            self._old.append(self.job)
            self.job = None

    def wait(self, msecs: int = 30000) -> bool:
        """Cancel and wait for every load thread (window closing)."""
        self.cancel()
        ok = True
        for t in list(self._old):
            if t.wait(msecs):
                self._old.remove(t)
            else:
                ok = False
        return ok

    def _on_preview(self, req: OpenRequest, ds: object) -> None:
        if self.job is not None and self.job.req == req and not self.job.stop.is_set():
            self.preview.emit(req, ds)

    def _on_loaded(self, req: OpenRequest, ds: object) -> None:
        if self.job is not None and self.job.req == req and not self.job.stop.is_set():
            self.loaded.emit(req, ds)

    def _on_failed(self, req: OpenRequest, msg: str) -> None:
        if self.job is not None and self.job.req == req:
            self.failed.emit(req, msg)

    def _reap(self, t: _LoadThread) -> None:
        if t in self._old:
            self._old.remove(t)
        if t is self.job:
            self.job = None
        t.deleteLater()
