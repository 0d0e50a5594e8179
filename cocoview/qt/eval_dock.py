"""The evaluation dock: the summary, a per-category table, PR curves, the confusion
matrix and TIDE's error bars of the open results — each a way into the images.

Every number comes from :class:`cocoview.model.review.Review` (computed in the
worker of :class:`cocoview.qt.review.ReviewController`); this module only draws
and turns clicks into an image filter (``ImageFilter.image_ids``) or a min score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QFontDatabase, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cocoview.model.compare import short_summary
from cocoview.model.evaluation import TIDE_TYPES
from cocoview.model.filters import ImageFilter
from cocoview.model.review import Review, operating_point, score_near
from cocoview.qt.filter_model import FilterModel
from cocoview.qt.review import ReviewController
from cocoview.qt.state import ViewerState

#: the table's columns: (key in Review.category_table, header, tooltip)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("name", "category", "category name"),
    ("ap", "AP", "AP @[IoU=0.50:0.95], area all, maxDets 100"),
    ("ap50", "AP50", "AP @[IoU=0.50]"),
    ("ap75", "AP75", "AP @[IoU=0.75]"),
    ("ar100", "AR@100", "AR @[IoU=0.50:0.95], maxDets 100"),
    ("gt", "GT", "ground-truth annotations (not crowd)"),
    ("detections", "dets", "detections"),
    ("fp", "FP", "false positives at the IoU threshold and min score"),
    ("missed", "missed", "missed ground truth at the IoU threshold and min score"),
)
#: the columns added with two results files: (key in Comparison.per_category, header, tip)
COMPARE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("ap_a", "AP A", "model A's AP"), ("ap_b", "AP B", "model B's AP"),
    ("ap_delta", "ΔAP", "B's AP − A's"), ("ap50_a", "AP50 A", "model A's AP50"),
    ("ap50_b", "AP50 B", "model B's AP50"), ("ap50_delta", "ΔAP50", "B's AP50 − A's"))
Index = QModelIndex | QPersistentModelIndex
TOP = QModelIndex()
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
CATEGORY_ROLE = Qt.ItemDataRole.UserRole + 2
TIDE_BARS = (*TIDE_TYPES, "Miss")
#: matplotlib's tab10 (readable on white, distinct for colour-blind users)
CURVE_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                (188, 189, 34), (23, 190, 207)]
TIDE_COLORS = [(230, 120, 60), (200, 80, 160), (120, 120, 200), (200, 60, 60),
               (150, 110, 70), (240, 170, 0)]
MAX_CURVES = len(CURVE_COLORS)
EMPTY_TEXT = ("No results to evaluate. Open a results file (File ▸ Open results…) to see "
              "the COCO numbers, per-category AP, PR curves, the confusion matrix and TIDE "
              "errors here.")


class CategoryTableModel(QAbstractTableModel):
    """A read-only table over :meth:`Review.category_table`'s arrays."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cols: dict[str, np.ndarray] = {}
        self.n = 0
        self.columns = COLUMNS  # with two results files, COMPARE_COLUMNS too

    def set_table(self, cols: dict[str, np.ndarray]) -> None:
        # comparing: A, B and Δ of AP and AP50 right after the name, instead of the shown
        # model's AP and AP50 (the other columns are the shown model's)
        columns = COLUMNS if "ap_delta" not in cols else (
            COLUMNS[:1] + COMPARE_COLUMNS + COLUMNS[3:])
        same = self.n == len(cols.get("category_id", ())) and self.n and np.array_equal(
            self.cols["category_id"], cols["category_id"]) and columns == self.columns
        if same:  # counts moved (the min score): keep the rows, their sort and selection
            self.cols = cols
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.n - 1, len(self.columns) - 1))
            return
        self.beginResetModel()
        self.cols, self.columns = cols, columns
        self.n = len(cols.get("category_id", ()))
        self.endResetModel()

    def rowCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else self.n

    def columnCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section][2]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # roles as plain ints: a Qt enum's attribute lookup costs ~µs, and a repaint asks
        # every cell for about ten roles
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        key = self.columns[index.column()][0]
        v = self.cols[key][index.row()]
        if role == _DISPLAY:
            if key == "name":
                return str(v)
            if key.endswith("_delta"):
                return "–" if not np.isfinite(v) else f"{v:+.3f}"
            if self.cols[key].dtype.kind == "f":
                return "–" if v < 0 else f"{v:.3f}"
            return f"{int(v):,}"
        if role == _SORT:
            return str(v) if key == "name" else float(v)
        if role == _CATEGORY:
            return int(self.cols["category_id"][index.row()])
        if role == _FOREGROUND:
            if key.endswith("_delta") and np.isfinite(v) and abs(v) >= 0.0005:
                return _BETTER if v > 0 else _WORSE  # B better: green, worse: red
            return None
        return None if key == "name" else _RIGHT  # _ALIGN


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_SORT, _CATEGORY = int(SORT_ROLE), int(CATEGORY_ROLE)
_ROLES = frozenset((_DISPLAY, _FOREGROUND, _ALIGN, _SORT, _CATEGORY))
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_BETTER, _WORSE = QColor(30, 140, 60), QColor(200, 40, 40)


class EvalDock(QWidget):
    """The evaluation of the open results; empty, with a short message, without them."""

    def __init__(self, state: ViewerState, controller: ReviewController,
                 filter_model: FilterModel | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.controller, self.filter_model = state, controller, filter_model
        self.review: Review | None = None
        #: what the last way in showed: (description, image ids)
        self.last_shown: tuple[str, np.ndarray] | None = None
        self._labels: list[str] = []  # the full matrix's classes, background last
        self._cells = np.zeros(0, np.int64)  # the heat map's rows/columns in the full matrix
        #: the plots still to draw for ``review``, one per event-loop turn (each turn stays
        #: under the GUI thread's 16 ms budget; issue 14 "Fluid"); drawn only while shown
        self._todo: list[str] = []
        self._turn = QTimer(self)
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._draw_next)
        #: what the heat map and the bars show: (the evaluation's object, labels); a new
        #: IoU threshold or area range shares both, so they are not drawn again
        self._drawn: dict[str, tuple[object, tuple[str, ...]]] = {}
        self._summary_text = ""
        self.stack = QStackedWidget(self)
        self.message = QLabel(EMPTY_TEXT, self)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self._build_content())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.stack)
        controller.reviewChanged.connect(self.set_review)
        controller.busyChanged.connect(self._busy)
        controller.progress.connect(self._progress)
        controller.comparisonChanged.connect(self._comparison_changed)
        controller.shownChanged.connect(self._shown_changed)
        state.minScoreChanged.connect(lambda _s: self._min_score_changed())
        state.datasetChanged.connect(self._dataset_changed)
        self._dataset_changed()

    # ----- construction ---------------------------------------------------
    def _build_content(self) -> QWidget:
        w = QWidget(self)
        self.iou_type = QComboBox(w)
        self.iou_type.setToolTip("what is compared: boxes, masks or keypoints (OKS)")
        self.iou_thr = QDoubleSpinBox(w)
        self.iou_thr.setRange(0.05, 0.95)
        self.iou_thr.setSingleStep(0.05)
        self.iou_thr.setDecimals(2)
        self.iou_thr.setValue(0.5)
        self.iou_thr.setToolTip("IoU threshold of the verdicts (TP / FP / missed)")
        self.area = QComboBox(w)
        self.area.addItems(["all", "small", "medium", "large"])
        self.area.setToolTip("area range of the verdicts (by the ground truth's area)")
        self.busy = QProgressBar(w)
        self.busy.setMaximumWidth(120)
        self.busy.setVisible(False)
        self.cancel = QPushButton("Cancel", w)
        self.cancel.setVisible(False)
        for part in (self.busy, self.cancel):  # showing them must not lay out the plots again
            pol = part.sizePolicy()
            pol.setRetainSizeWhenHidden(True)
            part.setSizePolicy(pol)
        self.cancel.clicked.connect(self.controller.cancel)
        self.model_box = QComboBox(w)
        self.model_box.setToolTip("the model whose detections the canvas draws and the "
                                  "counts follow (X switches)")
        # long file names must not widen the bar (it sets the left pane's minimum width)
        self.model_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(10)
        self.model_box.activated.connect(
            lambda i: self.controller.show(str(self.model_box.itemData(i))))
        self.model_label = QLabel("canvas", w)
        self.iou_type.activated.connect(lambda _i: self._setting_changed())
        self.iou_thr.valueChanged.connect(lambda _v: self._setting_changed())
        self.area.activated.connect(lambda _i: self._setting_changed())
        bar = QHBoxLayout()
        for label, widget in (("IoU type", self.iou_type), ("IoU ≥", self.iou_thr),
                              ("area", self.area)):
            bar.addWidget(QLabel(label, w))
            bar.addWidget(widget)
        bar.addWidget(self.model_label)
        bar.addWidget(self.model_box)
        self._comparison_changed(None)
        bar.addStretch(1)
        bar.addWidget(self.busy)
        bar.addWidget(self.cancel)

        self.summary = QPlainTextEdit(w)
        self.summary.setReadOnly(True)
        self.summary.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(6.0, mono.pointSizeF() - 2))
        self.summary.setFont(mono)
        self.table_model = CategoryTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(w)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setResizeContentsPrecision(12)  # 1,203 LVIS rows
        self.table.setToolTip("select categories for their PR curves; double-click: "
                              "the images with their errors")
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(self._row_activated)
        left = QSplitter(Qt.Orientation.Vertical, w)
        left.addWidget(_column(left, bar, self.summary))
        left.addWidget(self.table)

        self.readout = QLabel(w)
        self.readout.setWordWrap(True)
        self.cell_info = QLabel(w)
        self.split = QSplitter(Qt.Orientation.Horizontal, w)
        self.split.addWidget(left)
        return _column(self, self.split, widget=w, stretch=self.split)

    def _build_plots(self) -> None:
        """The plots, made when the first evaluation arrives: ``import pyqtgraph`` costs
        ~0.5 s, which a session without results should not pay at start-up."""
        from cocoview.qt.plots import BarPlot, HeatMap, PRPlot

        w = self.split
        self.pr = PRPlot(w)
        self.pr.setToolTip("click: set the min score to that point's score")
        self.pr.clickedAt.connect(self._pr_clicked)
        self.tide = BarPlot(w)
        self.tide.setToolTip("ΔAP50 if each TIDE error type were fixed; click: its images")
        self.tide.barClicked.connect(self._tide_clicked)
        mid = QSplitter(Qt.Orientation.Vertical, w)
        mid.addWidget(_column(mid, self.pr, self.readout, stretch=self.pr))
        mid.addWidget(self.tide)
        mid.setSizes([300, 160])

        self.confusion = HeatMap(w)
        self.confusion.setToolTip("rows: ground-truth class, columns: detected class "
                                  "(background last); click: those images")
        self.confusion.cellClicked.connect(
            lambda r, c: self.open_cell(int(self._cells[r]), int(self._cells[c])))
        self.confusion.cellHovered.connect(self._cell_hovered)
        self.split.addWidget(mid)
        self.split.addWidget(_column(w, self.confusion, self.cell_info, stretch=self.confusion))
        self.split.setSizes([400, 300, 420])  # the heat map keeps room for ~25 classes

    # ----- state ----------------------------------------------------------
    def _dataset_changed(self) -> None:
        types = self.controller.iou_types()
        self.iou_type.clear()
        self.iou_type.addItems(list(types))
        if self.controller.iou_type in types:
            self.iou_type.setCurrentText(self.controller.iou_type)
        if self.review is None:
            self._show_message()

    def _show_message(self) -> None:
        ds = self.state.dataset
        busy = self.controller.running()
        self.message.setText("Evaluating…" if busy else EMPTY_TEXT if ds is None or
                             ds.results is None else "The results could not be evaluated "
                             "(see the status bar and the Problems dock).")
        self.stack.setCurrentIndex(0)

    def set_review(self, review: Review | None) -> None:
        """Show ``review``: the controls, the summary and the table now; the plots that
        changed one per event-loop turn once the dock is shown (:meth:`flush` draws them
        at once)."""
        self.review = review
        if review is None:
            self._todo, self._drawn = [], {}  # (nor keep the old evaluation alive)
            self._show_message()
            return
        ev = review.evaluation
        if not hasattr(self, "pr"):
            self._build_plots()
        self.stack.setCurrentIndex(1)
        with _blocked(self.iou_type, self.iou_thr, self.area):
            self.iou_type.setCurrentText(ev.iou_type)
            self.iou_thr.setValue(ev.iou_thr)
            self.area.setCurrentText(ev.area)
        comp = review.comparison
        text = "\n".join(comp.summary_lines() if comp is not None else short_summary(ev))
        if text != self._summary_text:  # the stats do not depend on the IoU threshold
            self._summary_text = text
            self.summary.setPlainText(text)
            self.summary.setToolTip("\n".join(ev.summary_lines()))  # pycocotools' wording
        n, columns = self.table_model.n, self.table_model.columns
        self.table_model.set_table(self._table(review))
        if self.table_model.n != n or self.table_model.columns != columns:
            self.table.resizeColumnsToContents()
        self._todo = ["curves", "confusion", "tide"]
        self._schedule()

    def drawing(self) -> bool:
        """Whether plots of the current review are still to be drawn."""
        return bool(self._todo)

    def flush(self) -> None:
        """Draw every pending plot now (screenshots, tests)."""
        self._turn.stop()
        while self._todo:
            self._draw_part(self._todo.pop(0))

    def _schedule(self) -> None:
        if self._todo and self.isVisible() and not self._turn.isActive():
            self._turn.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._schedule()  # plots put off while the dock was hidden

    def _draw_next(self) -> None:
        if self._todo and self.review is not None:
            self._draw_part(self._todo.pop(0))
        self._schedule()

    def _draw_part(self, part: str) -> None:
        if self.review is None:
            return
        if part == "curves":
            self._draw_curves()
        elif part == "confusion":
            self._draw_confusion()
        else:
            self._draw_tide()

    def _busy(self, on: bool) -> None:
        self.busy.setVisible(on)
        self.cancel.setVisible(on)
        self.busy.setRange(0, 0)
        if self.review is None:
            self._show_message()

    def _progress(self, fraction: float) -> None:
        if fraction < 0:
            self.busy.setRange(0, 0)
        else:
            self.busy.setRange(0, 100)
            self.busy.setValue(int(100 * fraction))

    def _setting_changed(self) -> None:
        self.controller.evaluate(iou_type=self.iou_type.currentText() or None,
                                 iou_thr=round(self.iou_thr.value(), 2),
                                 area=self.area.currentText())

    def _min_score_changed(self) -> None:
        if self.review is not None:
            self.table_model.set_table(self._table(self.review))
            self._draw_markers()

    def _table(self, review: Review) -> dict[str, np.ndarray]:
        """The per-category table: the shown model's, with A, B and Δ when comparing."""
        cols = review.category_table(self.state.min_score)
        if review.comparison is not None:
            extra = review.comparison.per_category()
            if np.array_equal(extra["category_id"], cols["category_id"]):
                cols.update({k: v for k, v in extra.items() if k != "category_id"})
        return cols

    # ----- model A vs B -------------------------------------------------------
    def _comparison_changed(self, comp: object) -> None:
        names = self.controller.names()
        self.model_box.clear()
        for key in ("a", "b"):
            if key in names:
                self.model_box.addItem(f"{key.upper()}: {names[key]}", key)
        self.model_box.setCurrentIndex(max(self.model_box.findData(self.controller.shown), 0))
        on = comp is not None
        self.model_box.setVisible(on)
        self.model_label.setVisible(on)

    def _shown_changed(self, which: str) -> None:
        i = self.model_box.findData(which)
        if i >= 0:
            with _blocked(self.model_box):
                self.model_box.setCurrentIndex(i)

    # ----- drawing --------------------------------------------------------
    def selected_categories(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [int(r.data(CATEGORY_ROLE)) for r in rows][:MAX_CURVES]

    def _curve_keys(self) -> list[tuple[str, int | None]]:
        """(name, category id; None: all pooled) of the curves to draw."""
        if self.review is None:
            return []
        cats = self.selected_categories()
        if not cats:
            return [("all categories", None)]
        names = dict(zip(self.table_model.cols["category_id"].tolist(),
                         self.table_model.cols["name"].tolist(), strict=True))
        return [(str(names.get(c, c)), c) for c in cats]

    def _curves(self) -> list[tuple[str, Any]]:
        rv = self.review
        return [] if rv is None else [(n, rv.curve(c)) for n, c in self._curve_keys()]

    def _draw_curves(self) -> None:
        if "curves" in self._todo:
            self._todo.remove("curves")
        rv = self.review
        if rv is None:
            return
        self.pr.set_curves([(n, *rv.curve_points(c)) for n, c in self._curve_keys()],
                           CURVE_COLORS)
        self._draw_markers()

    def _draw_markers(self) -> None:
        s = self.state.min_score
        points, parts = [], []
        for name, c in self._curves():
            p, r, f1, _i = operating_point(c, s)
            points.append((r, p))
            parts.append(f"{name}: P {p:.3f}  R {r:.3f}  F1 {f1:.3f}" if np.isfinite(p)
                         else f"{name}: no detection ≥ {s:.2f}")
        self.pr.set_markers(points, CURVE_COLORS)
        self.readout.setText(f"at min score {s:.2f} — " + ";  ".join(parts))

    def _draw_confusion(self) -> None:
        rv = self.review
        assert rv is not None
        c = rv.evaluation.confusion
        names = dict(zip(self.table_model.cols["category_id"].tolist(),
                         self.table_model.cols["name"].tolist(), strict=True))
        full = [str(names.get(int(i), i)) for i in c.category_ids] + ["background"]
        drawn = self._drawn.get("confusion")
        if drawn is not None and drawn[0] is c and drawn[1] == tuple(full):
            return  # the same matrix (a new IoU threshold or area range shares it)
        self._drawn["confusion"] = (c, tuple(full))
        self._cells, matrix = rv.confusion_view()  # only the classes that occur
        labels = [full[i] for i in self._cells.tolist()]
        self.confusion.set_matrix(matrix, labels, labels, max_cols=5)
        self.confusion.plotItem.setLabel("left", "ground truth")
        self.confusion.plotItem.setLabel("bottom", "detected (hover: names and count)")
        self._labels = full

    def _draw_tide(self) -> None:
        rv = self.review
        assert rv is not None
        t = rv.evaluation.tide
        heights = [100 * t.delta_ap.get(k, 0.0) for k in TIDE_BARS]
        labels = [f"{k}\n{t.counts.get(k, 0):,}" for k in TIDE_BARS]
        drawn = self._drawn.get("tide")
        if drawn is not None and drawn[0] is t and drawn[1] == tuple(labels):
            return
        self._drawn["tide"] = (t, tuple(labels))
        self.tide.set_bars(labels, heights, TIDE_COLORS, "ΔAP50")

    def _cell_hovered(self, vrow: int, vcol: int) -> None:
        rv = self.review
        if rv is None:
            return
        row, col = int(self._cells[vrow]), int(self._cells[vcol])
        n = int(rv.evaluation.confusion.matrix[row, col])
        self.cell_info.setText(f"GT {self._labels[row]} → detected {self._labels[col]}: {n:,}")

    # ----- ways in -------------------------------------------------------------
    def _selection_changed(self, _a: QItemSelection, _b: QItemSelection) -> None:
        self._draw_curves()

    def _row_activated(self, index: QModelIndex) -> None:
        cid = index.siblingAtColumn(0).data(CATEGORY_ROLE)
        if cid is not None:
            self.open_category(int(cid))

    def open_category(self, category_id: int) -> None:
        """The images with a false positive or a missed ground truth of the category."""
        if self.review is None:
            return
        ids = self.review.images_with_category_errors(category_id, self.state.min_score)
        name = self.state.dataset.category(category_id).name if self.state.dataset else ""
        self.show_images(ids, f"errors of {name or category_id}")

    def open_cell(self, row: int, col: int) -> None:
        """The images of one confusion-matrix cell's detections (or missed GT)."""
        if self.review is None:
            return
        self.show_images(self.review.images_of_cell(row, col),
                         f"GT {self._labels[row]} → detected {self._labels[col]}")

    def open_error(self, kind: str) -> None:
        """The images with one TIDE error type."""
        if self.review is not None:
            self.show_images(self.review.images_with_error(kind), f"TIDE {kind} errors")

    def _tide_clicked(self, i: int) -> None:
        self.open_error(TIDE_BARS[i])

    def _pr_clicked(self, recall: float, precision: float) -> None:
        best: tuple[float, float] | None = None
        for _name, c in self._curves():
            s = score_near(c, recall, precision)
            if s is None:
                continue
            i = int(np.searchsorted(-c.score, -s, side="right")) - 1
            d = (c.recall[i] - recall) ** 2 + (c.precision[i] - precision) ** 2
            if best is None or d < best[0]:
                best = (float(d), s)
        if best is not None:
            self.state.set_min_score(best[1])

    def show_images(self, ids: np.ndarray, what: str) -> None:
        """Browse exactly ``ids``: through the image filter's id criterion."""
        self.last_shown = (what, ids)
        if self.filter_model is not None:
            self.filter_model.set_filter(ImageFilter(image_ids=tuple(int(i) for i in ids)),
                                         immediate=True)
        else:
            self.state.set_image_list(np.asarray(ids, np.int64), what)
        self.controller.message.emit(f"{len(ids):,} images: {what}")


def _column(parent: QWidget, *parts: QWidget | QHBoxLayout,
            widget: QWidget | None = None, stretch: QWidget | None = None) -> QWidget:
    """A widget (``widget``, or a new one) holding ``parts`` top to bottom, no margins;
    ``stretch`` takes the room left."""
    w = widget if widget is not None else QWidget(parent)
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    for part in parts:
        if isinstance(part, QHBoxLayout):
            lay.addLayout(part)
        else:
            lay.addWidget(part, 1 if part is stretch else 0)
    return w


class _blocked:
    """Signals of some widgets blocked in a ``with``."""

    def __init__(self, *widgets: QWidget) -> None:
        self.widgets = widgets

    def __enter__(self) -> None:
        for w in self.widgets:
            w.blockSignals(True)

    def __exit__(self, *_exc: object) -> None:
        for w in self.widgets:
            w.blockSignals(False)
