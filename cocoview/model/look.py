"""How overlays look, decided once for every view: what is visible, how a crowd is
marked, how masks are blended into the picture.

The canvas, the frame workers, thumbnails and ``cocoview render`` all ask
:class:`Look` whether an item is shown and blend with :func:`blend_masks`, so a
hidden category, the min score or a crowd read the same everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

import cv2
import numpy as np

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

#: crowd regions are striped: every other band of this many pixels along x + y
HATCH = 4


class _Shown(Protocol):
    category_id: int
    is_result: bool
    score: float


@dataclass(frozen=True)
class Look:
    """The display choices that change what is drawn (not where)."""

    hidden: frozenset[int] = frozenset()  # category ids not shown
    opacity: float = 0.5  # of the masks
    results: bool = True  # detections shown at all
    min_score: float = 0.3  # detections below it are not shown
    by_instance: bool = False  # a colour per object instead of per category

    def shows(self, item: _Shown) -> bool:
        """The one visibility rule: its category is not hidden, and a detection is shown
        only with results on and a score at or above ``min_score`` (NaN never)."""
        if item.category_id in self.hidden:
            return False
        return not item.is_result or (self.results and item.score >= self.min_score)

    def categories(self, ds: Dataset) -> set[int] | None:
        """The visible category ids of ``ds`` (None: every category, the cheap case)."""
        return None if not self.hidden else {c.id for c in ds.categories} - self.hidden


#: at most this many labels are drawn, the largest objects' (more would only cover each
#: other, and an image may hold 300,000 annotations)
MAX_LABELS = 2_000


class _Sized(Protocol):
    area: float


_S = TypeVar("_S", bound=_Sized)


def labelled(items: list[_S]) -> list[_S]:
    """The items whose labels are drawn: all, or the MAX_LABELS largest."""
    if len(items) <= MAX_LABELS:
        return items
    return sorted(items, key=lambda it: -(it.area if math.isfinite(it.area) else 0.0))[
        :MAX_LABELS]


# ----- keypoints: their own colours, readable on any mask or photo ----------------------
#: limbs of the left side, the right side and the middle (from the keypoint names), and
#: the dark edge drawn under every limb and around every joint
LEFT, RIGHT, MIDDLE = (255, 145, 30), (40, 165, 255), (235, 235, 235)
EDGE = (20, 20, 20)


def side(name: str) -> str:
    """"left", "right" or "" for a keypoint name (``left_knee``, ``r_wrist``, ``RightEye``)."""
    n = name.lower().replace("-", "_").replace(" ", "_")
    if n.startswith(("left", "l_")):
        return "left"
    if n.startswith(("right", "r_")):
        return "right"
    return ""


def limb_colors(names: list[str], skeleton: list[list[int]]) -> list[tuple[int, int, int]]:
    """The colour of each skeleton edge: a limb whose ends are both on one side takes
    that side's hue, any other the middle's."""
    sides = [side(n) for n in names]
    out = []
    for a, b in skeleton:
        sa = sides[a] if 0 <= a < len(sides) else ""
        sb = sides[b] if 0 <= b < len(sides) else ""
        out.append(LEFT if sa == sb == "left" else RIGHT if sa == sb == "right" else
                   LEFT if {sa, sb} == {"left", ""} else RIGHT if {sa, sb} == {"right", ""}
                   else MIDDLE)
    return out


# ----- colour by instance ------------------------------------------------------------
_GOLDEN = 0.618033988749895


def instance_color(k: int) -> tuple[int, int, int]:
    """The colour of the ``k``-th object of an image: hues a golden-ratio step apart, so
    neighbours in the file (often neighbours on the image) differ and the same file gives
    the same colours on every run."""
    import colorsys

    h = (0.11 + k * _GOLDEN) % 1.0
    s, v = (0.78, 0.98) if k % 2 == 0 else (0.62, 0.85)
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


class _Colored(Protocol):
    color: tuple[int, int, int]
    category_color: tuple[int, int, int]


_C = TypeVar("_C", bound=_Colored)


def apply_colors(items: list[_C], by_instance: bool) -> list[_C]:
    """Colour ``items`` (in place) by category or by instance (their order on the image)."""
    for k, it in enumerate(items):
        it.color = instance_color(k) if by_instance else it.category_color
    return items


def item_key(row: int, is_result: bool) -> int:
    """One key for an annotation row and a detection row (they number separately)."""
    return row * 2 + int(is_result)


def hatch(h: int, w: int, x0: int = 0, y0: int = 0, period: int = HATCH) -> np.ndarray:
    """The crowd stripes of the region (x0, y0, w, h): True where a crowd is painted."""
    yy, xx = np.mgrid[y0 : y0 + h, x0 : x0 + w]
    return ((xx + yy) // period) % 2 == 0


def blend_masks(base: np.ndarray, layer_bgra: np.ndarray, opacity: float,
                base_order: str = "BGR") -> np.ndarray:
    """``base`` (h×w×3 or ×4, ``base_order`` "BGR" or "RGB") with the mask layer blended
    in at ``opacity`` where the layer is painted; a copy, in ``base``'s format.

    ``layer_bgra`` holds the masks at full strength (alpha 255 where painted, e.g.
    :meth:`Overlays.mask_layer` with opacity 1); a layer made at another size is
    scaled to the base (a reduced decode of a huge image).
    """
    h, w = base.shape[:2]
    if layer_bgra.shape[:2] != (h, w):
        layer_bgra = cv2.resize(layer_bgra, (w, h), interpolation=cv2.INTER_NEAREST)
    # whole-image OpenCV calls (no channel slices made contiguous, no boolean
    # indexing): several times faster at 640x640, and an edit's frame waits for it
    layer_bgra = np.ascontiguousarray(layer_bgra)
    mask = cv2.extractChannel(layer_bgra, 3)
    base = np.ascontiguousarray(base)
    out = base.copy()
    if not cv2.countNonZero(mask):
        return out
    four = base.shape[2] == 4
    code = {(True, "BGR"): None, (True, "RGB"): cv2.COLOR_BGRA2RGBA,
            (False, "BGR"): cv2.COLOR_BGRA2BGR, (False, "RGB"): cv2.COLOR_BGRA2RGB}
    c = code[(four, base_order)]
    ink = layer_bgra if c is None else cv2.cvtColor(layer_bgra, c)
    blended = cv2.addWeighted(base, 1.0 - opacity, ink, opacity, 0.0)
    cv2.copyTo(blended, mask, out)
    if four:
        out[..., 3] = 255
    return out
