"""Messages between the app and its helper processes: a pickle (protocol 5) with its
large buffers (numpy arrays) out of band, written raw and read straight into fresh
memory in 1 MiB pieces, each read releasing the GIL (the evaluation's and the
validation's child processes)."""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

import numpy as np

_HEAD = struct.Struct("<QQ")
_LEN = struct.Struct("<Q")


def send(fh: IO[bytes], obj: Any) -> None:
    bufs: list[pickle.PickleBuffer] = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=bufs.append)
    raws = [b.raw() for b in bufs]
    fh.write(_HEAD.pack(len(head), len(raws)) + b"".join(_LEN.pack(r.nbytes) for r in raws))
    fh.write(head)
    for r in raws:
        fh.write(r)
    fh.flush()


def _read_into(fh: IO[bytes], buf: bytearray | np.ndarray) -> None:
    view = (memoryview(buf) if isinstance(buf, bytearray) else buf.data).cast("B")
    got = 0
    while got < len(buf):  # each read releases the GIL; pieces keep every hold short
        n = fh.readinto(view[got:got + (1 << 20)])  # type: ignore[attr-defined]
        if not n:
            raise EOFError("the helper process ended")
        got += n


def recv(fh: IO[bytes]) -> Any:
    head = bytearray(_HEAD.size)
    _read_into(fh, head)
    n_head, n_bufs = _HEAD.unpack(head)
    lens = bytearray(_LEN.size * n_bufs)
    _read_into(fh, lens)
    data = bytearray(n_head)
    _read_into(fh, data)
    bufs = []
    for (n,) in _LEN.iter_unpack(bytes(lens)):
        # not bytearray(n): it zero-fills while holding the GIL (~40 ms per 150 MB, a GUI
        # stall); numpy's empty memory is only touched by the reads, which release it
        b = np.empty(n, np.uint8)
        _read_into(fh, b)
        bufs.append(b)
    return pickle.loads(data, buffers=bufs)
