"""A uniform grid of thumbnails whose layout is arithmetic, so 2,000,000 items cost nothing.

``QListView`` in ``IconMode`` positions every item (batched or not): measured
6 s of layout for 2 M items, redone on every resize and model reset, and
``scrollTo`` a row not laid out yet misses. Here cell ``k`` sits at
``(k % columns, k // columns)``, and only visible cells are ever visited.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from cocoview.qt.widgets import Index

#: item data roles the grid asks for (the model answers them; see image_browser)
THUMBNAIL_ROLE = Qt.ItemDataRole.UserRole + 1  # QImage | None (queues a job when None)
IMAGE_SIZE_ROLE = Qt.ItemDataRole.UserRole + 2  # (width, height) from the JSON
SUBTITLE_ROLE = Qt.ItemDataRole.UserRole + 3  # short second line, e.g. "#139 · 20 ann."
ERRORS_ROLE = Qt.ItemDataRole.UserRole + 4  # (false positives, missed GT) | None: no review
#: the review's frame and badge colours (model/review.py STYLES: fp, missed)
_FP_COLOR, _MISSED_COLOR, _CLEAN_COLOR = QColor(240, 60, 50), QColor(255, 170, 0), \
    QColor(60, 200, 90)


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints one cell: the thumbnail (or a placeholder of its aspect) above two text lines."""

    def __init__(self, icon_size: int = 160, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon_size = icon_size
        self.pad = 8

    def nominal_width(self) -> int:
        return self.icon_size + 2 * self.pad

    def box_size(self, cell_width: int) -> QSize:
        """The picture area of a cell: 4:3 (the commonest COCO aspect), never wider than
        the thumbnails; pictures of other aspects fit inside it."""
        w = max(min(cell_width - 2 * self.pad, self.icon_size), 16)
        return QSize(w, round(w * 0.75))

    def cell_height(self, cell_width: int, font_height: int) -> int:
        return self.box_size(cell_width).height() + 2 * self.pad + 5 + 2 * font_height

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        w = self.nominal_width()
        return QSize(w, self.cell_height(w, option.fontMetrics.height()))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        pal: QPalette = option.palette
        r: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        cell = QRectF(r).adjusted(2.5, 2.5, -2.5, -2.5)
        if selected:
            hl = QColor(pal.color(QPalette.ColorRole.Highlight))
            hl.setAlpha(90)
            painter.setPen(pal.color(QPalette.ColorRole.Highlight))
            painter.setBrush(hl)
            painter.drawRoundedRect(cell, 6, 6)
        elif hover:
            hv = QColor(pal.color(QPalette.ColorRole.Text))
            hv.setAlpha(22)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(hv)
            painter.drawRoundedRect(cell, 6, 6)
        bs = self.box_size(r.width())
        box = QRect(QPoint(r.left() + (r.width() - bs.width()) // 2, r.top() + self.pad), bs)
        one_call = getattr(index.model(), "cell", None)
        if one_call is not None:  # our model: everything in one Python call, not five roles
            img, text, sub, size, errors = one_call(index.row())
        else:
            img, text, sub = index.data(THUMBNAIL_ROLE), index.data(), index.data(SUBTITLE_ROLE)
            size, errors = index.data(IMAGE_SIZE_ROLE), index.data(ERRORS_ROLE)
        self._paint_image(painter, pal, box, img, size)
        self._paint_errors(painter, box, errors)
        fm = option.fontMetrics
        text_top = box.bottom() + 5
        name_rect = QRect(r.left() + 4, text_top, r.width() - 8, fm.height())
        name = fm.elidedText(str(text or ""), Qt.TextElideMode.ElideLeft, name_rect.width())
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                         name)
        if sub:
            sub_rect = name_rect.translated(0, fm.height())
            dim = QColor(pal.color(QPalette.ColorRole.Text))
            dim.setAlphaF(0.55)
            painter.setPen(dim)
            painter.drawText(sub_rect,
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(str(sub), Qt.TextElideMode.ElideRight,
                                           sub_rect.width()))
        painter.restore()

    def _paint_errors(self, painter: QPainter, box: QRect, errors: Any) -> None:
        """A review's counts: a frame (red: false positives, orange: only missed GT, green:
        none) and a badge with "✗ n" / "! n" at the top right — words, not only colour."""
        if errors is None:
            return
        fp, missed = errors
        color = _FP_COLOR if fp else _MISSED_COLOR if missed else _CLEAN_COLOR
        pen = QPen(color, 2.0 if fp or missed else 1.0)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(box).adjusted(0.5, 0.5, -0.5, -0.5))
        if not (fp or missed):
            return
        text = " ".join(t for t in ((f"✗{fp}" if fp else ""), (f"!{missed}" if missed else ""))
                        if t)
        fm = painter.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
        badge = QRectF(box.right() - w, box.top(), w, h)
        painter.fillRect(badge, color)
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_image(self, painter: QPainter, pal: QPalette, box: QRect, img: Any,
                     size: Any) -> None:
        if isinstance(img, QImage) and not img.isNull():
            dpr = img.devicePixelRatio()
            iw, ih = img.width() / dpr, img.height() / dpr
        else:
            img = None
            iw, ih = size if size and min(size) > 0 else (4, 3)
        s = min(box.width() / iw, box.height() / ih)
        if img is not None:
            s = min(s, 1.0)  # never blow a thumbnail up
        w, h = iw * s, ih * s
        target = QRectF(box.left() + round((box.width() - w) / 2),
                        box.top() + round((box.height() - h) / 2), w, h)
        if img is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, s < 1.0)
            painter.drawImage(target, img)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QColor(0, 0, 0, 70))
            painter.drawRect(target.adjusted(0.5, 0.5, -0.5, -0.5))
        else:
            base = QColor(pal.color(QPalette.ColorRole.Text))
            base.setAlpha(28)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(base)
            painter.drawRoundedRect(target, 3, 3)


class ThumbnailGridView(QAbstractItemView):
    """Cells of one size, left to right in as many columns as fit.

    Cells stretch to fill the width, or shrink (down to ``min_scale`` of their
    nominal width) to fit one more column, so a narrow dock shows two columns
    of slightly smaller thumbnails rather than one column with wide margins.
    """

    #: Ctrl+wheel: bigger (+1) or smaller (-1) thumbnails
    zoomRequested = Signal(int)

    def __init__(self, icon_size: int = 160, parent: QWidget | None = None,
                 min_scale: float = 0.7) -> None:
        super().__init__(parent)
        self.min_scale = min_scale
        self._cols = 1
        self._cell = QSize(icon_size + 16, icon_size)
        self._hover = -1
        self.setItemDelegate(ThumbnailDelegate(icon_size, self))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(True)
        self._update_cells()

    # ----- geometry -----------------------------------------------------
    def delegate(self) -> ThumbnailDelegate:
        d = self.itemDelegate()
        assert isinstance(d, ThumbnailDelegate)
        return d

    def _update_cells(self) -> None:
        vw = max(self.viewport().width(), 1)
        nominal = self.delegate().nominal_width()
        cols = max(1, math.ceil(vw / nominal))
        if vw / cols < nominal * self.min_scale:
            cols = max(1, vw // nominal)
        w = max(vw // cols, 1)
        self._cols = cols
        self._cell = QSize(w, self.delegate().cell_height(w, self.fontMetrics().height()))

    def cell_size(self) -> QSize:
        return QSize(self._cell)

    def set_icon_size(self, px: int) -> None:
        """Thumbnails of ``px`` (logical pixels) from now on; the cells follow."""
        self.delegate().icon_size = px
        self._update_cells()
        self.updateGeometries()
        self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            dy = event.angleDelta().y()
            if dy:
                self.zoomRequested.emit(1 if dy > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)

    def columns(self) -> int:
        return self._cols

    def _count(self) -> int:
        m = self.model()
        return m.rowCount(self.rootIndex()) if m is not None else 0

    def _left(self) -> int:
        return max(0, (self.viewport().width() - self.columns() * self._cell.width()) // 2)

    def _cell_rect(self, k: int) -> QRect:
        cols = self.columns()
        cw, ch = self._cell.width(), self._cell.height()
        return QRect(self._left() + (k % cols) * cw,
                     (k // cols) * ch - self.verticalScrollBar().value(), cw, ch)

    def _visible_range(self) -> range:
        cols, ch = self.columns(), self._cell.height()
        top = self.verticalScrollBar().value()
        first = (top // ch) * cols
        last = ((top + self.viewport().height()) // ch + 1) * cols
        return range(first, min(last, self._count()))

    def updateGeometries(self) -> None:
        self._update_cells()
        rows = math.ceil(self._count() / self.columns())
        ch, vh = self._cell.height(), self.viewport().height()
        sb = self.verticalScrollBar()
        sb.setRange(0, max(0, rows * ch - vh))
        sb.setPageStep(max(vh, 1))
        sb.setSingleStep(max(ch // 3, 1))
        super().updateGeometries()

    def resizeEvent(self, event: QResizeEvent) -> None:
        keep = self._visible_range().start
        super().resizeEvent(event)  # → updateGeometries → new cells
        if keep:  # the first visible cell stays the first visible cell
            self.verticalScrollBar().setValue((keep // self.columns()) * self._cell.height())

    # ----- QAbstractItemView interface -----------------------------------
    def visualRect(self, index: Index) -> QRect:
        if not index.isValid() or index.column() != 0:
            return QRect()
        return self._cell_rect(index.row())

    def indexAt(self, point: QPoint) -> QModelIndex:
        m = self.model()
        x = point.x() - self._left()
        if m is None or x < 0:
            return QModelIndex()
        col = x // self._cell.width()
        if col >= self.columns():
            return QModelIndex()
        row = (point.y() + self.verticalScrollBar().value()) // self._cell.height()
        k = row * self.columns() + col
        return m.index(k, 0, self.rootIndex()) if 0 <= k < self._count() else QModelIndex()

    def scrollTo(self, index: Index,
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
                 ) -> None:
        if not index.isValid():
            return
        sb = self.verticalScrollBar()
        ch, vh = self._cell.height(), self.viewport().height()
        top = (index.row() // self.columns()) * ch
        H = QAbstractItemView.ScrollHint
        if hint == H.PositionAtTop:
            sb.setValue(top)
        elif hint == H.PositionAtBottom:
            sb.setValue(top + ch - vh)
        elif hint == H.PositionAtCenter:
            sb.setValue(top - (vh - ch) // 2)
        elif top < sb.value():
            sb.setValue(top)
        elif top + ch > sb.value() + vh:
            sb.setValue(top + ch - vh)

    def moveCursor(self, action: QAbstractItemView.CursorAction,
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        m, n = self.model(), self._count()
        if m is None or not n:
            return QModelIndex()
        cur = self.currentIndex()
        k = cur.row() if cur.isValid() else 0
        cols = self.columns()
        page = cols * max(1, self.viewport().height() // self._cell.height())
        A = QAbstractItemView.CursorAction
        step = {A.MoveLeft: -1, A.MovePrevious: -1, A.MoveRight: 1, A.MoveNext: 1,
                A.MoveUp: -cols, A.MoveDown: cols, A.MovePageUp: -page, A.MovePageDown: page}
        if action == A.MoveHome:
            k = 0
        elif action == A.MoveEnd:
            k = n - 1
        elif action in step:
            j = k + step[action]
            if action in (A.MoveUp, A.MoveDown) and not 0 <= j < n:
                j = k  # no wrap-around past the first or last row
            k = min(max(j, 0), n - 1)
        return m.index(k, 0, self.rootIndex())

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: Index) -> bool:
        return False

    def setSelection(self, rect: QRect, command: QItemSelectionModel.SelectionFlag) -> None:
        m, sm = self.model(), self.selectionModel()
        if m is None or sm is None:
            return
        rect = rect.normalized()
        sel = QItemSelection()
        last_col = max(m.columnCount(self.rootIndex()) - 1, 0)
        for k in self._visible_range():
            if self._cell_rect(k).intersects(rect):
                sel.select(m.index(k, 0, self.rootIndex()), m.index(k, last_col, self.rootIndex()))
        sm.select(sel, command)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        region = QRegion()
        vis = self._visible_range()
        for i in range(selection.size()):
            rng = selection.at(i)
            for k in range(max(rng.top(), vis.start), min(rng.bottom() + 1, vis.stop)):
                region += self._cell_rect(k)
        return region

    # ----- painting and hover -------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        m = self.model()
        if m is None:
            return
        painter = QPainter(self.viewport())
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        sm = self.selectionModel()
        cur = self.currentIndex()
        delegate = self.itemDelegate()
        clip = event.rect()
        S = QStyle.StateFlag
        base_state = option.state & ~(S.State_Selected | S.State_MouseOver | S.State_HasFocus)
        for k in self._visible_range():
            rect = self._cell_rect(k)
            if not rect.intersects(clip):
                continue
            index = m.index(k, 0, self.rootIndex())
            state = base_state
            if sm is not None and sm.isSelected(index):
                state |= S.State_Selected
            if k == self._hover:
                state |= S.State_MouseOver
            if index == cur and self.hasFocus():
                state |= S.State_HasFocus
            option.rect = rect
            option.state = state
            delegate.paint(painter, option, index)
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._set_hover(self.indexAt(event.position().toPoint()).row())
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._set_hover(-1)
        super().leaveEvent(event)

    def _set_hover(self, k: int) -> None:
        if k != self._hover:
            for old in (self._hover, k):
                if old >= 0:
                    self.viewport().update(self._cell_rect(old))
            self._hover = k

    def setModel(self, model: QAbstractItemModel | None) -> None:
        old = self.model()
        if old is not None:
            for sig in (old.rowsInserted, old.rowsRemoved, old.layoutChanged):
                sig.disconnect(self._relayout)
        super().setModel(model)
        if model is not None:
            for sig in (model.rowsInserted, model.rowsRemoved, model.layoutChanged):
                sig.connect(self._relayout)

    def _relayout(self, *args: object) -> None:
        self._hover = -1
        self.updateGeometries()
        self.viewport().update()

    def reset(self) -> None:
        self._hover = -1
        super().reset()
