"""The Statistics dock (issue 15): the plots of ``model/distributions.py`` drawn with
pyqtgraph, for the filtered image list or the whole dataset. A plot is a filter: a click
on a category (or size) bar sets that criterion; dragging the range on a histogram of box
widths, heights, aspect ratios or annotations per image sets that range. The arrays are
computed in the dock's ``Jobs`` worker, never on the GUI thread."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cocoview.model.dataset import Dataset
from cocoview.model.distributions import PLOTS, TITLES, Distribution, distribution
from cocoview.qt.filter_model import FilterModel
from cocoview.qt.jobs import Jobs
from cocoview.qt.state import ViewerState

#: histogram → the ImageFilter fields its dragged range sets (min, max)
RANGE_FIELDS: dict[str, tuple[str, str]] = {
    "box_width": ("min_box_width", "max_box_width"),
    "box_height": ("min_box_height", "max_box_height"),
    "box_aspect": ("min_box_aspect", "max_box_aspect"),
    "annotations": ("min_annotations", "max_annotations"),
}
SIZE_KEYS = ("small", "medium", "large")
BAR_BRUSH = (90, 140, 210)
LOG_BASE = -0.3  # log₁₀ bars start at 0.5, so that a count of 1 shows


#: pyqtgraph, imported with the first plot (``import pyqtgraph`` costs ~0.5 s: the window
#: starts without it; the worker imports it, off the GUI thread, see ``_compute``)
pg: Any = None


def _compute(ds: Dataset, name: str, ids: np.ndarray | None) -> Distribution:
    import pyqtgraph  # noqa: F401  (here, in the worker, so that the GUI thread finds it loaded)

    # a list of every image, with no orphan annotation, is the whole dataset: its counts
    # are the cached ones (20 M annotations: a distinct-pairs sort of seconds saved)
    whole = ids is None or (len(ids) == len(ds.image_ids)
                            and int(ds.image_ann_count.sum()) == len(ds.anns))
    rows = None if whole or ids is None else ds.image_rows(ids)
    return distribution(ds, name, rows)


class StatsDock(QWidget):
    """Plot chooser, log scale, filtered / whole toggle, and the plot."""

    #: the plot's name, once drawn (tests wait for it)
    filled = Signal(str)

    def __init__(self, state: ViewerState, parent: QWidget | None = None,
                 filter_model: FilterModel | None = None) -> None:
        super().__init__(parent)
        self.state, self.filters = state, filter_model
        self._jobs = Jobs(self)
        self.dist: Distribution | None = None
        self._syncing = False
        self.chooser = QComboBox(self)
        self.chooser.setObjectName("stats_plot")
        for name in PLOTS:
            self.chooser.addItem(TITLES[name], name)
        self.chooser.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(6)  # the dock must not widen the window
        self.scope = QComboBox(self)
        self.scope.setObjectName("stats_scope")
        self.scope.addItem("filtered set", "filtered")
        self.scope.addItem("whole dataset", "whole")
        self.scope.setToolTip("Plot the images of the list (the filter) or every image")
        self.log = QCheckBox("log scale", self)
        self.log.setToolTip("A logarithmic count axis (long-tailed category counts)")
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.plot: Any = None  # made with the first plot (_ensure_plot)
        self.region: Any = None
        self._slot = QWidget(self)  # where the plot goes
        self._slot.setMinimumSize(120, 120)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.chooser, 1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.scope)
        row.addWidget(self.log)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(row)
        lay.addWidget(self._slot, 1)
        self._lay = lay
        lay.addWidget(self.hint)
        self.chooser.currentIndexChanged.connect(self.refresh)
        self.scope.currentIndexChanged.connect(self.refresh)
        self.log.toggled.connect(self._draw)
        state.datasetChanged.connect(self.refresh)
        state.imageListChanged.connect(self._list_changed)

    # ----- computing ------------------------------------------------------
    @property
    def plot_name(self) -> str:
        return str(self.chooser.currentData())

    def set_plot(self, name: str) -> None:
        self.chooser.setCurrentIndex(PLOTS.index(name))

    def _list_changed(self) -> None:
        if self.scope.currentData() == "filtered":
            self.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.dist is None:
            self.refresh()

    def refresh(self) -> None:
        """Compute the chosen plot in the worker (only while the dock is visible)."""
        ds = self.state.dataset
        self._jobs.cancel("plot")
        if ds is None:
            self.dist = None
            if self.plot is not None:
                self.plot.clear()
            self.hint.setText("No dataset open")
            return
        if not self.isVisible():
            self.dist = None  # computed when shown
            return
        ids = (None if self.scope.currentData() == "whole"
               else np.asarray(self.state.image_list).copy())
        name = self.plot_name
        self.hint.setText("Computing…")
        self._jobs.submit(ds, lambda d: _compute(d, name, ids), self._done, self._failed,
                          channel="plot")

    def _ensure_plot(self) -> None:
        global pg
        if self.plot is not None:
            return
        import pyqtgraph

        pg = pyqtgraph
        self.plot = pg.PlotWidget(self)
        self.plot.setBackground("w")
        self.plot.showGrid(x=False, y=True, alpha=0.3)
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumSize(120, 120)
        self.region = pg.LinearRegionItem(brush=(255, 160, 0, 50))
        self.region.setZValue(10)
        self.region.sigRegionChangeFinished.connect(self._region_done)
        self.plot.scene().sigMouseClicked.connect(self._scene_clicked)
        self._lay.replaceWidget(self._slot, self.plot)
        self._slot.deleteLater()

    def _done(self, dist: Distribution) -> None:
        self.dist = dist
        self._ensure_plot()
        self._draw()
        self.filled.emit(dist.name)

    def _failed(self, exc: Exception) -> None:
        self.hint.setText(f"Could not compute the plot: {exc}")

    def idle(self) -> bool:
        return self._jobs.idle()

    def shutdown(self, msecs: int = 5000) -> bool:
        self._jobs.cancel()
        return self._jobs.wait(msecs)

    # ----- drawing --------------------------------------------------------
    def _draw(self) -> None:
        d = self.dist
        if self.plot is None:
            return
        self.plot.clear()
        if d is None:
            return
        item = self.plot.getPlotItem()
        log = self.log.isChecked()
        item.setLabel("left", "count (log)" if log else "count")
        item.getAxis("left").setLogMode(log)
        base = LOG_BASE if log else 0.0
        tops = d.counts.astype(np.float64)  # the bars' tops, in the axis' units
        if log:
            tops = np.where(tops > 0, np.log10(np.maximum(tops, 1)), LOG_BASE)
        if d.kind == "bars":
            x = np.arange(len(d.counts), dtype=np.float64)
            self.plot.addItem(pg.BarGraphItem(x=x, height=tops - base, width=0.8, y0=base,
                                              brush=BAR_BRUSH, pen=None))
            ticks = [(i, lab) for i, lab in enumerate(d.labels)]
            step = max(1, math.ceil(len(ticks) / 8))  # labels that do not overlap
            item.getAxis("bottom").setTicks([ticks[::step], []])
            item.setLabel("bottom", "")
            self.plot.setXRange(-0.6, max(len(x) - 0.4, 0.4), padding=0)
            clickable = d.name in ("instances", "images", "sizes")
            self.hint.setText(f"{d.total:,} in all · click a bar to filter by it"
                              if clickable else f"{d.total:,} in all")
        else:
            item.getAxis("bottom").setTicks(None)
            item.setLabel("bottom", d.title)
            e = d.edges
            if len(d.counts):
                self.plot.addItem(pg.PlotDataItem(e, tops, stepMode="center",
                                                  fillLevel=base, brush=BAR_BRUSH,
                                                  pen=pg.mkPen(40, 80, 160)))
            if d.log_x:  # aspect: log₂ positions, labelled as ratios
                lo, hi = (math.floor(e[0]), math.ceil(e[-1])) if len(e) > 1 else (-1, 1)
                item.getAxis("bottom").setTicks(
                    [[(k, f"{2.0 ** k:g}") for k in range(lo, hi + 1)], []])
            if d.name in RANGE_FIELDS and len(d.counts):
                self._syncing = True
                try:
                    self.region.setBounds((e[0], e[-1]))
                    self.region.setRegion(self._current_range(d))
                finally:
                    self._syncing = False
                self.plot.addItem(self.region)
                self.hint.setText(f"{d.total:,} in all · drag the shaded range's edges to "
                                  "filter the images")
            else:
                self.hint.setText(f"{d.total:,} in all")
        self.plot.enableAutoRange(axis="y")

    def _current_range(self, d: Distribution) -> tuple[float, float]:
        """The region to show: the filter's range of this plot (clamped), else all."""
        lo, hi = float(d.edges[0]), float(d.edges[-1])
        if self.filters is None:
            return lo, hi
        flt = self.filters.filter
        lo_f, hi_f = RANGE_FIELDS[d.name]
        vals = []
        for v, end in ((getattr(flt, lo_f), lo), (getattr(flt, hi_f), hi)):
            if v is None or (d.log_x and v <= 0):
                vals.append(end)
            else:
                x = math.log2(v) if d.log_x else float(v)
                vals.append(min(max(x, lo), hi))
        return vals[0], vals[1]

    # ----- the plot as a filter -------------------------------------------
    def _scene_clicked(self, event: Any) -> None:
        d = self.dist
        if d is None or d.kind != "bars" or event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        pos = vb.mapSceneToView(event.scenePos())
        k = round(pos.x())
        if 0 <= k < len(d.counts) and abs(pos.x() - k) <= 0.4:
            self.click_bar(k)

    def click_bar(self, k: int) -> None:
        """Bar ``k`` of the plot shown → its criterion (category, or size bucket)."""
        d, flt = self.dist, self.filters
        if d is None or flt is None:
            return
        if d.name in ("instances", "images"):
            flt.show_with([d.keys[k]])
        elif d.name == "sizes":
            flt.set_filter(flt.filter.with_(size=SIZE_KEYS[k]), immediate=True)

    def _region_done(self) -> None:
        d, flt = self.dist, self.filters
        if self._syncing or d is None or flt is None or d.name not in RANGE_FIELDS:
            return
        lo, hi = self.region.getRegion()
        at_lo, at_hi = lo <= d.edges[0], hi >= d.edges[-1]
        if d.log_x:
            lo, hi = 2.0 ** lo, 2.0 ** hi
        lo_f, hi_f = RANGE_FIELDS[d.name]
        if d.name == "annotations":  # whole counts inside the range
            lo_v: float | None = None if at_lo else math.ceil(lo)
            hi_v: float | None = None if at_hi else math.floor(hi)
        else:
            lo_v = None if at_lo else round(float(lo), 3)
            hi_v = None if at_hi else round(float(hi), 3)
        flt.set_filter(flt.filter.with_(**{lo_f: lo_v, hi_f: hi_v}), immediate=True)
