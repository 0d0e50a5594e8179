"""The whole validation in a child process, so that the app keeps its GIL (issue 17).

Decoding every segmentation of train2017 holds the GIL for ~10 s in the checking
thread (msgspec, the polygon batches): every edit, paint and click of the GUI thread
made meanwhile waits for it at each of its Python steps (a relabel took 30 ms instead
of 5). Here a child opens the same files again (from the index cache: ~0.2 s at
train2017 size; parsed again if the user turned the cache off), checks them with
:func:`validate.validate_report` (whose own polygon helper then uses the second core),
and streams each check's problems back as it ends, with its progress. The problems
are the same objects the in-process check finds: the same function over the same
files (the child checks their sizes and the dataset's shape). Anything that keeps the
child from answering before it has sent a problem raises :class:`Unavailable`: the
caller then checks in-process.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from typing import Any

from cocoview.model.errors import Problem
from cocoview.model.framing import recv, send
from cocoview.model.health import DEFAULT, HealthOptions

#: the hidden command-line switch a frozen build (no ``python -c``) dispatches on
FROZEN_FLAG = "--validate-worker"
#: the smallest dataset checked in a child (annotations): below it the check is short
#: (≲ 1 s) and a child's start (~0.5 s) would be most of it
MIN_ANNOTATIONS = 200_000
#: how much lower the child's scheduling priority is than the app's
NICE = 10


class Unavailable(Exception):
    """The child cannot check this dataset (not started, died, a file changed)."""


@dataclass(frozen=True)
class Request:
    """What the child opens and how it checks it."""

    files: tuple[str, ...]
    sizes: tuple[int, ...]  # each file's size as the caller has it (the results' last)
    images: str | None
    results: str | None
    n_images: int
    n_annotations: int
    check_files: bool
    allow_outside: bool
    options: HealthOptions = DEFAULT
    #: whether the child may read and write the index cache (the user may turn it off)
    cache: bool = True


def command() -> list[str]:
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: the app itself dispatches
        return [sys.executable, FROZEN_FLAG]
    return [sys.executable, "-c", "import sys; from cocoview.model.validate_process import "
            "main; sys.exit(main())"]


def _file_indexes(ds: Any) -> list[Any]:
    """The dataset's files and its results file, in that order."""
    res = getattr(ds, "results", None)
    return [*ds.files, *([res.file] if res is not None else [])]


def request_for(ds: Any, check_files: bool, allow_outside: bool,
                options: HealthOptions = DEFAULT, cache: bool = True) -> Request:
    """The child's request for ``ds`` (raises :class:`Unavailable` for a dataset the
    child cannot open again the same way: one not read from files)."""
    for f in _file_indexes(ds):
        if not Path(f.path).is_file():
            raise Unavailable(f"{f.path} is not a file")
    res = getattr(ds, "results", None)
    images = getattr(ds, "images_dir", None)
    return Request(tuple(str(f.path) for f in ds.files),
                   tuple(len(f.data) for f in _file_indexes(ds)),
                   None if images is None else str(images),
                   None if res is None else str(res.file.path),
                   len(ds.image_ids), len(ds.anns), check_files, allow_outside, options,
                   cache)


# ----- the child ---------------------------------------------------------------------
def _open(req: Request) -> Any:
    import cocoview

    ds = cocoview.open(list(req.files), images=req.images, results=req.results,
                       cache=req.cache)
    got = tuple(len(f.data) for f in _file_indexes(ds))
    if got != req.sizes or (len(ds.image_ids), len(ds.anns)) != (req.n_images,
                                                                 req.n_annotations):
        raise Unavailable("the files changed since they were opened")
    return ds


def main() -> int:
    """The child: one request on stdin; messages on stdout until "done" or "error"."""
    from cocoview.model.validate import validate_report

    with contextlib.suppress(AttributeError, OSError):
        os.nice(NICE)  # background work: the app's threads come first
    out = os.fdopen(os.dup(1), "wb")  # the messages' own descriptor: a library's
    sys.stdout.flush()  # printing goes to stderr and cannot break a message
    os.dup2(2, 1)
    try:
        req = recv(sys.stdin.buffer)
    except EOFError:
        return 0
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.12 or done >= total:  # ≤ ~8 a second, as in-process
            last[0] = now
            send(out, ("progress", done, total))

    try:
        ds = _open(req)
        rep = validate_report(ds, check_files=req.check_files,
                              allow_outside=req.allow_outside, progress=progress,
                              found=lambda problems: send(out, ("found", problems)),
                              options=req.options)
        send(out, ("done", len(rep.problems)))
    except BrokenPipeError:  # the caller went away (cancelled)
        return 0
    except Exception as exc:
        send(out, ("error", Unavailable(f"{type(exc).__name__}: {exc}")
                   if not isinstance(exc, Unavailable) else exc))
    return 0


# ----- the caller's side -------------------------------------------------------------
def validate_in_child(req: Request, found: Callable[[list[Problem]], None],
                      progress: Callable[[int, int], None] | None = None,
                      poll: Callable[[], None] | None = None) -> int:
    """Check in a child: ``found`` gets each check's problems, ``progress(done, total)``
    the child's progress; ``poll`` (about every 0.1 s, and with each message) may raise
    to give up, which ends the child. Returns how many problems were found. Raises
    :class:`Unavailable` if the child fails before it has found anything, RuntimeError
    if it fails after."""
    try:
        p = subprocess.Popen(command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, close_fds=True)
    except OSError as exc:
        raise Unavailable(f"cannot start the validation process: {exc}") from None
    assert p.stdin is not None and p.stdout is not None
    box: Queue[Any] = Queue()
    stdout = p.stdout

    def read() -> None:
        while True:
            try:
                msg = recv(stdout)
            except Exception as exc:
                box.put(("lost", exc))
                return
            box.put(msg)
            if msg[0] in ("done", "error"):
                return

    sent = finished = False
    try:
        try:
            send(p.stdin, req)
            p.stdin.close()
        except (OSError, ValueError):
            raise Unavailable("the validation process ended") from None
        threading.Thread(target=read, name="validate-reply", daemon=True).start()
        while True:
            try:
                msg = box.get(timeout=0.1)
            except Empty:
                if poll is not None:
                    poll()
                continue
            kind = msg[0]
            if kind == "found":
                sent = True
                found(msg[1])
            elif kind == "progress":
                if progress is not None:
                    progress(msg[1], msg[2])
            elif kind == "done":
                finished = True
                return int(msg[1])
            else:
                why = msg[1]
                if not sent:
                    raise why if isinstance(why, Unavailable) else Unavailable(str(why))
                raise RuntimeError(f"the validation process failed: {why}")
            if poll is not None:
                poll()
    finally:
        if finished:  # its index cache entry may still be being written: let it end
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(30)
        with contextlib.suppress(OSError):
            p.kill()
        with contextlib.suppress(Exception):
            p.wait(5)
        with contextlib.suppress(Exception):
            p.stdout.close()
