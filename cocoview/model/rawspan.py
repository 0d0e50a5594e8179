"""Where msgspec ``Raw`` values lie in the buffer they were decoded from.

A ``Raw`` decoded from ``bytes`` references the input buffer without copying, so
its start is an offset into the file. Asking numpy for the address of 860 k
``Raw`` objects one by one costs ~1.3 s; reading the pointer field of the Raw
objects in bulk costs ~50 ms. The bulk read relies on msgspec's C layout
(``PyObject_HEAD; PyObject *base; char *buf; Py_ssize_t len``), so it is checked
against the slow path at import and on every call (all lengths must agree), and
the slow path is used whenever the check fails.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import msgspec
import numpy as np

_PTR = ctypes.sizeof(ctypes.c_void_p)
_BUF_OFFSET = 2 * _PTR + _PTR  # ob_refcnt, ob_type, base
_LEN_OFFSET = _BUF_OFFSET + _PTR


def buffer_address(buf: bytes | memoryview | msgspec.Raw) -> int:
    """The address of a buffer's first byte (slow but layout-free)."""
    if len(buf) == 0:
        return 0
    return int(np.frombuffer(buf, np.uint8).ctypes.data)


def _slow_addresses(raws: Sequence[msgspec.Raw]) -> np.ndarray:
    return np.fromiter((buffer_address(r) for r in raws), np.int64, len(raws))


def _bulk_addresses(raws: Sequence[msgspec.Raw]) -> np.ndarray | None:
    n = len(raws)
    if n == 0:
        return np.empty(0, np.int64)
    objs = np.fromiter(map(id, raws), np.int64, n)
    lo = int(objs.min())
    hi = int(objs.max()) + _LEN_OFFSET + _PTR
    words = (hi - lo) // 8 + 1
    view = np.ctypeslib.as_array((ctypes.c_int64 * words).from_address(lo))
    rel = objs - lo
    if (rel % 8).any():
        return None
    ptrs = view[(rel + _BUF_OFFSET) // 8]
    lens = view[(rel + _LEN_OFFSET) // 8]
    if not np.array_equal(lens, np.fromiter(map(len, raws), np.int64, n)):
        return None
    # spot-check pointers against the slow path
    probe = np.unique(np.linspace(0, n - 1, num=min(n, 16)).astype(np.int64))
    for i in probe:
        if lens[i] and buffer_address(raws[int(i)]) != int(ptrs[i]):
            return None
    return ptrs.astype(np.int64, copy=False)


def _layout_ok() -> bool:
    data = b'{"a": [1, 2], "b": {"c": "x"}, "d": 3}'
    try:
        raws = list(msgspec.json.decode(data, type=dict[str, msgspec.Raw]).values())
        got = _bulk_addresses(raws)
    except Exception:
        return False
    return got is not None and np.array_equal(got, _slow_addresses(raws))


_BULK_OK = _layout_ok()


def offsets(raws: Sequence[msgspec.Raw], data: bytes | memoryview) -> np.ndarray:
    """Byte offsets of ``raws`` in ``data`` (-1 for empty Raw values)."""
    lens = np.fromiter(map(len, raws), np.int64, len(raws))
    if not lens.any():
        return np.full(len(raws), -1, np.int64)
    base = buffer_address(data)
    addrs = _bulk_addresses(raws) if _BULK_OK else None
    if addrs is None:
        addrs = _slow_addresses(raws)
    out = addrs - base
    out[lens == 0] = -1
    if ((out[lens > 0] < 0) | (out[lens > 0] + lens[lens > 0] > len(data))).any():
        raise ValueError("Raw values do not reference the given buffer")
    return out


def lengths(raws: Sequence[msgspec.Raw]) -> np.ndarray:
    return np.fromiter(map(len, raws), np.int64, len(raws))


def first_byte(raw: msgspec.Raw) -> bytes:
    """The first byte of a raw value (b"" when empty), without copying it."""
    return memoryview(raw)[:1].tobytes() if len(raw) else b""


def is_null(raw: msgspec.Raw) -> bool:
    return len(raw) == 4 and memoryview(raw).tobytes() == b"null"
