"""Index a big file in a separate process, so the calling process stays responsive.

msgspec holds the GIL for the whole splitting pass (~0.5 s for train2017, ~15 s
for a 3 GB file), so a GUI that parses in a thread still freezes, cannot show
progress and cannot cancel. Here a child process builds the index and stores it
in the index cache; the caller then opens it from there (memory-mapped, ~0.1 s)
and never holds the parse's transient memory at all.

The child reports progress as JSON lines on its standard output and ends with
one result line. During the splitting pass it cannot report (the GIL again), so
the caller measures it instead: the pass reads the file front to back through a
memory map, and the share of the file resident in the child (``RssFile`` in
``/proc/<pid>/status``) is how far it has come. Where that is unavailable the
bar waits at the start of the pass.

Anything that goes wrong here other than a definite format error (no cache
folder, a crash, a file whose index is not cached) makes :func:`index` return
False, and the caller parses in-process as before.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import msgspec
import numpy as np

from cocoview.model.columns import ImageColumns
from cocoview.model.errors import CocoFormatError
from cocoview.model.file_index import FileIndex
from cocoview.model.loader import Cancelled
from cocoview.model.parse import ImagesReady

#: the hidden command-line switch a frozen build dispatches on
FROZEN_FLAG = "--index-worker"
#: the loader's progress fraction at the start and the end of its splitting pass
SCAN_START, SCAN_END = 0.1, 0.3


#: set (to "1") in the child's environment: send the images as soon as they are indexed
PREVIEW_ENV = "COCOVIEW_INDEX_PREVIEW"


def command(path: Path) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_FLAG, str(path)]
    return [sys.executable, "-c", "import sys; from cocoview.model.index_process import main; "
            "sys.exit(main(sys.argv[1:]))", str(path)]


def main(argv: list[str]) -> int:
    """The child: index ``argv[0]`` into the cache, reporting on stdout."""
    from cocoview.model import loader
    from cocoview.model.loader import load_file

    loader.PREVIEW_MIN_BYTES = 0  # the caller has decided whether the file is big enough

    out = sys.stdout.buffer

    def say(obj: Any) -> None:
        out.write(msgspec.json.encode(obj) + b"\n")
        out.flush()

    def images_ready(fi: FileIndex) -> None:
        """The images and categories, as soon as they are indexed (the caller shows them)."""
        im = fi.images
        say({"images": {"id": im.id.tolist(), "width": im.width.tolist(),
                        "height": im.height.tolist(), "file_name": im.file_name,
                        "rec_off": im.rec_off.tolist(), "rec_len": im.rec_len.tolist(),
                        "ordinal": im.ordinal.tolist()},
             "categories": fi.categories,
             "top_spans": {k: list(v) for k, v in fi.top_spans.items()}})

    path = Path(argv[0])
    preview = os.environ.get(PREVIEW_ENV) == "1"
    try:
        fi = load_file(path, progress=lambda f, what: say([float(f), str(what)]), cache=True,
                       preview=images_ready if preview else None)
    except CocoFormatError as exc:
        say({"error": exc.cause, "position": exc.position})
        return 1
    except Exception as exc:  # the caller retries in-process (and reports it there)
        say({"failed": f"{type(exc).__name__}: {exc}"})
        return 2
    say({"cached": fi.cached})
    return 0


def _images(msg: dict[str, Any]) -> tuple[ImageColumns, list[dict[str, Any]],
                                          dict[str, tuple[int, int]]] | None:
    """The child's images message as columns, categories and the top-level values' spans
    (None if it is malformed)."""
    try:
        im, cats = msg["images"], msg["categories"]
        spans = {str(k): (int(v[0]), int(v[1])) for k, v in msg.get("top_spans", {}).items()}
        cols = ImageColumns(
            id=np.asarray(im["id"], np.int64), width=np.asarray(im["width"], np.int32),
            height=np.asarray(im["height"], np.int32),
            file_name=[str(n) for n in im["file_name"]],
            rec_off=np.asarray(im["rec_off"], np.int64),
            rec_len=np.asarray(im["rec_len"], np.int64),
            ordinal=np.asarray(im["ordinal"], np.int64))
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError, IndexError):
        return None
    n = len(cols.id)
    if not all(len(a) == n for a in (cols.width, cols.height, cols.file_name, cols.rec_off,
                                     cols.rec_len, cols.ordinal)) or not isinstance(cats, list):
        return None
    return cols, [c for c in cats if isinstance(c, dict)], spans


def _resident_file_bytes(pid: int) -> int | None:
    """Bytes of mapped files resident in process ``pid`` (Linux), or None."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"RssFile:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def index(path: Path, size: int, progress: Callable[[float, str], None],
          cancelled: Callable[[], bool] | None = None,
          on_images: ImagesReady | None = None) -> bool:
    """Build ``path``'s cache entry in a child process; True once it is stored.

    Raises :class:`CocoFormatError` when the child found the file unusable, and
    the loader's ``Cancelled`` (after killing the child) when ``cancelled()`` says so.
    ``on_images(images, categories)`` is called as soon as the child has indexed them.
    """
    try:
        env = {**os.environ, PREVIEW_ENV: "1" if on_images is not None else "0"}
        proc = subprocess.Popen(command(path), stdin=subprocess.DEVNULL, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                close_fds=True)
    except OSError:
        return False
    lines: Queue[bytes | None] = Queue()

    def read() -> None:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            lines.put(None)

    reader = threading.Thread(target=read, name="index-reader", daemon=True)
    reader.start()
    last = 0.0
    scanning = False
    baseline: int | None = None  # the child's mapped libraries, before the scan
    result: Any = None
    try:
        while True:
            if cancelled is not None and cancelled():
                raise Cancelled(str(path))
            try:
                line = lines.get(timeout=0.1)
            except Empty:
                if scanning:  # the child is in its splitting pass: measure it
                    resident = _resident_file_bytes(proc.pid)
                    if resident is not None and baseline is not None and size > 0:
                        done = min(max(resident - baseline, 0) / size, 1.0)
                        frac = SCAN_START + (SCAN_END - SCAN_START) * done
                        if frac > last:
                            last = frac
                            progress(frac, f"scanning {path.name}")
                continue
            if line is None:
                break
            try:
                msg = msgspec.json.decode(line)
            except msgspec.DecodeError:
                continue
            if isinstance(msg, list) and len(msg) == 2:
                frac, what = float(msg[0]), str(msg[1])
                scanning = frac == SCAN_START
                if scanning:
                    baseline = _resident_file_bytes(proc.pid)
                if frac >= last:
                    last = frac
                    progress(frac, what)
            elif isinstance(msg, dict) and "images" in msg:
                images = _images(msg)
                if images is not None and on_images is not None:
                    on_images(*images)
            elif isinstance(msg, dict):
                result = msg
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join()
        if proc.stdout is not None:
            with contextlib.suppress(OSError):
                proc.stdout.close()
    if isinstance(result, dict) and "error" in result:
        pos = result.get("position")
        raise CocoFormatError(path, str(result["error"]), pos if isinstance(pos, int) else None)
    return isinstance(result, dict) and result.get("cached") is True
