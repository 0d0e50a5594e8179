"""The arrays behind every statistics plot (issue 15), vectorised over the columns.

For the whole dataset or a set of image rows (the filtered list): a plot is
``Distribution`` (bar labels or histogram edges + counts), the Qt dock and the CLI's
PNG/HTML writer draw the same arrays. No geometry is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from cocoview.model.stats import MEDIUM, SMALL

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

Kind = Literal["bars", "histogram"]
PLOTS: tuple[str, ...] = ("instances", "images", "box_width", "box_height", "box_aspect",
                          "sizes", "annotations", "image_width", "image_height",
                          "keypoints")
TITLES: dict[str, str] = {
    "instances": "Instances per category", "images": "Images per category",
    "box_width": "Box width (px)", "box_height": "Box height (px)",
    "box_aspect": "Box aspect ratio (w / h, log₂)", "sizes": "Object sizes (COCO area)",
    "annotations": "Annotations per image", "image_width": "Image width (px)",
    "image_height": "Image height (px)", "keypoints": "Visible keypoints per person",
}
BINS = 50


@dataclass(frozen=True)
class Distribution:
    """One plot. ``bars``: ``labels``/``keys`` (e.g. category ids) and ``counts``;
    ``histogram``: ``edges`` (len(counts) + 1) and ``counts``. ``log_x``: the edges are
    log₂ of the value (aspect ratios), so that 1:4 and 4:1 are as far from 1:1."""

    name: str
    kind: Kind
    counts: np.ndarray
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0))
    labels: tuple[str, ...] = ()
    keys: tuple[int, ...] = ()
    log_x: bool = False

    @property
    def title(self) -> str:
        return TITLES[self.name]

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def table(self) -> list[tuple[str, int]]:
        """(label or bin range, count) rows, for the HTML report and the CLI."""
        if self.kind == "bars":
            return list(zip(self.labels, self.counts.tolist(), strict=True))
        e = np.exp2(self.edges) if self.log_x else self.edges
        return [(f"{lo:.4g}–{hi:.4g}", int(n))
                for lo, hi, n in zip(e[:-1].tolist(), e[1:].tolist(), self.counts.tolist(),
                                     strict=True)]


def _ann_selection(ds: Dataset, image_rows: np.ndarray | None) -> np.ndarray:
    """Per annotation: is it placed on one of ``image_rows`` (all placed ones if None)?"""
    img = ds.ann_image_row
    placed = img >= 0
    if image_rows is None:
        return placed
    keep = np.zeros(len(ds.image_ids), bool)
    keep[image_rows] = True
    return placed & keep[np.where(placed, img, 0)]


def _histogram(name: str, values: np.ndarray, integer: bool = False,
               log_x: bool = False, bins: int = BINS) -> Distribution:
    v = values[np.isfinite(values)].astype(np.float64)
    if not len(v):
        return Distribution(name, "histogram", np.zeros(0, np.int64), np.zeros(1), log_x=log_x)
    lo, hi = float(v.min()), float(v.max())
    if integer:  # one bin per integer while they fit, else integer-wide bins
        width = max(1, int(np.ceil((hi - lo + 1) / bins)))
        edges = np.arange(lo, hi + width + 1, width, dtype=np.float64)[: bins + 2] - 0.5
        if edges[-1] < hi + 0.5:
            edges = np.append(edges, edges[-1] + width)
    else:
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
    counts, edges = np.histogram(v, edges)
    return Distribution(name, "histogram", counts.astype(np.int64), edges, log_x=log_x)


def category_distribution(ds: Dataset, name: str = "instances",
                          image_rows: np.ndarray | None = None) -> Distribution:
    """Instances (or images) per category, most first; keys are the category ids."""
    cats = ds.categories
    n_cat = len(cats)
    cidx = ds.ann_category_index
    sel = _ann_selection(ds, image_rows) & (cidx >= 0)
    if image_rows is None:  # the one incidence the category tree shows too
        counts = ds.category_counts()[0 if name == "instances" else 1]
    elif name == "instances":
        counts = np.bincount(cidx[sel], minlength=n_cat)[:n_cat]
    else:  # distinct (image, category) pairs
        key = ds.ann_image_row[sel].astype(np.int64) * n_cat + cidx[sel]
        n_img = len(ds.image_ids)
        if n_img * n_cat <= 64_000_000:  # a bit per pair beats a sort (train2017: 9.6 MB)
            seen = np.zeros(n_img * n_cat, bool)
            seen[key] = True
            counts = seen.reshape(n_img, n_cat).sum(axis=0)
        else:
            counts = np.bincount(np.unique(key) % n_cat, minlength=n_cat)
    counts = np.asarray(counts)
    order = np.argsort(-counts, kind="stable")
    return Distribution(name, "bars", counts[order].astype(np.int64),
                        labels=tuple(cats[i].name for i in order.tolist()),
                        keys=tuple(cats[i].id for i in order.tolist()))


def box_aspect(bbox: np.ndarray) -> np.ndarray:
    """w / h per box (NaN where absent or degenerate): the range filter's meaning."""
    w, h = bbox[:, 2].astype(np.float64), bbox[:, 3].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((w > 0) & (h > 0), w / h, np.nan)


def distribution(ds: Dataset, name: str,
                 image_rows: np.ndarray | None = None) -> Distribution:
    """One plot of :data:`PLOTS` for the whole dataset or the image rows given."""
    if name in ("instances", "images"):
        return category_distribution(ds, name, image_rows)
    a = ds.anns
    if name in ("box_width", "box_height", "box_aspect", "sizes", "keypoints"):
        sel = _ann_selection(ds, image_rows)
        if name == "box_width":
            return _histogram(name, a.bbox[sel, 2])
        if name == "box_height":
            return _histogram(name, a.bbox[sel, 3])
        if name == "box_aspect":
            return _histogram(name, np.log2(box_aspect(a.bbox[sel])), log_x=True)
        if name == "keypoints":
            kp = (a.kp_off >= 0) & sel
            return _histogram(name, a.num_keypoints[kp], integer=True)
        area = a.area[sel & (a.iscrowd == 0)]
        area = area[np.isfinite(area)]
        counts = np.array([(area < SMALL).sum(), ((area >= SMALL) & (area < MEDIUM)).sum(),
                           (area >= MEDIUM).sum()], np.int64)
        return Distribution(name, "bars", counts,
                            labels=("small (< 32²)", "medium (32²–96²)", "large (≥ 96²)"))
    rows = np.arange(len(ds.image_ids)) if image_rows is None else np.asarray(image_rows)
    if name == "annotations":
        return _histogram(name, ds.image_ann_count[rows], integer=True)
    if name in ("image_width", "image_height"):
        col = ds.image_width if name == "image_width" else ds.image_height
        v = col[rows].astype(np.float64)
        return _histogram(name, v[v > 0])
    raise KeyError(f"unknown plot {name!r}; the plots are {', '.join(PLOTS)}")


def distributions(ds: Dataset, image_rows: np.ndarray | None = None,
                  names: tuple[str, ...] = PLOTS) -> dict[str, Distribution]:
    """Every plot (or the ones named), for the dataset or the image rows given."""
    return {n: distribution(ds, n, image_rows) for n in names}
