"""Opening one COCO JSON file (``.json`` or ``.json.gz``): from the index cache, in a
child process, or parsed here with a helper process (:func:`load_file`).

The index itself is :mod:`cocoview.model.file_index`, the parser
:mod:`cocoview.model.parse`; the names they define are re-exported here (this was
one module), and the segmentation kinds live with the columns (``model/columns.py``).
"""

from __future__ import annotations

import contextlib
import mmap
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from cocoview.model import cache as index_cache
from cocoview.model.chunk_worker import Helper
from cocoview.model.columns import (  # re-exported: the kinds are part of the API
    ANN_COLUMNS,
    SEG_EMPTY,
    SEG_INVALID,
    SEG_KIND_NAMES,
    SEG_NONE,
    SEG_PANOPTIC,
    SEG_POLYGON,
    SEG_RLE,
    SEG_RLE_RAW,
    AnnColumns,
    ImageColumns,
)
from cocoview.model.errors import CocoFormatError
from cocoview.model.file_index import FileIndex
from cocoview.model.parse import (
    MAX_DEPTH,
    NOT_COCO,
    NOT_RESULTS,
    _Builder,
    _gc_paused,
    _too_deep_at,
)
from cocoview.model.source import (
    check_regular,
    read_bytes,
)

__all__ = [
    "ANN_COLUMNS", "NOT_COCO", "NOT_RESULTS", "SEG_EMPTY", "SEG_INVALID", "SEG_KIND_NAMES",
    "SEG_NONE", "SEG_PANOPTIC", "SEG_POLYGON", "SEG_RLE", "SEG_RLE_RAW", "AnnColumns",
    "Cancelled", "FileIndex", "ImageColumns", "Progress", "load_file", "preview_index",
]

Progress = Callable[[float, str], None]

#: a first open hands half of its chunks to a helper process from this file size on
#: (below it, starting the helper costs more than it saves)
PARALLEL_MIN_BYTES = 64 << 20
#: from this size on ``load_file(isolate=True)`` parses in a child process
ISOLATE_MIN_BYTES = 32 << 20
#: from this size on a first open tells its ``preview`` the images before the annotations
PREVIEW_MIN_BYTES = 32 << 20
#: set to "0" to keep every first open in one process
WORKERS_ENV = "COCOVIEW_WORKERS"


class Cancelled(Exception):
    """The caller's cancel callback asked the load to stop."""


def load_file(
    path: str | Path,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    cache: bool = True,
    isolate: bool = False,
    store_soon: bool = False,
    preview: Callable[[FileIndex], None] | None = None,
) -> FileIndex:
    """Open one COCO-style JSON file (``.json`` or ``.json.gz``).

    With ``cache`` a current index from an earlier open is used instead of
    parsing (``cocoview.model.cache``), and a fresh parse is stored for next time.
    With ``isolate`` (and ``cache``) a big file is parsed in a child process
    (``index_process``) and opened from the cache: the caller's threads keep
    running meanwhile, which a parse in this process would stop (msgspec holds
    the GIL). The GUI asks for it; scripts need not. With ``store_soon`` the new
    cache entry is written by a background thread (``cache.store_soon``).

    ``preview(index)`` is called once, on a first open of a big file (from
    :data:`PREVIEW_MIN_BYTES`), as soon as its images and categories are indexed: an
    index with no annotations yet (:func:`preview_index`), which a GUI shows while
    the rest is indexed (issue 18). Any later failure or cancel is raised as usual.
    """
    p = Path(path)
    check_regular(p)  # before any open: a FIFO would block it, /dev/zero never end

    def step(frac: float, what: str) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled(str(p))
        if progress is not None:
            progress(frac, what)

    step(0.0, f"reading {p.name}")
    gz = _is_gzip(p)
    if cache and not gz:
        hit = index_cache.load(p)
        if hit is not None:
            step(1.0, "done (from the index cache)")
            return hit
    previewed = False

    def images_ready(source: Any, images: ImageColumns, categories: list[dict[str, Any]],
                     top_spans: dict[str, tuple[int, int]]) -> None:
        nonlocal previewed
        if preview is not None and not previewed:
            previewed = True
            preview(preview_index(p, source, images, categories, top_spans))

    if cache and isolate and not gz and _isolation_wanted(p):
        from cocoview.model import index_process

        size = p.stat().st_size
        wants = preview is not None and size >= PREVIEW_MIN_BYTES
        if index_process.index(p, size, progress or (lambda f, w: None), cancelled,
                               partial(images_ready, PreviewBytes(p, size)) if wants else None):
            hit = index_cache.load(p)
            if hit is not None:
                step(1.0, "done")
                return hit
        # no cache entry came of it (an unwritable cache, a crash): parse here
    mapped = None if gz else _map(p)
    size = len(mapped) if mapped is not None else 0
    data: Any = mapped if mapped is not None else read_bytes(p)
    if cache and gz:
        hit = index_cache.load(p, data)
        if hit is not None:
            step(1.0, "done (from the index cache)")
            return hit
    helper = None
    if mapped is not None and _helper_wanted(size):
        helper = Helper()  # started now, so it is ready when the splitting pass ends
        if not helper.start():
            helper = None
    step(0.1, f"parsing {p.name}")
    try:
        with _gc_paused():
            try:
                on_images = None
                if preview is not None and len(data) >= PREVIEW_MIN_BYTES:
                    # a map is closed at the end: the preview reads by offset instead
                    source = PreviewBytes(p, size) if mapped is not None else data
                    on_images = partial(images_ready, source)
                fi = _Builder(p, data, step, helper, on_images).build()
            except RecursionError:  # msgspec's nesting limit (~1,000 levels)
                raise CocoFormatError(p, "the JSON is nested too deeply (more than "
                                      f"{MAX_DEPTH} levels)", _too_deep_at(data)) from None
        if cache and fi.data is data:  # not for files re-encoded from Python's json (NaN)
            step(0.95, "saving the index")
            if store_soon:
                index_cache.store_soon(fi)
            else:
                fi.cached = index_cache.store(fi) is not None
    finally:
        if helper is not None:
            helper.close()
        if mapped is not None:
            _unmap(mapped)
    if mapped is not None and fi.data is mapped:
        # the map is gone: geometry is read by offset from now on
        fi.data = index_cache.FileBytes(p, size)
    step(1.0, "done")
    return fi


class PreviewBytes:
    """A file read by offset for a preview index (as ``cache.FileBytes``, but not one: a
    preview is no cache entry, and nothing derived is kept beside it)."""

    def __init__(self, path: Path, size: int) -> None:
        self._file = index_cache.FileBytes(path, size)

    def __len__(self) -> int:
        return len(self._file)

    def __getitem__(self, key: slice) -> bytes:
        return self._file[key]

    def read_all(self) -> bytes:
        return self._file.read_all()


def preview_index(path: Path, data: Any, images: ImageColumns,
                  categories: list[dict[str, Any]],
                  top_spans: dict[str, tuple[int, int]] | None = None) -> FileIndex:
    """A file's index with its images and categories and no annotations yet (a preview).

    Only the top-level values in ``top_spans`` are known: asking it for another one is
    None (a full index would read the whole file for it, which the GUI must not)."""
    fi = FileIndex(path=path, data=data, kind="instances", images=images,
                   anns=AnnColumns.empty(0), categories=categories,
                   top_spans=dict(top_spans or {}))
    fi._top = {}
    return fi


def _map(p: Path) -> mmap.mmap | None:
    """A read-only map of a plain file (None: empty or unmappable — read it instead).

    Parsing from the map skips the copy into a bytes object, and the pages the
    parse has finished with are given back (``madvise``) as it goes, so the
    file never has to be resident as a whole while the columns are built.
    """
    try:
        with open(p, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return None
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


def _unmap(m: mmap.mmap) -> None:
    with contextlib.suppress(BufferError):  # a straggling view: the GC closes it later
        m.close()


def _is_gzip(p: Path) -> bool:
    if p.suffix.lower() == ".gz":
        return True
    try:
        with open(p, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def _isolation_wanted(p: Path) -> bool:
    try:
        return p.stat().st_size >= ISOLATE_MIN_BYTES
    except OSError:
        return False


def _helper_wanted(size: int) -> bool:
    return (size >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) >= 2
            and os.environ.get(WORKERS_ENV, "") != "0")
