"""Validation: every problem with a severity and a JSON location.

Cheap checks are vectorised over the columns; geometry and keypoint checks
decode each annotation once. Image-file checks read only image headers for the
whole dataset, and decode the file (at reduced size: truncated and corrupt
files show only then) for one image. A ``file_name`` that leads outside the
images folder is reported and its file not opened unless ``allow_outside``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from cocoview.model import health
from cocoview.model.cache import FileBytes
from cocoview.model.columns import (
    SEG_EMPTY,
    SEG_INVALID,
    SEG_PANOPTIC,
    SEG_POLYGON,
    SEG_RLE,
    SEG_RLE_RAW,
)
from cocoview.model.errors import Problem, Severity
from cocoview.model.health import HealthOptions
from cocoview.model.images import check_image, outside_note
from cocoview.model.loader import WORKERS_ENV
from cocoview.model.masks import (
    Geometry,
    clean_segmentation,
    geometry_area,
    rle_size_problem,
    shoelace,
)
from cocoview.model.paths import is_file, name_outside_reason
from cocoview.model.polygon_worker import PolygonHelper, batch_result
from cocoview.model.records import MISSING_ID

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

MAX_PER_CHECK = 10_000  # a broken export should not produce millions of lines
BBOX_TOLERANCE = 1.0  # pixels a box may stick out of the image before we complain


#: every problem code the validator reports (the filter panel lists them before the
#: dataset is validated); the quality checks of :mod:`cocoview.model.health` first
CODES: tuple[str, ...] = (
    "duplicate-image", "near-duplicate-image", "duplicate-annotation", "tiny-box",
    "area-mismatch", "area-range-trap",
    "bbox-outside-image", "empty-bbox", "missing-bbox", "unknown-image", "unknown-category",
    "no-categories", "duplicate-image-id", "duplicate-annotation-id", "duplicate-category-id",
    "duplicate-category-name", "bad-segmentation", "empty-segmentation", "degenerate-polygon",
    "bad-rle", "rle-size-mismatch", "bad-keypoints", "keypoint-count", "keypoint-visibility",
    "num-keypoints", "image-size-missing", "no-file-name", "image-path-outside",
    "image-missing", "image-size", "image-unreadable", "image-truncated", "image-empty",
    "image-format", "image-too-large", "exif-orientation", "panoptic-png-missing",
    "panoptic-png-size", "panoptic-png-unreadable", "bad-record", "record-skipped",
    "missing-key", "non-finite-number", "skeleton",
)


def ann_location(ds: Dataset, row: int) -> str:
    ordinal = int(ds.anns.ordinal[row])
    if int(ds.anns.seg_kind[row]) == SEG_PANOPTIC:
        return f"annotations[{ordinal}].segments_info[{int(ds.anns.seg_off[row])}] " \
               f"(id {int(ds.anns.id[row])})"
    return f"annotations[{ordinal}] (id {int(ds.anns.id[row])})"


def image_location(ds: Dataset, row: int) -> str:
    src = int(ds.image_src[row])
    if src < 0:
        return f"image {int(ds.image_ids[row])}"
    ordinal = int(ds.files[src].images.ordinal[int(ds.image_src_row[row])])
    return f"images[{ordinal}] (id {int(ds.image_ids[row])})"


Progress = Callable[[int, int], None]  # (done, total), in checked items
Found = Callable[[list[Problem]], None]  # the problems of one more check, as it ends
Seen = dict[str, list[int]]  # code → the image ids of its problems (listed or not)


class _Ticker:
    """Counts checked items and reports every ``every`` of them (a callback per item is slow)."""

    def __init__(self, total: int, progress: Progress | None, every: int = 2000) -> None:
        self.total, self.done, self._progress, self._every = total, 0, progress, every
        self._next = every

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self._progress is not None and self.done >= self._next:
            self._next = self.done + self._every
            self._progress(min(self.done, self.total), self.total)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress(self.total, self.total)


_NONE = _Ticker(0, None)


@dataclass(frozen=True)
class Report:
    """A validation: the problems listed (at most MAX_PER_CHECK per check) and the
    images of every problem, listed or not."""

    problems: list[Problem]
    image_ids: np.ndarray  # sorted, distinct
    code_image_ids: dict[str, np.ndarray] | None = None  # code → sorted distinct image ids

    def images_with(self, code: str) -> np.ndarray:
        """The ids of the images with a problem of ``code`` (every one, listed or not)."""
        got = (self.code_image_ids or {}).get(code)
        return got if got is not None else np.zeros(0, np.int64)

    def codes(self) -> dict[str, int]:
        """Each problem code listed, with how many problems it has (most first)."""
        out: dict[str, int] = {}
        for p in self.problems:
            out[p.code] = out.get(p.code, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def validate(ds: Dataset, check_files: bool = False, allow_outside: bool = False,
             progress: Progress | None = None,
             options: HealthOptions = health.DEFAULT) -> list[Problem]:
    """Every problem of the dataset (see :func:`validate_report`)."""
    return validate_report(ds, check_files, allow_outside, progress, options).problems


def validate_report(ds: Dataset, check_files: bool = False, allow_outside: bool = False,
                    progress: Progress | None = None,
                    options: HealthOptions = health.DEFAULT,
                    found: Found | None = None) -> Report:
    """Every problem of the dataset; with ``check_files`` the image headers are read too.

    Panoptic PNGs lie beside their JSON, not in the images folder: they are
    checked whether or not image files are. ``progress(done, total)`` is called
    now and then (the slow parts are decoding every segmentation and reading
    every image header). ``found(problems)`` gets the problems of each check as it
    ends (the Problems dock shows them as they come); ``options`` holds the
    quality checks' thresholds (:mod:`cocoview.model.health`).
    """
    rows, images = np.arange(len(ds.anns)), np.arange(len(ds.image_ids))
    n_geo = int(np.isin(ds.anns.seg_kind, [SEG_POLYGON, SEG_RLE, SEG_RLE_RAW]).sum())
    n_kp = int((ds.anns.kp_off >= 0).sum())
    n_png = sum(len(f.panoptic_png) for f in ds.files if f.kind == "panoptic")
    near = check_files and options.near_duplicates and not ds.images_implied
    ticker = _Ticker(n_geo + n_kp + n_png + (len(images) if check_files else 0)
                     + (len(images) if near else 0), progress)
    out: list[Problem] = list(ds.problems_at_load)
    if ds.results is not None:
        out += ds.results.problems
    seen: Seen = {}
    for p in out:
        if p.image_id is not None:
            seen.setdefault(p.code, []).append(p.image_id)
    if found is not None and out:
        found(list(out))

    def step(problems: list[Problem]) -> None:
        out.extend(problems)
        if found is not None and problems:
            found(problems)

    step(_limit(_duplicates(ds), seen))
    mask_area = np.full(len(rows), np.nan)
    _checks(ds, rows, images, check_files, allow_outside, decode=False, ticker=ticker,
            seen=seen, options=options, mask_area=mask_area, step=step)
    step(_limit(health.area_range_trap(ds, rows, mask_area, options), seen))
    if check_files and not ds.images_implied:
        step(_limit(health.duplicate_images(ds, images, allow_outside,
                                            lambda r: image_location(ds, r)),
                    seen))
    if near:
        step(_limit(health.near_duplicate_images(ds, images, allow_outside,
                                                 lambda r: image_location(ds, r), options,
                                                 ticker.tick), seen))
    step(_limit(_panoptic_files(ds, ticker), seen))
    ticker.finish()
    out.sort(key=lambda p: -int(p.severity))
    by_code = {c: np.unique(np.asarray(v, np.int64)) for c, v in seen.items()}
    every = [v for v in by_code.values()]
    return Report(out, np.unique(np.concatenate(every)) if every else np.zeros(0, np.int64),
                  by_code)


def validate_image(ds: Dataset, image_id: int, check_files: bool = True,
                   allow_outside: bool = False, decode: bool = True) -> list[Problem]:
    """The problems of one image and its annotations (cheap: only its rows are decoded).

    With ``check_files`` and ``decode`` the image file is decoded at reduced size,
    which finds truncated and corrupt data that a header does not show.
    """
    rows = ds.ann_rows(image_id)
    ann_ids = set(ds.anns.id[rows].tolist())
    out = [p for p in ds.problems_at_load
           if p.image_id == image_id or (p.annotation_id is not None and p.annotation_id in
                                         ann_ids)]
    out += _checks(ds, rows, np.asarray([ds.image_row(image_id)]), check_files, allow_outside,
                   decode)
    out.sort(key=lambda p: -int(p.severity))
    return out


def _checks(ds: Dataset, rows: np.ndarray, images: np.ndarray, check_files: bool,
            allow_outside: bool, decode: bool, ticker: _Ticker = _NONE,
            seen: Seen | None = None, options: HealthOptions = health.DEFAULT,
            mask_area: np.ndarray | None = None,
            step: Callable[[list[Problem]], None] | None = None) -> list[Problem]:
    """The per-annotation and per-image checks, over the given rows only.

    ``mask_area`` (per row, NaN) receives pycocotools' area of each non-crowd mask;
    ``step`` gets the problems of each check as it ends."""
    out: list[Problem] = []
    add = step if step is not None else out.extend
    areas = mask_area if mask_area is not None else np.full(len(rows), np.nan)

    def make(row: int, sev: Severity, code: str, msg: str) -> Problem:
        return _ann_problem(ds, row, sev, code, msg)

    add(_limit(_references(ds, rows), seen))
    add(_limit(_boxes(ds, rows), seen))
    add(_limit(health.tiny_boxes(ds, rows, make, options), seen))
    add(_limit(health.duplicate_annotations(ds, rows, make, options), seen))
    add(_limit(_images(ds, images, allow_outside), seen))
    add(_limit(_geometry(ds, rows, ticker, areas), seen))
    add(_limit(health.area_mismatches(ds, rows, areas, make, options), seen))
    add(_limit(_keypoints(ds, rows, ticker), seen))
    if check_files:
        add(_limit(_files(ds, images, allow_outside, decode, ticker), seen))
    return out


def _limit(problems: Iterator[Problem], seen: Seen | None = None) -> list[Problem]:
    """The first MAX_PER_CHECK problems, and a count of the rest (each still checked,
    and its image added to ``seen``: the ``has_problems`` filter misses none)."""
    out: list[Problem] = []
    more = 0
    for p in problems:
        if seen is not None and p.image_id is not None:
            seen.setdefault(p.code, []).append(p.image_id)
        if len(out) < MAX_PER_CHECK:
            out.append(p)
        else:
            more += 1
    if more:
        out.append(Problem(Severity.INFO, "truncated",
                           f"{more:,} more problems like '{out[-1].code}' not listed"))
    return out


def _ann_problem(ds: Dataset, row: int, sev: Severity, code: str, msg: str) -> Problem:
    return Problem(sev, code, msg, ann_location(ds, row), str(ds.files[int(ds.ann_src[row])].path),
                   image_id=int(ds.anns.image_id[row]), annotation_id=int(ds.anns.id[row]))


def _repeated(ids: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Each id used more than once, with the rows that use it (one sort, no scans)."""
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    if len(s) < 2:
        return
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    for k in np.flatnonzero(ends - starts > 1).tolist():
        yield int(s[starts[k]]), order[starts[k] : ends[k]]


def _duplicates(ds: Dataset) -> Iterator[Problem]:
    for f in ds.files:
        tables = [("image", "images", f.images.id, f.images.ordinal)]
        if not (f.is_list or f.kind == "panoptic"):
            tables.append(("annotation", "annotations", f.anns.id, f.anns.ordinal))
        for what, key, ids, ordinal in tables:
            for dup, rows in _repeated(ids):
                where = ", ".join(f"{key}[{int(ordinal[r])}]" for r in rows[:5])
                yield Problem(Severity.ERROR, f"duplicate-{what}-id",
                              f"{what} id {dup} is used {len(rows)} times ({where})",
                              f"{key}[{int(ordinal[rows[1]])}] (id {dup})", str(f.path),
                              image_id=dup if what == "image" else None,
                              annotation_id=dup if what == "annotation" else None)
        cids = np.asarray([c["id"] for c in f.categories], np.int64)
        for dup, _rows in _repeated(cids):
            yield Problem(Severity.ERROR, "duplicate-category-id",
                          f"category id {dup} is defined more than once", "categories",
                          str(f.path))
    by_name: dict[str, list[int]] = {}
    for c in ds.categories:
        if c.defined:
            by_name.setdefault(c.name, []).append(c.id)
    for name, cat_ids in by_name.items():
        if len(cat_ids) > 1:
            owner = next((g for g in ds.files
                          if any(r.get("id") == cat_ids[1] for r in g.categories)), ds.files[0])
            yield Problem(Severity.WARNING, "duplicate-category-name",
                          f"category name {name!r} is used by {len(cat_ids)} ids "
                          f"({', '.join(map(str, cat_ids[:10]))}); filter by id, not by name",
                          f"categories (id {cat_ids[1]})", str(owner.path))


def _references(ds: Dataset, rows: np.ndarray) -> Iterator[Problem]:
    if not ds.images_implied:
        for row in rows[ds.ann_image_row[rows] < 0].tolist():
            yield _ann_problem(ds, row, Severity.ERROR, "unknown-image",
                               f"image_id {int(ds.anns.image_id[row])} is not in 'images'")
    for f in ds.files:
        if f.kind not in ("captions", "image_info") and len(f.anns) and \
                not f.has_categories_key:
            yield Problem(Severity.WARNING, "no-categories",
                          "the file has no 'categories' list; category names are unknown",
                          "categories", str(f.path))
    undefined = {c.id for c in ds.categories if not c.defined}
    if undefined and any(f.has_categories_key and f.kind not in ("captions",)
                         for f in ds.files):
        mask = np.isin(ds.anns.category_id[rows], list(undefined))
        for row in rows[mask].tolist():
            if ds.files[int(ds.ann_src[row])].has_categories_key:
                yield _ann_problem(ds, row, Severity.ERROR, "unknown-category",
                                   f"category_id {int(ds.anns.category_id[row])} is not in "
                                   "'categories'")


def _boxes(ds: Dataset, rows: np.ndarray) -> Iterator[Problem]:
    b = ds.anns.bbox[rows]
    if not len(b):
        return
    img = ds.ann_image_row[rows]
    w = np.where(img >= 0, ds.image_width[np.maximum(img, 0)], -1).astype(np.float64)
    h = np.where(img >= 0, ds.image_height[np.maximum(img, 0)], -1).astype(np.float64)
    has = ~np.isnan(b).any(axis=1)
    nonpos = has & ((b[:, 2] <= 0) | (b[:, 3] <= 0))
    known = has & (w > 0) & (h > 0)
    t = BBOX_TOLERANCE
    outside = known & ((b[:, 0] < -t) | (b[:, 1] < -t) | (b[:, 0] + b[:, 2] > w + t)
                       | (b[:, 1] + b[:, 3] > h + t))
    for k in np.flatnonzero(nonpos).tolist():
        yield _ann_problem(ds, int(rows[k]), Severity.WARNING, "empty-bbox",
                           f"bbox {b[k].tolist()} has no area")
    for k in np.flatnonzero(outside).tolist():
        yield _ann_problem(ds, int(rows[k]), Severity.WARNING, "bbox-outside-image",
                           f"bbox {b[k].tolist()} extends outside the "
                           f"{int(w[k])}×{int(h[k])} image")
    kinds = np.array([f.kind for f in ds.files])
    needs_box = np.isin(kinds[ds.ann_src[rows]], ["instances", "keypoints"])
    for row in rows[~has & needs_box].tolist():
        yield _ann_problem(ds, row, Severity.WARNING, "missing-bbox", "annotation has no bbox")


def _images(ds: Dataset, images: np.ndarray, allow_outside: bool) -> Iterator[Problem]:
    if ds.images_implied:
        return
    bad = (ds.image_width[images] <= 0) | (ds.image_height[images] <= 0)
    for row in images[bad].tolist():
        src = ds.files[int(ds.image_src[row])]
        yield Problem(Severity.WARNING, "image-size-missing",
                      "image has no usable width/height", image_location(ds, row),
                      str(src.path), image_id=int(ds.image_ids[row]))
    empty = np.array([not ds.image_file_names[i] for i in images.tolist()], bool)
    for row in images[empty & ~bad].tolist():
        yield Problem(Severity.ERROR, "no-file-name", "image has no file_name",
                      image_location(ds, row), str(ds.files[int(ds.image_src[row])].path),
                      image_id=int(ds.image_ids[row]))
    # absolute names and ".." parts need no disk access: checked even without the files
    names = ds.image_file_names
    for row in images.tolist():
        fn = names[row]
        if not fn or not (fn[0] in "/\\" or ".." in fn or fn[1:2] == ":"):
            continue  # the fast path: nearly every name
        if name_outside_reason(fn):
            ip = ds.image_file(int(ds.image_ids[row]), follow_links=False)
            note = outside_note(ip, allow_outside)
            yield Problem(note.severity, note.code, note.message, image_location(ds, row),
                          str(ds.files[int(ds.image_src[row])].path),
                          image_id=int(ds.image_ids[row]))


def _geometry(ds: Dataset, rows: np.ndarray, ticker: _Ticker = _NONE,
              mask_area: np.ndarray | None = None) -> Iterator[Problem]:
    """Decodes every segmentation; ``mask_area[k]`` gets the area of ``rows[k]``'s mask
    (pycocotools' ``area``) for the non-crowd ones that decode cleanly."""
    kinds = ds.anns.seg_kind[rows]
    for row in rows[kinds == SEG_INVALID].tolist():
        yield _ann_problem(ds, row, Severity.ERROR, "bad-segmentation",
                           "segmentation is neither polygons nor an RLE")
    for row in rows[kinds == SEG_EMPTY].tolist():
        yield _ann_problem(ds, row, Severity.INFO, "empty-segmentation",
                           "segmentation is an empty list (box only, no mask)")
    geo = np.flatnonzero(np.isin(kinds, [SEG_POLYGON, SEG_RLE, SEG_RLE_RAW]))
    g_rows, g_kinds = rows[geo], kinds[geo]
    img = ds.ann_image_row[g_rows]
    known = img >= 0
    h_all = np.where(known, ds.image_height[np.maximum(img, 0)], -1)
    w_all = np.where(known, ds.image_width[np.maximum(img, 0)], -1)
    crowd_all = ds.anns.iscrowd[g_rows] != 0
    stored_all = ds.anns.area[g_rows].astype(np.float64)
    heights, widths = h_all.tolist(), w_all.tolist()
    crowd, stored = crowd_all.tolist(), stored_all.tolist()
    areas = _PolygonAreas(mask_area if mask_area is not None else np.zeros(0))
    eligible_all = ~crowd_all & (h_all > 0) & (w_all > 0)
    # where the polygons of each batch are (positions in g_rows)
    poly = (g_kinds == SEG_POLYGON) & (ds.anns.seg_off[g_rows] >= 0)
    starts = range(0, len(g_rows), _BATCH)
    helper = _polygon_helper(ds, g_rows, poly, eligible_all)
    try:
        for bi, b0 in enumerate(starts):
            b1 = min(b0 + _BATCH, len(g_rows))
            # the common case in bulk: polygons that need no message, and their areas
            slow = np.ones(b1 - b0, bool)
            pj = np.flatnonzero(poly[b0:b1])
            theirs, got = helper.result(bi) if helper is not None else (False, None)
            if not theirs:  # decoded here
                got = batch_result(_polygon_raws(ds, g_rows[b0 + pj]),
                                   eligible_all[b0 + pj]) if len(pj) else None
            if got is not None:
                clean, exact = got
                slow[pj[clean]] = False
                jj = b0 + pj
                want = clean & eligible_all[jj]
                if mask_area is not None and want.any():
                    areas.add_exact(geo[jj[want]], exact, stored_all[jj[want]],
                                    g_rows[jj[want]], h_all[jj[want]], w_all[jj[want]], ds)
                ticker.tick(int((~slow).sum()))
            # the rest one by one: RLEs, and polygons with something to say
            for j in (b0 + np.flatnonzero(slow)).tolist():
                k, row = int(geo[j]), int(g_rows[j])
                ticker.tick()
                g = ds.geometry(row)
                for msg in g.problems:
                    code = "degenerate-polygon" if "polygon" in msg else "bad-rle"
                    yield _ann_problem(ds, row, Severity.ERROR if code == "bad-rle" else
                                       Severity.WARNING, code, msg)
                if heights[j] >= 0:
                    size = (heights[j], widths[j])
                    msg2 = rle_size_problem(g, *size)
                    if msg2:
                        yield _ann_problem(ds, row, Severity.ERROR, "rle-size-mismatch", msg2)
                    elif mask_area is not None and not crowd[j] and not g.problems and \
                            not g.empty and size[0] > 0 and size[1] > 0:
                        if g.polygons:
                            areas.add(k, g, stored[j], size)
                        else:
                            mask_area[k] = geometry_area(g, *size)
                if g.empty and not g.problems:
                    yield _ann_problem(ds, row, Severity.WARNING, "degenerate-polygon",
                                       "segmentation has no usable polygon")
    finally:
        if helper is not None:
            helper.close()
    areas.flush()
    if ds.results is not None and len(rows) == len(ds.anns):
        res = ds.results
        for row in np.flatnonzero(np.isin(res.anns.seg_kind, [SEG_RLE, SEG_RLE_RAW])).tolist():
            g = clean_segmentation(res.segmentation(row))
            h, w = ds.image_size(int(res.ann_image_row[row]))
            for msg in g.problems + [m for m in [rle_size_problem(g, h, w)] if m]:
                yield Problem(Severity.ERROR, "bad-rle", msg,
                              f"[{int(res.anns.ordinal[row])}]", str(res.file.path),
                              image_id=int(res.anns.image_id[row]))


_BATCH = 4096  # annotations decoded together


#: from this many batches on, a helper process decodes polygon batches too
HELPER_MIN_BATCHES = 16


def _polygon_helper(ds: Dataset, g_rows: np.ndarray, poly: np.ndarray,
                    eligible: np.ndarray) -> PolygonHelper | None:
    """A helper process for the polygon batches of a big validation (see
    ``polygon_worker``), or None: a small one, one core, ``COCOVIEW_WORKERS=0``, or a
    file whose bytes are not the file on disk (gzip, re-encoded NaN)."""
    n_batches = -(-len(g_rows) // _BATCH)
    if n_batches < HELPER_MIN_BATCHES or (os.cpu_count() or 1) < 2 \
            or os.environ.get(WORKERS_ENV, "") == "0" \
            or not all(isinstance(f.data, FileBytes) for f in ds.files):
        return None
    at = np.flatnonzero(poly)
    rows = g_rows[at]
    off = ds.anns.seg_off[rows].astype(np.int64)
    bounds = np.searchsorted(at, np.arange(0, n_batches * _BATCH + 1, _BATCH))
    return PolygonHelper([(str(f.data.path), len(f.data)) for f in ds.files], off,
                         off + ds.anns.seg_len[rows], ds.ann_src[rows], eligible[at], bounds)


def _polygon_raws(ds: Dataset, rows: np.ndarray) -> list[Any]:
    """The raw segmentations of polygon ``rows``; the bytes of each file's rows are read in
    one span when they lie close together (file order)."""
    offs = ds.anns.seg_off[rows].astype(np.int64)
    ends = offs + ds.anns.seg_len[rows]
    srcs = ds.ann_src[rows]
    raws: list[Any] = [b""] * len(rows)
    for src in np.unique(srcs).tolist():
        at = np.flatnonzero(srcs == src)
        data = ds.files[src].data
        lo, hi = int(offs[at].min()), int(ends[at].max())
        if hi - lo <= 4 * int((ends[at] - offs[at]).sum()) + (1 << 20):
            span = memoryview(data[lo:hi])
            got = [span[o:e] for o, e in zip((offs[at] - lo).tolist(),
                                             (ends[at] - lo).tolist(), strict=True)]
        else:
            got = [data[o:e] for o, e in zip(offs[at].tolist(), ends[at].tolist(),
                                             strict=True)]
        if len(at) == len(rows):
            raws = got
        else:
            for a, raw in zip(at.tolist(), got, strict=True):
                raws[a] = raw
    return raws


class _PolygonAreas:
    """The mask areas of polygon annotations for the area-mismatch check, in batches.

    A polygon whose stored area is its exact (shoelace) area within 1 % agrees: the
    shoelace areas are computed for a batch of annotations at once (one pass over all
    their points) instead of per polygon; only the disagreeing ones are rasterised
    for pycocotools' ``area`` (the rasterisation costs as much as the decoding)."""

    BATCH = 20_000  # annotations; their points are concatenated (~20 each)

    def __init__(self, out: np.ndarray) -> None:
        self.out = out
        self._k: list[int] = []
        self._g: list[Geometry] = []
        self._stored: list[float] = []
        self._size: list[tuple[int, int]] = []

    def add(self, k: int, g: Geometry, stored: float, size: tuple[int, int]) -> None:
        self._k.append(k)
        self._g.append(g)
        self._stored.append(stored)
        self._size.append(size)
        if len(self._k) >= self.BATCH:
            self.flush()

    def add_exact(self, ks: np.ndarray, exact: np.ndarray, stored: np.ndarray,
                  rows: np.ndarray, heights: np.ndarray, widths: np.ndarray,
                  ds: Dataset) -> None:
        """Annotations whose shoelace areas are already known (a clean batch)."""
        agree = np.abs(stored - exact) <= 0.01 * np.maximum(exact, 1.0)
        self.out[ks[agree]] = exact[agree]
        for j in np.flatnonzero(~agree).tolist():
            self.out[int(ks[j])] = geometry_area(ds.geometry(int(rows[j])),
                                                 int(heights[j]), int(widths[j]))

    def flush(self) -> None:
        if not self._k:
            return
        exact = shoelace_areas([g.polygons for g in self._g])
        stored = np.asarray(self._stored)
        agree = np.abs(stored - exact) <= 0.01 * np.maximum(exact, 1.0)
        ks = np.asarray(self._k, np.int64)
        self.out[ks[agree]] = exact[agree]
        for j in np.flatnonzero(~agree).tolist():
            self.out[self._k[j]] = geometry_area(self._g[j], *self._size[j])
        self._k, self._g, self._stored, self._size = [], [], [], []


def shoelace_areas(polygons: list[list[np.ndarray]]) -> np.ndarray:
    """For each annotation's polygon parts ((k, 2) arrays, k ≥ 3), the sum of the parts'
    shoelace areas — vectorised over every point of every part."""
    parts = [p for ps in polygons for p in ps]
    per_ann = np.fromiter((len(ps) for ps in polygons), np.int64, len(polygons))
    if not parts:
        return np.zeros(len(polygons))
    lengths = np.fromiter((len(p) for p in parts), np.int64, len(parts))
    return shoelace(np.concatenate(parts), lengths, per_ann)


def _keypoints(ds: Dataset, rows: np.ndarray, ticker: _Ticker = _NONE) -> Iterator[Problem]:
    for row in rows[ds.anns.kp_off[rows] >= 0].tolist():
        ticker.tick()
        kp = ds.keypoints_array(row)
        if kp is None:
            yield _ann_problem(ds, row, Severity.ERROR, "bad-keypoints",
                               "keypoints is not a list of numbers")
            continue
        cid = int(ds.anns.category_id[row])
        cat = ds._cat_by_id.get(cid)
        names = cat.keypoint_names if cat is not None else []
        if names and len(kp) != len(names):
            yield _ann_problem(ds, row, Severity.WARNING, "keypoint-count",
                               f"{len(kp)} keypoints, but the category names {len(names)}")
        vis = kp[:, 2]
        if not np.isin(vis, [0, 1, 2]).all():
            yield _ann_problem(ds, row, Severity.WARNING, "keypoint-visibility",
                               "keypoint visibility must be 0, 1 or 2")
        nk = int(ds.anns.num_keypoints[row])
        labelled = int((vis > 0).sum())
        if nk >= 0 and nk != labelled:
            yield _ann_problem(ds, row, Severity.ERROR, "num-keypoints",
                               f"num_keypoints is {nk}, but {labelled} keypoints are labelled")


def _files(ds: Dataset, images: np.ndarray, allow_outside: bool,
           decode: bool, ticker: _Ticker = _NONE) -> Iterator[Problem]:
    if ds.images_implied:
        return
    for row in images.tolist():
        ticker.tick()
        iid = int(ds.image_ids[row])
        if not ds.image_file_names[row]:
            continue
        ip = ds.image_file(iid)
        src = str(ds.files[int(ds.image_src[row])].path)
        loc = image_location(ds, row)
        if ip.outside and not ip.by_name:  # a link out of the folder (names: in _images)
            note = outside_note(ip, allow_outside)
            yield Problem(note.severity, note.code, note.message, loc, src, image_id=iid)
        path = ip.usable(allow_outside)
        if path is None:
            continue
        for note in check_image(path, int(ds.image_width[row]), int(ds.image_height[row]),
                                decode_pixels=decode):
            yield Problem(note.severity, note.code, note.message, loc, src, image_id=iid)


def _panoptic_files(ds: Dataset, ticker: _Ticker = _NONE) -> Iterator[Problem]:
    from cocoview.model.panoptic import png_folder

    for f in ds.files:
        if f.kind != "panoptic":
            continue
        for ordinal, name in f.panoptic_png.items():
            ticker.tick()
            folder = png_folder(f.path)
            path = folder / name
            if not is_file(folder, name):  # False too for names the OS refuses
                yield Problem(Severity.WARNING, "panoptic-png-missing",
                              f"panoptic PNG not found: {path}", f"annotations[{ordinal}]",
                              str(f.path))
                continue
            rec = f.record(ordinal)
            iid = rec.get("image_id", MISSING_ID)
            rows = ds.image_rows(np.asarray([iid]))
            try:
                with Image.open(path) as im:
                    size = im.size
            except Exception as exc:  # a damaged PNG is a problem, not a crash
                yield Problem(Severity.ERROR, "panoptic-png-unreadable",
                              f"cannot read panoptic PNG {path}: {exc}",
                              f"annotations[{ordinal}]", str(f.path))
                continue
            if rows[0] >= 0:
                jw, jh = int(ds.image_width[rows[0]]), int(ds.image_height[rows[0]])
                if size != (jw, jh):
                    yield Problem(Severity.ERROR, "panoptic-png-size",
                                  f"panoptic PNG is {size[0]}×{size[1]}, the image is {jw}×{jh}",
                                  f"annotations[{ordinal}]", str(f.path), image_id=int(iid))
