"""Where labels go so that none covers another: one placer for the canvas and ``render``.

Each label is tried, largest object first, at a few spots around its box's top-left
corner (above the box, inside it, below its top edge, further up); the first spot
that overlaps no label placed before (and no reserved area, e.g. the image's
reason text) wins. A label with no free spot is not drawn (the canvas shows it on
hover). Work is bounded: a grid of cells makes each test look at its neighbours
only, so 2,000 labels are placed in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Rect = tuple[float, float, float, float]  # x, y, w, h


class _Grid:
    def __init__(self, cell: float) -> None:
        self.cell = max(cell, 1.0)
        self.cells: dict[tuple[int, int], list[Rect]] = {}

    def _keys(self, r: Rect) -> list[tuple[int, int]]:
        x, y, w, h = r
        c = self.cell
        return [(i, j) for i in range(math.floor(x / c), math.floor((x + w) / c) + 1)
                for j in range(math.floor(y / c), math.floor((y + h) / c) + 1)]

    def free(self, r: Rect) -> bool:
        x, y, w, h = r
        for k in self._keys(r):
            for ox, oy, ow, oh in self.cells.get(k, ()):
                if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                    return False
        return True

    def add(self, r: Rect) -> None:
        for k in self._keys(r):
            self.cells.setdefault(k, []).append(r)


def place_labels(anchors: Sequence[Rect], sizes: Sequence[tuple[float, float]],
                 bounds: Rect, reserved: Sequence[Rect] = ()) -> list[tuple[float, float] | None]:
    """The top-left corner of each label (None: no room), in the anchors' coordinates.

    ``anchors`` are the objects' boxes and ``sizes`` the labels' (width, height),
    both in the same (screen or pixel) units, given in drawing priority order
    (the caller sorts: largest objects first). ``bounds`` is the drawable area.
    """
    bx, by, bw, bh = bounds
    tall = max((h for _w, h in sizes), default=10.0)
    grid = _Grid(tall * 4)
    for r in reserved:
        grid.add(r)
    out: list[tuple[float, float] | None] = []
    for (x, y, w, h), (lw, lh) in zip(anchors, sizes, strict=True):
        spots = ((x, y - lh), (x, y), (x, y + min(h, 3 * lh) - lh), (x, y - 2 * lh),
                 (x + w - lw, y - lh), (x + w - lw, y))
        placed = None
        for sx, sy in spots:
            sx = min(max(sx, bx), bx + bw - lw)  # kept inside the drawable area
            sy = min(max(sy, by), by + bh - lh)
            r = (sx, sy, lw, lh)
            if grid.free(r):
                grid.add(r)
                placed = (sx, sy)
                break
        out.append(placed)
    return out
