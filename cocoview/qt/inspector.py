"""The inspector: the current image's annotations and everything about the selected one.

A list of the image's annotations on top (selection two-way bound to
:attr:`ViewerState.selected_row`); below it tabs for the selected annotation
(properties + keypoint table), its raw JSON, the image's metadata and captions,
and the image's validation problems (computed in a thread pool; results for an
image the user already left are dropped).
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QObject,
    QPoint,
    QRect,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontDatabase,
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
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cocoview.model.categories import Category
from cocoview.model.dataset import Dataset
from cocoview.model.errors import Problem, Severity
from cocoview.model.look import instance_color
from cocoview.qt.jobs import Jobs
from cocoview.qt.state import ViewerState
from cocoview.qt.widgets import TOP, Index, RowHeightDelegate, color_icon, heading, row_height

Prop = tuple[str, str, str]  # key, value, tooltip
#: the dataset row of an annotation list item
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
ELIDE_MIDDLE_ROLE = Qt.ItemDataRole.UserRole + 2
#: a problem row's annotation id (None for image-level problems)
ANN_ID_ROLE = Qt.ItemDataRole.UserRole + 3
WRAP_LIMIT = 300  # problems shown word-wrapped up to this many (beyond: one line each)
VISIBILITY = {0: "absent", 1: "occluded", 2: "visible"}
SEVERITY_COLORS = {Severity.ERROR: "#d93025", Severity.WARNING: "#e37400",
                   Severity.INFO: "#1a73e8"}
_ANN_KEYS = {"id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation",
             "keypoints", "num_keypoints", "score"}
_IMAGE_KEYS = {"id", "file_name", "width", "height", "license", "coco_url", "flickr_url",
               "date_captured"}
JSON_DISPLAY_LIMIT = 200_000  # characters shown; "Copy JSON" always copies everything


# ----- formatting (pure) --------------------------------------------------------
def num(v: float, thousands: bool = False) -> str:
    """A number with at most two decimals and no trailing zeros ('—' if not finite)."""
    v = float(v)
    if not math.isfinite(v):
        return "—"
    s = f"{v:,.2f}" if thousands else f"{v:.2f}"
    return s.rstrip("0").rstrip(".")


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def pretty_json(value: Any, indent: int = 0) -> str:
    """Indented JSON that keeps lists of numbers (polygons, RLE counts, bbox) on one line."""
    pad, end = "  " * (indent + 1), "  " * indent
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {pretty_json(v, indent + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list) and value and not all(_is_scalar(v) for v in value):
        return "[\n" + ",\n".join(pad + pretty_json(v, indent + 1) for v in value) + "\n" \
            + end + "]"
    return json.dumps(value, ensure_ascii=False)


def _short(value: Any, limit: int = 160) -> str:
    s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _category(ds: Dataset, cid: int) -> Category | None:
    try:
        return ds.category(cid)
    except KeyError:
        return None


def _segmentation_props(ds: Dataset, row: int) -> list[Prop]:
    kind = ds.seg_kind_name(row)
    if kind == "panoptic":
        return [("segmentation", "panoptic segment", "a segment of the panoptic PNG")]
    g = ds.geometry(row)
    out: list[Prop] = []
    if kind == "polygon" and g.polygons:
        pts = [len(p) for p in g.polygons]
        n = len(pts)
        out.append(("segmentation", f"polygon · {n} part{'s' * (n != 1)}", ""))
        shown = ", ".join(str(k) for k in pts[:12]) + (f", … (+{n - 12})" if n > 12 else "")
        out.append(("points", shown, f"{sum(pts):,} points in all"))
    elif kind.startswith("rle") and g.rle_size is not None:
        h, w = g.rle_size
        label = "RLE (compressed)" if kind == "rle" else "RLE (uncompressed counts)"
        img_row = int(ds.ann_image_row[row])
        note = ""
        if img_row >= 0:
            ih, iw = ds.image_size(img_row)
            if (ih, iw) != (h, w) and ih > 0:
                note = f" — image is {iw} × {ih}"
        out.append(("segmentation", f"{label} · {w} × {h}{note}", f"RLE size [h, w] = [{h}, {w}]"))
    elif kind == "polygon":
        out.append(("segmentation", "polygon · no usable part", ""))
    else:
        out.append(("segmentation", kind, ""))
    if g.problems:
        out.append(("geometry", "; ".join(g.problems), "\n".join(g.problems)))
    return out


def annotation_props(ds: Dataset, row: int) -> list[Prop]:
    """The selected annotation's properties, ready to show."""
    a = ds.anns
    cid = int(a.category_id[row])
    cat = _category(ds, cid)
    props: list[Prop] = [("id", str(int(a.id[row])), "")]
    if cat is None:
        props.append(("category", f"{cid} (unknown)", ""))
    elif not cat.defined:
        props.append(("category", f"{cid} — undefined", "used here but not in 'categories'"))
    else:
        props.append(("category", f"{cat.name} ({cid})", ""))
        props.append(("supercategory", cat.supercategory or "—", ""))
    x, y, w, h = (float(v) for v in a.bbox[row])
    if math.isfinite(x):
        props.append(("bbox", f"[{num(x)}, {num(y)}, {num(w)}, {num(h)}]",
                      f"x, y, width, height; right {num(x + w)}, bottom {num(y + h)}"))
    else:
        props.append(("bbox", "—", "no bbox in the file"))
    props.append(("area", num(float(a.area[row]), thousands=True), "square pixels, as in the file"))
    crowd = int(a.iscrowd[row])
    props.append(("iscrowd", "1 — crowd region" if crowd else str(crowd), ""))
    props += _segmentation_props(ds, row)
    kp = ds.keypoints_array(row)
    if kp is not None:
        labelled = int((kp[:, 2] > 0).sum())
        props.append(("num_keypoints", f"{int(a.num_keypoints[row])} ({labelled} of {len(kp)} "
                      "labelled)", "num_keypoints as in the file; labelled = v > 0"))
    score = float(a.score[row])
    if math.isfinite(score):
        props.append(("score", f"{score:.3f}", "detection confidence"))
    if len(ds.files) > 1:
        f = ds.files[int(ds.ann_src[row])]
        props.append(("file", f.path.name, str(f.path)))
    return props


def extra_props(record: dict[str, Any], known: set[str]) -> list[Prop]:
    """Fields of a record that the other rows do not show (LVIS extras, attributes…)."""
    return [(str(k), _short(v), _short(v, 2000)) for k, v in record.items() if k not in known]


def image_props(ds: Dataset, image_id: int) -> list[Prop]:
    """The image's metadata from its record and licence."""
    info = ds.image(image_id)
    rec = ds.image_record(image_id)
    props: list[Prop] = [("id", str(image_id), ""), ("file_name", info.file_name or "—", "")]
    if info.width > 0:
        props.append(("size", f"{info.width} × {info.height}", "width × height in pixels"))
    if info.path is not None:
        props.append(("path", str(info.path), str(info.path)))
    props.append(("annotations", str(int(ds.image_ann_count[info.index])), ""))
    lic = ds.image_license(image_id)
    if lic is not None:
        props.append(("licence", str(lic.get("name", lic.get("id", ""))), ""))
        if lic.get("url"):
            props.append(("licence url", str(lic["url"]), str(lic["url"])))
    elif "license" in rec:
        props.append(("licence", f"id {rec['license']} (not in 'licenses')", ""))
    for key in ("coco_url", "flickr_url", "date_captured"):
        if rec.get(key) not in (None, ""):
            props.append((key, str(rec[key]), str(rec[key])))
    shown = set(_IMAGE_KEYS)
    for key, title in _LVIS_LISTS.items():  # category ids: shown as names
        ids = rec.get(key)
        if isinstance(ids, list) and all(isinstance(c, int) for c in ids):
            names = [_category_name(ds, c) for c in ids]
            props.append((title, ", ".join(names) if names else "—",
                          "\n".join(f"{n} (id {c})" for n, c in zip(names, ids, strict=True))
                          or f"'{key}' is empty"))
            shown.add(key)
    return props + extra_props(rec, shown)


#: LVIS' per-image category lists: verified absent, and not exhaustively annotated
_LVIS_LISTS = {"neg_category_ids": "absent categories",
               "not_exhaustive_category_ids": "not exhaustive"}


def _category_name(ds: Dataset, cid: int) -> str:
    cat = _category(ds, cid)
    return cat.name if cat is not None and cat.defined else f"id {cid} (not in 'categories')"


# ----- item models --------------------------------------------------------------
class AnnotationListModel(QAbstractListModel):
    """The current image's annotations: "name  #id", colour swatch, area tooltip."""

    def __init__(self, state: ViewerState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._rows: list[int] = []
        #: described on first display: an image may hold 300,000 annotations
        self._items: dict[int, tuple[str, tuple[int, int, int], str, int]] = {}
        self._dim = QGuiApplication.palette().color(QPalette.ColorGroup.Disabled,
                                                    QPalette.ColorRole.Text)
        state.datasetChanged.connect(self.reload)
        state.currentImageChanged.connect(self.reload)
        state.visibilityChanged.connect(self._visibility_changed)
        state.colorByInstanceChanged.connect(self._colors_changed)
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows, self._items = [], {}
        ds, image_id = self._state.dataset, self._state.current_image
        if ds is not None and image_id >= 0:
            try:
                rows = ds.ann_rows(image_id).tolist()
            except KeyError:
                rows = []
            self._rows = [int(r) for r in rows]
        self.endResetModel()

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
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._items.get(index.row())
        ds = self._state.dataset
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
        ds = self._state.dataset
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




class InspectorPanel(QWidget):
    """Annotation list + tabs: Details (properties, keypoints), JSON, Image, Problems."""

    #: the validation problems of an image are ready (image id, problems); the id is
    #: passed as a Python int (``Signal(int)`` would wrap ids above 2³¹)
    problemsReady = Signal(object, list)

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._syncing = False
        self._json_text = ""
        self._jobs = Jobs(self)  # validates the current image (it reads image headers)
        self.problems: list[Problem] = []

        # --- the annotation list
        self.list_model = AnnotationListModel(state, self)
        self.list_view = QListView(self)
        self.list_view.setModel(self.list_model)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setIconSize(QSize(12, 12))
        self.list_view.setItemDelegate(RowHeightDelegate(self.list_view))
        self.list_view.setAlternatingRowColors(True)
        self.list_view.setMouseTracking(True)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.selectionModel().selectionChanged.connect(self._list_selection)
        self.list_view.entered.connect(lambda i: state.hover(int(i.data(ROW_ROLE))))
        self.list_view.viewport().installEventFilter(self)
        self.list_title = heading("Annotations", self)
        top = QWidget(self)
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(4)
        tl.addWidget(self.list_title)
        tl.addWidget(self.list_view)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        # labels never clip: the tab bar sets the panel's minimum width (~300 px)
        self.tabs.setUsesScrollButtons(False)
        self.tabs.setElideMode(Qt.TextElideMode.ElideNone)
        self.tabs.addTab(self._annotation_page(), "Details")
        self.tabs.addTab(self._json_page(), "JSON")
        self.tabs.addTab(self._image_page(), "Image")
        self.tabs.addTab(self._problems_page(), "Problems")

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

        state.datasetChanged.connect(self._image_changed)
        state.currentImageChanged.connect(self._image_changed)
        state.selectionChanged.connect(self._selection_changed)
        state.imagePolicyChanged.connect(self._request_problems)
        self._image_changed()
        self._selection_changed(state.selected_row)

    # ----- pages ----------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(360, 640)

    def _annotation_page(self) -> QWidget:
        self.details_stack = QStackedWidget(self)
        self.placeholder = QLabel("No annotation selected.\n\nClick an object on the image\n"
                                  "or pick one in the list above.", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.details = PropertyGrid(self)
        self.keypoint_model = KeypointTableModel(self._state, self)
        self.keypoint_view = QTableView(self)
        self.keypoint_view.setModel(self.keypoint_model)
        self.keypoint_view.setAlternatingRowColors(True)
        self.keypoint_view.setShowGrid(False)
        self.keypoint_view.verticalHeader().setVisible(False)
        self.keypoint_view.verticalHeader().setDefaultSectionSize(row_height(self.keypoint_view))
        self.keypoint_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        hh = self.keypoint_view.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.keypoint_box = QWidget(self)
        kl = QVBoxLayout(self.keypoint_box)
        kl.setContentsMargins(0, 6, 0, 0)
        kl.setSpacing(4)
        self.keypoint_title = heading("Keypoints", self)
        kl.addWidget(self.keypoint_title)
        kl.addWidget(self.keypoint_view)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.setChildrenCollapsible(False)
        split.addWidget(self.details)
        split.addWidget(self.keypoint_box)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        self.details_stack.addWidget(self.placeholder)
        self.details_stack.addWidget(split)
        return self.details_stack

    def _json_page(self) -> QWidget:
        page = QWidget(self)
        self.json_title = QLabel(page)
        self.copy_json_button = QPushButton("Copy JSON", page)
        self.copy_json_button.setToolTip("Copy the whole record to the clipboard")
        self.copy_json_button.clicked.connect(self.copy_json)
        self.json_edit = QPlainTextEdit(page)
        self.json_edit.setReadOnly(True)
        self.json_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.json_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.json_edit.setPlaceholderText("No annotation selected")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.json_title, 1)
        row.addWidget(self.copy_json_button)
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(row)
        lay.addWidget(self.json_edit)
        return page

    def _image_page(self) -> QWidget:
        page = QWidget(self)
        self.image_grid = PropertyGrid(page)
        self.captions = QTextBrowser(page)
        self.captions.setOpenLinks(False)
        self.captions_title = heading("Captions", page)
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.image_grid, 3)
        lay.addWidget(self.captions_title)
        lay.addWidget(self.captions, 2)
        return page

    def _problems_page(self) -> QWidget:
        page = self._problems_page_widget = QWidget(self)
        self.problems_status = QLabel(page)
        self.problems_view = QTreeWidget(page)
        self.problems_view.setHeaderLabels(["Problem", "Location"])
        self.problems_view.setRootIsDecorated(False)
        self.problems_view.setAlternatingRowColors(True)
        self.problems_view.setWordWrap(True)
        self.problems_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.problems_view.header()
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.problems_view.setItemDelegate(_WrapDelegate(self.problems_view))
        hh.sectionResized.connect(lambda *_: self.problems_view.doItemsLayout())
        self.problems_view.itemDoubleClicked.connect(self._problem_activated)
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.problems_status)
        lay.addWidget(self.problems_view)
        return page

    # ----- following the state ------------------------------------------------
    def _image_changed(self) -> None:
        ds, image_id = self._state.dataset, self._state.current_image
        n = self.list_model.rowCount()
        self.list_title.setText(f"Annotations  ({n})" if image_id >= 0 else "Annotations")
        has_image = ds is not None and image_id >= 0
        sections: list[tuple[str, list[Prop]]] = []
        caps: list[str] = []
        if ds is not None and has_image:
            sections = [("Image", image_props(ds, image_id))]
            caps = ds.captions(image_id)
        self.image_grid.set_sections(sections)
        self.captions.setHtml("".join(f"<p style='margin: 0 0 6px 0'>{html.escape(c)}</p>"
                                      for c in caps))
        self.captions.setVisible(bool(caps))
        self.captions_title.setVisible(bool(caps))
        self.captions_title.setText(f"Captions  ({len(caps)})")
        self._request_problems()
        self._selection_changed(self._state.selected_row)

    def _selection_changed(self, row: int) -> None:
        self._sync_list(row)
        ds = self._state.dataset
        selected = ds is not None and 0 <= row < len(ds.anns)
        self.details_stack.setCurrentIndex(1 if selected else 0)
        if ds is not None and selected:
            rec = ds.annotation_record(row)
            self.details.set_sections([("Annotation", annotation_props(ds, row)),
                                       ("Other fields", extra_props(rec, _ANN_KEYS))])
            self._set_json(rec, f"Annotation {int(ds.anns.id[row])}")
        else:
            self.details.set_sections([])
            self._set_json(None, "")
        n_kp = self.keypoint_model.rowCount()
        self.keypoint_box.setVisible(n_kp > 0)
        self.keypoint_title.setText(f"Keypoints  ({n_kp})")

    def _sync_list(self, row: int) -> None:
        """Select ``row`` in the list without telling the state again."""
        sm = self.list_view.selectionModel()
        pos = self.list_model.position(row) if row >= 0 else -1
        current = sm.selectedIndexes()
        if pos >= 0 and current and current[0].row() == pos:
            return
        self._syncing = True
        try:
            if pos >= 0:
                idx = self.list_model.index(pos)
                sm.setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                self.list_view.scrollTo(idx)
            else:
                sm.clearSelection()
        finally:
            self._syncing = False

    def _list_selection(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        if self._syncing:
            return
        indexes = self.list_view.selectionModel().selectedIndexes()
        self._state.select(int(indexes[0].data(ROW_ROLE)) if indexes else -1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.list_view.viewport() and event.type() == QEvent.Type.Leave:
            self._state.hover(-1)
        return super().eventFilter(watched, event)

    # ----- JSON ---------------------------------------------------------------
    def _set_json(self, record: dict[str, Any] | None, title: str) -> None:
        self._json_text = pretty_json(record) if record is not None else ""
        shown = self._json_text
        if len(shown) > JSON_DISPLAY_LIMIT:
            shown = shown[:JSON_DISPLAY_LIMIT] + "\n… (truncated here; Copy JSON copies it all)"
        self.json_edit.setPlainText(shown)
        self.json_title.setText(title)
        self.copy_json_button.setEnabled(record is not None)

    def json_text(self) -> str:
        """The selected annotation's full pretty JSON ("" when none is selected)."""
        return self._json_text

    def copy_json(self) -> None:
        if self._json_text:
            QGuiApplication.clipboard().setText(self._json_text)

    # ----- problems -----------------------------------------------------------
    def _request_problems(self) -> None:
        self._jobs.cancel("problems")
        self.problems = []
        self.problems_view.clear()
        self.problems_view.hide()
        self._set_problems_tab(None)
        ds, image_id = self._state.dataset, self._state.current_image
        if ds is None or image_id < 0:
            self.problems_status.setText("")
            return
        self.problems_status.setText("Checking this image…")
        allow = self._state.allow_outside_images
        self._jobs.submit(ds, lambda d: d.image_problems(image_id, allow_outside=allow),
                          lambda problems: self._problems_done(image_id, problems),
                          lambda exc: self._problems_done(image_id, [Problem(
                              Severity.ERROR, "internal", f"validation failed: {exc!r}")]),
                          channel="problems")

    def _problems_done(self, image_id: int, problems: list[Problem]) -> None:
        if image_id != self._state.current_image:
            return  # an image the user already left
        self.problems = problems
        view = self.problems_view
        view.setUpdatesEnabled(False)
        view.setUniformRowHeights(len(problems) > WRAP_LIMIT)  # wrapping costs per row
        view.setWordWrap(len(problems) <= WRAP_LIMIT)
        for p in problems:
            item = QTreeWidgetItem(view, [p.message, p.location])
            item.setIcon(0, severity_icon(p.severity))
            tip = f"{p.severity}: {p.message}" + (f"\n{p.location}" if p.location else "")
            item.setToolTip(0, tip)
            item.setToolTip(1, tip)
            item.setData(0, ANN_ID_ROLE, p.annotation_id)
        view.setUpdatesEnabled(True)
        view.setVisible(bool(problems))
        counts = {s: sum(p.severity == s for p in problems) for s in Severity}
        parts = [f"{n} {s}{'s' * (n != 1)}" for s, n in sorted(counts.items(), reverse=True)
                 if n]
        self.problems_status.setText(", ".join(parts) if parts else "No problems in this image.")
        self._set_problems_tab(problems)
        self.problemsReady.emit(image_id, problems)

    def _set_problems_tab(self, problems: list[Problem] | None) -> None:
        """The tab's icon shows the worst severity; its tooltip the count."""
        i = self.tabs.indexOf(self._problems_page_widget)
        if not problems:
            self.tabs.setTabIcon(i, QIcon())
            self.tabs.setTabToolTip(i, "" if problems is None else "No problems")
            return
        self.tabs.setTabIcon(i, severity_icon(max(p.severity for p in problems)))
        self.tabs.setTabToolTip(i, self.problems_status.text())

    def _problem_activated(self, item: QTreeWidgetItem, column: int) -> None:
        ann_id = item.data(0, ANN_ID_ROLE)
        ds = self._state.dataset
        if ann_id is None or ds is None:
            return
        try:
            row = ds.ann_row(int(ann_id))
        except KeyError:
            return
        if self.list_model.position(row) >= 0:
            self._state.select(row)
            self.tabs.setCurrentIndex(0)
