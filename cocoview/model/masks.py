"""Exact masks through pycocotools, with every input pycocotools mishandles caught first.

Handled instead of raised: ``segmentation: []`` (pycocotools raises IndexError),
polygon parts with fewer than 3 points (a part of exactly 4 numbers is read by
pycocotools as a box), odd coordinate counts, non-numbers, RLEs whose size
disagrees with the image and RLE counts that do not sum to h·w.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
from pycocotools import mask as mask_utils

from cocoview.model.rle import check_rle


@dataclass
class Geometry:
    """A segmentation made safe: valid polygon parts or a safe compressed RLE."""

    polygons: list[np.ndarray] = field(default_factory=list)  # (k, 2) float64 each
    rle: dict[str, Any] | None = None
    rle_size: tuple[int, int] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.polygons and self.rle is None


#: polygon coordinates beyond this are refused (no real image is this large)
MAX_COORD = 100_000
#: masks are not decoded for images claiming more pixels than this (~20k × 20k)
MAX_MASK_PIXELS = 400_000_000


def clean_segmentation(seg: Any) -> Geometry:
    """Split a raw ``segmentation`` value into safe geometry and problem messages."""
    g = Geometry()
    if seg is None:
        return g
    if isinstance(seg, dict):
        chk = check_rle(seg)
        g.problems += chk.problems
        if chk.rle is not None:
            g.rle = chk.rle
            g.rle_size = (chk.height, chk.width)
        return g
    if not isinstance(seg, list):
        g.problems.append(f"segmentation must be a list or an RLE object, got "
                          f"{type(seg).__name__}")
        return g
    if not seg:
        g.problems.append("segmentation is an empty list (no mask)")
        return g
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seg):
        g.problems.append("segmentation is a flat list of numbers, expected a list of polygons")
        seg = [seg]
    for i, part in enumerate(seg):
        if not isinstance(part, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in part
        ):
            g.problems.append(f"polygon part {i} is not a list of numbers")
            continue
        try:
            finite = all(math.isfinite(v) for v in part)
        except OverflowError:  # an integer beyond double range
            finite = False
        if not finite:
            g.problems.append(f"polygon part {i} has non-finite coordinates")
            continue
        if part and max(abs(min(part)), abs(max(part))) > MAX_COORD:
            # pycocotools rasterises every edge at 5× in C ints: far-out coordinates
            # cost gigabytes or overflow
            g.problems.append(f"polygon part {i} has coordinates beyond ±{MAX_COORD:,}")
            continue
        _add_part(g, i, np.asarray(part, dtype=np.float64))
    return g


def _add_part(g: Geometry, i: int, arr: np.ndarray) -> None:
    """Part ``i``'s numbers (finite, in range) as a polygon of ``g``, or its problem: an
    odd count loses its last number; fewer than 3 points are no polygon."""
    if len(arr) % 2:
        g.problems.append(f"polygon part {i} has an odd number of coordinates ({len(arr)})")
        arr = arr[:-1]
    if len(arr) < 6:
        g.problems.append(
            f"polygon part {i} has {len(arr) // 2} point(s); a polygon needs at least 3")
        return
    g.polygons.append(arr.reshape(-1, 2))


_POLYGON_LISTS = msgspec.json.Decoder(list[list[float]])


def polygon_geometry(raw: bytes) -> Geometry | None:
    """:func:`clean_segmentation` of a raw ``segmentation`` that is a non-empty list of
    number lists (the common case), with the type checks done by msgspec's typed decode
    in C; None for anything else (the caller takes the general path). The same rules in
    the same order, so the same geometry and messages: ~5× faster on COCO's polygons."""
    try:
        parts = _POLYGON_LISTS.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeError, RecursionError):
        return None  # strings, bools, nested values, 1e999, …: the general path words it
    if not parts:
        return None
    g = Geometry()
    for i, part in enumerate(parts):
        arr = np.asarray(part, np.float64)
        # one reduction for both bounds: NaN and inf fail ``<=`` too
        if len(arr) and not float(np.abs(arr).max()) <= MAX_COORD:
            finite = bool(np.isfinite(arr).all())
            g.problems.append(f"polygon part {i} has coordinates beyond ±{MAX_COORD:,}"
                              if finite else f"polygon part {i} has non-finite coordinates")
            continue
        _add_part(g, i, arr)
    return g


_POLYGON_BATCH = msgspec.json.Decoder(list[list[list[float]]])


@dataclass
class PolygonBatch:
    """Many annotations' polygon segmentations decoded at once (see :func:`polygon_batch`):
    every coordinate in one array, and which annotations need no closer look."""

    clean: np.ndarray  # bool per annotation: every part valid (what polygon_geometry passes)
    values: np.ndarray  # float64: every number of every part, annotation after annotation
    lengths: np.ndarray  # numbers per part
    parts: np.ndarray  # parts per annotation

    def areas(self, select: np.ndarray) -> np.ndarray:
        """The shoelace areas (sum over parts) of the selected clean annotations."""
        owner = np.repeat(np.arange(len(self.parts)), self.parts)
        keep = select[owner]
        lens = self.lengths[keep]
        starts = (np.cumsum(self.lengths) - self.lengths)[keep]
        new_starts = np.cumsum(lens) - lens
        idx = np.repeat(starts - new_starts, lens) + np.arange(int(lens.sum()))
        return shoelace(self.values[idx].reshape(-1, 2), lens // 2, self.parts[select])


def shoelace(points: np.ndarray, part_points: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Per annotation, the sum of its parts' shoelace areas, over every point at once:
    ``points`` (n, 2) part after part, ``part_points`` points per part (≥ 3 each),
    ``parts`` parts per annotation."""
    out = np.zeros(len(parts))
    if not len(part_points):
        return out
    starts = np.cumsum(part_points) - part_points
    nxt = np.arange(1, len(points) + 1)
    nxt[starts + part_points - 1] = starts  # each part closes on its first point
    x, y = points[:, 0], points[:, 1]
    part_area = 0.5 * np.abs(np.add.reduceat(x * y[nxt] - x[nxt] * y, starts))
    np.add.at(out, np.repeat(np.arange(len(parts)), parts), part_area)
    return out


def polygon_batch(raws: list[Any]) -> PolygonBatch | None:
    """Decode the raw ``segmentation`` values of many polygon annotations in one typed
    decode; None when any of them is not a list of number lists (the caller takes each
    one's own path). An annotation is *clean* when it has parts and every part has an
    even count of at least 6 finite numbers within ±MAX_COORD: exactly the ones for
    which :func:`polygon_geometry` reports nothing; the others need it for their
    messages."""
    from itertools import chain

    try:
        anns = _POLYGON_BATCH.decode(b"[" + b",".join(raws) + b"]")
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeError, RecursionError):
        return None
    parts = np.fromiter(map(len, anns), np.int64, len(anns))
    flat_parts = list(chain.from_iterable(anns))
    lengths = np.fromiter(map(len, flat_parts), np.int64, len(flat_parts))
    values = np.fromiter(chain.from_iterable(flat_parts), np.float64, int(lengths.sum()))
    good = (lengths >= 6) & (lengths % 2 == 0)
    nonempty = np.flatnonzero(lengths > 0)
    if len(nonempty):
        starts = (np.cumsum(lengths) - lengths)[nonempty]
        peak = np.maximum.reduceat(np.abs(values), starts)  # NaN and inf fail ``<=``
        good[nonempty] &= peak <= MAX_COORD
    owner = np.repeat(np.arange(len(anns)), parts)
    bad = np.bincount(owner[~good], minlength=len(anns))
    return PolygonBatch((bad == 0) & (parts > 0), values, lengths, parts)


def geometry_mask(g: Geometry, height: int, width: int) -> np.ndarray:
    """Decode safe geometry to a bool mask of height × width, as ``annToMask`` would."""
    if height <= 0 or width <= 0:
        return np.zeros((max(height, 0), max(width, 0)), bool)
    if height * width > MAX_MASK_PIXELS:
        raise ValueError(f"image too large for a mask: {width}×{height} pixels")
    if g.polygons:
        rles = mask_utils.frPyObjects([p.ravel().tolist() for p in g.polygons], height, width)
        m = mask_utils.decode(mask_utils.merge(rles))
        return m.astype(bool)
    if g.rle is not None:
        rh, rw = g.rle_size or (height, width)
        if rh * rw > MAX_MASK_PIXELS:
            raise ValueError(f"RLE too large to decode: {rw}×{rh} pixels")
        m = mask_utils.decode(g.rle).astype(bool)
        if m.shape != (height, width):
            out = np.zeros((height, width), bool)
            h, w = min(height, m.shape[0]), min(width, m.shape[1])
            out[:h, :w] = m[:h, :w]
            return out
        return m
    return np.zeros((height, width), bool)


def rle_size_problem(g: Geometry, height: int, width: int) -> str | None:
    if g.rle_size is not None and height > 0 and g.rle_size != (height, width):
        return (f"RLE size {g.rle_size[0]}×{g.rle_size[1]} disagrees with the image "
                f"({height}×{width})")
    return None


def geometry_area(g: Geometry, height: int, width: int) -> float:
    """Area as pycocotools computes it (pixel count of the decoded RLE)."""
    if g.polygons:
        rles = mask_utils.frPyObjects([p.ravel().tolist() for p in g.polygons], height, width)
        return float(mask_utils.area(mask_utils.merge(rles)))
    if g.rle is not None:
        return float(mask_utils.area(g.rle))
    return 0.0
