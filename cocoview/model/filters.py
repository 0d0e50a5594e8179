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
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from cocoview.model.paths import is_file
from cocoview.model.stats import MEDIUM, SMALL

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

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
        parts: list[str] = []
        if self.categories:
            names = [_cat_name(ds, c) for c in self.categories]
            parts.append(f"{self.match} of {{{', '.join(names)}}}")
        if self.crowd:
            parts.append(f"{self.crowd} crowd")
        if self.size:
            parts.append(f"has {self.size} objects")
        if self.min_annotations is not None or self.max_annotations is not None:
            lo = self.min_annotations if self.min_annotations is not None else 0
            hi = self.max_annotations if self.max_annotations is not None else "∞"
            parts.append(f"{lo}–{hi} annotations")
        if self.name:
            parts.append(f"name {'~' if _GLOB.search(self.name) else '∋'} {self.name!r}")
        if self.image_ids is not None:
            parts.append(f"{len(self.image_ids)} listed ids")
        for flag, label in ((self.has_keypoints, "keypoints"), (self.file_missing,
                                                                 "missing file"),
                            (self.has_problems, "problems")):
            if flag is not None:
                parts.append(("with " if flag else "without ") + label)
        return " · ".join(parts) if parts else "all images"


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
            raise FilterError(f"no category named or numbered {key!r}")
    return tuple(dict.fromkeys(out))


# ----- evaluation ------------------------------------------------------------------
def image_mask(ds: Dataset, flt: ImageFilter,
               extras: FilterExtras | None = None) -> np.ndarray:
    """Bool per image row of ``ds``: does the image pass ``flt``?"""
    n = len(ds.image_ids)
    keep = np.ones(n, bool)
    a = ds.anns
    img = ds.ann_image_row
    placed = img >= 0

    def per_image(sel: np.ndarray) -> np.ndarray:
        """Count per image of the annotations selected by ``sel``."""
        return np.bincount(img[sel & placed], minlength=n)

    cat_sel = placed.copy()
    if flt.categories:
        wanted = set(flt.categories)
        lut = np.array([c.id in wanted for c in ds.categories] + [False], bool)
        cidx = ds.ann_category_index  # -1 (undefined) maps to the trailing False
        in_set = lut[cidx]
        cat_sel = in_set & placed
        if flt.match == "all":
            keep &= _has_all(ds, cidx, cat_sel, [i for i, c in enumerate(ds.categories)
                                                 if c.id in wanted], len(wanted))
        elif flt.match == "any":
            keep &= per_image(in_set) > 0
        elif flt.match == "none":
            keep &= per_image(in_set) == 0
        else:
            raise FilterError(f"unknown match mode {flt.match!r}")
    if flt.crowd is not None:
        has_crowd = per_image(a.iscrowd == 1) > 0
        keep &= has_crowd if flt.crowd == "with" else ~has_crowd
    if flt.size is not None:
        area = a.area
        bucket = {"small": area < SMALL, "medium": (area >= SMALL) & (area < MEDIUM),
                  "large": area >= MEDIUM}[flt.size]
        sel = bucket & (a.iscrowd == 0) & np.isfinite(area)
        if flt.categories and flt.match != "none":
            sel &= cat_sel
        keep &= per_image(sel) > 0
    count = ds.image_ann_count
    if flt.min_annotations is not None:
        keep &= count >= flt.min_annotations
    if flt.max_annotations is not None:
        keep &= count <= flt.max_annotations
    if flt.name:
        keep &= name_mask(ds.image_file_names, flt.name)
    if flt.image_ids is not None:
        keep &= np.isin(ds.image_ids, np.asarray(flt.image_ids, np.int64))
    if flt.has_keypoints is not None:
        has_kp = per_image(a.num_keypoints > 0) > 0
        keep &= has_kp if flt.has_keypoints else ~has_kp
    if flt.file_missing is not None:
        ex = extras or FilterExtras()
        missing = ex.missing_files(ds)
        keep &= missing if flt.file_missing else ~missing
    if flt.has_problems is not None:
        ex = extras or FilterExtras()
        probs = ex.problem_images(ds)
        keep &= probs if flt.has_problems else ~probs
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

    def problem_images(self, ds: Dataset) -> np.ndarray:
        if self._problems is None:
            self._problems = np.isin(ds.image_ids, ds.problem_image_ids())
        return self._problems
