"""Small previews of one image with its masks and boxes, for the image browser.

JPEGs are decoded at reduced size straight from the DCT (Pillow ``draft``: 1/2,
1/4 or 1/8 scale, ~2× faster than a full decode) and never fully decoded when
huge. Overlays (ground truth only) are drawn from the dataset's columns, not
through :func:`~cocoview.model.overlays.build_overlays`, whose exact full-size
masks cost ~0.3 ms per polygon: polygons are filled at thumbnail scale with
``cv2.fillPoly`` (display only), RLE and panoptic masks decoded exactly and
shrunk. Decoding is :func:`cocoview.model.images.decode`'s, as in the canvas:
the same EXIF-orientation rule, the same handling of damaged files (a grey
checker where nothing can be shown), and a picture whose size disagrees with the
JSON is scaled to the JSON's aspect, the annotations' coordinate system.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from cocoview.model.columns import SEG_PANOPTIC, SEG_POLYGON, SEG_RLE, SEG_RLE_RAW
from cocoview.model.images import decode, open_image
from cocoview.model.look import Look, hatch, instance_color

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

#: After DCT scaling, an image with more pixels than this is not decoded (placeholder).
THUMB_MAX_PIXELS = 50_000_000
DEFAULT_OPACITY = Look.opacity  # as the canvas
_SHIFT = 3  # fillPoly / rectangle sub-pixel bits


def thumbnail_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(w, h) with the longest side ``size`` and the aspect of ``width × height``."""
    if width <= 0 or height <= 0:
        width, height = 4, 3
    s = size / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


def decode_reduced(path: Path | None, size: int,
                   max_pixels: int | None = None) -> np.ndarray | None:
    """The image at ``path`` as RGB with the longest side ``size``; None if unreadable.

    Nothing is decoded when, after DCT scaling, it would still exceed ``max_pixels``
    (default :data:`THUMB_MAX_PIXELS`): a decompression bomb stays a placeholder.
    """
    max_pixels = THUMB_MAX_PIXELS if max_pixels is None else max_pixels
    return decode(path, max_side=size, budget=max_pixels).rgb


def placeholder_thumbnail(width: int, height: int, size: int) -> np.ndarray:
    """The grey checker of :func:`cocoview.model.images.placeholder`, at thumbnail scale."""
    tw, th = thumbnail_size(width, height, size)
    period = max(2, round(32 * tw / max(width, 1))) if width > 0 else max(2, size // 20)
    yy, xx = np.mgrid[0:th, 0:tw]
    checker = (((xx // period) + (yy // period)) % 2).astype(np.uint8)
    grey = (96 + 16 * checker)[..., None].repeat(3, axis=2)
    return np.ascontiguousarray(grey)


def render_thumbnail(ds: Dataset, image_id: int, size: int = 160,
                     categories: set[int] | None = None, *, overlays: bool = True,
                     opacity: float = DEFAULT_OPACITY, allow_outside: bool = False,
                     by_instance: bool = False) -> np.ndarray:
    """RGB uint8 preview of ``image_id``, longest side ``size``, with the JSON's aspect.

    ``categories`` limits the overlays to those category ids (None: all).
    A missing or unreadable image (or one outside the images folder, unless
    ``allow_outside``) gives a grey checker with the JSON's aspect, still with
    its overlays.
    """
    row = ds.image_row(image_id)
    jw, jh = int(ds.image_width[row]), int(ds.image_height[row])
    want = thumbnail_size(jw, jh, size) if jw > 0 and jh > 0 else None
    rgb = open_image(ds, image_id, allow_outside=allow_outside, out_size=want,
                     max_side=None if want else size, budget=THUMB_MAX_PIXELS).rgb
    shapes = _shapes(ds, row, categories, by_instance) if overlays else []
    if jw <= 0 or jh <= 0:  # no size in the JSON: the picture's, else what is drawn
        jw, jh = (rgb.shape[1], rgb.shape[0]) if rgb is not None else _extent(shapes)
    if rgb is None:
        rgb = placeholder_thumbnail(jw, jh, size)
    if not shapes:
        return rgb
    th, tw = rgb.shape[:2]
    sx, sy = tw / jw, th / jh  # per axis: a picture that disagrees with the JSON still fits
    out = _composite_masks(ds, rgb, shapes, sx, sy, opacity)
    for sh in shapes:
        _box(out, sh, sx, sy)
    return out


@dataclass
class _Shape:
    """One annotation as a thumbnail draws it."""

    row: int
    color: tuple[int, int, int]
    iscrowd: bool
    area: float
    bbox: tuple[float, float, float, float] | None
    kind: int


def _shapes(ds: Dataset, image_row: int, categories: set[int] | None,
            by_instance: bool = False) -> list[_Shape]:
    out = []
    a = ds.anns
    for k, r in enumerate(ds.ann_rows_of_image_row(image_row).tolist()):
        cid = int(a.category_id[r])
        if categories is not None and cid not in categories:
            continue
        try:
            color = instance_color(k) if by_instance else ds.category(cid).color
        except KeyError:
            color = (200, 200, 200)
        box = a.bbox[r]
        bbox = None if np.isnan(box).any() else tuple(float(v) for v in box)
        area = float(a.area[r])
        if not math.isfinite(area) or area <= 0:
            area = bbox[2] * bbox[3] if bbox is not None else 0.0
        out.append(_Shape(r, color, bool(a.iscrowd[r]), area, bbox,  # type: ignore[arg-type]
                          int(a.seg_kind[r])))
    return out


def _extent(shapes: list[_Shape]) -> tuple[int, int]:
    w = max((sh.bbox[0] + sh.bbox[2] for sh in shapes if sh.bbox is not None), default=0.0)
    h = max((sh.bbox[1] + sh.bbox[3] for sh in shapes if sh.bbox is not None), default=0.0)
    return (math.ceil(w), math.ceil(h)) if w > 0 and h > 0 else (4, 3)


def _composite_masks(ds: Dataset, rgb: np.ndarray, shapes: list[_Shape], sx: float, sy: float,
                     opacity: float) -> np.ndarray:
    """Fill every mask at thumbnail scale (large first), then blend once.

    Polygons are filled straight at thumbnail scale (``cv2.fillPoly``, display
    only); RLE and panoptic masks are decoded exactly and shrunk. Crowds are
    striped (:func:`cocoview.model.look.hatch`), as on the canvas and in ``render``.
    """
    th, tw = rgb.shape[:2]
    color = np.zeros((th, tw, 3), np.uint8)
    alpha = np.zeros((th, tw), np.uint8)
    a = round(255 * min(max(opacity, 0.0), 1.0))
    stripes = hatch(th, tw) if any(sh.iscrowd for sh in shapes) else None
    scale = np.array([sx, sy], np.float64) * (1 << _SHIFT)
    half = 0.5 * (1 << _SHIFT)
    for sh in sorted(shapes, key=lambda sh: -sh.area):
        region: np.ndarray | None = None
        if sh.kind == SEG_POLYGON:
            polys = ds.geometry(sh.row).polygons
            # COCO coordinates are pixel corners, fillPoly's are pixel centres
            pts = [np.round(p * scale - half).astype(np.int32) for p in polys]
            if pts and not sh.iscrowd:  # the common case: straight into the layer
                cv2.fillPoly(color, pts, sh.color, lineType=cv2.LINE_8, shift=_SHIFT)
                cv2.fillPoly(alpha, pts, a, lineType=cv2.LINE_8, shift=_SHIFT)
            elif pts:
                fill = np.zeros((th, tw), np.uint8)
                cv2.fillPoly(fill, pts, 1, lineType=cv2.LINE_8, shift=_SHIFT)
                region = fill.view(bool)
        elif sh.kind in (SEG_RLE, SEG_RLE_RAW, SEG_PANOPTIC):
            try:
                mask = ds.mask_of_row(sh.row)
            except (ValueError, OSError):
                continue
            if mask.any():
                region = cv2.resize(mask.astype(np.uint8) * 255, (tw, th),
                                    interpolation=cv2.INTER_AREA) >= 128
        if region is None:
            continue
        if sh.iscrowd and stripes is not None:  # striped, as on the canvas and in render
            region = region & stripes
        color[region] = sh.color
        alpha[region] = a
    a16 = alpha.astype(np.uint16)[..., None]
    blended = (rgb.astype(np.uint16) * (255 - a16) + color.astype(np.uint16) * a16 + 127) // 255
    return np.ascontiguousarray(blended.astype(np.uint8))


def _box(canvas: np.ndarray, sh: _Shape, sx: float, sy: float) -> None:
    if sh.bbox is None:
        return
    x, y, w, h = sh.bbox
    k = 1 << _SHIFT
    p0 = (round((x * sx - 0.5) * k), round((y * sy - 0.5) * k))
    p1 = (round(((x + w) * sx - 0.5) * k), round(((y + h) * sy - 0.5) * k))
    cv2.rectangle(canvas, p0, p1, sh.color, 1, cv2.LINE_AA, _SHIFT)
