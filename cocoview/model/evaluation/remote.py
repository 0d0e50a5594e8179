"""The evaluation in a child process, so that the calling process keeps its GIL.

msgspec's decoding of the files' exact numbers and hotcoco's input builders
hold the GIL for seconds at train2017 size (3.3 s, 1.6 s), so a GUI whose
worker thread evaluates freezes however the work is split. Here a child
process does it all — decoding, hotcoco, verdicts, TIDE, the confusion matrix —
and sends the :class:`Evaluation` back without its hotcoco handles: numpy
arrays as raw pickle-5 buffers read straight into memory (the reads release
the GIL). The child keeps its evaluations, so another IoU threshold or area
range costs only the matching there and the verdicts' transfer.

The child reads the same files itself (memory-mapped; it checks their size)
and gets the dataset's columns the ground truth is made from, so its rows are
the caller's. Anything that goes wrong with the process (it cannot start, it
dies, a file changed) raises :class:`Unavailable`: the caller then evaluates
in-process as before.
"""

from __future__ import annotations

import contextlib
import copy
import mmap
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import numpy as np

from cocoview.model.framing import recv, send

#: the hidden command-line switch a frozen build (no ``python -c``) dispatches on
FROZEN_FLAG = "--eval-worker"
#: how much lower the child's scheduling priority is than the app's
NICE = 10


class Unavailable(Exception):
    """The child process cannot do it (not started, died, a file changed): evaluate
    in-process instead."""


def command() -> list[str]:
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: the app itself dispatches
        return [sys.executable, FROZEN_FLAG]
    return [sys.executable, "-c", "import sys; from cocoview.model.evaluation.remote import "
            "main; sys.exit(main())"]


# ----- what the child needs of the dataset ------------------------------------------
@dataclass
class _Category:
    id: int
    name: str


@dataclass
class _Anns:
    category_id: np.ndarray
    seg_kind: np.ndarray
    ordinal: np.ndarray
    id: np.ndarray


@dataclass
class FileSpec:
    """One file as the child opens it again: path, size, and its records' spans."""

    path: Path
    size: int
    is_list: bool
    categories: list[Any]
    ann_rec_off: np.ndarray
    ann_rec_len: np.ndarray
    data: Any = field(default=None, repr=False)  # the child's map of the file

    @property
    def n_records(self) -> int:
        return len(self.ann_rec_off)

    def open(self) -> None:
        from cocoview.model.source import read_bytes

        with open(self.path, "rb") as fh:
            if fh.read(2) == b"\x1f\x8b":
                data: Any = read_bytes(self.path)  # gzip: decoded, as the loader has it
            else:
                fh.seek(0)
                size = os.fstat(fh.fileno()).st_size
                data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        if len(data) != self.size:
            raise Unavailable(f"{self.path} changed since it was opened")
        self.data = data

    def all_bytes(self) -> Any:
        return self.data

    def record(self, ordinal: int) -> Any:
        from cocoview.model.source import decode_value

        off, n = int(self.ann_rec_off[ordinal]), int(self.ann_rec_len[ordinal])
        return decode_value(self.data[off:off + n])


@dataclass
class _Results:
    file: FileSpec


@dataclass
class DatasetSpec:
    """What ``inputs.ground_truth`` and ``load_records`` read of a :class:`Dataset`."""

    images_implied: bool
    image_ids: np.ndarray
    image_width: np.ndarray
    image_height: np.ndarray
    categories: list[_Category]
    files: list[FileSpec]
    anns: _Anns
    ann_image_row: np.ndarray
    ann_src: np.ndarray
    results: _Results | None


def _file_spec(f: Any) -> FileSpec:
    data = f.data
    if not isinstance(data, (bytes, bytearray, mmap.mmap)) and not hasattr(data, "size"):
        raise Unavailable(f"{f.path}: its bytes cannot be reopened")
    path = Path(f.path)
    if not path.is_file():
        raise Unavailable(f"{path} is not a file")
    return FileSpec(path, len(data), bool(f.is_list), list(f.categories),
                    np.asarray(f.ann_rec_off), np.asarray(f.ann_rec_len))


def dataset_spec(ds: Any) -> DatasetSpec:
    """The dataset's part the evaluation reads, for the child (raises :class:`Unavailable`)."""
    a = ds.anns
    res = getattr(ds, "results", None)
    return DatasetSpec(
        bool(getattr(ds, "images_implied", False)), np.asarray(ds.image_ids),
        np.asarray(ds.image_width), np.asarray(ds.image_height),
        [_Category(int(c.id), str(c.name)) for c in ds.categories],
        [_file_spec(f) for f in ds.files],
        _Anns(np.asarray(a.category_id), np.asarray(a.seg_kind), np.asarray(a.ordinal),
              np.asarray(a.id)),
        np.asarray(ds.ann_image_row), np.asarray(ds.ann_src),
        _Results(_file_spec(res.file)) if res is not None else None)


# ----- the child ---------------------------------------------------------------------
def portable(ev: Any) -> Any:
    """A copy of ``ev`` without hotcoco's objects and the caches made again on use."""
    ev.stats, ev.per_category, ev.tide, ev.confusion  # noqa: B018 - computed before leaving
    out = copy.copy(ev)
    for name in ("_gt_c", "_dt_c", "_hot", "_main", "_overlaps", "_masks"):
        out.__dict__.pop(name, None)
    out._pairs = {}
    out.gt, out.dt = copy.copy(ev.gt), copy.copy(ev.dt)
    for part in (out.gt, out.dt):
        part.__dict__.pop("box_cols", None)  # five columns a pair test reads: made on use
    return out


def _handle(req: tuple[Any, ...], bases: dict[str, Any]) -> Any:
    from cocoview.model.evaluation.result import evaluate
    from cocoview.model.review import at_setting

    op = req[0]
    if op == "evaluate":
        _, spec, iou_type, iou_thr, area, max_dets = req
        bases.clear()
        for f in [*spec.files, *([spec.results.file] if spec.results else [])]:
            f.open()
        ev = evaluate(spec, None, iou_type, iou_thr, area, max_dets)
        out = portable(ev)
        for name in ("_gt_c", "_dt_c", "_hot", "_main", "_overlaps"):  # not needed again
            ev.__dict__.pop(name, None)
        bases[iou_type] = ev
        return out
    if op == "verdicts":
        _, iou_type, iou_thr, area = req
        return at_setting(bases[iou_type], iou_thr, area).verdicts
    raise ValueError(f"unknown request {op!r}")


def main() -> int:
    """The child: answer requests on stdin until it closes."""
    inp = sys.stdin.buffer
    # background work: on a busy machine the app's threads come first (a thread of the
    # GUI process preempted while it holds the GIL stalls the GUI thread too)
    with contextlib.suppress(AttributeError, OSError):
        os.nice(NICE)
    # the replies get their own descriptor; whatever else writes to fd 1 (a library's
    # own printing) goes to stderr and cannot break a reply
    out = os.fdopen(os.dup(1), "wb")
    sys.stdout.flush()
    os.dup2(2, 1)
    bases: dict[str, Any] = {}
    while True:
        try:
            req = recv(inp)
        except EOFError:
            return 0
        try:
            reply: tuple[bool, Any] = (True, _handle(req, bases))
        except Exception as exc:  # the caller raises it (or a stand-in)
            try:
                pickle.dumps(exc)
                reply = (False, exc)
            except Exception:
                reply = (False, RuntimeError(f"{type(exc).__name__}: {exc}"))
        send(out, reply)


# ----- the caller's side -------------------------------------------------------------
class EvalProcess:
    """One child process and the evaluations it keeps; one request at a time.

    ``poll`` (called about every 0.1 s while waiting) may raise to give up: the child
    is then ended (its work is lost) and the exception propagates.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._serial = 0  # which evaluation the child holds (its bases)

    def start(self) -> None:
        """Start the child now (it takes ~0.3 s to import), if it is not running."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> subprocess.Popen[bytes]:
        p = self._proc
        if p is not None and p.poll() is None:
            return p
        try:
            p = subprocess.Popen(command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            raise Unavailable(f"cannot start the evaluation process: {exc}") from None
        self._proc = p
        self._serial += 1
        return p

    def close(self) -> None:
        p, self._proc = self._proc, None
        if p is not None:
            with contextlib.suppress(OSError):
                p.kill()
            with contextlib.suppress(Exception):
                p.wait(5)

    def _ask(self, req: tuple[Any, ...], poll: Callable[[], None] | None) -> Any:
        with self._lock:
            p = self._ensure()
            assert p.stdin is not None and p.stdout is not None
            try:
                send(p.stdin, req)
            except (OSError, ValueError):
                self.close()
                raise Unavailable("the evaluation process ended") from None
            box: Queue[tuple[str, Any]] = Queue()
            stdout = p.stdout

            def read() -> None:
                try:
                    box.put(("ok", recv(stdout)))
                except Exception as exc:
                    box.put(("lost", exc))

            threading.Thread(target=read, name="eval-reply", daemon=True).start()
            while True:
                try:
                    kind, value = box.get(timeout=0.1)
                    break
                except Empty:
                    if poll is not None:
                        try:
                            poll()
                        except BaseException:
                            self.close()  # its answer would come too late: end it
                            raise
            if kind == "lost":
                self.close()
                raise Unavailable(f"the evaluation process ended: {value}")
            ok, out = value
            if not ok:
                raise out
            return out

    def evaluate(self, ds: Any, iou_type: str = "bbox", iou_thr: float = 0.5,
                 area: str = "all", max_dets: int | None = None,
                 poll: Callable[[], None] | None = None) -> Any:
        """``ds.evaluate()`` of the attached results, done by the child."""
        spec = dataset_spec(ds)
        ev = self._ask(("evaluate", spec, iou_type, iou_thr, area, max_dets), poll)
        ev._remote = (self, self._serial)
        return ev

    def holds(self, ev: Any) -> bool:
        """Whether the child still has ``ev`` (so that :meth:`at_setting` can move it)."""
        p = self._proc
        return getattr(ev, "_remote", None) == (self, self._serial) and p is not None \
            and p.poll() is None

    def at_setting(self, ev: Any, iou_thr: float, area: str,
                   poll: Callable[[], None] | None = None) -> Any:
        """``review.at_setting(ev, …)``: the verdicts recomputed by the child."""
        from cocoview.model.evaluation.engine import AREA_RANGES

        if (float(iou_thr), area) == (ev.iou_thr, ev.area):
            return ev
        if area not in AREA_RANGES or not 0.0 <= iou_thr <= 1.0:
            raise ValueError("the IoU threshold must lie in [0, 1] and the area be one of "
                             + ", ".join(AREA_RANGES))
        if not self.holds(ev):
            raise Unavailable("the evaluation process no longer holds this evaluation")
        v = self._ask(("verdicts", ev.iou_type, float(iou_thr), area), poll)
        out = copy.copy(ev)
        out.iou_thr, out.area, out.verdicts = float(iou_thr), area, v
        return out
