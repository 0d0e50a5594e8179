"""One stable colour per category, shared by the GUI, thumbnails and ``render``."""

from __future__ import annotations

import colorsys
from collections.abc import Mapping
from typing import Any

_GOLDEN = 0.618033988749895


def category_color(category_id: int, category: Mapping[str, Any] | None = None) -> tuple[
        int, int, int]:
    """RGB for a category: its own ``color`` field (panoptic files) or a golden-ratio hue.

    Neighbouring ids get far-apart hues; the same id always gets the same colour.
    """
    if category is not None:
        c = category.get("color")
        if (isinstance(c, list) and len(c) == 3
                and all(isinstance(v, int) and 0 <= v <= 255 for v in c)):
            return int(c[0]), int(c[1]), int(c[2])
    h = (int(category_id) * _GOLDEN + 0.11) % 1.0
    s = 0.70 if int(category_id) % 3 else 0.55
    v = 0.95 if int(category_id) % 2 else 0.82
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)
