"""The evaluation's inputs: ground truth and detections as exact float64 columns.

The dataset's columns are float32 (enough for filters and drawing); COCOeval's
numbers need the file's doubles, so the numeric fields are decoded once more,
from the records' byte spans, in one msgspec call per file. Results that
cannot take part (unknown image or category, NaN score, no geometry for the
IoU type) are left out, counted and listed; the rest keep their position in
the results file (``result_index``).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import msgspec
import numpy as np

from cocoview.model.errors import Problem, Severity
from cocoview.model.loader import SEG_PANOPTIC, FileIndex

IOU_TYPES = ("bbox", "segm", "keypoints")
N_COCO_KEYPOINTS = 17

# skip reasons of results that take no part (in the order they are checked)
SKIP_REASONS = {
    "not-an-object": "not a JSON object",
    "bad-image-id": "no integer image_id",
    "unknown-image": "image id not in the ground truth",
    "bad-category-id": "no integer category_id",
    "unknown-category": "category id the ground truth does not define",
    "bad-score": "no finite score",
    "bad-bbox": "no bbox of 4 finite numbers with width and height ≥ 0",
    "no-segmentation": "no segmentation (a polygon list or an RLE object)",
    "rle-size": "RLE size is not the image's height × width",
    "bad-keypoints": "no keypoints list of 17 × 3 finite numbers",
}

_REASON_CODE = {k: i + 1 for i, k in enumerate(SKIP_REASONS)}


class _Rec(msgspec.Struct, gc=False):
    """The fields evaluation reads from one record (anything else is skipped)."""

    image_id: Any = None
    category_id: Any = None
    bbox: Any = None
    area: Any = None
    score: Any = None
    iscrowd: Any = None
    num_keypoints: Any = None
    segmentation: Any = None
    keypoints: Any = None


class _RecNoGeom(msgspec.Struct, gc=False):
    """Like :class:`_Rec` without the geometry: a bbox evaluation never builds polygons."""

    image_id: Any = None
    category_id: Any = None
    bbox: Any = None
    area: Any = None
    score: Any = None
    iscrowd: Any = None
    num_keypoints: Any = None


_TYPED = {"image_id": int | None, "category_id": int | None, "bbox": list[float] | None,
          "area": float | None, "score": float | None, "iscrowd": int | bool | None,
          "num_keypoints": int | None, "keypoints": list[float] | None}
#: the same fields with their usual types: a file that has them decodes without checks
# gc=False: records hold only numbers, lists and dicts (no cycles), and millions of them
# are made; untracked by the cyclic GC they are smaller and quicker to make
_Typed = msgspec.defstruct("_Typed", [(k, t, None) for k, t in _TYPED.items()]
                           + [("segmentation", Any, None)], gc=False)
_TypedNoGeom = msgspec.defstruct("_TypedNoGeom", [(k, t, None) for k, t in _TYPED.items()],
                                 gc=False)
TYPED = (_Typed, _TypedNoGeom)
_DOCS: dict[Any, Any] = {
    t: msgspec.defstruct(f"_Doc{t.__name__}", [("annotations", list[t], [])],  # type: ignore[valid-type]
                         gc=False)
    for t in (_Typed, _TypedNoGeom, _Rec, _RecNoGeom)}


def decode_array(buf: Any, geometry: bool, document: bool = False) -> list[Any] | None:
    """A JSON array of records (or a document's ``annotations``) in one msgspec call,
    typed, else loose; None if it cannot."""
    for typ in ((_Typed, _Rec) if geometry else (_TypedNoGeom, _RecNoGeom)):
        try:
            if document:
                doc: Any = msgspec.json.decode(buf, type=_DOCS[typ])
                return list(doc.annotations)
            return msgspec.json.decode(buf, type=list[typ])  # type: ignore[valid-type]
        except msgspec.ValidationError:
            continue
        except (msgspec.DecodeError, UnicodeError, RecursionError):
            return None
    return None


def decode_records(f: FileIndex, geometry: bool) -> list[Any]:
    """Every record of ``f``'s annotations array (or of a results list), decoded.

    One msgspec call over the array's bytes; a file it cannot take in one go
    (a record that is not an object, ``NaN`` literals) is decoded record by record.
    """
    n = f.n_records
    if not n:
        return []
    try:  # the file's own buffer (bytes or a memory map): no copy
        buf: Any = memoryview(f.data)
    except TypeError:
        buf = f.all_bytes()
    recs = decode_array(buf, geometry, document=not f.is_list)
    del buf
    if recs is not None and len(recs) == n:
        return recs
    out: list[Any] = []
    for i in range(n):
        try:
            obj = f.record(i)
        except Exception:  # an undecodable record: not an object
            obj = None
        out.append(from_object(obj, geometry))
    return out


def from_object(obj: Any, geometry: bool = True) -> Any:
    """A Python object (a dict from a list of results) as a record, or None."""
    if not isinstance(obj, dict):
        return None
    typ = _Rec if geometry else _RecNoGeom
    names = typ.__struct_fields__
    return typ(**{k: obj[k] for k in names if k in obj})


def _floats(values: list[Any], width: int = 0) -> np.ndarray:
    """Numbers (or lists of ``width`` numbers) as float64, NaN where not."""
    shape = (len(values), width) if width else (len(values),)
    if width:  # lists of numbers, flattened: several times faster than np.array(lists)
        try:
            lens = np.fromiter(map(len, values), np.int64, len(values))
            if (lens == width).all():
                flat = np.fromiter(itertools.chain.from_iterable(values), np.float64,
                                   len(values) * width)
                return flat.reshape(shape)
        except (TypeError, ValueError):
            pass
    try:
        arr = np.array(values, dtype=np.float64)
        if arr.shape == shape and not any(isinstance(v, (bool, str)) for v in values[:1]):
            return arr
    except (ValueError, TypeError, OverflowError):
        pass
    out = np.full(shape, np.nan)
    for i, v in enumerate(values):
        if width:
            if isinstance(v, list) and len(v) == width and all(_is_number(x) for x in v):
                out[i] = v
        elif _is_number(v):
            out[i] = v
    return out


def _all_typed(recs: Sequence[Any]) -> bool:
    """Whether ``recs`` came from the typed decode (one type for all) and none is missing."""
    return bool(recs) and type(recs[0]) in TYPED and all(
        map(operator.is_not, recs, itertools.repeat(None)))


def _field(recs: Sequence[Any], name: str) -> list[Any]:
    """One field of every record (the records all present)."""
    return list(map(operator.attrgetter(name), recs))


def _typed_ints(values: list[Any]) -> np.ndarray | None:
    """Typed-decode integers (int, bool or None) as int64; None if any is None or too big."""
    try:
        return np.array(values, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return None


def _typed_column(recs: Sequence[Any], name: str, dtype: Any
                  ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """One field of typed-decode records straight into an array (no list between), and
    all-true validity; (None, None) if some record lacks it (None) or an int is too big.
    The typed decode admits no bools or strings here, so nothing else can slip in."""
    try:
        arr = np.fromiter(map(operator.attrgetter(name), recs), dtype, len(recs))
    except (TypeError, ValueError, OverflowError):
        return None, None
    return arr, np.ones(len(arr), bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _ints(values: list[Any], typed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Integer ids as int64, and which of them were integers at all."""
    if typed:  # ints or None: numpy refuses None, so a clean list converts in one go
        try:
            arr = np.array(values, dtype=np.int64)
            return arr, np.ones(len(arr), bool)
        except (TypeError, OverflowError):
            pass
    ok = np.fromiter((isinstance(v, int) and not isinstance(v, bool) and -(1 << 63) <= v < (1 << 63)
                      for v in values), bool, len(values))
    if ok.all():
        return np.array(values, dtype=np.int64), ok
    return np.array([v if k else 0 for v, k in zip(values, ok, strict=True)], np.int64), ok


@dataclass
class GroundTruth:
    """The evaluated ground truth: one row per annotation on a known image and category."""

    image_ids: np.ndarray  # the dataset's images (pycocotools' imgIds)
    image_width: np.ndarray
    image_height: np.ndarray
    category_ids: np.ndarray  # sorted (pycocotools' catIds)
    category_names: list[str]
    row: np.ndarray  # dataset annotation row
    ann_id: np.ndarray
    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray  # (n, 4) float64
    area: np.ndarray
    iscrowd: np.ndarray  # bool
    num_keypoints: np.ndarray
    segmentation: list[Any] | None = None
    keypoints: list[Any] | None = None
    problems: list[Problem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row)

    @cached_property
    def box_cols(self) -> np.ndarray:
        from cocoview.model.evaluation.verdicts import box_columns

        return box_columns(self.bbox)

    @cached_property
    def image_order(self) -> np.ndarray:
        """The permutation that sorts ``image_ids``."""
        return np.argsort(self.image_ids, kind="stable")

    @cached_property
    def kp_array(self) -> np.ndarray:
        """(n, 51) keypoints as float64; zeros where an annotation has no 17 × 3 list."""
        return _kp_array(self.keypoints, len(self))


@dataclass
class Detections:
    """The evaluated results: usable rows in file order, plus what was skipped and why."""

    result_index: np.ndarray  # 0-based position in the results file / list
    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray  # (n, 4) float64, NaN where absent
    score: np.ndarray
    segmentation: list[Any] | None
    keypoints: list[Any] | None
    first_has_bbox: bool  # pycocotools' loadRes: area = w·h for every result then
    n_results: int
    skipped_index: np.ndarray  # result indices left out
    skipped_reason: np.ndarray  # their reasons (keys of SKIP_REASONS)
    skipped_image_id: np.ndarray  # what they say, -1 (NaN) where it is not a number
    skipped_category_id: np.ndarray
    skipped_score: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return len(self.result_index)

    @cached_property
    def box_cols(self) -> np.ndarray:
        from cocoview.model.evaluation.verdicts import box_columns

        return box_columns(self.bbox)

    @cached_property
    def by_score(self) -> np.ndarray:
        """Rows by score descending, ties in file order (pycocotools' stable sort)."""
        return np.argsort(-self.score, kind="stable")

    @cached_property
    def score_rank(self) -> np.ndarray:
        """Each row's dense rank by score, descending: equal scores share a rank."""
        o = self.by_score
        s = self.score[o]
        new = np.ones(len(s), bool)
        new[1:] = s[1:] != s[:-1]
        rank = np.empty(len(s), np.int64)
        rank[o] = np.cumsum(new) - 1
        return rank

    @cached_property
    def kp_array(self) -> np.ndarray:
        """(n, 51) keypoints as float64 (every kept result has 17 × 3 numbers)."""
        return _kp_array(self.keypoints, len(self))


def _kp_array(kps: list[Any] | None, n: int) -> np.ndarray:
    width = 3 * N_COCO_KEYPOINTS
    if kps is None:
        return np.zeros((n, width))
    good = [k if isinstance(k, list) and len(k) == width else [0.0] * width for k in kps]
    out = _floats(good, width)
    return np.nan_to_num(out)


def ground_truth(ds: Any, iou_type: str) -> GroundTruth:
    """The dataset's annotations as COCOeval sees them (exact doubles from the file)."""
    if getattr(ds, "images_implied", False) or not len(ds.image_ids):
        raise ValueError("evaluation needs a ground truth file with 'images'")
    declared = {int(c["id"]) for f in ds.files for c in f.categories
                if isinstance(c, dict) and isinstance(c.get("id"), int)}
    problems: list[Problem] = []
    if not declared:  # no 'categories' at all: the ones cocoview knows (named or not)
        declared = {c.id for c in ds.categories}
        if declared:
            problems.append(Problem(Severity.WARNING, "eval-no-categories",
                                    "the ground truth defines no categories; evaluating the "
                                    "category ids its annotations use"))
    cat_ids = np.array(sorted(declared), np.int64)
    known = {c.id: c.name for c in ds.categories}
    names = [known.get(int(c), str(int(c))) for c in cat_ids]
    anns = ds.anns
    keep = (ds.ann_image_row >= 0) & np.isin(anns.category_id, cat_ids) & (
        anns.seg_kind != SEG_PANOPTIC)
    rows = np.flatnonzero(keep)
    geometry = iou_type != "bbox"
    n = len(rows)
    bbox = np.full((n, 4), np.nan)
    area = np.full(n, np.nan)
    iscrowd = np.zeros(n, bool)
    num_kp = np.zeros(n, np.int64)
    seg: list[Any] | None = [None] * n if iou_type == "segm" else None
    kps: list[Any] | None = [None] * n if iou_type == "keypoints" else None
    src = ds.ann_src[rows]
    ordinal = anns.ordinal[rows]
    for k, f in enumerate(ds.files):
        sel = np.flatnonzero(src == k)
        if not len(sel):
            continue
        exact = getattr(f, "exact", None)
        if iou_type == "bbox" and exact is not None:
            # the loader kept the file's doubles: the same numbers this decode would give
            # (every record took the typed fast path there), without reading the file again
            pick = ordinal[sel]
            bbox[sel] = exact["bbox64"][pick]
            area[sel] = exact["area64"][pick]
            iscrowd[sel] = exact["crowd"][pick]
            num_kp[sel] = anns.num_keypoints[rows[sel]]
            continue
        recs = decode_records(f, geometry)
        pick = ordinal[sel]
        if len(pick) == len(recs) and bool((pick == np.arange(len(recs))).all()):
            chosen = recs  # every record, in file order: the usual case
        else:
            chosen = list(map(recs.__getitem__, pick.tolist()))
        clean = _all_typed(chosen)
        if clean:
            bbox[sel] = _floats(_field(chosen, "bbox"), 4)
            area[sel] = _floats(_field(chosen, "area"))
        else:
            bbox[sel] = _floats([r.bbox if r is not None else None for r in chosen], 4)
            area[sel] = _floats([r.area if r is not None else None for r in chosen])
        crowd = _typed_ints(_field(chosen, "iscrowd")) if clean else None
        if crowd is not None:
            iscrowd[sel] = crowd != 0
        else:
            iscrowd[sel] = [bool(r.iscrowd) if r is not None and r.iscrowd is not None
                            else False for r in chosen]
        nk_vals = _field(chosen, "num_keypoints") if clean else []
        nk = _typed_ints(nk_vals) if clean else None
        if nk is not None:
            num_kp[sel] = nk
        elif clean and nk_vals.count(None) == len(nk_vals):  # instances: none has the field
            num_kp[sel] = -1
        else:
            num_kp[sel] = [r.num_keypoints if r is not None and isinstance(
                r.num_keypoints, int) else -1 for r in chosen]
        if seg is not None:
            for i, r in zip(sel.tolist(), chosen, strict=True):
                seg[i] = r.segmentation if r is not None else None
        if kps is not None:
            for i, r in zip(sel.tolist(), chosen, strict=True):
                kps[i] = r.keypoints if r is not None else None
    no_area = ~np.isfinite(area)
    if no_area.any():
        area[no_area] = np.nan_to_num(bbox[no_area, 2] * bbox[no_area, 3])
        problems.append(Problem(Severity.WARNING, "eval-gt-area",
                                f"{int(no_area.sum())} ground-truth annotations have no area; "
                                "w·h of their box used (pycocotools would fail)"))
    if iou_type == "keypoints":
        bad = num_kp < 0
        if bad.any():
            assert kps is not None
            for i in np.flatnonzero(bad).tolist():
                v = kps[i]
                num_kp[i] = sum(1 for x in v[2::3] if _is_number(x) and x > 0) \
                    if isinstance(v, list) else 0
            problems.append(Problem(Severity.WARNING, "eval-gt-num-keypoints",
                                    f"{int(bad.sum())} ground-truth annotations have no "
                                    "num_keypoints; counted from their keypoints"))
    rows_img = ds.ann_image_row[rows]
    return GroundTruth(
        image_ids=ds.image_ids.astype(np.int64), image_width=ds.image_width.astype(np.int64),
        image_height=ds.image_height.astype(np.int64), category_ids=cat_ids,
        category_names=names, row=rows, ann_id=anns.id[rows].astype(np.int64),
        image_id=ds.image_ids[rows_img].astype(np.int64),
        category_id=anns.category_id[rows].astype(np.int64), bbox=bbox, area=area,
        iscrowd=iscrowd, num_keypoints=num_kp, segmentation=seg, keypoints=kps,
        problems=problems)


def detections(records: Sequence[Any], gt: GroundTruth, iou_type: str,
               source: str = "") -> Detections:
    """Check ``records`` (decoded results) against the ground truth; keep the usable ones."""
    n = len(records)
    reason = np.zeros(n, np.int8)  # 0: kept, else 1 + the index of the reason in SKIP_REASONS
    is_obj = np.fromiter(map(operator.is_not, records, itertools.repeat(None)), bool, n)
    reason[~is_obj] = _REASON_CODE["not-an-object"]
    typed = bool(n) and type(records[0]) in TYPED and bool(is_obj.all())
    recs = records if bool(is_obj.all()) else [r if r is not None else _Rec() for r in records]
    img, img_ok = _typed_column(recs, "image_id", np.int64) if typed else (None, None)
    if img is None or img_ok is None:
        img, img_ok = _ints(_field(recs, "image_id"), typed)
    cat, cat_ok = _typed_column(recs, "category_id", np.int64) if typed else (None, None)
    if cat is None or cat_ok is None:
        cat, cat_ok = _ints(_field(recs, "category_id"), typed)
    score = _typed_column(recs, "score", np.float64)[0] if typed else None
    if score is None:
        score = _floats(_field(recs, "score"))
    bbox = _floats(_field(recs, "bbox"), 4)

    def mark(bad: np.ndarray, why: str) -> None:
        reason[bad & (reason == 0)] = _REASON_CODE[why]

    mark(~img_ok, "bad-image-id")
    img_sorted = np.sort(gt.image_ids)
    pos = np.minimum(np.searchsorted(img_sorted, img), max(len(img_sorted) - 1, 0))
    img_known = img_sorted[pos] == img if len(img_sorted) else np.zeros(n, bool)
    mark(~img_known, "unknown-image")
    mark(~cat_ok, "bad-category-id")
    mark(~np.isin(cat, gt.category_ids), "unknown-category")
    mark(~np.isfinite(score), "bad-score")
    box_ok = np.isfinite(bbox).all(axis=1) & (bbox[:, 2] >= 0) & (bbox[:, 3] >= 0) \
        if n else np.zeros(0, bool)
    kept = np.flatnonzero(reason == 0)
    first_has_bbox = bool(len(kept)) and recs[int(kept[0])].bbox not in (None, [])
    seg: list[Any] | None = None
    kps: list[Any] | None = None
    if iou_type == "bbox":
        mark(~box_ok, "bad-bbox")
    elif iou_type == "segm":
        segs = [getattr(r, "segmentation", None) for r in recs]
        has = np.fromiter((_is_segmentation(s) for s in segs), bool, n)
        if n and not has.any():
            raise ValueError(f"{source or 'the results'}: a segm evaluation needs results with "
                             "a 'segmentation'; these have boxes only (use --iou-type bbox)")
        mark(~has, "no-segmentation")
        _mark_rle_size(segs, img, gt, reason)
        if first_has_bbox:  # loadRes then reads every result's box
            mark(~box_ok, "bad-bbox")
        seg = segs
    else:
        vals = [getattr(r, "keypoints", None) for r in recs]
        length = np.fromiter((len(v) if isinstance(v, list) else -1 for v in vals), np.int64, n)
        if n and not (length > 0).any():
            raise ValueError(f"{source or 'the results'}: a keypoints evaluation needs results "
                             "with 'keypoints'")
        good = length == 3 * N_COCO_KEYPOINTS
        for i in np.flatnonzero(good).tolist():
            if not all(_is_number(x) and np.isfinite(x) for x in vals[i]):
                good[i] = False
        mark(~good, "bad-keypoints")
        if first_has_bbox:
            mark(~box_ok, "bad-bbox")
        kps = vals
    keep = reason == 0
    idx = np.flatnonzero(keep)
    problems = []
    skipped = np.flatnonzero(~keep)
    for code, text in SKIP_REASONS.items():
        which = skipped[reason[skipped] == _REASON_CODE[code]]
        if len(which):
            sample = ", ".join(str(i) for i in which[:5].tolist()) + (
                ", …" if len(which) > 5 else "")
            problems.append(Problem(Severity.WARNING, f"result-{code}",
                                    f"{len(which)} of {n} results left out: {text} "
                                    f"(result index {sample})", file=source))
    return Detections(
        result_index=idx.astype(np.int64), image_id=img[idx], category_id=cat[idx],
        bbox=bbox[idx], score=score[idx],
        segmentation=[seg[i] for i in idx.tolist()] if seg is not None else None,
        keypoints=[kps[i] for i in idx.tolist()] if kps is not None else None,
        first_has_bbox=bool(first_has_bbox), n_results=n,
        skipped_index=skipped.astype(np.int64),
        skipped_reason=np.array(["", *SKIP_REASONS], "<U16")[reason[skipped]],
        skipped_image_id=np.where(img_ok, img, -1)[skipped],
        skipped_category_id=np.where(cat_ok, cat, -1)[skipped], skipped_score=score[skipped],
        problems=problems, source=source)


def _is_segmentation(s: Any) -> bool:
    if isinstance(s, dict):
        size = s.get("size")
        return isinstance(s.get("counts"), (str, list)) and isinstance(size, list) and len(
            size) == 2 and all(isinstance(v, int) for v in size)
    return isinstance(s, list) and len(s) > 0 and all(
        isinstance(p, list) and len(p) >= 6 for p in s)


def _mark_rle_size(segs: list[Any], img: np.ndarray, gt: GroundTruth,
                   reason: np.ndarray) -> None:
    order = np.argsort(gt.image_ids)
    ids = gt.image_ids[order]
    for i, s in enumerate(segs):
        if reason[i] or not isinstance(s, dict):
            continue
        j = order[int(np.searchsorted(ids, img[i]))]
        h, w = int(gt.image_height[j]), int(gt.image_width[j])
        if h > 0 and w > 0 and list(s["size"]) != [h, w]:
            reason[i] = _REASON_CODE["rle-size"]


__all__ = ["IOU_TYPES", "SKIP_REASONS", "Detections", "GroundTruth", "decode_records",
           "detections", "from_object", "ground_truth"]
