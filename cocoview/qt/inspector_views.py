"""The inspector's item models (the image's annotation list, the keypoint table) and
its small widgets (the property grid, delegates, severity icons)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QObject,
    QPoint,
    QRect,
    QSize,
    Qt,
    QUrl,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from cocoview.model.dataset import Dataset
from cocoview.model.errors import Severity
from cocoview.model.look import instance_color
from cocoview.model.review import Review, detection_list_text, detection_tooltip
from cocoview.qt.inspector_text import (
    VISIBILITY,
    Prop,
    _category,
    num,
)
from cocoview.qt.state import ViewerState
from cocoview.qt.widgets import TOP, Index, RowHeightDelegate, color_icon

#: the dataset row of an annotation list item (a detection's: its row in ``ds.results``)
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
#: "annotation" or "detection": what a list item is
KIND_ROLE = Qt.ItemDataRole.UserRole + 4
ELIDE_MIDDLE_ROLE = Qt.ItemDataRole.UserRole + 2
#: a problem row's annotation id (None for image-level problems)
ANN_ID_ROLE = Qt.ItemDataRole.UserRole + 3
WRAP_LIMIT = 300  # problems shown word-wrapped up to this many (beyond: one line each)
SEVERITY_COLORS = {Severity.ERROR: "#d93025", Severity.WARNING: "#e37400",
                   Severity.INFO: "#1a73e8"}


# ----- item models --------------------------------------------------------------
class AnnotationListModel(QAbstractListModel):
    """The current image's annotations: "name  #id", colour swatch, area tooltip; below
    them its detections drawn at the min score, best first: "name score  verdict"."""

    def __init__(self, state: ViewerState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._rows: list[int] = []
        #: the image's detections (rows of ``ds.results``) at the min score, best first
        self._dets: list[int] = []
        self._det_items: dict[int, tuple[str, tuple[int, int, int], str]] = {}
        #: the evaluation's verdicts (the inspector forwards the controller's)
        self.review: Review | None = None
        #: described on first display: an image may hold 300,000 annotations
        self._items: dict[int, tuple[str, tuple[int, int, int], str, int]] = {}
        self._dim = QGuiApplication.palette().color(QPalette.ColorGroup.Disabled,
                                                    QPalette.ColorRole.Text)
        state.datasetChanged.connect(self.reload)
        state.currentImageChanged.connect(self.reload)
        state.visibilityChanged.connect(self._visibility_changed)
        state.colorByInstanceChanged.connect(self._colors_changed)
        state.minScoreChanged.connect(lambda _s: self.reload())
        self.reload()

    def set_review(self, review: Review | None) -> None:
        self.review = review
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows, self._items, self._dets, self._det_items = [], {}, [], {}
        ds, image_id = self._state.view, self._state.current_image  # edited (issue 17)
        if ds is not None and image_id >= 0:
            try:
                rows = ds.ann_rows(image_id).tolist()
            except KeyError:
                rows = []
            self._rows = [int(r) for r in rows]
            base = self._state.dataset  # its results: the model the canvas shows
            self._dets = self._detections(base, image_id) if base is not None else []
        self.endResetModel()

    def follow_edit(self) -> None:
        """The current image was edited (issue 17): rows kept are described again in
        place, one deleted or restored row removed or inserted, without a reset (the
        view keeps its selection and scroll); anything else reloads."""
        ds, image_id = self._state.view, self._state.current_image
        if ds is None or image_id < 0:
            self.reload()
            return
        new = [int(r) for r in ds.ann_rows(image_id).tolist()]
        old = self._rows
        self._items = {}
        if new == old:
            if old:
                self.dataChanged.emit(self.index(0), self.index(len(old) - 1))
            return
        k = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
                 min(len(old), len(new)))
        if len(new) == len(old) - 1 and new == old[:k] + old[k + 1:]:
            self.beginRemoveRows(TOP, k, k)
            self._rows = new
            self.endRemoveRows()
        elif len(new) == len(old) + 1 and old == new[:k] + new[k + 1:]:
            self.beginInsertRows(TOP, k, k)
            self._rows = new
            self.endInsertRows()
        else:
            self.reload()

    def _detections(self, ds: Dataset, image_id: int) -> list[int]:
        res = ds.results
        row = ds.image_row(image_id) if res is not None else -1
        if res is None or row < 0:
            return []
        rows = res.rows(row)
        score = np.asarray(res.anns.score[rows], np.float64)
        keep = score >= self._state.min_score  # as the canvas draws them (Look.shows)
        rows, score = rows[keep], score[keep]
        return [int(r) for r in rows[np.argsort(-score, kind="stable")]]

    def _describe_detection(self, ds: Dataset, row: int) -> tuple[
            str, tuple[int, int, int], str]:
        a = ds.results.anns  # type: ignore[union-attr]
        cid = int(a.category_id[row])
        cat = _category(ds, cid)
        name = cat.name if cat is not None else f"category {cid}"
        score = float(a.score[row])
        verdict = detection_list_text(self.review, row, self._state.min_score)
        text = f"{name} {score:.2f}" + (f"  {verdict}" if verdict else "  (detection)")
        tip = (detection_tooltip(self.review, row, name, score, self._state.min_score)
               if self.review is not None else f"{name}  (detection)\nscore {score:.3f}")
        return text, cat.color if cat is not None else (128, 128, 128), tip

    @property
    def detections(self) -> list[int]:
        """The detections' rows in ``ds.results``, in list order (after the annotations)."""
        return list(self._dets)

    def detection_position(self, row: int) -> int:
        """List position of detection ``row`` (-1 if it is not listed)."""
        try:
            return len(self._rows) + self._dets.index(row)
        except ValueError:
            return -1

    @staticmethod
    def _describe(ds: Dataset, row: int) -> tuple[str, tuple[int, int, int], str, int]:
        a = ds.anns
        cid = int(a.category_id[row])
        cat = _category(ds, cid)
        name = cat.name if cat is not None else f"category {cid}"
        text = f"{name}  #{int(a.id[row])}" + (" crowd" if int(a.iscrowd[row]) else "")
        x, y, w, h = (float(v) for v in a.bbox[row])
        tip = f"{name} (category {cid})\narea {num(float(a.area[row]), thousands=True)} px²"
        if math.isfinite(x):
            tip += f"\nbbox [{num(x)}, {num(y)}, {num(w)}, {num(h)}]"
        color = cat.color if cat is not None else (128, 128, 128)
        return text, color, tip, cid

    @property
    def rows(self) -> list[int]:
        """Dataset rows, in list order."""
        return list(self._rows)

    def position(self, row: int) -> int:
        """List position of dataset row ``row`` (-1 if it is not on this image)."""
        try:
            return self._rows.index(row)
        except ValueError:
            return -1

    def rowCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self._rows) + len(self._dets)

    def _detection_data(self, i: int, role: int) -> Any:
        ds = self._state.dataset
        R = Qt.ItemDataRole
        if role == ROW_ROLE:
            return self._dets[i]
        if role == KIND_ROLE:
            return "detection"
        if ds is None or ds.results is None:
            return None
        item = self._det_items.get(i)
        if item is None:
            item = self._det_items[i] = self._describe_detection(ds, self._dets[i])
        text, color, tip = item
        if role == R.DisplayRole:
            return text
        if role == R.DecorationRole:
            return color_icon(color)
        if role == R.ToolTipRole:
            return tip
        if role == R.FontRole:
            f = QFont()
            f.setItalic(True)  # not ground truth
            return f
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and 0 <= index.row() - len(self._rows) < len(self._dets):
            return self._detection_data(index.row() - len(self._rows), role)
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role == KIND_ROLE:
            return "annotation"
        item = self._items.get(index.row())
        ds = self._state.view
        if item is None and ds is not None:
            item = self._items[index.row()] = self._describe(ds, self._rows[index.row()])
        if item is None:
            return None
        text, color, tip, cid = item
        R = Qt.ItemDataRole
        if role == R.DisplayRole:
            return text
        if role == R.DecorationRole:  # the colour the canvas draws it in
            return color_icon(instance_color(index.row()) if self._state.color_by_instance
                              else color)
        if role == R.ToolTipRole:
            hidden = cid in self._state.hidden_categories
            return tip + ("\n(category hidden on the canvas)" if hidden else "")
        if role == R.ForegroundRole and cid in self._state.hidden_categories:
            return self._dim
        if role == ROW_ROLE:
            return self._rows[index.row()]
        return None

    def _colors_changed(self, _on: bool) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1),
                                  [Qt.ItemDataRole.DecorationRole])

    def _visibility_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1),
                                  [Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole])


class KeypointTableModel(QAbstractTableModel):
    """The selected annotation's keypoints: name, x, y, visibility."""

    HEADERS = ("Keypoint", "x", "y", "Visibility")

    def __init__(self, state: ViewerState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._names: list[str] = []
        self._kp: list[tuple[float, float, float]] = []
        self._dim = QGuiApplication.palette().color(QPalette.ColorGroup.Disabled,
                                                    QPalette.ColorRole.Text)
        state.selectionChanged.connect(self.set_row)
        state.datasetChanged.connect(lambda: self.set_row(-1))
        self.set_row(state.selected_row)

    def set_row(self, row: int) -> None:
        """Show the keypoints of dataset row ``row`` (none for -1)."""
        self.beginResetModel()
        self._names, self._kp = [], []
        ds = self._state.view  # an added annotation's row is the edited view's
        kp = ds.keypoints_array(row) if ds is not None and row >= 0 else None
        if ds is not None and kp is not None:
            cat = _category(ds, int(ds.anns.category_id[row]))
            names = cat.keypoint_names if cat is not None else []
            self._kp = [(float(x), float(y), float(v)) for x, y, v in kp.tolist()]
            self._names = [names[i] if i < len(names) else str(i) for i in range(len(self._kp))]
        self.endResetModel()

    def rowCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self._kp)

    def columnCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.TextAlignmentRole and section in (1, 2)
                and orientation == Qt.Orientation.Horizontal):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section] if 0 <= section < len(self.HEADERS) else None
        return str(section) if 0 <= section < len(self._kp) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._kp):
            return None
        x, y, v = self._kp[index.row()]
        col = index.column()
        R = Qt.ItemDataRole
        if role == R.DisplayRole:
            if col == 0:
                return self._names[index.row()]
            if col in (1, 2):
                return num(x if col == 1 else y)
            return VISIBILITY.get(int(v), num(v)) if float(v).is_integer() else num(v)
        if role == R.TextAlignmentRole and col in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == R.ForegroundRole and v == 0:
            return self._dim
        if role == R.ToolTipRole and col == 3:
            return f"v = {num(v)} (0 absent, 1 labelled but occluded, 2 visible)"
        return None


# ----- widgets ------------------------------------------------------------------
class _ElideDelegate(RowHeightDelegate):
    """Elides text at the right, or in the middle for cells flagged ``ELIDE_MIDDLE_ROLE``."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:
        super().initStyleOption(option, index)
        if index.data(ELIDE_MIDDLE_ROLE):
            option.textElideMode = Qt.TextElideMode.ElideMiddle


class _WrapDelegate(QStyledItemDelegate):
    """Rows tall enough for column 0's text wrapped at the column's width.

    Views ask a delegate for row heights without the column width; this one
    measures with it (the view re-lays out when a section is resized).
    """

    def __init__(self, view: QTreeWidget) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        if index.column() or not self._view.wordWrap():
            return size
        style = self._view.style()
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self._view) + 1
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.rect = QRect(0, 0, self._view.columnWidth(0), size.height())
        text = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, self._view)
        width = max(text.width() - 2 * margin, 40)
        # the same wrapping as the style's item text (word boundary, else anywhere)
        layout = QTextLayout(str(index.data() or ""), option.font)
        wrap = QTextOption()
        wrap.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(wrap)
        height = 0.0
        layout.beginLayout()
        while (line := layout.createLine()).isValid():
            line.setLineWidth(width)
            height += line.height()
        layout.endLayout()
        return QSize(size.width(), max(size.height(), math.ceil(height) + 8))


class PropertyGrid(QTreeWidget):
    """A two-column "Property | Value" grid with bold section rows, like an IDE's property pane."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Property", "Value"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setIndentation(0)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setItemDelegate(_ElideDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.header().setStretchLastSection(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    def set_sections(self, sections: list[tuple[str, list[Prop]]]) -> None:
        """Replace the contents: one bold section row per (title, properties)."""
        self.clear()
        bold = QFont(self.font())
        bold.setBold(True)
        shade = self.palette().color(QPalette.ColorRole.Window)
        link = self.palette().color(QPalette.ColorRole.Link)
        for title, props in sections:
            if not props:
                continue
            head = QTreeWidgetItem(self, [title])
            head.setFont(0, bold)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for c in (0, 1):
                head.setBackground(c, shade)
            head.setFirstColumnSpanned(True)
            for key, value, tip in props:
                item = QTreeWidgetItem(head, [key, value])
                item.setToolTip(1, tip or value)
                if "/" in value and " " not in value:  # paths and URLs: keep both ends
                    item.setData(1, ELIDE_MIDDLE_ROLE, True)
                if value.startswith(("http://", "https://")):
                    item.setForeground(1, link)
        self.expandAll()

    def set_value(self, key: str, value: str) -> None:
        """Show ``value`` for ``key`` (its first row), leaving the other rows as they are."""
        for i in range(self.topLevelItemCount()):
            head = self.topLevelItem(i)
            for j in range(head.childCount() if head is not None else 0):
                item = head.child(j) if head is not None else None
                if item is not None and item.text(0) == key:
                    item.setText(1, value)
                    item.setToolTip(1, value)
                    return

    def value(self, key: str) -> str | None:
        """The value shown for ``key`` (first match), for callers and tests."""
        for i in range(self.topLevelItemCount()):
            head = self.topLevelItem(i)
            for j in range(head.childCount() if head is not None else 0):
                item = head.child(j) if head is not None else None
                if item is not None and item.text(0) == key:
                    return item.text(1)
        return None

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None or item.parent() is None:
            return
        value = item.text(1)
        menu = QMenu(self)
        menu.addAction("Copy value", lambda: QGuiApplication.clipboard().setText(value))
        menu.addAction("Copy row", lambda: QGuiApplication.clipboard().setText(
            f"{item.text(0)}: {value}"))
        if value.startswith(("http://", "https://")):
            menu.addAction("Open link", lambda: QDesktopServices.openUrl(QUrl(value)))
        menu.exec(self.viewport().mapToGlobal(pos))


_severity_icons: dict[Severity, QIcon] = {}


def severity_icon(sev: Severity) -> QIcon:
    """A round badge in the severity's colour (cached; GUI thread only)."""
    icon = _severity_icons.get(sev)
    if icon is None:
        pm = QPixmap(32, 32)
        pm.setDevicePixelRatio(2.0)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(SEVERITY_COLORS[sev]))
        p.drawEllipse(1, 1, 14, 14)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(11)
        p.setFont(font)
        p.setPen(QColor("white"))
        glyph = {Severity.ERROR: "!", Severity.WARNING: "!", Severity.INFO: "i"}[sev]
        p.drawText(0, 0, 16, 16, Qt.AlignmentFlag.AlignCenter, glyph)
        p.end()
        icon = _severity_icons[sev] = QIcon(pm)
    return icon




