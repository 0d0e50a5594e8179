"""How overlays look, decided once for every view: what is visible, how a crowd is
marked, how masks are blended into the picture.

The canvas, the frame workers, thumbnails and ``cocoview render`` all ask
:class:`Look` whether an item is shown and blend with :func:`blend_masks`, so a
hidden category, the min score or a crowd read the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

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

    def shows(self, item: _Shown) -> bool:
        """The one visibility rule: its category is not hidden, and a detection is shown
        only with results on and a score at or above ``min_score`` (NaN never)."""
        if item.category_id in self.hidden:
            return False
        return not item.is_result or (self.results and item.score >= self.min_score)

    def categories(self, ds: Dataset) -> set[int] | None:
        """The visible category ids of ``ds`` (None: every category, the cheap case)."""
        return None if not self.hidden else {c.id for c in ds.categories} - self.hidden


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
    covered = layer_bgra[..., 3] > 0
    out = base.copy()
    if not covered.any():
        return out
    color = layer_bgra[..., :3] if base_order == "BGR" else layer_bgra[..., 2::-1]
    ink = np.ascontiguousarray(color)
    under = np.ascontiguousarray(base[..., :3])
    blended = cv2.addWeighted(under, 1.0 - opacity, ink, opacity, 0.0)
    region = out[..., :3]
    region[covered] = blended[covered]
    if out.shape[2] == 4:
        out[..., 3] = 255
    return out
