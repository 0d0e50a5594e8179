"""COCO run-length encoding helpers that never hand pycocotools bad input.

pycocotools writes past its buffer when counts sum to more than h·w and wraps
negative counts to huge ones; every RLE goes through :func:`check_rle` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


def string_to_counts(s: str | bytes) -> np.ndarray:
    """Decode COCO's compressed counts string (the LEB128-like ``rleFrString``).

    Vectorised: each number is 5 bits per character, a set 0x20 bit meaning "more
    follows" and a set 0x10 bit in the last character a negative number; from the
    third number on, each is stored as the difference to the one two before.
    """
    b = s.encode("ascii", "replace") if isinstance(s, str) else bytes(s)
    if len(b) < _SHORT_COUNTS:
        return np.asarray(_short_string_to_counts(b), dtype=np.int64)
    c = np.frombuffer(b, np.uint8).astype(np.int64) - 48
    if not len(c):
        return np.zeros(0, np.int64)
    bad = np.flatnonzero((c < 0) | (c > 63))
    if len(bad):
        raise ValueError(f"invalid character {chr(b[int(bad[0])])!r} in counts string")
    last = (c & 0x20) == 0  # the last character of each number
    if not last[-1]:
        raise ValueError("counts string ends inside a number")
    starts = np.flatnonzero(np.r_[True, last[:-1]])
    k = np.arange(len(c)) - np.repeat(starts, np.diff(np.r_[starts, len(c)]))
    if k.max() > 11:  # 60 bits: no count of a real mask comes near
        raise ValueError("a number in the counts string is too long")
    x = np.add.reduceat((c & 0x1F) << (5 * k), starts)
    ends = np.flatnonzero(last)
    neg = (c[ends] & 0x10) != 0
    x[neg] |= -1 << (5 * (k[ends][neg] + 1))
    if len(x) > 3:  # x[i] += x[i - 2] for i > 2, i.e. a running sum per parity from 1 and 2
        x[1::2] = np.cumsum(x[1::2])
        x[2::2] = np.cumsum(x[2::2])
    return x


#: below this many characters a plain loop beats numpy's per-call cost (measured: 70 µs)
_SHORT_COUNTS = 200


def _short_string_to_counts(b: bytes) -> list[int]:
    counts: list[int] = []
    p, n = 0, len(b)
    while p < n:
        x = 0
        k = 0
        more = True
        while more:
            if p >= n:
                raise ValueError("counts string ends inside a number")
            c = b[p] - 48
            if c < 0 or c > 63:
                raise ValueError(f"invalid character {chr(b[p])!r} in counts string")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if k > 12:
            raise ValueError("a number in the counts string is too long")
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def crop_counts(counts: np.ndarray, height: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """The bool mask of uncompressed counts (column-major, height ``height``) inside ``box``.

    ``box`` is (x0, y0, x1, y1). Exactly what decoding the whole mask and slicing
    gives, at the cost of the box's columns: a full decode of every annotation of
    a crowded image is what made drawing 300,000 of them take minutes.
    """
    x0, y0, x1, y1 = box
    lo, hi = x0 * height, x1 * height
    ends = np.cumsum(counts)
    i0 = int(np.searchsorted(ends, lo, "right"))  # the runs that reach into [lo, hi)
    i1 = int(np.searchsorted(ends - counts, hi, "left"))
    ends, begins = ends[i0:i1], ends[i0:i1] - counts[i0:i1]
    lengths = np.minimum(ends, hi) - np.maximum(begins, lo)
    values = (np.arange(i0, i1) % 2).astype(bool)  # runs alternate 0, 1, 0, …
    flat = np.repeat(values, lengths)
    if len(flat) < hi - lo:  # counts that stop short: the rest is background
        flat = np.r_[flat, np.zeros(hi - lo - len(flat), bool)]
    return flat.reshape(x1 - x0, height).T[y0:y1]


def counts_to_string(counts: np.ndarray) -> str:
    """Encode counts the way pycocotools' ``rleToString`` does."""
    out = bytearray()
    cnts = [int(c) for c in counts]
    for i, c in enumerate(cnts):
        x = c - cnts[i - 2] if i > 2 else c
        more = True
        while more:
            ch = x & 0x1F
            x >>= 5
            more = not (((ch & 0x10) == 0 and x == 0) or ((ch & 0x10) != 0 and x == -1))
            if more:
                ch |= 0x20
            out.append(ch + 48)
    return out.decode("ascii")


@dataclass
class RleCheck:
    """An RLE made safe for pycocotools, and what had to be done to it."""

    rle: dict[str, Any] | None  # compressed {"size": [h, w], "counts": str}, None = unusable
    height: int
    width: int
    problems: list[str]


def check_rle(seg: dict[str, Any]) -> RleCheck:
    """Validate an RLE dict; return a compressed RLE that pycocotools can decode safely."""
    problems: list[str] = []
    size = seg.get("size")
    counts = seg.get("counts")
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31
                   for v in size)
    ):
        return RleCheck(None, 0, 0, [f"RLE 'size' must be [height, width], got {size!r:.40}"])
    h, w = int(size[0]), int(size[1])
    if h * w >= 2**32:  # pycocotools counts pixels in 32 bits
        return RleCheck(None, h, w, [f"RLE size {h}×{w} is too large to decode"])
    if isinstance(counts, (str, bytes)):
        try:
            arr = string_to_counts(counts)
        except ValueError as exc:
            return RleCheck(None, h, w, [f"RLE counts string is corrupt: {exc}"])
    elif isinstance(counts, list):
        if not set(map(type, counts)) <= {int}:  # exactly int: bool is not a count
            return RleCheck(None, h, w, ["RLE counts must be integers"])
        try:  # vectorised checks (a crowd's counts run to thousands)
            arr = np.asarray(counts, np.int64) if counts else np.zeros(0, np.int64)
            negative, wide = bool((arr < 0).any()), bool((arr >= 2**32).any())
        except OverflowError:  # beyond 64 bits: Python's integers decide
            negative, wide = any(v < 0 for v in counts), True
        if negative:
            return RleCheck(None, h, w, ["RLE has negative counts"])
        if wide:  # pycocotools counts in 32 bits
            return RleCheck(None, h, w, ["RLE counts must be below 2³²"])
    else:
        return RleCheck(None, h, w, [f"RLE 'counts' must be a string or a list, got "
                                     f"{type(counts).__name__}"])
    if (arr < 0).any():
        return RleCheck(None, h, w, ["RLE has negative counts"])
    total = int(arr.sum()) if len(arr) else 0
    if total != h * w:
        problems.append(f"RLE counts sum to {total}, expected {h}×{w} = {h * w}")
        if total > h * w:  # cut the runs at h·w
            csum = np.cumsum(arr)
            k = int(np.searchsorted(csum, h * w))
            arr = arr[: k + 1].copy()
            arr[-1] -= int(csum[k]) - h * w
        else:
            arr = np.append(arr, h * w - total)
    if isinstance(counts, (str, bytes)) and not problems:
        return RleCheck({"size": [h, w], "counts": counts}, h, w, problems)
    # pycocotools compresses a safe uncompressed RLE itself (C speed)
    rle = mask_utils.frPyObjects({"size": [h, w], "counts": arr.tolist()}, h, w)
    return RleCheck(rle, h, w, problems)
