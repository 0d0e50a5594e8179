"""The image browser: a list and a thumbnail grid over ``state.image_list``, with search.

Both views share one model and one selection model; selecting an image sets
``state.current_image`` and the current image is selected and scrolled to (no
echo: the state's setters emit only on change and we flag our own updates).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSlider,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cocoview.model.dataset import Dataset
from cocoview.model.name_search import NameSearch, is_glob, parse_id
from cocoview.qt.image_list_model import IMAGE_ID_ROLE, ImageListModel, screen_dpr
from cocoview.qt.state import ViewerState
from cocoview.qt.thumbnail_grid import ThumbnailGridView
from cocoview.qt.thumbnails import ThumbnailCache

__all__ = ["IMAGE_ID_ROLE", "ImageBrowser", "ImageListModel", "ThumbnailCache"]

_LARGE = 200_000  # lists longer than this are searched after a short pause in typing
THUMB_MIN, THUMB_MAX, THUMB_STEP = 80, 320, 20  # the grid's thumbnail sizes (logical px)


class ImageBrowser(QWidget):
    """Toolbar (list/grid, search, count) over a stacked list view and thumbnail grid."""

    #: "list" or "grid"
    modeChanged = Signal(str)
    #: the grid's thumbnail size changed (logical pixels)
    thumbnailSizeChanged = Signal(int)

    def __init__(self, state: ViewerState, parent: QWidget | None = None, *,
                 thumbnail_size: int = 160) -> None:
        super().__init__(parent)
        self.state = state
        dpr = screen_dpr()
        # one thumbnail worker: the canvas's frame workers need the other core
        self.thumbnails = ThumbnailCache(state, size=round(thumbnail_size * dpr), threads=1,
                                         device_pixel_ratio=dpr, parent=self)
        self.model = ImageListModel(state, self.thumbnails, parent=self)
        self._search_index: NameSearch | None = None
        self._base_ids: np.ndarray = state.image_list
        self._rows_of_base: np.ndarray | None = None
        self._base_checked = False
        self._base_label = state.image_list_label
        self._own_list = False  # we are the ones setting state.image_list
        self._syncing = False  # we are the ones moving the selection
        self._build_toolbar()
        self._build_views(thumbnail_size)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(self._bar)
        lay.addWidget(self.stack, 1)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.apply_search)
        state.datasetChanged.connect(self._dataset_changed)
        state.imageListChanged.connect(self._list_changed)
        state.currentImageChanged.connect(self._select_current)
        state.minScoreChanged.connect(lambda _v: self._fit_review_columns())  # after the recount
        self.model.modelReset.connect(self._select_current)
        self._update_count()
        self._select_current()

    # ----- construction -------------------------------------------------
    def _build_toolbar(self) -> None:
        self.list_button = _tool_button(_list_icon(), "List (Ctrl+1)", "Ctrl+1")
        self.grid_button = _tool_button(_grid_icon(), "Thumbnails (Ctrl+2)", "Ctrl+2")
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.list_button)
        group.addButton(self.grid_button)
        self.list_button.setChecked(True)
        self.list_button.clicked.connect(lambda: self.set_mode("list"))
        self.grid_button.clicked.connect(lambda: self.set_mode("grid"))
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("File name or id… (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        fm = self.search.fontMetrics()
        self.search.setMinimumWidth(fm.horizontalAdvance("File name or id") + 24)
        self.search.setToolTip("Filter by file-name substring or shell glob (*.png, 0000*7.jpg);\n"
                               "a number jumps to that image id. Esc clears.")
        self.search.textChanged.connect(self._search_edited)
        self.search.returnPressed.connect(self.apply_search)
        self.search.installEventFilter(self)
        self.count_label = _ElidedLabel(self)
        self._bar = QHBoxLayout()
        self._bar.setContentsMargins(2, 2, 2, 0)
        self._bar.setSpacing(2)
        self._bar.addWidget(self.list_button)
        self._bar.addWidget(self.grid_button)
        #: the grid's thumbnail size (also Ctrl+wheel on the grid); shown in grid mode
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setObjectName("thumbnail_size")
        self.size_slider.setRange(THUMB_MIN, THUMB_MAX)
        self.size_slider.setSingleStep(THUMB_STEP)
        self.size_slider.setPageStep(THUMB_STEP * 2)
        self.size_slider.setFixedWidth(90)
        self.size_slider.setToolTip("Thumbnail size (Ctrl+wheel on the grid)")
        self.size_slider.setVisible(False)
        self._bar.addWidget(self.size_slider)
        self._bar.addSpacing(6)
        self._bar.addWidget(self.search, 3)
        self._bar.addSpacing(6)
        self._bar.addWidget(self.count_label, 2)

    def _build_views(self, thumbnail_size: int) -> None:
        t = self.table = QTableView(self)
        t.setModel(self.model)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setWordWrap(False)
        t.setShowGrid(False)
        t.setAlternatingRowColors(True)
        t.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # folders at the start, ids at the end
        t.setIconSize(self.model.icon_size)
        t.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = t.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform rows: no per-row sizing
        vh.setDefaultSectionSize(max(self.model.icon_size.height() + 4,
                                     t.fontMetrics().height() + 8))
        hh = t.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        self._fit_number_columns()
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setSortIndicatorClearable(True)  # a third click: back to the file's order
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        t.setSortingEnabled(True)  # the model sorts the browsed list itself
        g = self.grid = ThumbnailGridView(thumbnail_size, self)
        g.setModel(self.model)
        self.size_slider.setValue(thumbnail_size)
        self.size_slider.valueChanged.connect(self.set_thumbnail_size)
        g.zoomRequested.connect(
            lambda step: self.set_thumbnail_size(self.thumbnail_size() + step * THUMB_STEP))
        g.setSelectionModel(t.selectionModel())  # one selection, two views
        t.selectionModel().currentRowChanged.connect(self._row_activated)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(t)
        self.stack.addWidget(g)

    # ----- public -------------------------------------------------------
    def set_review(self, review: Any) -> None:
        """A review (ReviewController.reviewChanged): the list gains FP / Missed / Errors
        columns (sortable) and the grid frames and badges each thumbnail."""
        self.model.set_review(review)
        hh = self.table.horizontalHeader()
        n_review = len(self.model.review_widest())
        for col in range(3, self.model.columnCount()):
            # the review's columns sized from their maxima: ResizeToContents asked up to
            # 1,000 rows for their text at every min-score change (~70 ms at val2017)
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive
                                    if col < 3 + n_review else
                                    QHeaderView.ResizeMode.ResizeToContents)
        self._fit_number_columns()
        self._fit_review_columns()

    def mode(self) -> str:
        return "grid" if self.stack.currentWidget() is self.grid else "list"

    def set_mode(self, mode: str) -> None:
        """Show the "list" or the "grid" view (the toggle buttons follow)."""
        if mode not in ("list", "grid"):
            raise ValueError(f"unknown mode {mode!r}")
        if mode == self.mode():
            return
        view: QAbstractItemView = self.grid if mode == "grid" else self.table
        had_focus = self.current_view().hasFocus()
        self.stack.setCurrentWidget(view)
        (self.grid_button if mode == "grid" else self.list_button).setChecked(True)
        self.size_slider.setVisible(mode == "grid")
        self.thumbnails.forget_pending()  # the other view's rows are no longer on screen
        cur = view.currentIndex()
        if cur.isValid():
            view.scrollTo(cur, QAbstractItemView.ScrollHint.PositionAtCenter)
        if had_focus:
            view.setFocus()
        self.modeChanged.emit(mode)

    def thumbnail_size(self) -> int:
        """The grid's thumbnail size in logical pixels."""
        return int(self.grid.delegate().icon_size)

    def set_thumbnail_size(self, px: int) -> None:
        """Bigger or smaller thumbnails in the grid (made again at the new size; the old
        ones are shown meanwhile)."""
        px = min(max(int(px), THUMB_MIN), THUMB_MAX)
        if px == self.thumbnail_size():
            return
        self.thumbnails.size = round(px * screen_dpr())
        self.thumbnails.clear(keep_stale=True)
        self.grid.set_icon_size(px)
        if self.size_slider.value() != px:
            self.size_slider.setValue(px)
        self.thumbnailSizeChanged.emit(px)

    def current_view(self) -> QAbstractItemView:
        w = self.stack.currentWidget()
        assert isinstance(w, QAbstractItemView)
        return w

    def focus_search(self) -> None:
        """Put the cursor in the search field, its text selected (wire to Ctrl+F)."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def shutdown(self) -> None:
        """Stop the thumbnail workers and wait for them (call from the window's closeEvent)."""
        self._timer.stop()
        self.thumbnails.shutdown()

    # ----- search -------------------------------------------------------
    def eventFilter(self, obj: QObject, event: Any) -> bool:
        if obj is self.search and event.type() == event.Type.KeyPress \
                and event.key() == Qt.Key.Key_Escape and self.search.text():
            self.search.clear()
            return True
        return super().eventFilter(obj, event)

    def _search_edited(self, text: str) -> None:
        if len(self._base_ids) > _LARGE and text:
            self._timer.start(150)  # let the user finish typing before a 2 M-name scan
        else:
            self.apply_search()

    def apply_search(self) -> None:
        """Filter ``state.image_list`` by the search text now (or jump to a typed id)."""
        self._timer.stop()
        ds = self.state.dataset
        if ds is None:
            return
        text = self.search.text().strip()
        image_id = parse_id(text)
        if not text or (image_id is not None and np.any(self._base_ids == image_id)):
            self._set_list(self._base_ids, self._base_label)
            if image_id is not None:
                self.state.set_current_image(image_id)
            return
        if self._search_index is None:
            self._search_index = NameSearch(ds.image_file_names)
        hit = self._search_index.mask(text)
        rows = self._base_rows(ds)
        keep = self._base_ids[hit] if rows is None else \
            self._base_ids[(rows >= 0) & hit[np.maximum(rows, 0)]]
        how = "matches" if is_glob(text) else "contains"
        label = f"name {how} “{text}”"
        if self._base_label != "all images":
            label = f"{self._base_label}; {label}"
        self._set_list(keep, label)

    def _base_rows(self, ds: Dataset) -> np.ndarray | None:
        """Image-table rows of the searched list; None when it is the whole table in order."""
        if not self._base_checked:  # once per list: 0.4 s for 2 M ids in random order
            base = self._base_ids
            whole = len(base) == len(ds.image_ids) and np.array_equal(base, ds.image_ids)
            self._rows_of_base = None if whole else ds.image_rows(base)
            self._base_checked = True
        return self._rows_of_base

    def _set_list(self, ids: np.ndarray, label: str) -> None:
        same = ids is self.state.image_list or (
            len(ids) == len(self.state.image_list) and label == self.state.image_list_label)
        if same:
            return
        self._own_list = True
        try:
            self.state.set_image_list(ids, label)
        finally:
            self._own_list = False

    def _list_changed(self) -> None:
        if "; sorted by" not in self.state.image_list_label:  # a new list comes unsorted
            hh = self.table.horizontalHeader()
            if hh.sortIndicatorSection() >= 0:
                hh.blockSignals(True)
                hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
                hh.blockSignals(False)
        if not self._own_list:  # a filter elsewhere: it becomes what we search in
            self._base_ids = self.state.image_list
            self._base_checked = False
            self._base_label = self.state.image_list_label
            self._timer.stop()
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
        self._update_count()

    def _dataset_changed(self) -> None:
        self._search_index = None
        self._fit_number_columns()

    def _fit_number_columns(self) -> None:
        """Id and Annotations just as wide as their widest value (from the columns, O(1) rows
        looked at), so the file name keeps the room in a narrow dock."""
        ds = self.state.dataset
        fm, hfm = self.table.fontMetrics(), self.table.horizontalHeader().fontMetrics()
        ids = str(int(ds.image_ids.max())) if ds is not None and len(ds) else "000000"
        anns = str(int(ds.image_ann_count.max())) if ds is not None and len(ds) else "0"
        hh = self.table.horizontalHeader()
        hh.resizeSection(1, max(fm.horizontalAdvance(ids), hfm.horizontalAdvance("Id")) + 18)
        hh.resizeSection(2, max(fm.horizontalAdvance(anns),
                                hfm.horizontalAdvance("Annotations")) + 18)

    def _fit_review_columns(self) -> None:
        """FP, Missed and Errors as wide as their widest value at the min score."""
        widest = self.model.review_widest()
        fm, hfm = self.table.fontMetrics(), self.table.horizontalHeader().fontMetrics()
        hh = self.table.horizontalHeader()
        for k, text in enumerate(widest):
            head = self.model.REVIEW_COLUMNS[k]
            hh.resizeSection(3 + k, max(fm.horizontalAdvance(text),
                                        hfm.horizontalAdvance(head) + 14) + 18)

    def _update_count(self) -> None:
        ds = self.state.dataset
        n, total = len(self.state.image_list), (len(ds) if ds is not None else 0)
        text = f"{n:,} of {total:,} images"
        label = self.state.image_list_label
        if label and label != "all images":
            text = f"{text} · {label}"
        self.count_label.setText(text)
        self.count_label.setToolTip(text)
        self.count_label.updateGeometry()

    # ----- selection ↔ state -------------------------------------------
    def _row_activated(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not self._syncing and current.isValid():
            self.state.set_current_image(self.model.image_id(current.row()))

    def _select_current(self, *args: object) -> None:
        row = self.model.row_of(self.state.current_image) if self.state.current_image >= 0 \
            else -1
        sm = self.table.selectionModel()
        self._syncing = True
        try:
            if row < 0:
                sm.clear()
                return
            ix = self.model.index(row, 0)
            sm.setCurrentIndex(ix, QItemSelectionModel.SelectionFlag.ClearAndSelect
                               | QItemSelectionModel.SelectionFlag.Rows)
            self.current_view().scrollTo(ix)
        finally:
            self._syncing = False


class _ElidedLabel(QLabel):
    """A one-line label that shrinks with its dock, eliding its end instead of widening it."""

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("0,000 of 0,000…"),
                     super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # the count; a filter description gets the spare room
        count = self.text().split(" · ")[0]
        return QSize(self.fontMetrics().horizontalAdvance(count) + 4,
                     super().sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())
        p.drawText(self.contentsRect(), Qt.AlignmentFlag.AlignVCenter
                   | Qt.AlignmentFlag.AlignRight, text)
        p.end()


def _tool_button(icon: QIcon, tip: str, shortcut: str) -> QToolButton:
    b = QToolButton()
    b.setIcon(icon)
    b.setToolTip(tip)
    b.setCheckable(True)
    b.setAutoRaise(True)
    b.setIconSize(QSize(18, 18))
    b.setShortcut(QKeySequence(shortcut))
    return b


def _icon(draw: Any) -> QIcon:
    app = QGuiApplication.instance()
    ink = QGuiApplication.palette().buttonText().color() if app is not None else QColor("black")
    icon = QIcon()
    for px in (18, 36):
        pm = QPixmap(px, px)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.scale(px / 18, px / 18)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ink)
        draw(p)
        p.end()
        icon.addPixmap(pm)
    return icon


def _list_icon() -> QIcon:
    def draw(p: QPainter) -> None:
        for y in (3.0, 8.0, 13.0):
            p.drawRoundedRect(QRectF(2, y, 3, 2.5), 0.6, 0.6)
            p.drawRoundedRect(QRectF(6.5, y, 9.5, 2.5), 0.6, 0.6)
    return _icon(draw)


def _grid_icon() -> QIcon:
    def draw(p: QPainter) -> None:
        for x in (2.0, 10.0):
            for y in (2.0, 10.0):
                p.drawRoundedRect(QRectF(QPointF(x, y), QPointF(x + 6, y + 6)), 1.2, 1.2)
    return _icon(draw)
