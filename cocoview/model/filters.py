"""Image filters with exact semantics, shared by the GUI and ``cocoview export``.

Every criterion is vectorised over the dataset's columns (no Python loop over
annotations); criteria combine with AND. Category matching says its mode:

- ``any``  — the image has at least one annotation of one of the categories,
- ``all``  — it has annotations of every one of them (pycocotools'
  ``getImgIds(catIds=…)`` meaning, which users keep reporting as a bug),
- ``none`` — it has no annotation of any of them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from cocoview.model import filter_index
from cocoview.model.paths import is_file
from cocoview.model.stats import MEDIUM, SMALL
from cocoview.model.tags import UNTAGGED, tag_counts, tag_mask

if TYPE_CHECKING:
    from cocoview.model.compare import Comparison
    from cocoview.model.dataset import Dataset
    from cocoview.model.review import Review

Match = Literal["any", "all", "none"]
Crowd = Literal["with", "without"]
Size = Literal["small", "medium", "large"]
MATCHES: tuple[Match, ...] = ("any", "all", "none")
CROWDS: tuple[Crowd, ...] = ("with", "without")
SIZES: tuple[Size, ...] = ("small", "medium", "large")
_GLOB = re.compile(r"[*?\[]")


class FilterError(ValueError):
    """A filter that cannot be applied (unknown category name, bad range)."""


@dataclass(frozen=True)
class ImageFilter:
    """What an image must satisfy to be kept. The default keeps every image."""

    categories: tuple[int, ...] = ()
    match: Match = "any"
    crowd: Crowd | None = None
    size: Size | None = None
    min_annotations: int | None = None
    max_annotations: int | None = None
    name: str = ""  # a shell glob if it has * ? [ ; else a substring (case-sensitive)
    image_ids: tuple[int, ...] | None = None
    has_keypoints: bool | None = None
    file_missing: bool | None = None
    has_problems: bool | None = None
    problem: str | None = None  # a problem code (``cocoview validate``'s): images with one of it
    #: images with a false positive / a missed ground truth of this category id (ANY_CAT:
    #: of any) at the operating point (``FilterExtras.min_score``); needs a results file
    has_fp: int | str | None = None
    has_missed: int | str | None = None
    #: two results files (model A vs B): images where A found a ground truth B missed
    #: ("a"), the reverse ("b"), or their TP / FP counts differ ("differ"), at the
    #: operating point; see :mod:`cocoview.model.compare`
    compare: str | None = None
    # --- box ranges (issue 15, the statistics plots): images with a box in every range ---
    min_box_width: float | None = None
    max_box_width: float | None = None
    min_box_height: float | None = None
    max_box_height: float | None = None
    min_box_aspect: float | None = None  # w / h
    max_box_aspect: float | None = None
    #: images with this tag (issue 17; ``tags.UNTAGGED``: images without any tag)
    tag: str | None = None

    @property
    def is_empty(self) -> bool:
        return self == ImageFilter()

    def with_(self, **changes: Any) -> ImageFilter:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageFilter:
        known = {f for f in cls.__dataclass_fields__}
        vals: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v)
                                for k, v in d.items() if k in known}
        return cls(**vals)

    def describe(self, ds: Dataset | None = None) -> str:
        """A one-line summary, e.g. ``all of {person, bicycle} · without crowd``."""
        parts = [c.describe(self, ds) for c in CRITERIA if c.active(self)]
        return " · ".join(parts) if parts else "all images"

    def slow(self) -> list[Slow]:
        """The slow computations this filter needs (``FilterExtras``; the app makes them
        in a worker first)."""
        return [c.slow for c in CRITERIA if c.slow is not None and c.active(self)]


def _cat_name(ds: Dataset | None, cid: int) -> str:
    if ds is None:
        return str(cid)
    try:
        name = ds.category(cid).name
    except KeyError:
        return str(cid)
    shared = sum(c.name == name for c in ds.categories) > 1
    return f"{name} (id {cid})" if shared else name


_ID_SEP = re.compile(r"[\s,;]+")
_ID = re.compile(r"-?[0-9]+")


def split_ids(text: str) -> tuple[tuple[int, ...], list[str]]:
    """Image ids written as text (spaces, commas, semicolons, new lines) → (distinct ids
    in order, the entries that are not ids). The CLI's ``--ids`` and the panel's box."""
    ids: list[int] = []
    bad: list[str] = []
    for tok in _ID_SEP.split(text.strip()):
        if tok:
            (ids.append(int(tok)) if _ID.fullmatch(tok) else bad.append(tok))
    return tuple(dict.fromkeys(ids)), bad


def resolve_categories(ds: Dataset, names_or_ids: Iterable[str]) -> tuple[int, ...]:
    """Category names (exact, then case-insensitive) or numeric ids → ids.

    A name that several categories share is refused (which one was meant is
    unknown): the message lists their ids, which are always accepted.
    """
    by_name: dict[str, list[int]] = {}
    for c in ds.categories:
        by_name.setdefault(c.name, []).append(c.id)
    lower: dict[str, list[int]] = {}
    for c in ds.categories:
        lower.setdefault(c.name.lower(), []).append(c.id)
    known = {c.id for c in ds.categories}
    out: list[int] = []
    for item in names_or_ids:
        key = str(item).strip()
        ids = by_name.get(key) or lower.get(key.lower())
        if ids is not None and len(ids) > 1:
            raise FilterError(f"category name {key!r} is ambiguous: ids "
                              f"{', '.join(map(str, ids))} share it; give one of the ids")
        if ids is not None:
            out.extend(ids)
        elif key.lstrip("-").isdigit() and int(key) in known:
            out.append(int(key))
        else:
            near = close_category_names(ds, key)
            raise FilterError(f"no category named or numbered {key!r}"
                              + (f"; did you mean {' or '.join(map(repr, near))}?" if near
                                 else ""))
    return tuple(dict.fromkeys(out))


def close_category_names(ds: Dataset, text: str, n: int = 3) -> list[str]:
    """The category names ``text`` is probably a typo of ("persn" → "person")."""
    import difflib

    names = {c.name.lower(): c.name for c in ds.categories}
    return [names[m] for m in difflib.get_close_matches(text.strip().lower(), list(names),
                                                        n=n, cutoff=0.6)]


# ----- the criteria ---------------------------------------------------------------
Slow = Literal["missing", "problems", "review"]
#: ``has_fp`` / ``has_missed``: of any category
ANY_CAT = "*"


#: annotation rows a criterion is evaluated over at a time: a few MB of temporaries stay in
#: the CPU's cache instead of a pass over memory per operation (20 M boxes: ~2× faster)
CHUNK = 1 << 18


class _Context:
    """What criteria share while one filter is evaluated (computed once, on demand)."""

    def __init__(self, ds: Dataset, flt: ImageFilter, extras: FilterExtras | None) -> None:
        self.ds, self.flt, self.extras = ds, flt, extras or FilterExtras()
        self.n = len(ds.image_ids)
        self.img = ds.ann_image_row
        # every annotation on an image of the list (the usual case): no mask of them
        self.all_placed = int(ds.image_ann_count.sum()) == len(self.img)
        self._placed: np.ndarray | None = None
        self._in_set: np.ndarray | None = None
        self._cat_rows: list[int] | None = None

    @property
    def placed(self) -> np.ndarray:
        """Per annotation: is it on an image of the list?"""
        if self._placed is None:
            self._placed = self.img >= 0
        return self._placed

    def per_image(self, sel: np.ndarray) -> np.ndarray:
        """Count per image of the annotations selected by ``sel``."""
        return np.bincount(self.img[sel if self.all_placed else sel & self.placed],
                           minlength=self.n)

    def images_with(self, select: Callable[[Any], np.ndarray],
                    candidates: np.ndarray | None = None,
                    sure: np.ndarray | None = None) -> np.ndarray:
        """Per image: has it an annotation that ``select`` keeps? ``select(rows)`` is a bool
        per annotation of ``rows`` (a slice, or an array of rows); evaluated :data:`CHUNK`
        rows at a time, over every row or only over ``candidates`` (the rows that can
        pass, from the filter index: the answer is the same), ``sure`` rows passing."""
        hit = np.zeros(self.n + 1, bool)  # the last one: annotations on no image (-1)
        if candidates is not None:
            if sure is not None:  # rows that pass without a test
                hit[self.img[sure]] = True
            for a in range(0, len(candidates), CHUNK):
                rows = candidates[a : a + CHUNK]
                hit[self.img[rows[select(rows)]]] = True
            return hit[:-1]
        for a in range(0, len(self.img), CHUNK):
            part = slice(a, a + CHUNK)
            hit[self.img[part][select(part)]] = True
        return hit[:-1]

    @property
    def category_order(self) -> filter_index.KeyOrder | None:
        """The filter index's rows by category, if it is built (else: scan)."""
        index = filter_index.index_of(self.ds)
        return index.get("category") if index is not None else None

    def category_candidates(self, rows: list[int] | None = None) -> np.ndarray:
        """The annotation rows of the filter's categories (or of ``rows``, indexes in
        ``ds.categories``), from :attr:`category_order` (which must be built)."""
        order = self.category_order
        assert order is not None
        ks = self.category_rows if rows is None else rows
        parts = [order.rows(k + 1, k + 1) for k in ks]  # key 0: an unknown category
        return np.concatenate(parts) if parts else np.zeros(0, np.int32)

    def box_candidates(self, ranges: dict[str, tuple[float | None, float | None]]
                       ) -> tuple[np.ndarray, np.ndarray] | None:
        """``(candidates, sure)``: the rows whose box can lie in ``ranges`` (field → (lo,
        hi)) and of the filter's categories when they count — the narrowest set the index
        gives —, and among them those that surely pass (when one range is the only
        per-box criterion; else none). None (scan) when no order is built or the
        narrowest set is most of the rows."""
        index = filter_index.index_of(self.ds)
        if index is None:
            return None
        best: tuple[int, filter_index.KeyOrder, int, int, int, int] | None = None
        for name, (lo, hi) in ranges.items():
            order = index.get(name)
            if order is None:
                continue
            if name != "aspect":  # the test compares in float32: so do the bounds
                lo = None if lo is None else float(np.float32(lo))
                hi = None if hi is None else float(np.float32(hi))
            first, last, sure_first, sure_last = order.key_range(lo, hi)
            size = order.count(first, last)
            if best is None or size < best[0]:
                best = (size, order, first, last, sure_first, sure_last)
        limit = filter_index.MAX_SHARE * len(self.img)
        none = np.zeros(0, np.int32)
        cats = bool(self.flt.categories) and self.flt.match != "none"
        if cats and self.category_order is not None:
            size = sum(self.category_order.count(k + 1, k + 1) for k in self.category_rows)
            if best is None or size < best[0]:
                return (self.category_candidates(), none) if size <= limit else None
        if best is None or best[0] > limit:
            return None
        _size, order, first, last, sure_first, sure_last = best
        if len(ranges) == 1 and not cats and sure_first <= sure_last:
            edges = np.concatenate([order.rows(first, sure_first - 1),
                                    order.rows(sure_last + 1, last)])
            return edges, order.rows(sure_first, sure_last)
        return order.rows(first, last), none

    @property
    def category_rows(self) -> list[int]:
        """The indexes in ``ds.categories`` of the filter's categories."""
        if self._cat_rows is None:
            wanted = set(self.flt.categories)
            self._cat_rows = [i for i, c in enumerate(self.ds.categories) if c.id in wanted]
        return self._cat_rows

    def in_categories_of(self, rows: slice) -> np.ndarray:
        """:attr:`in_categories` of the annotation rows ``rows`` (a few compares for a few
        categories: a table lookup over 20 M rows costs ~5 compares)."""
        cidx = self.ds.ann_category_index[rows]
        ks = self.category_rows
        if len(ks) > 4:
            lut = np.zeros(len(self.ds.categories) + 1, bool)
            lut[ks] = True
            return lut[cidx]  # -1 (undefined) → the last: False
        out = np.zeros(len(cidx), bool)
        for k in ks:
            out |= cidx == k
        return out

    @property
    def in_categories(self) -> np.ndarray:
        """Per annotation: is its category one of the filter's?"""
        if self._in_set is None:
            self._in_set = self.in_categories_of(slice(None))
        return self._in_set


@dataclass(frozen=True)
class Form:
    """How the filter panel shows a criterion (Qt-free, so that a criterion is one entry).

    ``kind`` ``"choice"`` is built by the panel from ``choices`` alone — a new criterion
    with a choice needs no panel code; ``"range"``, ``"text"`` and ``"ids"`` name the
    panel's few special editors. ``choices`` may depend on the dataset (e.g. the
    problem codes it has): then it is a callable of the dataset."""

    label: str  # "Crowd:"
    section: Literal["Annotations", "Image", "Evaluation", "Review"]
    kind: Literal["choice", "range", "text", "ids"] = "choice"
    choices: (tuple[tuple[str, Any], ...]
              | Callable[[Dataset | None], tuple[tuple[str, Any], ...]]) = ()
    tip: str = ""

    def options(self, ds: Dataset | None) -> tuple[tuple[str, Any], ...]:
        """``(text, field value)`` pairs; the first means "not filtering"."""
        return self.choices(ds) if callable(self.choices) else self.choices


ANY: tuple[str, Any] = ("any", None)
SIZE_TIP = ("Images with at least one non-crowd object of this size (COCO area buckets):\n"
            "small: area < 32² (1,024 px²)\nmedium: 32² ≤ area < 96² (9,216 px²)\n"
            "large: area ≥ 96²\nWith categories (has any / all of), only their objects count.")


@dataclass(frozen=True)
class Criterion:
    """One thing an image can be filtered by: where it lives in :class:`ImageFilter`, how
    it is evaluated (vectorised over the columns) and described. A new criterion is
    one entry in :data:`CRITERIA` (plus its field); the CLI, the panel and later views
    find it there."""

    name: str
    fields: tuple[str, ...]  # the ImageFilter fields it reads (the first decides "active")
    level: Literal["image", "annotation"]  # decided per image, or over its annotations
    mask: Callable[[_Context], np.ndarray]  # bool per image row
    text: Callable[[ImageFilter, Dataset | None], str]
    slow: Slow | None = None  # a FilterExtras computation it needs
    unset: tuple[Any, ...] = (None, (), "")  # the field values that mean "not filtering"
    form: Form | None = None  # how the panel shows it (None: not in the form)

    def active(self, flt: ImageFilter) -> bool:
        return any(not any(getattr(flt, f) is u or getattr(flt, f) == u for u in self.unset)
                   for f in self.fields)

    def describe(self, flt: ImageFilter, ds: Dataset | None = None) -> str:
        return self.text(flt, ds)


def _categories_mask(cx: _Context) -> np.ndarray:
    flt, ds = cx.flt, cx.ds
    wanted = set(flt.categories)
    if flt.match == "all":
        ks = cx.category_rows
        if len(ks) < len(wanted):  # a wanted category the dataset does not have
            return np.zeros(cx.n, bool)
        if cx.category_order is not None:  # the index: each category's rows
            have = np.ones(cx.n, bool)
            for k in ks:
                have &= cx.images_with(_every, cx.category_candidates([k]))
            return have
        if len(ks) <= 4:  # a pass per category, in cache-sized chunks
            cidx = ds.ann_category_index
            have = np.ones(cx.n, bool)
            for k in ks:
                have &= cx.images_with(partial(_category_is, cidx, k))
            return have
        return _has_all(ds, ds.ann_category_index, cx.in_categories & cx.placed, ks,
                        len(wanted))
    if flt.match in ("any", "none"):
        hit = cx.images_with(cx.in_categories_of) if cx.category_order is None else \
            cx.images_with(_every, cx.category_candidates())
        return hit if flt.match == "any" else ~hit
    raise FilterError(f"unknown match mode {flt.match!r}")


def _every(rows: np.ndarray) -> np.ndarray:
    return np.ones(len(rows), bool)


def _category_is(cidx: np.ndarray, k: int, rows: slice) -> np.ndarray:
    return np.asarray(cidx[rows] == k)


def _size_mask(cx: _Context) -> np.ndarray:
    area, flt = cx.ds.anns.area, cx.flt
    bucket = {"small": area < SMALL, "medium": (area >= SMALL) & (area < MEDIUM),
              "large": area >= MEDIUM}[flt.size]  # type: ignore[index]
    sel = bucket & (cx.ds.anns.iscrowd == 0) & np.isfinite(area)
    if flt.categories and flt.match != "none":  # objects of the chosen categories
        sel &= cx.in_categories & cx.placed
    return cx.per_image(sel) > 0


def _categories_text(flt: ImageFilter, ds: Dataset | None) -> str:
    return f"{flt.match} of {{{', '.join(_cat_name(ds, c) for c in flt.categories)}}}"


def _flag(value: bool | None, mask: np.ndarray) -> np.ndarray:
    return mask if value else ~mask


def _range_text(flt: ImageFilter, _ds: Dataset | None) -> str:
    lo = flt.min_annotations if flt.min_annotations is not None else 0
    hi = flt.max_annotations if flt.max_annotations is not None else "∞"
    return f"{lo}–{hi} annotations"


def _count_mask(cx: _Context) -> np.ndarray:
    count, flt = cx.ds.image_ann_count, cx.flt
    keep = np.ones(cx.n, bool)
    if flt.min_annotations is not None:
        keep &= count >= flt.min_annotations
    if flt.max_annotations is not None:
        keep &= count <= flt.max_annotations
    return keep


def _error_mask(kind: str) -> Callable[[_Context], np.ndarray]:
    def mask(cx: _Context) -> np.ndarray:
        value = getattr(cx.flt, "has_fp" if kind == "fp" else "has_missed")
        cat = None if value == ANY_CAT else int(value)
        return cx.extras.review_of(cx.ds).images_with(kind, cat, cx.extras.min_score)
    return mask


def _error_text(kind: str) -> Callable[[ImageFilter, Dataset | None], str]:
    def text(flt: ImageFilter, ds: Dataset | None) -> str:
        value = getattr(flt, "has_fp" if kind == "fp" else "has_missed")
        what = "any category" if value == ANY_CAT else _cat_name(ds, int(value))
        return f"has {'FP' if kind == 'fp' else 'missed'} of {what}"
    return text


def error_choices(ds: Dataset | None) -> tuple[tuple[str, Any], ...]:
    """The review criteria's choices: any category, then each category (results only)."""
    if ds is None or getattr(ds, "results", None) is None:
        return (ANY,)
    return (ANY, ("any category", ANY_CAT), *((c.name, c.id) for c in ds.categories))


COMPARE_CHOICES: tuple[tuple[str, Any], ...] = (
    ANY, ("A right, B wrong (GT only A found)", "a"), ("B right, A wrong (GT only B found)", "b"),
    ("A and B differ (TP or FP counts)", "differ"))
COMPARE_TEXT = {"a": "A right, B wrong", "b": "B right, A wrong", "differ": "A and B differ"}


def compare_choices(ds: Dataset | None) -> tuple[tuple[str, Any], ...]:
    """The comparison row's choices (results only: a second file is added in the app)."""
    return COMPARE_CHOICES if getattr(ds, "results", None) is not None else (ANY,)


def _compare_mask(cx: _Context) -> np.ndarray:
    kind = str(cx.flt.compare)
    if kind not in COMPARE_TEXT:
        raise FilterError(f"unknown comparison {kind!r} (one of {', '.join(COMPARE_TEXT)})")
    comp = cx.extras.comparison_of(cx.ds)
    if comp is None:  # the app without a second results file: no image differs
        return np.zeros(cx.n, bool)
    return np.isin(cx.ds.image_ids, comp.image_ids(kind, cx.extras.min_score))


# ----- box ranges (issue 15): one block, set by the statistics dock's histograms ---------
BOX_FIELDS: tuple[str, ...] = ("min_box_width", "max_box_width", "min_box_height",
                               "max_box_height", "min_box_aspect", "max_box_aspect")


def _box_mask(cx: _Context) -> np.ndarray:
    """Images with at least one box whose width, height and w/h lie in the ranges given
    (both ends closed). With categories (any / all of), only their boxes count."""
    flt, bbox = cx.flt, cx.ds.anns.bbox
    aspect = flt.min_box_aspect is not None or flt.max_box_aspect is not None
    cats = bool(flt.categories) and flt.match != "none"

    def select(rows: slice) -> np.ndarray:
        box = bbox[rows]
        w, h = box[:, 2], box[:, 3]
        sel = np.ones(len(box), bool)
        for lo, hi, col in ((flt.min_box_width, flt.max_box_width, w),
                            (flt.min_box_height, flt.max_box_height, h)):
            if lo is not None:
                sel &= col >= np.float32(lo)
            if hi is not None:
                sel &= col <= np.float32(hi)
        if aspect:
            sel &= w > 0
            sel &= h > 0
            # w/h ≥ a  ⇔  w ≥ a·h (h > 0): no division, a·h in float64
            if flt.min_box_aspect is not None:
                sel &= w >= np.multiply(h, flt.min_box_aspect, dtype=np.float64)
            if flt.max_box_aspect is not None:
                sel &= w <= np.multiply(h, flt.max_box_aspect, dtype=np.float64)
        if cats:
            sel &= cx.in_categories_of(rows)
        return sel

    ranges = {field: (lo, hi) for field, lo, hi in (
        ("width", flt.min_box_width, flt.max_box_width),
        ("height", flt.min_box_height, flt.max_box_height),
        ("aspect", flt.min_box_aspect, flt.max_box_aspect)) if lo is not None or hi is not None}
    found = cx.box_candidates(ranges)
    if found is None:
        return cx.images_with(select)
    return cx.images_with(select, *found)


def _box_text(flt: ImageFilter, _ds: Dataset | None) -> str:
    parts = []
    for what, lo, hi in (("width", flt.min_box_width, flt.max_box_width),
                         ("height", flt.min_box_height, flt.max_box_height),
                         ("w/h", flt.min_box_aspect, flt.max_box_aspect)):
        if lo is not None and hi is not None:
            parts.append(f"{lo:g} ≤ {what} ≤ {hi:g}")
        elif lo is not None:
            parts.append(f"{what} ≥ {lo:g}")
        elif hi is not None:
            parts.append(f"{what} ≤ {hi:g}")
    return "has a box with " + ", ".join(parts)


BOX_CRITERIA: tuple[Criterion, ...] = (
    Criterion("box", BOX_FIELDS, "annotation", _box_mask, _box_text),
)


CRITERIA: tuple[Criterion, ...] = (
    Criterion("categories", ("categories",), "annotation", _categories_mask,
              _categories_text),
    Criterion("crowd", ("crowd",), "annotation",
              lambda cx: _flag(cx.flt.crowd == "with",
                               cx.per_image(cx.ds.anns.iscrowd == 1) > 0),
              lambda f, _ds: f"{f.crowd} crowd",
              form=Form("Crowd:", "Annotations",
                        choices=(ANY, ("with crowd regions", "with"),
                                 ("without crowd regions", "without")),
                        tip="Crowd regions: annotations with iscrowd = 1")),
    Criterion("size", ("size",), "annotation", _size_mask,
              lambda f, _ds: f"has {f.size} objects",
              form=Form("Object size:", "Annotations",
                        choices=(ANY, ("small  (< 32²)", "small"),
                                 ("medium  (32²–96²)", "medium"), ("large  (≥ 96²)", "large")),
                        tip=SIZE_TIP)),
    Criterion("annotations", ("min_annotations", "max_annotations"), "image", _count_mask,
              _range_text, form=Form("Annotations:", "Annotations", "range")),
    Criterion("name", ("name",), "image",
              lambda cx: name_mask(cx.ds.image_file_names, cx.flt.name),
              lambda f, _ds: f"name {'~' if _GLOB.search(f.name) else '∋'} {f.name!r}",
              form=Form("File name:", "Image", "text",
                        tip="A shell glob over the whole file name if it has * ? or [ "
                            "(e.g. train/*.jpg), else a substring; case-sensitive")),
    Criterion("ids", ("image_ids",), "image",
              lambda cx: np.isin(cx.ds.image_ids, np.asarray(cx.flt.image_ids, np.int64)),
              lambda f, _ds: f"{len(f.image_ids or ())} listed ids", unset=(None,),
              form=Form("Image ids:", "Image", "ids")),
    Criterion("keypoints", ("has_keypoints",), "annotation",
              lambda cx: _flag(cx.flt.has_keypoints,
                               cx.per_image(cx.ds.anns.num_keypoints > 0) > 0),
              lambda f, _ds: ("with " if f.has_keypoints else "without ") + "keypoints",
              form=Form("Keypoints:", "Annotations",
                        choices=(ANY, ("with keypoints", True), ("without keypoints", False)),
                        tip="Keypoints: an annotation with num_keypoints > 0")),
    Criterion("missing", ("file_missing",), "image",
              lambda cx: _flag(cx.flt.file_missing, cx.extras.missing_files(cx.ds)),
              lambda f, _ds: ("with " if f.file_missing else "without ") + "missing file",
              slow="missing",
              form=Form("Image file:", "Image",
                        choices=(ANY, ("missing", True), ("present", False)),
                        tip="Whether the image file exists on disk. Every file is checked "
                            "once per dataset, in the background.")),
    Criterion("problems", ("has_problems",), "image",
              lambda cx: _flag(cx.flt.has_problems, cx.extras.problem_images(cx.ds)),
              lambda f, _ds: ("with " if f.has_problems else "without ") + "problems",
              slow="problems",
              form=Form("Problems:", "Image",
                        choices=(ANY, ("with problems", True), ("without problems", False)),
                        tip="Problems found by validating the dataset (as in "
                            "'cocoview validate'). Runs once per dataset, in the background.")),
    Criterion("problem_code", ("problem",), "image",
              lambda cx: cx.extras.problem_images(cx.ds, cx.flt.problem or ""),
              lambda f, _ds: f"with problem {f.problem!r}", slow="problems",
              form=Form("Problem code:", "Image", choices=lambda ds: problem_choices(ds),
                        tip="Images with a problem of this code (as listed by 'cocoview "
                            "validate' and the Problems dock). Runs once per dataset, in "
                            "the background.")),
    Criterion("has_fp", ("has_fp",), "annotation", _error_mask("fp"),
              _error_text("fp"), slow="review",
              form=Form("Has false positive:", "Review", choices=error_choices,
                        tip="Images with a false positive detection of this category "
                            "at the min score (bbox, IoU 0.5); needs a results file")),
    Criterion("has_missed", ("has_missed",), "annotation", _error_mask("missed"),
              _error_text("missed"), slow="review",
              form=Form("Has missed GT:", "Review", choices=error_choices,
                        tip="Images with a ground truth no detection at the min "
                            "score found (bbox, IoU 0.5); needs a results file")),
    Criterion("compare", ("compare",), "annotation", _compare_mask,
              lambda f, _ds: COMPARE_TEXT.get(str(f.compare), str(f.compare)), slow="review",
              form=Form("Model A vs B:", "Review", choices=compare_choices,
                        tip="With two results files (File ▸ Add Results for Comparison…): "
                            "images where one model found a ground truth the other missed "
                            "at the min score, or where their TP / FP counts differ")),
    *BOX_CRITERIA,
    Criterion("tag", ("tag",), "image",
              lambda cx: tag_mask(cx.ds, cx.flt.tag or UNTAGGED),
              lambda f, _ds: "untagged" if f.tag == UNTAGGED else f"tagged {f.tag!r}",
              form=Form("Tag:", "Image", choices=lambda ds: tag_choices(ds),
                        tip="Images tagged so (Edit → Tag Image…, T), or without any "
                            "tag; a saved file keeps its tags in each image's \"tags\"")),
)


def tag_choices(ds: Dataset | None) -> tuple[tuple[str, Any], ...]:
    """The tag criterion's choices: untagged, then each tag with its image count."""
    counts = tag_counts(ds, known=True) if ds is not None else {}  # no file read here
    if not counts:
        return (ANY,)
    return (ANY, ("untagged", UNTAGGED), *((f"{t}  ({n:,})", t) for t, n in counts.items()))


#: ways to order an image list by the review (``sort_by_errors``)
ERROR_SORTS = ("errors", "fp", "missed")


def sort_by_errors(review: Review, ds: Dataset, ids: np.ndarray, key: str = "errors",
                   min_score: float = 0.0) -> np.ndarray:
    """``ids`` with the most false positives / missed GT / highest error score first (a
    stable sort: ties keep their order)."""
    if key not in ERROR_SORTS:
        raise FilterError(f"unknown sort {key!r} (one of {', '.join(ERROR_SORTS)})")
    ids = np.asarray(ids, np.int64)
    rows = ds.image_rows(ids)
    per = review.per_image(min_score)[key]
    k = np.where(rows >= 0, per[np.maximum(rows, 0)], 0)
    return ids[np.argsort(-k, kind="stable")]


def problem_choices(ds: Dataset | None) -> tuple[tuple[str, Any], ...]:
    """The panel's problem codes: the dataset's own, with counts, once it is validated;
    before that every code the validator knows."""
    from cocoview.model.validate import CODES

    known = ds.known_problem_codes() if ds is not None else None
    if known is None:
        return (ANY, *((c, c) for c in CODES))
    return (ANY, *((f"{c}  ({n:,})", c) for c, n in known.items()))


# ----- evaluation ------------------------------------------------------------------
def image_mask(ds: Dataset, flt: ImageFilter,
               extras: FilterExtras | None = None) -> np.ndarray:
    """Bool per image row of ``ds``: does the image pass ``flt`` (every active criterion)?"""
    cx = _Context(ds, flt, extras)
    keep = np.ones(cx.n, bool)
    for crit in CRITERIA:
        if crit.active(flt):
            keep &= crit.mask(cx)
    return keep


def _has_all(ds: Dataset, cidx: np.ndarray, sel: np.ndarray, cat_rows: list[int],
             n_wanted: int) -> np.ndarray:
    """Images that have at least one annotation of every wanted category."""
    n = len(ds.image_ids)
    if len(cat_rows) < n_wanted:  # a wanted category the dataset does not have
        return np.zeros(n, bool)
    img = ds.ann_image_row[sel]
    cat = cidx[sel]
    if len(cat_rows) <= 64:  # one bincount per category beats a sort of all pairs
        have = np.ones(n, bool)
        for k in cat_rows:
            have &= np.bincount(img[cat == k], minlength=n) > 0
        return have
    pairs = np.unique(img.astype(np.int64) * (len(ds.categories) + 1) + cat)
    distinct = np.bincount(pairs // (len(ds.categories) + 1), minlength=n)
    return distinct == len(cat_rows)


def filter_images(ds: Dataset, flt: ImageFilter,
                  extras: FilterExtras | None = None) -> np.ndarray:
    """The ids of the images that pass, in the dataset's (input) order."""
    return ds.image_ids[image_mask(ds, flt, extras)]


def name_mask(names: list[str], pattern: str) -> np.ndarray:
    """A shell glob (``fnmatch``, whole name) if ``pattern`` has * ? [, else a substring."""
    if _GLOB.search(pattern):
        match = re.compile(fnmatch.translate(pattern)).match
        return np.fromiter(map(bool, map(match, names)), bool, len(names))
    return np.fromiter((pattern in s for s in names), bool, len(names))


@dataclass
class FilterExtras:
    """The criteria that need the disk or a validation pass, computed once and kept.

    The GUI computes these in a worker before using them; the CLI just asks.
    """

    _missing: np.ndarray | None = field(default=None, repr=False)
    _problems: np.ndarray | None = field(default=None, repr=False)
    #: the evaluation's verdicts (bbox, IoU 0.5); the app sets the one it has made
    review: Review | None = field(default=None, repr=False)
    #: the operating point the review criteria count at (the viewer's min score)
    min_score: float = 0.0
    #: model A vs model B (the CLI's two --results); the app's rides on ``review``
    comparison: Comparison | None = field(default=None, repr=False)

    def review_of(self, ds: Dataset) -> Review:
        """The review of ``ds``'s results (evaluated once here if not given)."""
        if self.review is None:
            if getattr(ds, "results", None) is None:
                raise FilterError("has FP / has missed need a results file (--results)")
            from cocoview.model.review import Review

            self.review = Review(ds, ds.evaluate(iou_type="bbox"))
        return self.review

    def comparison_of(self, ds: Dataset) -> Comparison | None:
        """The two models' comparison: given, or the app's review's (None there when it
        has no second results file); without either, a :class:`FilterError`."""
        if self.comparison is not None:
            return self.comparison
        if self.review is not None:
            return getattr(self.review, "comparison", None)
        raise FilterError("comparing models needs two results files (--results A.json "
                          "--results B.json)")

    def missing_files(self, ds: Dataset,
                      progress: Callable[[float], None] | None = None) -> np.ndarray:
        if self._missing is None:
            n = len(ds.image_ids)
            out = np.zeros(n, bool)
            for row, name in enumerate(ds.image_file_names):
                out[row] = not name or not is_file(ds.image_root, name)
                if progress is not None and row % 2000 == 0:
                    progress(row / max(n, 1))
            self._missing = out
        return self._missing

    def problem_images(self, ds: Dataset, code: str = "") -> np.ndarray:
        """Per image row: has it a problem (of ``code``, if given)?"""
        if code:
            return np.isin(ds.image_ids, ds.problem_image_ids(code))
        if self._problems is None:
            self._problems = np.isin(ds.image_ids, ds.problem_image_ids())
        return self._problems
