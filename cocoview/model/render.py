"""Drawing overlays onto an image with OpenCV: the ``cocoview render`` back end."""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np

from cocoview.model.images import open_image, placeholder
from cocoview.model.labels import Rect, place_labels
from cocoview.model.look import EDGE, Look, apply_colors, blend_masks, labelled, limb_colors
from cocoview.model.overlays import LAYERS, AnnOverlay, Overlays

DEFAULT_LAYERS = ("masks", "boxes", "keypoints", "labels")


def _fit(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    """The picture scaled to the JSON's size (the annotations' coordinates), as the canvas."""
    if rgb.shape[:2] == (h, w):
        return rgb
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if w * h < rgb.shape[0]
                      * rgb.shape[1] else cv2.INTER_LINEAR)


#: render() draws nothing bigger than this (a JSON may claim any size)
MAX_RENDER_PIXELS = 100_000_000


def render(ov: Overlays, image: np.ndarray | None, layers: Iterable[str] = DEFAULT_LAYERS,
           opacity: float = Look.opacity, results: bool = True, min_score: float = 0.0,
           note: str = "") -> np.ndarray:
    """The image (or a placeholder) with the chosen overlay layers, as RGB uint8."""
    layers = set(layers)
    unknown = layers - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown layer(s): {', '.join(sorted(unknown))}")
    w, h = max(ov.width, 1), max(ov.height, 1)
    if w * h > MAX_RENDER_PIXELS:  # a JSON may claim any size: never allocate it
        canvas = np.array(placeholder(w, h, max_pixels=1_000_000), order="C")
        _banner(canvas, f"image too large to draw: {w}x{h} pixels")
        return canvas
    base = _fit(image, w, h) if image is not None else placeholder(w, h)
    if "masks" in layers:  # blended as the app blends them (model/look.py)
        base = blend_masks(base, ov.mask_layer(opacity=1.0, results=results,
                                               min_score=min_score), opacity, "RGB")
    canvas = np.array(base, dtype=np.uint8, order="C", copy=True)
    items = ov.visible(results=results, min_score=min_score)
    thick = max(1, round(min(w, h) / 400))
    if "masks" in layers or "outlines" in layers:
        for it in items:
            if it.polygons:
                pts = [np.round(p).astype(np.int32) for p in it.polygons]
                cv2.polylines(canvas, pts, True, it.color, thick, cv2.LINE_AA)
    if "boxes" in layers or "stuff_boxes" in layers:
        for it in items:
            if ("stuff_boxes" if it.is_stuff else "boxes") in layers:
                _box(canvas, it, thick)
    if "keypoints" in layers:
        for it in items:
            _keypoints(canvas, it, thick)
    if "labels" in layers:
        _labels(canvas, labelled(items), _banner_rect(note) if note else None)
    if note:
        _banner(canvas, note)
    return canvas


#: drawing coordinates are clamped to this (OpenCV takes 32-bit ints; JSON may say 1e300)
_FAR = 1 << 20


def _pt(x: float, y: float) -> tuple[int, int] | None:
    """A drawable point, or None for non-finite coordinates."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return round(min(max(x, -_FAR), _FAR)), round(min(max(y, -_FAR), _FAR))


def _box(canvas: np.ndarray, it: AnnOverlay, thick: int) -> None:
    if it.bbox is None:
        return
    x, y, bw, bh = it.bbox.tolist()
    p0, p1 = _pt(x, y), _pt(x + bw, y + bh)
    if p0 is None or p1 is None:
        return
    if it.is_result:  # detections: dashed, so they read apart from ground truth
        for a, b in _dashes(p0, p1):
            cv2.line(canvas, a, b, it.color, thick, cv2.LINE_AA)
    else:
        cv2.rectangle(canvas, p0, p1, it.color, thick + 1, cv2.LINE_AA)


def _dashes(p0: tuple[int, int], p1: tuple[int, int], dash: int = 6) -> list[
        tuple[tuple[int, int], tuple[int, int]]]:
    (x0, y0), (x1, y1) = p0, p1
    segs = []
    for ax, ay, bx, by in ((x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)):
        n = max(1, int(max(abs(bx - ax), abs(by - ay)) // dash))
        for k in range(0, n, 2):
            t0, t1 = k / n, min(1.0, (k + 1) / n)
            segs.append(((round(ax + (bx - ax) * t0), round(ay + (by - ay) * t0)),
                         (round(ax + (bx - ax) * t1), round(ay + (by - ay) * t1))))
    return segs


def _keypoints(canvas: np.ndarray, it: AnnOverlay, thick: int) -> None:
    """As the canvas draws them (model/look.py): limbs in left / right / middle hues over
    a dark edge, joints ringed dark."""
    kp = it.keypoints
    if kp is None or not len(kp):
        return
    vis = kp[:, 2]
    if it.skeleton is not None and len(it.skeleton):
        edges = it.skeleton.tolist()
        limbs = []
        for (a, b), color in zip(edges, limb_colors(it.keypoint_names, edges), strict=True):
            if 0 <= a < len(kp) and 0 <= b < len(kp) and vis[a] > 0 and vis[b] > 0:
                pa, pb = _pt(kp[a, 0], kp[a, 1]), _pt(kp[b, 0], kp[b, 1])
                if pa is not None and pb is not None:
                    limbs.append((pa, pb, color))
        for pa, pb, _c in limbs:
            cv2.line(canvas, pa, pb, EDGE, thick + 3, cv2.LINE_AA)
        for pa, pb, color in limbs:
            cv2.line(canvas, pa, pb, color, thick + 1, cv2.LINE_AA)
    r = 2 + thick
    for x, y, v in kp.tolist():
        if v <= 0:  # absent: never drawn, even where coordinates are given
            continue
        c = _pt(x, y)
        if c is None:
            continue
        if v >= 2:
            cv2.circle(canvas, c, r, it.color, -1, cv2.LINE_AA)
        else:  # occluded: a white ring
            cv2.circle(canvas, c, r, (255, 255, 255), max(1, thick), cv2.LINE_AA)
        cv2.circle(canvas, c, r + 1, EDGE, 1, cv2.LINE_AA)


_FONT, _SCALE = cv2.FONT_HERSHEY_SIMPLEX, 0.4


def _labels(canvas: np.ndarray, items: list[AnnOverlay], banner: Rect | None) -> None:
    """Labels placed as the canvas places them (model/labels.py): none covers another
    or the banner; one with no room is left out."""
    items = sorted((it for it in items if it.bbox is not None),
                   key=lambda it: -(it.area if math.isfinite(it.area) else 0.0))
    anchors: list[Rect] = []
    sizes: list[tuple[float, float]] = []
    texts = []
    for it in items:
        x, y, w, h = it.bbox.tolist()  # type: ignore[union-attr]
        (tw, th), base = cv2.getTextSize(it.label, _FONT, _SCALE, 1)
        anchors.append((x, y, w, h))
        sizes.append((tw + 4, th + base + 2))
        texts.append((th, base))
    hgt, wid = canvas.shape[:2]
    spots = place_labels(anchors, sizes, (0, 0, wid, hgt), [banner] if banner else [])
    for it, spot, (lw, lh), (th, _base) in zip(items, spots, sizes, texts, strict=True):
        if spot is None or not all(map(math.isfinite, spot)):
            continue
        x0, y0 = round(spot[0]), round(spot[1])
        cv2.rectangle(canvas, (x0, y0), (x0 + round(lw), y0 + round(lh)), it.color, -1)
        lum = 0.299 * it.color[0] + 0.587 * it.color[1] + 0.114 * it.color[2]
        ink = (0, 0, 0) if lum > 140 else (255, 255, 255)
        cv2.putText(canvas, it.label, (x0 + 2, y0 + th + 1), _FONT, _SCALE, ink, 1,
                    cv2.LINE_AA)


def _banner_rect(text: str) -> Rect:
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    return (0, 0, tw + 12, th + base + 10)


def _banner(canvas: np.ndarray, text: str) -> None:
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.5
    (tw, th), base = cv2.getTextSize(text, font, scale, 1)
    cv2.rectangle(canvas, (0, 0), (tw + 12, th + base + 10), (40, 40, 40), -1)
    cv2.putText(canvas, text, (6, th + 5), font, scale, (255, 220, 120), 1, cv2.LINE_AA)


def render_image(ds: object, image_id: int, layers: Iterable[str] = DEFAULT_LAYERS,
                 opacity: float = Look.opacity, results: bool = True,
                 min_score: float = 0.0, allow_outside: bool = False,
                 by_instance: bool = False) -> tuple[np.ndarray, str]:
    """Load the image of ``image_id`` and draw its overlays; returns (RGB, warning).

    The warning says why the image could not be drawn, and what was left out
    ("" if everything was drawn). A file outside the images folder is not opened
    unless ``allow_outside``. Only the segmentations the layers need are decoded.
    """
    from cocoview.model.dataset import Dataset

    assert isinstance(ds, Dataset)
    layers = tuple(layers)
    ov = ds.overlays(image_id, results=results, layers=layers)
    apply_colors(ov.items, by_instance)
    loaded = open_image(ds, image_id, allow_outside=allow_outside)
    row = ds.image_row(image_id)
    if (int(ds.image_width[row]) <= 0 or int(ds.image_height[row]) <= 0) and loaded.size:
        ov.width, ov.height = loaded.size  # no size in the JSON: the picture's
    note = "" if loaded.rgb is not None else loaded.error.split(":")[0]
    shown = ov.visible(results=results, min_score=min_score)
    n_labels = len(labelled(shown))
    labels = f"labels of the {n_labels:,} largest of {len(shown):,} objects drawn" if (
        "labels" in layers and n_labels < len(shown)) else ""
    note = "; ".join(n for n in (note, ov.note, labels) if n)
    placed = f"{loaded.error} (drawn on a placeholder)" if loaded.error else ""
    warning = "; ".join(n for n in (placed, ov.note, labels) if n)
    return render(ov, loaded.rgb, layers, opacity, results, min_score, note), warning
