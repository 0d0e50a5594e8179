"""The filter panel: edits the session's :class:`~cocoview.model.filters.ImageFilter`.

Categories are picked from a searchable, checkable list (fine with LVIS's
1,203) with a mode that says what it means (*has any of / all of / none of*);
below it crowd, object size, annotation count, keypoints, file-name pattern,
pasted image ids, missing files and validation problems. Every edit goes to
the shared :class:`FilterModel`, which applies it (debounced) to the viewer
state; the panel shows the filter's summary and how many images match.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QObject,
    QSignalBlocker,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStyleOptionViewItem,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from cocoview.model.categories import Category
from cocoview.model.dataset import Dataset
from cocoview.model.edits import SetTags
from cocoview.model.filters import CRITERIA, ImageFilter, Match, split_ids
from cocoview.model.tags import file_tags
from cocoview.qt.filter_model import FilterModel
from cocoview.qt.jobs import Jobs
from cocoview.qt.state import ViewerState
from cocoview.qt.widgets import SORT_ROLE, TOP, Index, RowHeightDelegate, color_icon, heading, hint

#: sort key: casefolded name in column 0, the image count in column 1
CATEGORY_ID_ROLE = Qt.ItemDataRole.UserRole + 2
MODES: tuple[tuple[Match, str, str], ...] = (
    ("any", "has any of", "Images with at least one annotation of at least one checked "
     "category."),
    ("all", "has all of", "Images with annotations of every checked category."),
    ("none", "has none of", "Images without any annotation of the checked categories."),
)
SUMMARY_LIMIT = 400  # characters of the summary shown (all of it in the tooltip)


@functools.lru_cache(maxsize=4)  # the panel asks several times per edit; pastes can be big
def parse_ids(text: str) -> tuple[tuple[int, ...] | None, int]:
    """Image ids pasted as text → (ids, how many entries are not ids); ``None``: no id."""
    ids, bad = split_ids(text)
    return (ids or None), len(bad)


# ----- the category picker --------------------------------------------------------
def _image_counts(ds: Dataset) -> list[int]:
    """Images per category, aligned with ``ds.categories`` (0.4 s on COCO-train: a worker's)."""
    return list(ds.category_counts()[1].tolist())


class CategoryChoiceModel(QAbstractTableModel):
    """The dataset's categories (name, images) with check boxes = the filter's categories."""

    COLUMNS = ("Category", "Images")
    #: the image counts arrived (they are computed in a worker)
    countsReady = Signal()

    def __init__(self, filters: FilterModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = Jobs(self)
        self._filters = filters
        self._cats: list[Category] = []
        self._images: list[int] = []  # -1: not counted yet
        self._checked: set[int] = set()
        self._dim = QApplication.palette().color(QPalette.ColorGroup.Disabled,
                                                 QPalette.ColorRole.Text)
        filters.state.datasetChanged.connect(self.reload)
        filters.changed.connect(self._filter_changed)
        filters.state.edited.connect(self._edited)
        self.reload()

    def _edited(self, _edit: object) -> None:
        """An edit (issue 17): the names and image counts of the edited view (kept
        incrementally: nothing is recounted); a merged or deleted category shows 0."""
        edits, view = self._filters.state.model.edits, self._filters.state.view
        if edits is None or view is None or len(view.categories) != len(self._cats):
            return
        cats, images = list(view.categories), edits.images.tolist()
        for r, (cat, n) in enumerate(zip(cats, images, strict=True)):
            if cat.name != self._cats[r].name or n != self._images[r]:  # only those repaint
                self._cats[r], self._images[r] = cat, n
                self.dataChanged.emit(self.index(r, 0), self.index(r, 1))

    def reload(self) -> None:
        self.beginResetModel()
        ds = self._filters.dataset
        self._cats = list(ds.categories) if ds is not None else []
        self._images = [-1] * len(self._cats)
        self._checked = set(self._filters.filter.categories)
        self.endResetModel()
        self._jobs.cancel("counts")  # an older dataset's counts are not this one's
        if ds is not None and self._cats:
            # a failure leaves the column empty; the categories still work
            self._jobs.submit(ds, _image_counts, self._counts_done, lambda _exc: None,
                              channel="counts")

    def _counts_done(self, counts: list[int]) -> None:
        if len(counts) != len(self._cats):
            return
        self._images = counts
        self.dataChanged.emit(self.index(0, 1), self.index(len(self._cats) - 1, 1))
        self.countsReady.emit()

    def counted(self) -> bool:
        """Whether the image counts are in (or failed)."""
        return self._jobs.idle()

    def max_count(self) -> int:
        return max(self._images, default=0)

    def category_id(self, row: int) -> int:
        return self._cats[row].id

    # ----- Qt model -------------------------------------------------------
    def rowCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self._cats)

    def columnCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.InitialSortOrderRole:
            return Qt.SortOrder.DescendingOrder if section else Qt.SortOrder.AscendingOrder
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled
        if index.column() == 0:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        return f

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cat, col = self._cats[index.row()], index.column()
        n = self._images[index.row()]
        R = Qt.ItemDataRole
        if role == R.DisplayRole:
            return cat.name if col == 0 else f"{n:,}" if n >= 0 else ""
        if role == SORT_ROLE:
            return cat.name.casefold() if col == 0 else n
        if role == CATEGORY_ID_ROLE:
            return cat.id
        if role == R.ToolTipRole:
            sup = f" · {cat.supercategory}" if cat.supercategory else ""
            return f"{cat.name} — id {cat.id}{sup}" + (f"\n{n:,} images" if n >= 0 else "")
        if col == 0:
            if role == R.CheckStateRole:
                return Qt.CheckState.Checked if cat.id in self._checked \
                    else Qt.CheckState.Unchecked
            if role == R.DecorationRole:
                return color_icon(cat.color)
        else:
            if role == R.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == R.ForegroundRole and not n:
                return self._dim
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or index.column():
            return False
        on = Qt.CheckState(value) == Qt.CheckState.Checked
        cid = self._cats[index.row()].id
        flt = self._filters.filter
        cats = [c for c in flt.categories if c != cid] + ([cid] if on else [])
        self._filters.set_categories(cats, flt.match)
        return True

    def _filter_changed(self, flt: ImageFilter) -> None:
        checked = set(flt.categories)
        if checked != self._checked:
            self._checked = checked
            if self._cats:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._cats) - 1, 0),
                                      [Qt.ItemDataRole.CheckStateRole])


class _CategoryProxy(QSortFilterProxyModel):
    """Name (substring, any case) or exact id; optionally only the checked rows."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self.checked_only = False
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        self.refilter(lambda: setattr(self, "_text", text.strip().casefold()))

    def set_checked_only(self, on: bool) -> None:
        self.refilter(lambda: setattr(self, "checked_only", on))

    def refilter(self, change: Callable[[], object] = lambda: None) -> None:
        """Apply ``change`` to the filter's settings and filter the rows again."""
        begin = getattr(self, "beginFilterChange", None)
        if begin is None:  # Qt < 6.10
            change()
            self.invalidateFilter()
            return
        begin()
        change()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        src = self.sourceModel()
        ix = src.index(row, 0, parent)
        if self.checked_only and ix.data(Qt.ItemDataRole.CheckStateRole) != \
                Qt.CheckState.Checked:
            return False
        if not self._text:
            return True
        if self._text.isdigit() and str(ix.data(CATEGORY_ID_ROLE)) == self._text:
            return True
        return self._text in str(ix.data(SORT_ROLE))


class _ToggleDelegate(RowHeightDelegate):
    """A click anywhere on a row (or Space) toggles its category."""

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem,
                    index: Index) -> bool:
        t = event.type()
        if t in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            return isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.LeftButton
        hit = (t == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent)
               and event.button() == Qt.MouseButton.LeftButton
               and option.rect.contains(event.position().toPoint()))
        key = (t == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
               and event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Select))
        if not (hit or key):
            return False
        first = model.index(index.row(), 0, index.parent())
        on = first.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        new = Qt.CheckState.Unchecked if on else Qt.CheckState.Checked
        return bool(model.setData(first, new, Qt.ItemDataRole.CheckStateRole))


# ----- the panel ----------------------------------------------------------------------




def _combo(parent: QWidget, items: list[tuple[str, object]], tip: str = "") -> QComboBox:
    box = QComboBox(parent)
    for text, value in items:
        box.addItem(text, value)
    box.setToolTip(tip)
    return box


class FilterPanel(QWidget):
    """Edits the shared :class:`FilterModel`; shows its summary and the matching count."""

    def __init__(self, state: ViewerState, parent: QWidget | None = None, *,
                 model: FilterModel | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.filters = model if model is not None else FilterModel(state, self)
        self._syncing = False
        self._build_header()
        body = QWidget(self)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self._build_categories(body, lay)
        self._build_form(body, lay)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(6)
        outer.addWidget(self.header)
        outer.addWidget(scroll, 1)

        f = self.filters
        f.changed.connect(self._from_model)
        f.applied.connect(self._applied)
        f.busyChanged.connect(self._busy)
        f.progress.connect(self._progress)
        f.failed.connect(self._failed)
        f.followingChanged.connect(lambda _on: self._update_count())
        state.datasetChanged.connect(self._dataset_changed)
        state.edited.connect(self._edited)
        self._tag_jobs = Jobs(self)  # finds the file's image tags (it reads the images)
        self._dataset_changed()
        self._from_model(f.filter)

    def sizeHint(self) -> QSize:
        return QSize(330, 720)

    # ----- construction -------------------------------------------------
    def _build_header(self) -> None:
        self.header = QFrame(self)
        self.header.setObjectName("filter_header")
        self.header.setFrameShape(QFrame.Shape.StyledPanel)
        self.header.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.header.setAutoFillBackground(True)
        self.summary = QLabel(self.header)
        self.summary.setObjectName("filter_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.count_label = QLabel(self.header)
        self.count_label.setObjectName("filter_count")
        self.count_label.setWordWrap(True)  # never cut off in a narrow dock
        self.count_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clear_button = QPushButton("Clear", self.header)
        self.clear_button.setObjectName("filter_clear")
        self.clear_button.setToolTip("Remove every criterion: browse all images (Ctrl+Shift+L)")
        self.clear_button.clicked.connect(self.filters.clear)
        self.note = QLabel(self.header)
        self.note.setObjectName("filter_note")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note.linkActivated.connect(lambda _l: self.filters.apply_now())
        self.note.setVisible(False)
        # the worker's progress (missing files, validation)
        self.busy_label = QLabel(self.header)
        self.progress_bar = QProgressBar(self.header)
        self.progress_bar.setObjectName("filter_progress")
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(self.fontMetrics().height())
        self.cancel_button = QToolButton(self.header)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop and drop the criteria that need this check")
        self.cancel_button.clicked.connect(self.filters.cancel_slow)
        self.busy_row = QWidget(self.header)
        br = QHBoxLayout(self.busy_row)
        br.setContentsMargins(0, 0, 0, 0)
        br.addWidget(self.busy_label)
        br.addWidget(self.progress_bar, 1)
        br.addWidget(self.cancel_button)
        self.busy_row.setVisible(False)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.count_label, 1)
        row.addWidget(self.clear_button)
        lay = QVBoxLayout(self.header)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)
        lay.addWidget(self.summary)
        lay.addLayout(row)
        lay.addWidget(self.note)
        lay.addWidget(self.busy_row)

    def _build_categories(self, body: QWidget, lay: QVBoxLayout) -> None:
        self.choices = CategoryChoiceModel(self.filters, self)
        self.choices.countsReady.connect(self._fit_count_column)
        self.proxy = _CategoryProxy(self)
        self.proxy.setSourceModel(self.choices)
        self.mode = _combo(body, [(text, key) for key, text, _tip in MODES])
        self.mode.setObjectName("filter_mode")
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for k, (_key, _text, tip) in enumerate(MODES):
            self.mode.setItemData(k, tip, Qt.ItemDataRole.ToolTipRole)
        self.mode.currentIndexChanged.connect(self._mode_edited)
        self.mode_hint = hint(body)
        self.cats_count = QLabel(body)
        self.cats_clear = QToolButton(body)
        self.cats_clear.setText("Uncheck all")
        self.cats_clear.setAutoRaise(True)
        self.cats_clear.clicked.connect(lambda: self.filters.set_categories(
            [], self.filters.filter.match))
        self.search = QLineEdit(body)
        self.search.setObjectName("filter_category_search")
        self.search.setPlaceholderText("Find category… (Enter checks it)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search)
        self.search.returnPressed.connect(self._check_first)
        self.checked_only = QCheckBox("Checked only", body)
        self.checked_only.toggled.connect(self._checked_only)

        v = self.cat_view = QTreeView(body)
        v.setObjectName("filter_categories")
        v.setModel(self.proxy)
        v.setRootIsDecorated(False)
        v.setUniformRowHeights(True)
        v.setAlternatingRowColors(True)
        v.setIconSize(QSize(12, 12))
        v.setItemDelegate(_ToggleDelegate(v))
        v.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        v.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        v.setMinimumHeight(150)
        v.setToolTip("Click a category to check or uncheck it")
        h = v.header()
        h.setSortIndicatorClearable(True)
        h.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        v.setSortingEnabled(True)
        h.setStretchLastSection(False)
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Image", body))
        top.addWidget(self.mode)
        top.addWidget(QLabel("the checked categories", body), 1)
        find = QHBoxLayout()
        find.setContentsMargins(0, 0, 0, 0)
        find.addWidget(self.search, 1)
        find.addWidget(self.checked_only)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.cats_count, 1)
        bottom.addWidget(self.cats_clear)
        lay.addWidget(heading("Categories", body))
        lay.addLayout(top)
        lay.addWidget(self.mode_hint)
        lay.addLayout(find)
        lay.addWidget(v, 1)
        lay.addLayout(bottom)

    def _build_form(self, body: QWidget, lay: QVBoxLayout) -> None:
        """One row per criterion that has a :class:`~cocoview.model.filters.Form`, in the
        registry's order, grouped by section: a criterion with choices needs no code here."""
        self.boxes: dict[str, tuple[str, QComboBox]] = {}  # criterion → (field, combo)
        forms: dict[str, QFormLayout] = {}
        labels: list[str] = []
        for crit in CRITERIA:
            spec = crit.form
            if spec is None:
                continue
            form = forms.get(spec.section)
            if form is None:
                form = forms[spec.section] = QFormLayout()
                form.setContentsMargins(0, 0, 0, 0)
                form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
                form.setLabelAlignment(Qt.AlignmentFlag.AlignRight
                                       | Qt.AlignmentFlag.AlignVCenter)
            labels.append(spec.label)
            if spec.kind == "choice":
                box = _combo(body, list(spec.options(None)), spec.tip)
                box.setObjectName(f"filter_{crit.name}")
                box.currentIndexChanged.connect(self._form_edited)
                self.boxes[crit.name] = (crit.fields[0], box)
                form.addRow(spec.label, box)
            elif spec.kind == "range":
                form.addRow(spec.label, self._build_counts(body))
            elif spec.kind == "text":
                self.name = QLineEdit(body)
                self.name.setObjectName("filter_name")
                self.name.setPlaceholderText("substring, or glob: *.png")
                self.name.setClearButtonEnabled(True)
                self.name.setToolTip(spec.tip)
                self.name.textChanged.connect(self._form_edited)
                form.addRow(spec.label, self.name)
            elif spec.kind == "ids":
                self.ids = QPlainTextEdit(body)
                self.ids.setObjectName("filter_ids")
                self.ids.setPlaceholderText("Paste image ids: spaces, commas or new lines")
                self.ids.setTabChangesFocus(True)
                self.ids.setFixedHeight(self.ids.fontMetrics().lineSpacing() * 3 + 12)
                self.ids.textChanged.connect(self._form_edited)
                self.ids_hint = hint(body)
                self.ids_hint.setVisible(False)
                form.addRow(spec.label, self.ids)
                form.addRow("", self.ids_hint)
        # one label column for every section
        width = max(self.fontMetrics().horizontalAdvance(t) for t in labels)
        for section, form in forms.items():
            for r in range(form.rowCount()):
                item = form.itemAt(r, QFormLayout.ItemRole.LabelRole)
                w = item.widget() if item is not None else None
                if w is not None:
                    w.setMinimumWidth(width)
            lay.addSpacing(4)
            lay.addWidget(heading(section, body))
            lay.addLayout(form)

    def _build_counts(self, body: QWidget) -> QHBoxLayout:
        self.min_count = QSpinBox(body)
        self.min_count.setRange(0, 1_000_000)
        self.min_count.setSpecialValueText("any")
        self.max_count = QSpinBox(body)
        self.max_count.setRange(-1, 1_000_000)
        self.max_count.setSpecialValueText("any")
        spin: QSpinBox
        for spin, tip in ((self.min_count, "At least this many annotations"),
                          (self.max_count, "At most this many annotations (0: images "
                                           "without annotations)")):
            spin.setToolTip(tip)
            spin.setAccelerated(True)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("1,000,000") + 36)
            spin.valueChanged.connect(self._form_edited)
        counts = QHBoxLayout()
        counts.setContentsMargins(0, 0, 0, 0)
        counts.addWidget(self.min_count, 1)
        counts.addWidget(QLabel("to", body))
        counts.addWidget(self.max_count, 1)
        return counts

    def box(self, criterion: str) -> QComboBox:
        """The choice box of a criterion of :data:`~cocoview.model.filters.CRITERIA`."""
        return self.boxes[criterion][1]

    def _reload_choices(self) -> None:
        """Choices that depend on the dataset (e.g. its problem codes) are asked again."""
        ds = self.state.view  # with the edits (the tags made so far)
        for crit in CRITERIA:
            if crit.form is None or crit.name not in self.boxes or not callable(
                    crit.form.choices):
                continue
            box = self.box(crit.name)
            value = box.currentData()
            with QSignalBlocker(box):
                box.clear()
                for text, data in crit.form.options(ds):
                    box.addItem(text, data)
                box.setCurrentIndex(max(box.findData(value), 0))
            box.setEnabled(box.count() > 1)  # e.g. the review criteria without results

    # ----- widgets → model ------------------------------------------------
    def _mode_edited(self, k: int) -> None:
        self._update_mode_hint()
        if not self._syncing:
            self.filters.update(match=MODES[k][0])

    def _form_edited(self, *_args: object) -> None:
        if self._syncing:
            return
        lo, hi = self.min_count.value(), self.max_count.value()
        ids, _bad = parse_ids(self.ids.toPlainText())
        self.filters.update(
            min_annotations=lo or None, max_annotations=hi if hi >= 0 else None,
            name=self.name.text(), image_ids=ids,
            **{field: box.currentData() for field, box in self.boxes.values()})
        self._update_ids_hint()

    def _search(self, text: str) -> None:
        self.proxy.set_text(text)

    def _checked_only(self, on: bool) -> None:
        self.proxy.set_checked_only(on)

    def _check_first(self) -> None:
        """Enter in the search field: check the first category shown, then clear the search."""
        if not self.search.text().strip() or not self.proxy.rowCount():
            return
        ix = self.proxy.index(0, 0)
        if ix.data(Qt.ItemDataRole.CheckStateRole) != Qt.CheckState.Checked:
            self.proxy.setData(ix, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
        self.search.clear()

    # ----- model → widgets ------------------------------------------------
    def _from_model(self, flt: ImageFilter) -> None:
        """Show ``flt`` in the widgets (without echoing edits back)."""
        self._syncing = True
        try:
            self.mode.setCurrentIndex([m[0] for m in MODES].index(flt.match))
            for field, box in self.boxes.values():
                box.setCurrentIndex(max(box.findData(getattr(flt, field)), 0))
            self.min_count.setValue(flt.min_annotations or 0)
            self.max_count.setValue(-1 if flt.max_annotations is None else flt.max_annotations)
            if self.name.text() != flt.name:
                self.name.setText(flt.name)
            if parse_ids(self.ids.toPlainText())[0] != flt.image_ids:
                self.ids.setPlainText(" ".join(map(str, flt.image_ids or ())))
        finally:
            self._syncing = False
        if self.checked_only.isChecked():
            self.proxy.refilter()
        self._update_mode_hint()
        self._update_ids_hint()
        self._update_summary()

    def _update_summary(self) -> None:
        flt = self.filters.filter
        text = self.filters.describe()
        shown = text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"
        if flt.is_empty:
            self.summary.setText("<b>No filter</b> — all images")
        else:
            self.summary.setText(f"<b>Filter:</b> {html.escape(shown, quote=False)}")
        self.summary.setToolTip(text)
        n = len(flt.categories)
        self.cats_count.setText(f"{n:,} checked" if n else "None checked: any category")
        self.cats_clear.setEnabled(bool(n))
        self.clear_button.setEnabled(not flt.is_empty or not self.filters.following)

    def _update_mode_hint(self) -> None:
        self.mode_hint.setText(MODES[max(self.mode.currentIndex(), 0)][2])

    def _update_ids_hint(self) -> None:
        ids, bad = parse_ids(self.ids.toPlainText())
        ds = self.state.dataset
        parts: list[str] = []
        if ids:
            parts.append(f"{len(ids):,} id{'s' * (len(ids) != 1)}")
            if ds is not None:
                unknown = int((~np.isin(np.asarray(ids, np.int64), ds.image_ids)).sum())
                if unknown:
                    parts.append(f"{unknown:,} not in the dataset")
        if bad:
            parts.append(f"{bad:,} entr{'ies' if bad != 1 else 'y'} ignored (not ids)")
        self.ids_hint.setText(" · ".join(parts))
        self.ids_hint.setVisible(bool(parts))

    def _applied(self, matched: int, total: int) -> None:
        self._update_count()

    def _edited(self, edit: object) -> None:
        """An edit (issue 17): a tag may be a new choice; deleted images leave the counts."""
        if isinstance(edit, SetTags):
            self._reload_choices()
        self._update_count()

    def _update_count(self) -> None:
        ds = self.state.dataset
        total = len(ds.image_ids) if ds is not None else 0
        matched = self.filters.matched
        edits = self.state.model.edits
        if edits is not None:  # deleted images are in no count (and left the list)
            total -= int(edits.image_deleted.sum())
            if self.filters.list_is_result:
                matched = len(self.state.image_list)
        self.count_label.setText(
            f"{matched:,} of {total:,} images match" if ds is not None
            else "No dataset open")
        following = self.filters.following
        if not following:
            label = html.escape(self.state.image_list_label)
            self.note.setText(f"The image list now shows “{label}”, set elsewhere. "
                              "<a href='apply'>Apply this filter</a>")
        self.note.setVisible(not following)
        self._update_summary()

    def _busy(self, what: str) -> None:
        self.busy_row.setVisible(bool(what))
        self.busy_label.setText(what)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        if what:
            self.count_label.setText("Counting…")
        else:
            self._update_count()

    def _progress(self, frac: float) -> None:
        if frac < 0:
            self.progress_bar.setRange(0, 0)  # busy: no progress to show
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(frac * 1000))

    def _failed(self, message: str) -> None:
        self.note.setText(html.escape(message))
        self.note.setVisible(True)

    def _fit_count_column(self) -> None:
        fm = self.cat_view.fontMetrics()
        text = max(f"{max(self.choices.max_count(), 0):,}", "Images", key=fm.horizontalAdvance)
        self.cat_view.header().resizeSection(1, fm.horizontalAdvance(text) + 28)

    def _dataset_changed(self) -> None:
        self._fit_count_column()
        self.search.clear()
        has = self.state.dataset is not None
        self._reload_choices()
        self._tag_jobs.cancel("tags")
        if self.state.dataset is not None:  # the tags saved in the file, then their choices
            self._tag_jobs.submit(self.state.dataset, file_tags,
                                  lambda _t: self._reload_choices(), lambda _exc: None,
                                  channel="tags")
        boxes = [box for _field, box in self.boxes.values()]
        for w in (self.mode, self.search, self.checked_only, self.cat_view, self.min_count,
                  self.max_count, self.name, self.ids, *boxes):
            w.setEnabled(has)
        self._update_count()
        self._update_ids_hint()

    # ----- API ------------------------------------------------------------
    def focus_categories(self) -> None:
        """Put the cursor in the category search field."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def shutdown(self) -> None:
        """Stop the filter's worker (call from the window's closeEvent)."""
        self.filters.shutdown()
