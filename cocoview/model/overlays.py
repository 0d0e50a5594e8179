"""Render-ready overlay layers for one image: masks, outlines, boxes, keypoints, labels.

The GUI and ``cocoview render`` both draw from :class:`Overlays`; nothing else
decodes geometry for display. Every mask shown is pycocotools' own (decoded on
the annotation's box only): what you see is the mask training sees, pixel for
pixel. ``cv2.fillPoly`` is ~20x faster but ~14 % larger on small objects
(it fills every pixel an edge touches), visible at high zoom.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from cocoview.model.columns import SEG_PANOPTIC
from cocoview.model.look import Look, hatch
from cocoview.model.masks import MAX_MASK_PIXELS, Geometry, clean_segmentation, geometry_mask
from cocoview.model.rle import crop_counts, string_to_counts

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

#: "boxes" are the boxes of objects; panoptic *stuff* (sky, road: often the whole image)
#: has its own layer, off unless asked for
LAYERS = ("masks", "outlines", "boxes", "stuff_boxes", "keypoints", "labels")
#: layers that need each annotation's segmentation decoded (the costly part)
SHAPE_LAYERS = frozenset({"masks", "outlines"})
#: at most this many masks/outlines are decoded per image; the rest are drawn as boxes
MAX_SHAPES = 10_000
#: the longest label drawn (a category name may be megabytes long)
MAX_LABEL = 80


@dataclass
class AnnOverlay:
    """What to draw for one annotation (or one detection)."""

    row: int
    ann_id: int
    category_id: int
    color: tuple[int, int, int]  # drawn with: the category's, or the instance's (look.py)
    label: str
    iscrowd: bool = False
    is_result: bool = False
    score: float = math.nan
    area: float = math.nan
    bbox: np.ndarray | None = None  # x, y, w, h
    polygons: list[np.ndarray] = field(default_factory=list)  # (k, 2) float32 outlines
    mask: np.ndarray | None = None  # bool, for RLE/panoptic, cropped to mask_box
    mask_box: tuple[int, int, int, int] = (0, 0, 0, 0)  # x0, y0, x1, y1 of ``mask``
    keypoints: np.ndarray | None = None  # (k, 3): x, y, v
    skeleton: np.ndarray | None = None  # (e, 2) 0-based
    keypoint_names: list[str] = field(default_factory=list)
    seg_kind: str = "none"
    is_stuff: bool = False  # panoptic 'stuff' (isthing 0): amorphous regions, not objects
    problems: list[str] = field(default_factory=list)
    category_color: tuple[int, int, int] = (200, 200, 200)

    @property
    def has_mask(self) -> bool:
        return bool(self.polygons) or self.mask is not None


@dataclass
class Overlays:
    image_id: int
    width: int
    height: int
    items: list[AnnOverlay]
    omitted_shapes: int = 0  # items whose mask/outline was not decoded (over MAX_SHAPES)

    @property
    def note(self) -> str:
        """What was left out, for the user ("" when everything is drawn)."""
        if not self.omitted_shapes:
            return ""
        drawn = len(self.items) - self.omitted_shapes
        return f"{drawn:,} of {len(self.items):,} masks drawn (the limit per image)"

    def visible(self, categories: set[int] | None = None, results: bool = True,
                min_score: float = 0.0) -> list[AnnOverlay]:
        """The items shown with ``categories`` visible (None: all), by the one rule
        (:meth:`cocoview.model.look.Look.shows`)."""
        look = Look(results=results, min_score=min_score)
        return [it for it in self.items if look.shows(it)
                and (categories is None or it.category_id in categories)]

    def mask_layer(self, categories: set[int] | None = None, opacity: float = 0.5,
                   outline_only: bool = False, results: bool = False,
                   min_score: float = 0.0, highlight: int | None = None) -> np.ndarray:
        """Masks as premultiplied BGRA (``QImage.Format_ARGB32_Premultiplied`` bytes).

        Crowd regions are hatched so they read differently from instances.
        """
        h, w = max(self.height, 1), max(self.width, 1)
        if h * w > MAX_MASK_PIXELS:  # no mask is decoded at such a size (polygon_region)
            return np.zeros((1, 1, 4), np.uint8)
        out = np.zeros((h, w, 4), np.uint8)
        if outline_only:
            return out
        items = [it for it in self.visible(categories, results, min_score) if it.has_mask]
        # large first, so small objects stay visible on top
        items.sort(key=lambda it: -(it.area if math.isfinite(it.area) else 0.0))
        for it in items:
            a = opacity if it.ann_id != highlight else min(1.0, opacity + 0.3)
            paint_mask(out, it, a)
        return out


#: the largest canvas side made up from the objects when the JSON gives no size
_MAX_EXTENT = 1 << 16


def paint_mask(out: np.ndarray, it: AnnOverlay, opacity: float) -> None:
    """Composite one annotation's mask into a premultiplied BGRA image, in place."""
    if it.mask is None:
        return
    r, g, b = it.color
    x0, y0, x1, y1 = it.mask_box
    h, w = out.shape[:2]
    x1, y1 = min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    region = it.mask[: y1 - y0, : x1 - x0]
    if it.iscrowd:
        region = region & hatch(y1 - y0, x1 - x0, x0, y0)
    dst = out[y0:y1, x0:x1]
    if opacity >= 1.0:  # the GUI's case: the opacity is applied when blending
        np.copyto(dst, np.array([b, g, r, 255], np.uint8), where=region[..., None])
        return
    a = round(opacity * 256)
    src = np.array([b, g, r, 255], np.uint16) * a
    sel = dst[region].astype(np.uint16)
    dst[region] = ((src + sel * (256 - a)) >> 8).astype(np.uint8)


def polygon_region(polys: list[np.ndarray], h: int, w: int) -> tuple[
        np.ndarray | None, tuple[int, int, int, int]]:
    """The exact pycocotools mask of polygons, cropped to the polygons' extent.

    pycocotools makes the RLE at the full image size (shifting the coordinates to
    encode only the box changes a few edge pixels: float rounding inside it); only
    the extent's columns are then decoded — pycocotools never sets a pixel beyond it.
    """
    allp = np.concatenate(polys)
    if h <= 0 or w <= 0:
        w, h = int(np.ceil(allp[:, 0].max())) + 2, int(np.ceil(allp[:, 1].max())) + 2
    x0 = min(max(int(np.floor(allp[:, 0].min())) - 1, 0), w)
    y0 = min(max(int(np.floor(allp[:, 1].min())) - 1, 0), h)
    x1 = min(max(int(np.ceil(allp[:, 0].max())) + 2, 0), w)
    y1 = min(max(int(np.ceil(allp[:, 1].max())) + 2, 0), h)
    if x1 <= x0 or y1 <= y0 or h * w > MAX_MASK_PIXELS:
        return None, (0, 0, 0, 0)
    rle = mask_utils.merge(mask_utils.frPyObjects([p.ravel().tolist() for p in polys], h, w))
    box = (x0, y0, x1, y1)
    return crop_counts(string_to_counts(rle["counts"]), h, box), box


def _label(ds: Dataset, cid: int, iscrowd: bool, score: float) -> str:
    cat = ds._cat_by_id.get(cid)
    name = cat.name if cat is not None else f"category {cid}"
    if iscrowd:
        name += " (crowd)"
    if len(name) > MAX_LABEL:
        name = name[: MAX_LABEL - 1] + "…"
    if math.isfinite(score):
        name += f" {score:.2f}"
    return name


def edited_items(ds: Dataset, items: list[AnnOverlay], image_row: int,
                 limit: int = 2000) -> list[AnnOverlay] | None:
    """``items`` (an image's drawn annotations) as the columns of ``ds`` (an edited
    view) now have them: deleted ones left out, category, crowd flag, box, label and
    category colour from the columns, added ones as their box and label. Nothing is
    decoded (outlines and masks stay as they were, an added one has none yet): what the
    canvas shows at once while the image's frame is made again. None: nothing changed,
    or more than ``limit`` items."""
    if len(items) > limit:
        return None
    rows = ds.ann_rows_of_image_row(image_row)
    alive = set(rows.tolist())
    anns = ds.anns
    out: list[AnnOverlay] = []
    seen: set[int] = set()
    changed = False
    for it in items:
        if it.is_result:
            out.append(it)
            continue
        if it.row not in alive:
            changed = True
            continue
        seen.add(it.row)
        if it.seg_kind == "panoptic":
            out.append(it)
            continue
        new = _as_columns(ds, it, it.row)
        changed |= new is not it
        out.append(new)
    for r in rows.tolist():
        if r in seen:
            continue
        cid = int(anns.category_id[r])
        cat = ds._cat_by_id.get(cid)
        colour = cat.color if cat is not None else (200, 200, 200)
        crowd = bool(anns.iscrowd[r])
        out.append(AnnOverlay(row=r, ann_id=int(anns.id[r]), category_id=cid, color=colour,
                              category_color=colour, label=_label(ds, cid, crowd, math.nan),
                              iscrowd=crowd, area=float(anns.area[r]),
                              bbox=np.asarray(anns.bbox[r], np.float64)))
        changed = True
    return out if changed else None


def _as_columns(ds: Dataset, it: AnnOverlay, r: int) -> AnnOverlay:
    """``it`` with the category, crowd flag and box of row ``r`` in ``ds``'s columns
    (``it`` itself when they are the same)."""
    anns = ds.anns
    cid, crowd = int(anns.category_id[r]), bool(anns.iscrowd[r])
    box = np.asarray(anns.bbox[r], np.float64)
    label = _label(ds, cid, crowd, it.score)
    same_box = it.bbox is None or np.array_equal(it.bbox, box) or not np.isfinite(box).all()
    if (cid, crowd, label) == (it.category_id, it.iscrowd, it.label) and same_box:
        return it
    cat = ds._cat_by_id.get(cid)
    colour = cat.color if cat is not None else (200, 200, 200)
    new = replace(it, category_id=cid, iscrowd=crowd, category_color=colour, label=label,
                  bbox=it.bbox if same_box else box)
    if it.color == it.category_color:  # coloured by category (not by instance)
        new.color = colour
    return new


def _outline_from_mask(mask: np.ndarray, x0: int, y0: int) -> list[np.ndarray]:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    return [c.reshape(-1, 2).astype(np.float32) + np.array([x0, y0], np.float32) for c in contours
            if len(c) >= 2]


def _crop(mask: np.ndarray) -> tuple[np.ndarray | None, tuple[int, int, int, int]]:
    ys, xs = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if not len(ys):
        return None, (0, 0, 0, 0)
    y0, y1, x0, x1 = int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1
    return mask[y0:y1, x0:x1], (x0, y0, x1, y1)


class _Rec(NamedTuple):
    """One row's columns as Python values (indexing memory-mapped columns per row is slow)."""

    row: int
    ann_id: int
    category_id: int
    iscrowd: bool
    score: float
    area: float
    bbox: np.ndarray | None
    has_keypoints: bool


def _records(cols: Any, rows: np.ndarray) -> list[_Rec]:
    rows = np.asarray(rows, np.int64)
    boxes = np.asarray(cols.bbox[rows], np.float64)
    ok: list[bool] = list(np.logical_not(np.isnan(boxes).any(axis=1)).tolist())
    return [_Rec(r, i, c, bool(k), s, a, boxes[n] if ok[n] else None, kp)
            for n, (r, i, c, k, s, a, kp) in enumerate(zip(
                rows.tolist(), cols.id[rows].tolist(), cols.category_id[rows].tolist(),
                cols.iscrowd[rows].tolist(), cols.score[rows].tolist(),
                cols.area[rows].tolist(), (cols.kp_off[rows] >= 0).tolist(), strict=True))]


def _item(ds: Dataset, rec: _Rec, seg: Any, kp: np.ndarray | None, h: int, w: int,
          is_result: bool, panoptic_mask: np.ndarray | None = None,
          panoptic: bool = False) -> AnnOverlay:
    """One annotation's drawables; ``seg`` None (and no panoptic mask): no mask or outline."""
    cid = rec.category_id
    cat = ds._cat_by_id.get(cid)
    it = AnnOverlay(
        row=rec.row, ann_id=rec.ann_id, category_id=cid,
        color=cat.color if cat is not None else (200, 200, 200),
        category_color=cat.color if cat is not None else (200, 200, 200),
        label=_label(ds, cid, rec.iscrowd, rec.score), iscrowd=rec.iscrowd,
        is_result=is_result, score=rec.score, area=rec.area, bbox=rec.bbox,
    )
    if panoptic:  # a segment: thing or stuff whether or not its mask is decoded
        it.seg_kind = "panoptic"
        if cat is not None and cat.isthing is False:
            it.is_stuff = True
            it.label += " (stuff)"
    if panoptic_mask is not None:
        it.mask, it.mask_box = _crop(panoptic_mask)
        if it.mask is not None:
            it.polygons = _outline_from_mask(it.mask, it.mask_box[0], it.mask_box[1])
    elif seg is not None:
        g: Geometry = clean_segmentation(seg)
        it.problems = list(g.problems)
        if g.polygons:
            it.seg_kind = "polygon"
            it.polygons = [p.astype(np.float32) for p in g.polygons]
            it.mask, it.mask_box = polygon_region(g.polygons, h, w)
            if h * w > MAX_MASK_PIXELS:
                it.problems.append(f"image too large for a mask: {w}×{h} pixels")
        elif g.rle is not None:
            it.seg_kind = "rle"
            if h <= 0 or w <= 0:
                h, w = g.rle_size or (0, 0)
            try:
                full = geometry_mask(g, h, w)
            except ValueError as exc:  # a size no mask can be decoded at
                it.problems.append(str(exc))
                full = np.zeros((0, 0), bool)
            it.mask, it.mask_box = _crop(full)
            if it.mask is not None:
                it.polygons = _outline_from_mask(it.mask, it.mask_box[0], it.mask_box[1])
        if not math.isfinite(it.area) or it.area <= 0:
            it.area = float(it.bbox[2] * it.bbox[3]) if it.bbox is not None else 0.0
    if kp is not None and cat is not None:
        it.keypoints = kp
        it.skeleton = cat.skeleton
        it.keypoint_names = cat.keypoint_names
    elif kp is not None:
        it.keypoints = kp
    return it


def build_overlays(ds: Dataset, image_id: int, results: bool = True,
                   layers: Iterable[str] | None = None, max_shapes: int = MAX_SHAPES) -> Overlays:
    """Decode what is drawable for one image (annotations, then detections).

    Segmentations are decoded only when ``layers`` (default: all) has masks or
    outlines, and for at most ``max_shapes`` items: an image with 300,000
    annotations is drawn in seconds, the rest of its objects as boxes
    (:attr:`Overlays.note` says so).
    """
    img_row = ds.image_row(image_id)
    h, w = ds.image_size(img_row)
    budget = max_shapes if layers is None or SHAPE_LAYERS & set(layers) else 0
    items: list[AnnOverlay] = []
    omitted = 0
    for rec in _records(ds.anns, ds.ann_rows(image_id)):
        pmask, seg = None, None
        panoptic = int(ds.anns.seg_kind[rec.row]) == SEG_PANOPTIC
        if len(items) - omitted < budget:
            if panoptic:
                pmask = ds.mask_of_row(rec.row)
            else:
                seg = ds.segmentation(rec.row)
        elif budget:
            omitted += 1
        kp = ds.keypoints_array(rec.row) if rec.has_keypoints else None
        items.append(_item(ds, rec, seg, kp, h, w, False, pmask, panoptic))
    if results and ds.results is not None:
        res = ds.results
        for rec in _records(res.anns, res.rows(img_row)):
            seg = None
            if len(items) - omitted < budget:
                seg = res.segmentation(rec.row)
            elif budget:
                omitted += 1
            kp = res.keypoints_array(rec.row) if rec.has_keypoints else None
            items.append(_item(ds, rec, seg, kp, h, w, True))
    if (h <= 0 or w <= 0) and items:
        # no size in the JSON: make room for everything that is drawn
        ext = [0.0, 0.0]
        for it in items:
            if it.bbox is not None:
                ext = [max(ext[0], it.bbox[0] + it.bbox[2]), max(ext[1], it.bbox[1] + it.bbox[3])]
            for p in it.polygons:
                ext = [max(ext[0], float(p[:, 0].max())), max(ext[1], float(p[:, 1].max()))]
            if it.mask is not None:
                ext = [max(ext[0], it.mask_box[2]), max(ext[1], it.mask_box[3])]
        # a box of 3.4e38 (float32's largest) sums to inf: keep the extent drawable
        ext = [min(v, _MAX_EXTENT) if math.isfinite(v) else _MAX_EXTENT for v in ext]
        w, h = math.ceil(ext[0]) or 1, math.ceil(ext[1]) or 1
    return Overlays(int(image_id), int(w), int(h), items, omitted)
