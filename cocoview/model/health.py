"""Dataset health: the quality checks beyond the format (see docs/decisions/health.md).

- ``duplicate-annotation`` — two non-crowd annotations of the same category on one
  image whose *boxes* overlap with IoU ≥ :attr:`HealthOptions.duplicate_iou` (0.9).
  Box IoU only: masks are not decoded for it (a pair of near-identical masks has
  near-identical boxes; the converse may not hold, so this may over-report two
  different objects filling the same box — rare at 0.9). Computed per image in
  vectorised form: every pair of one (image, category) group at once.
- ``tiny-box`` — a box with width or height under :attr:`HealthOptions.tiny_side`
  (2 px), or ``w·h`` under :attr:`HealthOptions.tiny_area` (px²).
- ``area-mismatch`` — the stored ``area`` differs from the object's size by more than
  :attr:`HealthOptions.area_tolerance` (10 %): the mask's pixel count as
  pycocotools computes it for polygons and RLE, ``w·h`` for box-only annotations.
  Crowd regions are not compared: COCO's own crowd areas are 10–20 % larger than
  their decoded masks.
- ``area-range-trap`` — one problem for the dataset when the stored areas put many
  objects in another COCO size bucket than their real size: COCOeval decides
  small / medium / large by the stored ``area`` alone.
- ``duplicate-image`` — image records whose files have identical bytes (sizes first,
  then a BLAKE2 hash of the files whose sizes collide), within a file or across the
  files opened together (a train and a val file: leakage).

Everything here is Qt-free and vectorised over the columns.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cocoview.model.columns import SEG_EMPTY, SEG_NONE
from cocoview.model.errors import Problem, Severity
from cocoview.model.stats import MEDIUM, SMALL

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset


@dataclass(frozen=True)
class HealthOptions:
    """The thresholds of the quality checks (the defaults are the documented ones)."""

    duplicate_iou: float = 0.9  # box IoU at or above which two annotations are one
    tiny_side: float = 2.0  # px: a box narrower or lower than this is tiny
    tiny_area: float = 4.0  # px²: a box with w·h under this is tiny
    area_tolerance: float = 0.10  # relative difference of stored vs measured area
    trap_share: float = 0.25  # share of objects in the wrong size bucket → the trap
    near_duplicates: bool = False  # decode every image for the perceptual hash (slow)
    near_distance: int = 4  # bits (of 64) two perceptual hashes may differ by


DEFAULT = HealthOptions()
MAX_PAIRS = 4_000_000  # candidate pairs per chunk (memory: ~40 bytes each)

AnnProblem = Callable[[int, Severity, str, str], Problem]  # (row, severity, code, message)


def _boxes_xyxy(ds: Dataset, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b = ds.anns.bbox[rows]
    ok = np.isfinite(b).all(axis=1) & (b[:, 2] > 0) & (b[:, 3] > 0)
    return b, ok


def duplicate_pairs(ds: Dataset, rows: np.ndarray,
                    iou: float = DEFAULT.duplicate_iou) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """``(later, earlier, iou)``: for each annotation row that duplicates an earlier one
    (same image, same category, both not crowd, box IoU ≥ ``iou``), the first row it
    duplicates. Every pair of a group is compared at once; groups are cut in chunks."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if not len(rows):
        return empty
    _b, ok = _boxes_xyxy(ds, rows)
    img = ds.ann_image_row[rows]
    ok &= (ds.anns.iscrowd[rows] == 0) & (img >= 0)
    r = rows[ok]
    if len(r) < 2:
        return empty
    ncat = len(ds.categories) + 2
    key = ds.ann_image_row[r].astype(np.int64) * ncat + (ds.ann_category_index[r] + 1)
    order = np.lexsort((r, key))  # by group, then file order inside it
    r, key = r[order], key[order]
    bb = ds.anns.bbox[r]
    x1, y1 = bb[:, 0], bb[:, 1]
    x2, y2 = x1 + bb[:, 2], y1 + bb[:, 3]
    area = bb[:, 2] * bb[:, 3]
    n = len(r)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], n]
    partners = np.repeat(ends, ends - starts) - np.arange(n) - 1  # later members per element
    later_l: list[np.ndarray] = []
    earlier_l: list[np.ndarray] = []
    iou_l: list[np.ndarray] = []
    cum = np.cumsum(partners)
    lo = 0
    while lo < n:
        base = int(cum[lo - 1]) if lo else 0
        hi = max(int(np.searchsorted(cum, base + MAX_PAIRS, side="right")), lo + 1)
        cnt = partners[lo:hi]
        total = int(cnt.sum())
        if total:
            left = np.repeat(np.arange(lo, hi), cnt)
            first = np.cumsum(cnt) - cnt
            right = left + 1 + (np.arange(total) - np.repeat(first, cnt))
            iw = np.minimum(x2[left], x2[right]) - np.maximum(x1[left], x1[right])
            ih = np.minimum(y2[left], y2[right]) - np.maximum(y1[left], y1[right])
            inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
            v = inter / (area[left] + area[right] - inter)
            hit = v >= iou
            later_l.append(right[hit])
            earlier_l.append(left[hit])
            iou_l.append(v[hit])
        lo = hi
    if not later_l:
        return empty
    later, earlier, vals = (np.concatenate(later_l), np.concatenate(earlier_l),
                            np.concatenate(iou_l))
    if not len(later):
        return empty
    o = np.lexsort((earlier, later))  # one report per later annotation: its first match
    later, earlier, vals = later[o], earlier[o], vals[o]
    keep = np.r_[True, later[1:] != later[:-1]]
    return r[later[keep]], r[earlier[keep]], vals[keep]


def duplicate_annotations(ds: Dataset, rows: np.ndarray, make: AnnProblem,
                          opts: HealthOptions = DEFAULT) -> Iterator[Problem]:
    later, earlier, vals = duplicate_pairs(ds, rows, opts.duplicate_iou)
    o = np.argsort(later, kind="stable")
    for a, e, v in zip(later[o].tolist(), earlier[o].tolist(), vals[o].tolist(), strict=True):
        yield make(a, Severity.WARNING, "duplicate-annotation",
                   f"duplicates annotation id {int(ds.anns.id[e])} (same category, box IoU "
                   f"{v:.2f} ≥ {opts.duplicate_iou:g})")


def tiny_mask(ds: Dataset, rows: np.ndarray, opts: HealthOptions = DEFAULT) -> np.ndarray:
    b, ok = _boxes_xyxy(ds, rows)
    return ok & ((b[:, 2] < opts.tiny_side) | (b[:, 3] < opts.tiny_side)
                 | (b[:, 2] * b[:, 3] < opts.tiny_area))


def tiny_boxes(ds: Dataset, rows: np.ndarray, make: AnnProblem,
               opts: HealthOptions = DEFAULT) -> Iterator[Problem]:
    b = ds.anns.bbox
    for row in rows[tiny_mask(ds, rows, opts)].tolist():
        w, h = float(b[row, 2]), float(b[row, 3])
        yield make(row, Severity.WARNING, "tiny-box",
                   f"bbox is {w:g}×{h:g} px (under {opts.tiny_side:g} px a side or "
                   f"{opts.tiny_area:g} px²)")


def measured_sizes(ds: Dataset, rows: np.ndarray, mask_area: np.ndarray) -> np.ndarray:
    """Per row: the object's real size — the mask area where measured (``mask_area``,
    NaN where not), else ``w·h`` of the box for box-only annotations, else NaN."""
    b = ds.anns.bbox[rows]
    box_only = np.isin(ds.anns.seg_kind[rows], [SEG_NONE, SEG_EMPTY])
    wh = np.where(box_only & np.isfinite(b).all(axis=1), b[:, 2] * b[:, 3], np.nan)
    return np.where(np.isfinite(mask_area), mask_area, wh)


def _area_off(ds: Dataset, rows: np.ndarray, stored: np.ndarray, size: np.ndarray,
              mask_area: np.ndarray, tol: float) -> np.ndarray:
    """Stored area off the measured size by more than ``tol`` — and, for masks, by more
    than the box's semi-perimeter: a polygon's exact (shoelace) area and its rasterised
    pixel count differ by up to about half a pixel along the outline, which for small
    objects is far more than 10 %."""
    b = ds.anns.bbox[rows]
    outline = np.where(np.isfinite(mask_area), np.nan_to_num(b[:, 2] + b[:, 3]), 1.0)
    with np.errstate(invalid="ignore"):
        diff = np.abs(stored - size)
        return (np.isfinite(stored) & np.isfinite(size)
                & (diff > tol * np.maximum(size, 1.0)) & (diff > outline))


def area_mismatches(ds: Dataset, rows: np.ndarray, mask_area: np.ndarray, make: AnnProblem,
                    opts: HealthOptions = DEFAULT) -> Iterator[Problem]:
    """``mask_area``: per row of ``rows``, pycocotools' area of its mask (NaN: none)."""
    size = measured_sizes(ds, rows, mask_area)
    stored = ds.anns.area[rows]
    off = _area_off(ds, rows, stored, size, mask_area, opts.area_tolerance) & (
        ds.anns.iscrowd[rows] == 0)
    box_only = ~np.isfinite(mask_area)
    for k in np.flatnonzero(off).tolist():
        what = "the box's w·h" if box_only[k] else "the mask's area"
        yield make(int(rows[k]), Severity.WARNING, "area-mismatch",
                   f"area {_num(float(stored[k]))} differs from {what} {_num(float(size[k]))} "
                   f"by more "
                   f"than {opts.area_tolerance:.0%}")


def _num(v: float) -> str:
    """An area or size for a message: 2,795,520 rather than 2.79552e+06."""
    return f"{v:,.0f}" if v >= 1000 or v == int(v) else f"{v:.4g}"


def _bucket(a: np.ndarray) -> np.ndarray:
    return np.where(a < SMALL, 0, np.where(a < MEDIUM, 1, 2))


def area_range_trap(ds: Dataset, rows: np.ndarray, mask_area: np.ndarray,
                    opts: HealthOptions = DEFAULT) -> Iterator[Problem]:
    """One dataset-level problem when many stored areas are not the object's size."""
    size = measured_sizes(ds, rows, mask_area)
    stored = ds.anns.area[rows]
    use = (ds.anns.iscrowd[rows] == 0) & np.isfinite(stored) & np.isfinite(size)
    n = int(use.sum())
    if not n:
        return
    off = use & _area_off(ds, rows, stored, size, mask_area, opts.area_tolerance)
    wrong = off & (_bucket(stored) != _bucket(size))
    k = int(wrong.sum())
    if not k or off.sum() < opts.trap_share * n:
        return
    img = ds.ann_image_row[rows]
    img_px = np.where(img >= 0, ds.image_width[np.maximum(img, 0)].astype(np.float64)
                      * ds.image_height[np.maximum(img, 0)], np.nan)
    whole = int((use & (stored == img_px)).sum())
    note = (f"; {whole:,} of them store the image's width×height" if whole else "")
    edge = int((use & np.isin(stored, [SMALL, MEDIUM])).sum())
    yield Problem(Severity.WARNING, "area-range-trap",
                  f"{int(off.sum()):,} of {n:,} objects have a stored 'area' that is not their "
                  f"size{note}, and {k:,} of them fall in another COCO size bucket. COCOeval "
                  "decides small/medium/large by the "
                  "stored area (closing its ranges at both ends: an area of exactly 32² or "
                  f"96² counts in two buckets{f', {edge:,} here' if edge else ''}), so "
                  "AP small/medium/large will be wrong for this dataset",
                  "annotations", str(ds.files[0].path))


# ----- image files ------------------------------------------------------------------
def _digest(path: str) -> bytes | None:
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        return None
    return h.digest()


def _usable_files(ds: Dataset, images: np.ndarray, allow_outside: bool,
                  tick: Callable[[int], None] | None) -> Iterator[tuple[int, Path]]:
    """(image row, path) of each image whose file may be opened."""
    for row in images.tolist():
        if tick is not None:
            tick(1)
        if not ds.image_file_names[row]:
            continue
        path = ds.image_file(int(ds.image_ids[row])).usable(allow_outside)
        if path is not None:
            yield row, path


def duplicate_images(ds: Dataset, images: np.ndarray, allow_outside: bool,
                     location: Callable[[int], str],
                     tick: Callable[[int], None] | None = None) -> Iterator[Problem]:
    """Image records whose files have the same bytes (sizes compared first: only files
    whose sizes collide are read and hashed)."""
    rows: list[int] = []
    paths: list[str] = []
    sizes: list[int] = []
    for row, path in _usable_files(ds, images, allow_outside, tick):
        try:
            st = os.stat(path)
        except OSError:
            continue
        rows.append(row)
        paths.append(str(path))
        sizes.append(int(st.st_size))
    if len(rows) < 2:
        return
    size_arr = np.asarray(sizes, np.int64)
    uniq, inv, counts = np.unique(size_arr, return_inverse=True, return_counts=True)
    del uniq
    cand = np.flatnonzero(counts[inv] > 1)
    groups: dict[bytes, list[int]] = {}
    real: dict[str, bytes | None] = {}
    for k in cand.tolist():
        rp = os.path.realpath(paths[k])
        if rp not in real:
            real[rp] = _digest(rp)
        d = real[rp]
        if d is not None:
            groups.setdefault(d, []).append(k)
    for members in groups.values():
        if len(members) < 2:
            continue
        first = members[0]
        r0 = rows[first]
        f0 = int(ds.image_src[r0])
        for k in members[1:]:
            r = rows[k]
            src = int(ds.image_src[r])
            same_file = os.path.realpath(paths[k]) == os.path.realpath(paths[first])
            how = "is the same file as" if same_file else "has the same content as"
            where = location(r0)
            if src != f0 and src >= 0 and f0 >= 0:
                where += f" in {ds.files[f0].path.name} (leakage between the files)"
            yield Problem(Severity.WARNING, "duplicate-image",
                          f"{ds.image_file_names[r]} {how} {ds.image_file_names[r0]}, "
                          f"{where}", location(r),
                          str(ds.files[src].path) if src >= 0 else "",
                          image_id=int(ds.image_ids[r]))


# ----- near-duplicate images ----------------------------------------------------------
HASH_SIDE = 64  # the images are decoded to at most this side (a JPEG by DCT scaling)


def dhash(rgb: np.ndarray) -> int:
    """A 64-bit difference hash: the picture in grey at 9×8 (area averaging), each bit
    "brighter than its left neighbour". Resizing and re-compressing change few bits;
    other pictures ~32. OpenCV, which releases the GIL, so threads hash in parallel."""
    import cv2

    rgb = np.ascontiguousarray(rgb)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).ravel()
    return int(np.packbits(bits).view(">u8")[0])


def _hash_file(path: Path, width: int, height: int) -> int | None:
    from cocoview.model.images import decode

    got = decode(path, width, height, max_side=HASH_SIDE)
    if got.rgb is None or not got.rgb.size:
        return None
    return dhash(got.rgb)


def _keep_hashes(ds: Dataset, per_file: list[dict[tuple[str, int, int], int]],
                 new: list[tuple[int, tuple[str, int, int], int]]) -> None:
    """Add the new hashes to each annotation file's kept ones; an entry of a file
    that changed since (same path, other size or time) is replaced."""
    from cocoview.model import hash_cache

    if not new:
        return
    for src, f in enumerate(ds.files):
        mine = [(key, h) for row, key, h in new if int(ds.image_src[row]) in (src, -1)]
        if not mine:
            continue
        changed = {key[0] for key, _h in mine}
        entries = {k: h for k, h in per_file[src].items() if k[0] not in changed}
        entries.update(mine)
        hash_cache.store(f.path, entries)


def image_hashes(ds: Dataset, images: np.ndarray, allow_outside: bool,
                 tick: Callable[[int], None] | None = None,
                 workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, hashes)``: the perceptual hash of every image row that decodes.

    One reduced decode per image (the app's one decoder), on every core (Pillow's
    decoders release the GIL), and only for the files whose hash is not kept from an
    earlier check (:mod:`cocoview.model.hash_cache`). ``tick`` is called on the
    calling thread, so a cancel raised there stops the work."""
    from concurrent.futures import ThreadPoolExecutor

    from cocoview.model import hash_cache

    per_file = [hash_cache.load(f.path) for f in ds.files]
    kept: dict[hash_cache.Key, int] = {k: h for d in per_file for k, h in d.items()}
    todo: list[tuple[int, Path, hash_cache.Key]] = []
    rows: list[int] = []
    hashes: list[int] = []
    for row, path in _usable_files(ds, images, allow_outside, None):
        key = hash_cache.file_key(path)
        if key is None:
            continue
        if key in kept:
            rows.append(row)
            hashes.append(kept[key])
        else:
            todo.append((row, path, key))
    if tick is not None:
        tick(len(images) - len(todo))
    new: list[tuple[int, hash_cache.Key, int]] = []
    n_workers = workers or min(os.cpu_count() or 1, 8)
    try:
        with ThreadPoolExecutor(n_workers) as pool:
            step = 64 * n_workers  # a bounded window: a cancel waits for one window
            for start in range(0, len(todo), step):
                part = todo[start:start + step]
                got = pool.map(lambda t: _hash_file(t[1], int(ds.image_width[t[0]]),
                                                    int(ds.image_height[t[0]])), part)
                for (row, _path, key), h in zip(part, got, strict=True):
                    if h is not None:
                        rows.append(row)
                        hashes.append(h)
                        new.append((row, key, h))
                if tick is not None:
                    tick(len(part))
    finally:  # what was decoded is kept, a cancelled check's too
        _keep_hashes(ds, per_file, new)
    order = np.argsort(np.asarray(rows, np.int64), kind="stable")
    return (np.asarray(rows, np.int64)[order],
            np.asarray(hashes, np.uint64).reshape(-1)[order])


def _popcount(x: np.ndarray) -> np.ndarray:
    b = x.view(np.uint8).reshape(-1, 8)
    return np.unpackbits(b, axis=1).sum(axis=1)


def near_pairs(hashes: np.ndarray, distance: int) -> tuple[np.ndarray, np.ndarray,
                                                           np.ndarray]:
    """``(i, j, bits)`` with i < j: the pairs whose hashes differ in at most
    ``distance`` bits. Pigeonhole: the 64 bits are cut in ``distance + 1`` bands, and
    two hashes that close agree exactly on at least one band, so only the hashes that
    share a band are compared (vectorised, per band)."""
    n = len(hashes)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    if n < 2:
        return empty
    bands = distance + 1
    edges = np.linspace(0, 64, bands + 1).astype(int)
    pairs: list[np.ndarray] = []
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        key = (hashes >> np.uint64(64 - hi)) & np.uint64((1 << (hi - lo)) - 1)
        order = np.argsort(key, kind="stable")
        k = key[order]
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        ends = np.r_[starts[1:], n]
        partners = np.repeat(ends, ends - starts) - np.arange(n) - 1
        total = int(partners.sum())
        if not total:
            continue
        left = np.repeat(np.arange(n), partners)
        first = np.cumsum(partners) - partners
        right = left + 1 + (np.arange(total) - np.repeat(first, partners))
        a, b = order[left], order[right]
        close = _popcount(hashes[a] ^ hashes[b]) <= distance  # most pairs are far apart
        a, b = a[close], b[close]
        pairs.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
    if not pairs:
        return empty
    key = np.unique(np.concatenate(pairs))  # a pair close in several bands: once
    i, j = key // n, key % n
    bits = _popcount(hashes[i] ^ hashes[j]).astype(np.int64)
    return i, j, bits


def near_duplicate_images(ds: Dataset, images: np.ndarray, allow_outside: bool,
                          location: Callable[[int], str], opts: HealthOptions = DEFAULT,
                          tick: Callable[[int], None] | None = None) -> Iterator[Problem]:
    """Perceptually similar image files (resized, re-compressed or identical copies):
    each image reported once, naming the first (in dataset order) it resembles."""
    rows, hashes = image_hashes(ds, images, allow_outside, tick)
    i, j, bits = near_pairs(hashes, opts.near_distance)
    if not len(i):
        return
    o = np.lexsort((i, j))
    i, j, bits = i[o], j[o], bits[o]
    first = np.r_[True, j[1:] != j[:-1]]
    for a, b, d in zip(i[first].tolist(), j[first].tolist(), bits[first].tolist(),
                       strict=True):
        ra, rb = int(rows[a]), int(rows[b])
        src, src0 = int(ds.image_src[rb]), int(ds.image_src[ra])
        where = location(ra)
        if src != src0 and src >= 0 and src0 >= 0:
            where += f" in {ds.files[src0].path.name} (leakage between the files)"
        yield Problem(Severity.WARNING, "near-duplicate-image",
                      f"{ds.image_file_names[rb]} looks like {ds.image_file_names[ra]}, "
                      f"{where} (perceptual hashes {d} of 64 bits apart, ≤ "
                      f"{opts.near_distance})", location(rb),
                      str(ds.files[src].path) if src >= 0 else "",
                      image_id=int(ds.image_ids[rb]))
