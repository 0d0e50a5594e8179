"""pyqtgraph plots whose parts are ways in: a click gives data, not pixels.

Each plot draws arrays the model computed (docs/decisions/plots.md) and turns a
mouse click into a plain Qt signal in data terms: a point of a PR curve, a cell
of a heat map, a bar. ``click_at`` does what a click at data coordinates does
(the tests and the keyboard use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QWidget

#: curves with more points than this are drawn without antialiasing, downsampled to
#: the pixels (val2017's pooled PR curve has 95 k points: 80 ms a paint otherwise)
SMOOTH_MAX_POINTS = 4000


class ClickPlot(pg.PlotWidget):
    """A plot widget that reports clicks and hovers in data coordinates."""

    clickedAt = Signal(float, float)
    hoveredAt = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.plotItem.setMenuEnabled(False)
        self.plotItem.hideButtons()
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._moved)

    def _data_pos(self, scene_pos: QPointF) -> QPointF | None:
        vb = self.plotItem.vb
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        return vb.mapSceneToView(scene_pos)

    def _clicked(self, ev: object) -> None:
        p = self._data_pos(ev.scenePos())  # type: ignore[attr-defined]
        if p is not None and ev.button() == pg.QtCore.Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            self.click_at(p.x(), p.y())

    def _moved(self, scene_pos: QPointF) -> None:
        p = self._data_pos(scene_pos)
        if p is not None:
            self.hoveredAt.emit(p.x(), p.y())

    def click_at(self, x: float, y: float) -> None:
        self.clickedAt.emit(float(x), float(y))

    def view_to_widget(self, x: float, y: float) -> QPointF:
        """Widget coordinates of a data point (for tests that click with the mouse)."""
        scene = self.plotItem.vb.mapViewToScene(QPointF(x, y))
        return QPointF(self.mapFromScene(scene))


class PRPlot(ClickPlot):
    """Precision against recall, one curve per category, a marker at the operating point."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pi = self.plotItem
        pi.setLabel("bottom", "recall")
        pi.setLabel("left", "precision")
        pi.setXRange(0, 1, padding=0.02)
        pi.setYRange(0, 1, padding=0.02)
        pi.showGrid(x=True, y=True, alpha=0.25)
        self.legend = pi.addLegend(offset=(-10, 10))
        self.curves: list[pg.PlotDataItem] = []
        self.markers = pg.ScatterPlotItem(size=11, pen=pg.mkPen("k", width=1.5))
        self.markers.setZValue(10)
        pi.addItem(self.markers)

    def set_curves(self, curves: Sequence[tuple[str, np.ndarray, np.ndarray]],
                   colors: Sequence[tuple[int, int, int]]) -> None:
        """(name, recall, precision) per curve, each in ``colors[i]``. The same names as
        drawn: the items take the new points (no items or legend rows made again)."""
        if [c.name() for c in self.curves] == [name for name, _r, _p in curves]:
            for item, (_name, r, p) in zip(self.curves, curves, strict=True):
                self._style(item, len(r))
                item.setData(np.asarray(r, float), np.asarray(p, float))
            return
        for c in self.curves:
            self.plotItem.removeItem(c)
        self.legend.clear()
        self.curves = []
        for i, (name, r, p) in enumerate(curves):
            item = self.plotItem.plot(np.asarray(r, float), np.asarray(p, float),
                                      pen=pg.mkPen(colors[i % len(colors)], width=2),
                                      name=name, antialias=len(r) <= SMOOTH_MAX_POINTS)
            self._style(item, len(r))
            self.curves.append(item)

    @staticmethod
    def _style(item: pg.PlotDataItem, n: int) -> None:
        """A big curve without antialiasing, peak-downsampled to the pixels (recall never
        decreases, so that keeps its shape)."""
        big = n > SMOOTH_MAX_POINTS
        item.opts["antialias"] = not big
        item.setDownsampling(auto=big, method="peak")
        item.setClipToView(big)

    def set_markers(self, points: Sequence[tuple[float, float]],
                    colors: Sequence[tuple[int, int, int]]) -> None:
        """(recall, precision) of each curve's operating point (NaN: none)."""
        pts = [(r, p) for r, p in points if np.isfinite(p)]
        brushes = [pg.mkBrush(colors[i % len(colors)])
                   for i, (_r, p) in enumerate(points) if np.isfinite(p)]
        self.markers.setData([r for r, _ in pts], [p for _, p in pts], brush=brushes)


#: heat maps up to this many rows and columns have their counts written in the cells
MAX_WRITTEN = 12


class HeatMap(ClickPlot):
    """A matrix as an image (row 0 at the top); a click gives (row, column)."""

    cellClicked = Signal(int, int)
    cellHovered = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        pi = self.plotItem
        pi.addItem(self.image)
        pi.invertY(True)
        pi.setAspectLocked(True)
        self.shape = (0, 0)
        self.texts: list[pg.TextItem] = []  # the counts, written in the cells of small maps
        self.clickedAt.connect(lambda x, y: self._cell(x, y, self.cellClicked))
        self.hoveredAt.connect(lambda x, y: self._cell(x, y, self.cellHovered))

    def set_matrix(self, values: np.ndarray, row_labels: Sequence[str],
                   col_labels: Sequence[str], max_rows: int = 40, max_cols: int = 40) -> None:
        """Counts, drawn on a log scale; at most ``max_rows`` / ``max_cols`` labels."""
        self.shape = values.shape[:2]
        self.image.setImage(np.log1p(np.asarray(values, float)), autoLevels=True)
        for t in self.texts:
            self.plotItem.removeItem(t)
        self.texts = []
        if max(self.shape) <= MAX_WRITTEN:
            top = float(np.log1p(values.max())) if values.size else 0.0
            for r, c in zip(*np.nonzero(values), strict=True):
                light = np.log1p(values[r, c]) < 0.6 * top  # dark cell: white text
                t = pg.TextItem(f"{int(values[r, c]):,}", anchor=(0.5, 0.5),
                                color=(255, 255, 255) if light else (0, 0, 0))
                t.setPos(c + 0.5, r + 0.5)
                self.plotItem.addItem(t)
                self.texts.append(t)
        for axis, labels, most in (("left", row_labels, max_rows),
                                   ("bottom", col_labels, max_cols)):
            step = max(1, int(np.ceil(len(labels) / most)))
            ticks = [(i + 0.5, labels[i]) for i in range(0, len(labels), step)]
            if labels and step > 1:  # the background row/column is always named
                ticks.append((len(labels) - 0.5, labels[-1]))
            self.plotItem.getAxis(axis).setTicks([ticks, []])
        self.plotItem.setRange(xRange=(0, self.shape[1]), yRange=(0, self.shape[0]),
                               padding=0.02)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        row, col = int(np.floor(y)), int(np.floor(x))
        if 0 <= row < self.shape[0] and 0 <= col < self.shape[1]:
            return row, col
        return None

    def _cell(self, x: float, y: float, signal: Any) -> None:
        cell = self.cell_at(x, y)
        if cell is not None:
            signal.emit(*cell)


class BarPlot(ClickPlot):
    """Named bars; a click on one gives its index."""

    barClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: pg.BarGraphItem | None = None
        self.n = 0
        self.plotItem.showGrid(y=True, alpha=0.25)
        self.plotItem.getAxis("bottom").setHeight(38)  # two-line labels: name, count
        self.clickedAt.connect(self._bar)

    def set_bars(self, labels: Sequence[str], heights: Sequence[float],
                 colors: Sequence[tuple[int, int, int]], y_label: str = "") -> None:
        if self.bars is not None:
            self.plotItem.removeItem(self.bars)
        self.n = len(labels)
        self.bars = pg.BarGraphItem(x=np.arange(self.n), height=np.asarray(heights, float),
                                    width=0.7, brushes=[pg.mkBrush(*c) for c in colors],
                                    pens=[pg.mkPen(None)] * self.n)
        self.plotItem.addItem(self.bars)
        self.plotItem.getAxis("bottom").setTicks([list(enumerate(labels)), []])
        self.plotItem.setLabel("left", y_label)
        top = max([float(h) for h in heights] + [1e-3])
        self.plotItem.setRange(xRange=(-0.6, self.n - 0.4), yRange=(0, top * 1.1), padding=0)

    def _bar(self, x: float, y: float) -> None:
        i = round(x)
        if 0 <= i < self.n and abs(x - i) <= 0.35:
            self.barClicked.emit(i)
