"""File → Export…: write the browsed image list as ids, names, paths or a COCO subset.

Optionally split into parts (``train=0.8,val=0.2``, seed, stratified by
category) with a preview of every category's images per part, computed in a
worker; shares more than :data:`SHARE_TOLERANCE` off their part's ratio are
highlighted for categories with at least :data:`MIN_IMAGES` images. Writing
runs in a worker too (the model writes atomically: an error leaves nothing
behind); an existing output is overwritten only after a confirmation. The
dialog remembers its settings.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QObject,
    QSettings,
    QSize,
    QSortFilterProxyModel,
    QStandardPaths,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cocoview.model.dataset import Dataset
from cocoview.model.export import (
    FORMATS,
    ExportRequest,
    Format,
    category_rows,
    suffix,
    write_table,
)
from cocoview.model.safe_write import WriteError
from cocoview.model.split import SplitError, parse_split, split_images
from cocoview.qt.jobs import Jobs
from cocoview.qt.settings import app_settings
from cocoview.qt.state import ViewerState
from cocoview.qt.widgets import SORT_ROLE, TOP, Index

#: a part's share of a category may differ from the part's ratio by this much…
SHARE_TOLERANCE = 0.05
#: …for categories with at least this many images
MIN_IMAGES = 20
FORMAT_TEXT: dict[str, str] = {
    "ids": "Image ids, one per line (.txt)",
    "names": "File names, one per line (.txt)",
    "paths": "Image paths, one per line (.txt)",
    "coco": "COCO subset: images and their annotations (.json)",
}
DEFAULT_SPLIT = "train=0.8, val=0.2"
TOTAL_ROLE = Qt.ItemDataRole.UserRole + 2
_OFF = QColor(255, 196, 120, 110)  # an off-target share: readable on light and dark


def export_folder(settings: QSettings) -> Path:
    """Where exports go by default: the folder of the last export, else Documents (else
    home) — not the data folder, which may be read-only or shared."""
    last = str(settings.value("export/dir", "") or "")
    if last and Path(last).is_dir():
        return Path(last)
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs) if docs and Path(docs).is_dir() else Path.home()


def _message(exc: Exception) -> str:
    """What the user reads of a failed job: expected failures plainly, a bug with its type."""
    if isinstance(exc, (WriteError, SplitError, OSError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def preview_rows(ds: Dataset, ids: np.ndarray, parts: list[tuple[str, float]] | None,
                 seed: int, stratify: bool) -> list[dict[str, Any]]:
    """The per-category table (see :func:`cocoview.model.split.category_table`)."""
    if parts is None:
        return category_rows(ds, {"all": ids})
    return category_rows(ds, split_images(ds, ids, parts, seed, stratify))


# ----- the preview table ----------------------------------------------------------------
class SplitTableModel(QAbstractTableModel):
    """Category, images, and per part its images and share; the totals row first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self._parts: list[tuple[str, float]] = []
        self._columns: list[tuple[str, str]] = []  # (header, key)
        self._bold = QFont()
        self._bold.setBold(True)
        self._set_columns()

    def _set_columns(self) -> None:
        self._columns = [("Category", "name"), ("Images", "total")]
        for name, _ratio in self._parts:
            self._columns += [(name, name), (f"{name} %", f"{name}_share")]

    def set_rows(self, rows: list[dict[str, Any]], parts: list[tuple[str, float]]) -> None:
        """``rows`` from ``category_table`` (the totals row last, id None) → totals first."""
        self.beginResetModel()
        totals = [r for r in rows if r.get("id") is None]
        self._rows = totals + [r for r in rows if r.get("id") is not None]
        self._parts = list(parts)
        self._set_columns()
        self.endResetModel()

    def rows(self) -> list[dict[str, Any]]:
        """The rows as ``category_table`` gave them (totals last): what the CSV holds."""
        return [r for r in self._rows if r.get("id") is not None] + \
            [r for r in self._rows if r.get("id") is None]

    def off_target(self) -> list[str]:
        """Names of the categories with a share off its target (see :func:`is_off`)."""
        return [str(r["name"]) for r in self._rows if r.get("id") is not None
                and any(self.is_off(r, name, ratio) for name, ratio in self._parts)]

    @staticmethod
    def is_off(row: dict[str, Any], part: str, ratio: float) -> bool:
        total = int(row.get("total") or 0)
        share = float(row.get(f"{part}_share") or 0.0)
        return row.get("id") is not None and total >= MIN_IMAGES \
            and abs(share - ratio) > SHARE_TOLERANCE

    # ----- Qt model -------------------------------------------------------
    def rowCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section][0]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int((Qt.AlignmentFlag.AlignRight if section else Qt.AlignmentFlag.AlignLeft)
                       | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and section >= 2:
            name, ratio = self._parts[(section - 2) // 2]
            return (f"images of the category in {name}" if section % 2 == 0 else
                    f"share of the category's images in {name} (target {ratio:.0%})")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self._rows[index.row()], index.column()
        key = self._columns[col][1]
        value = row.get(key)
        R = Qt.ItemDataRole
        is_total = row.get("id") is None
        if role == R.DisplayRole:
            if col == 0:
                return "All images" if is_total else str(value)
            if key.endswith("_share"):
                return f"{float(value or 0.0) * 100:.1f} %"
            return f"{int(value or 0):,}"
        if role == SORT_ROLE:
            return str(value).casefold() if col == 0 else float(value or 0)
        if role == TOTAL_ROLE:
            return is_total
        if role == R.FontRole and is_total:
            return self._bold
        if role == R.TextAlignmentRole and col:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        off = self._off_part(row, key)
        if off is not None:
            name, ratio = off
            if role == R.BackgroundRole:
                return _OFF
            if role == R.ToolTipRole:
                return (f"{row['name']}: {float(row[f'{name}_share']):.1%} of its "
                        f"{int(row['total']):,} images are in {name}; the target is "
                        f"{ratio:.0%} (more than {SHARE_TOLERANCE:.0%} off)")
        if role == R.ToolTipRole and col == 0 and not is_total:
            return f"{value} — id {row['id']}"
        return None

    def _off_part(self, row: dict[str, Any], key: str) -> tuple[str, float] | None:
        for name, ratio in self._parts:
            if key in (name, f"{name}_share") and self.is_off(row, name, ratio):
                return name, ratio
        return None


class _TotalsFirstProxy(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE`, keeping the totals row on top in either order."""

    def lessThan(self, left: Index, right: Index) -> bool:
        lt, rt = bool(left.data(TOTAL_ROLE)), bool(right.data(TOTAL_ROLE))
        if lt or rt:
            up = self.sortOrder() == Qt.SortOrder.AscendingOrder
            return lt and not rt if up else rt and not lt
        return bool(left.data(SORT_ROLE) < right.data(SORT_ROLE))


# ----- the dialog -------------------------------------------------------------------
class ExportDialog(QDialog):
    """Export the browsed image list (``state.image_list``), whole or split."""

    #: the files written
    exported = Signal(list)

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export images")
        self.setObjectName("export_dialog")
        self.state = state
        self.ds = state.dataset
        self.ids = np.asarray(state.image_list, np.int64).copy()
        self.settings = app_settings()
        self.busy = False
        self.written: list[Path] = []
        self._jobs = Jobs(self)
        self._preview_job = 0  # the preview wanted (older results are dropped)
        self._request: ExportRequest | None = None
        self.confirm_box: QMessageBox | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._start_preview)
        self._build()
        self._restore()
        self._connect()
        self._split_mode_changed()
        self._start_preview()

    def sizeHint(self) -> QSize:
        return QSize(760, 680)

    # ----- construction -------------------------------------------------
    def _build(self) -> None:
        n, total = len(self.ids), (len(self.ds.image_ids) if self.ds is not None else 0)
        label = html.escape(self.state.image_list_label)
        self.what = QLabel(f"Exports the image list being browsed: <b>{n:,}</b> of "
                           f"{total:,} images — {label}", self)
        self.what.setObjectName("export_what")
        self.what.setWordWrap(True)
        self.what.setTextFormat(Qt.TextFormat.RichText)

        self.format = QComboBox(self)
        self.format.setObjectName("export_format")
        for fmt in FORMATS:
            self.format.addItem(FORMAT_TEXT.get(fmt, fmt), fmt)
        self.split = QCheckBox("Split into parts", self)
        self.split.setObjectName("export_split")
        self.parts = QLineEdit(self)
        self.parts.setObjectName("export_parts")
        self.parts.setPlaceholderText(DEFAULT_SPLIT)
        self.parts.setToolTip("Two or three parts NAME=RATIO, ratios summing to 1, e.g.\n"
                              "train=0.8, val=0.2 or train=0.7, val=0.15, test=0.15.\n"
                              "Each part becomes a file NAME.txt / NAME.json.")
        self.seed = QSpinBox(self)
        self.seed.setObjectName("export_seed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed and images give the same split, on any machine")
        self.seed.setMinimumWidth(self.seed.fontMetrics().horizontalAdvance("2147483647") + 36)
        self.stratify = QCheckBox("Stratify by category", self)
        self.stratify.setObjectName("export_stratify")
        self.stratify.setToolTip("Give every category about the same share of its images in "
                                 "each part\n(iterative stratification over the images' "
                                 "categories)")
        seed_row = QHBoxLayout()
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.addWidget(self.seed)
        seed_row.addSpacing(16)
        seed_row.addWidget(self.stratify)
        seed_row.addStretch(1)

        self.output = QLineEdit(self)
        self.output.setObjectName("export_output")
        self.browse = QPushButton("Browse…", self)
        self.browse.setObjectName("export_browse")
        out_row = QHBoxLayout()
        out_row.setContentsMargins(0, 0, 0, 0)
        out_row.addWidget(self.output, 1)
        out_row.addWidget(self.browse)
        self.output_label = QLabel("Output file:", self)
        self.files_hint = QLabel(self)
        self.files_hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.files_hint.setWordWrap(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow("Format:", self.format)
        form.addRow("", self.split)
        self.parts_label = QLabel("Parts:", self)
        form.addRow(self.parts_label, self.parts)
        self.seed_label = QLabel("Seed:", self)
        form.addRow(self.seed_label, seed_row)
        form.addRow(self.output_label, out_row)
        form.addRow("", self.files_hint)
        # room for the longest label, so the form does not jump when it changes
        self.output_label.setMinimumWidth(
            self.fontMetrics().horizontalAdvance("Output folder:") + 4)

        # preview
        self.preview_box = QGroupBox("Images per category", self)
        self.table_model = SplitTableModel(self)
        self.table_proxy = _TotalsFirstProxy(self)
        self.table_proxy.setSourceModel(self.table_model)
        t = self.table = QTableView(self.preview_box)
        t.setObjectName("export_table")
        t.setModel(self.table_proxy)
        t.setSortingEnabled(True)
        t.horizontalHeader().setSortIndicatorClearable(True)
        t.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        t.setAlternatingRowColors(True)
        t.setShowGrid(False)
        t.setWordWrap(False)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 8)
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        t.horizontalHeader().setStretchLastSection(False)
        self.preview_status = QLabel(self.preview_box)
        self.preview_status.setObjectName("export_preview_status")
        self.preview_status.setWordWrap(True)
        self.save_table = QPushButton("Save Table as CSV…", self.preview_box)
        self.save_table.setObjectName("export_save_table")
        self.save_table.setEnabled(False)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.preview_status, 1)
        bottom.addWidget(self.save_table, 0, Qt.AlignmentFlag.AlignTop)
        pv = QVBoxLayout(self.preview_box)
        pv.addWidget(t, 1)
        pv.addLayout(bottom)

        self.error = QLabel(self)
        self.error.setObjectName("export_error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        pal = self.error.palette()
        pal.setColor(QPalette.ColorRole.WindowText, QColor("#d93025"))
        self.error.setPalette(pal)
        self.error.setVisible(False)

        self.busy_bar = QProgressBar(self)
        self.busy_bar.setObjectName("export_busy")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setFixedWidth(160)
        self.busy_label = QLabel(self)
        self.busy_bar.setVisible(False)
        self.busy_label.setVisible(False)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("export_button")
        self.export_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        row = QHBoxLayout()
        row.addWidget(self.busy_bar)
        row.addWidget(self.busy_label, 1)
        row.addWidget(self.buttons)

        lay = QVBoxLayout(self)
        lay.setSpacing(10)
        lay.addWidget(self.what)
        lay.addLayout(form)
        lay.addWidget(self.preview_box, 1)
        lay.addWidget(self.error)
        lay.addLayout(row)

    def _connect(self) -> None:
        self.format.currentIndexChanged.connect(self._format_changed)
        self.split.toggled.connect(self._split_toggled)
        self.parts.textChanged.connect(self._preview_edited)
        self.seed.valueChanged.connect(self._preview_edited)
        self.stratify.toggled.connect(self._preview_edited)
        self.output.textChanged.connect(lambda _t: self._validate())
        self.browse.clicked.connect(self.browse_output)
        self.save_table.clicked.connect(self.save_table_dialog)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self.reject)

    # ----- settings -----------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        geo = s.value("export/geometry")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        else:
            self.resize(self.sizeHint())
        fmt = str(s.value("export/format", "ids"))
        self.format.setCurrentIndex(max(self.format.findData(fmt), 0))
        self.split.setChecked(_bool(s.value("export/split", False)))
        self.parts.setText(str(s.value("export/parts", DEFAULT_SPLIT)))
        with contextlib.suppress(TypeError, ValueError):
            self.seed.setValue(int(str(s.value("export/seed", 0))))
        self.stratify.setChecked(_bool(s.value("export/stratify", False)))
        # this dataset's names, in the folder the user last exported to
        self._file = self._default_output(False)
        self._folder = self._default_output(True)
        self.output.setText(self._folder if self.split.isChecked() else self._file)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("export/geometry", self.saveGeometry())
        s.setValue("export/format", self.fmt())
        s.setValue("export/split", self.split.isChecked())
        s.setValue("export/parts", self.parts.text())
        s.setValue("export/seed", self.seed.value())
        s.setValue("export/stratify", self.stratify.isChecked())
        out = self.output.text().strip()
        if out:  # a split's folder is made by the export: the folder it goes in is kept
            s.setValue("export/dir", str(Path(out).expanduser().parent))
        s.sync()

    def _default_output(self, folder: bool) -> str:
        if self.ds is None or not self.ds.paths:
            return ""
        stem = self.ds.paths[0].name.split(".")[0]
        return str(export_folder(self.settings) / (f"{stem}-split" if folder else
                                                    f"{stem}-subset{suffix(self.fmt())}"))

    # ----- reading the form ---------------------------------------------
    def fmt(self) -> Format:
        data = self.format.currentData()
        return data if data in FORMATS else "ids"

    def split_spec(self) -> list[tuple[str, float]] | None:
        """The parts (None: no split); raises :class:`SplitError` for a bad text."""
        if not self.split.isChecked():
            return None
        return parse_split(self.parts.text() or DEFAULT_SPLIT)

    # ----- reacting -------------------------------------------------------
    def _format_changed(self) -> None:
        text = self.output.text().strip()
        if text and not self.split.isChecked():
            p = Path(text)
            if p.suffix.lower() in (".txt", ".json") and p.suffix != suffix(self.fmt()):
                self.output.setText(str(p.with_suffix(suffix(self.fmt()))))
        self._validate()

    def _split_toggled(self, on: bool) -> None:
        # each mode keeps its own path: a file, or a folder of part files
        if on:
            self._file = self.output.text().strip() or self._file
            self.output.setText(self._folder)
        else:
            self._folder = self.output.text().strip() or self._folder
            self.output.setText(self._file)
        self._split_mode_changed()

    def _split_mode_changed(self) -> None:
        on = self.split.isChecked()
        self.output_label.setText("Output folder:" if on else "Output file:")
        self.preview_box.setTitle("Images per category in each part" if on
                                  else "Images per category")
        self._enable()
        self._preview_edited()

    def _preview_edited(self, *_args: object) -> None:
        self._validate()
        self._timer.start()

    def _validate(self) -> bool:
        """Check the form; show the first problem; enable Export when it can go."""
        problem = ""
        spec: list[tuple[str, float]] | None = None
        try:
            spec = self.split_spec()
        except SplitError as exc:
            problem = f"Split: {exc}"
        out = self.output.text().strip()
        if not problem:
            if self.ds is None:
                problem = "No dataset is open."
            elif not len(self.ids):
                problem = "The image list is empty: nothing to export."
            elif not out:
                problem = ("Choose an output folder." if self.split.isChecked()
                           else "Choose an output file.")
        self._show_error(problem)
        if spec is not None and out:
            names = [f"{name}{suffix(self.fmt())}" for name, _ in spec]
            self.files_hint.setText(f"Writes {', '.join(names)} into this folder "
                                    "(created if needed).")
        elif out and self.split.isChecked():
            self.files_hint.setText("Writes one file per part into this folder.")
        elif out:
            self.files_hint.setText("Written atomically: an error leaves no partial file.")
        else:
            self.files_hint.setText("")
        self.export_button.setEnabled(not problem and not self.busy)
        return not problem

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    # ----- preview ------------------------------------------------------
    @Slot()
    def _start_preview(self) -> None:
        self._timer.stop()
        ds = self.ds
        try:
            spec = self.split_spec()
        except SplitError:
            self._preview_job = 0
            self.table_model.set_rows([], [])
            self.preview_status.setText("Fix the split to see the preview.")
            self._enable()
            return
        if ds is None or not len(self.ids):
            self.preview_status.setText("")
            return
        ids, seed, strat = self.ids, self.seed.value(), self.stratify.isChecked()
        self._preview_job = self._submit("preview", lambda d: (
            preview_rows(d, ids, spec, seed, strat), spec))
        self.preview_status.setText("Computing the split…" if spec else "Counting…")
        self.save_table.setEnabled(False)

    def _preview_done(self, ok: bool, result: Any) -> None:
        if not ok:
            self.preview_status.setText(f"Preview failed: {result}")
            return
        rows, spec = result
        parts = spec or []
        self.table_model.set_rows(rows, parts)
        self._fit_columns()
        total: dict[str, Any] = next((r for r in rows if r.get("id") is None), {})
        n_cats = len(rows) - 1
        if not parts:
            self.preview_status.setText(f"{n_cats:,} categories in {len(self.ids):,} images.")
            return
        sizes = ", ".join(f"{name} {int(total.get(name, 0)):,} "
                          f"({float(total.get(f'{name}_share', 0.0)):.1%})"
                          for name, _ in parts)
        off = self.table_model.off_target()
        note = (f"{len(off):,} categor{'ies' if len(off) != 1 else 'y'} with ≥ {MIN_IMAGES} "
                f"images {'are' if len(off) != 1 else 'is'} more than "
                f"{SHARE_TOLERANCE * 100:.0f} points off a part's ratio (highlighted)."
                if off else f"Every category with ≥ {MIN_IMAGES} images is within "
                f"{SHARE_TOLERANCE * 100:.0f} points of each part's ratio.")
        self.preview_status.setText(f"{sizes}. {note}")

    def _fit_columns(self) -> None:
        t = self.table
        fm, hfm = t.fontMetrics(), t.horizontalHeader().fontMetrics()
        h = t.horizontalHeader()
        n_cols = self.table_model.columnCount()
        widths = [0] * n_cols
        biggest = f"{len(self.ids):,}"
        for c in range(1, n_cols):
            head = str(self.table_model.headerData(c, Qt.Orientation.Horizontal))
            sample = "100.0 %" if head.endswith("%") else biggest
            widths[c] = max(fm.horizontalAdvance(sample), hfm.horizontalAdvance(head)) + 28
            h.resizeSection(c, widths[c])
        room = t.viewport().width() - sum(widths)
        h.resizeSection(0, max(room, fm.horizontalAdvance("traffic light") + 40))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.table_model.columnCount():
            self._fit_columns()

    # ----- save table ---------------------------------------------------
    def save_table_dialog(self) -> None:
        start = str(self.settings.value("export/table", "")) or str(
            Path(self.output.text().strip() or str(Path.home())).with_suffix(".csv"))
        path, _ = QFileDialog.getSaveFileName(self, "Save the table as CSV", start,
                                              "CSV (*.csv);;All files (*)")
        if path:
            self.save_table_to(Path(path))

    def save_table_to(self, path: Path) -> None:
        """Write the preview table (the file dialog has confirmed any overwrite)."""
        self.settings.setValue("export/table", str(path))
        rows = self.table_model.rows()
        self._submit("table", lambda _d: write_table(rows, path, force=True))

    # ----- export -------------------------------------------------------
    def browse_output(self) -> None:
        cur = self.output.text().strip()
        if self.split.isChecked():
            path = QFileDialog.getExistingDirectory(self, "Export into folder", cur)
        else:
            fmt = self.fmt()
            filt = "COCO JSON (*.json)" if fmt == "coco" else "Text (*.txt)"
            # we ask about overwriting ourselves (after the dialog, for both modes)
            path, _ = QFileDialog.getSaveFileName(
                self, "Export to file", cur, f"{filt};;All files (*)",
                options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.output.setText(path)

    def request(self, force: bool = False) -> ExportRequest | None:
        """The export the form describes (None, with the problem shown, if it cannot go)."""
        if not self._validate() or self.ds is None:
            return None
        return ExportRequest(self.ids, self.fmt(), Path(self.output.text().strip()),
                             self.split_spec(), self.seed.value(), self.stratify.isChecked(),
                             force)

    def start_export(self, force: bool = False) -> None:
        req = self.request(force)
        if req is None or self.busy:
            return
        self._request = req
        self.save_settings()
        self._set_busy(True, "Checking…" if not force else "Writing…")
        self._submit("export", req.run)

    def _export_done(self, ok: bool, result: Any) -> None:
        self._set_busy(False)
        if not ok:
            self._show_error(f"Export failed: {result}")
            return
        kind, paths = result
        if kind == "exists":
            self.confirm_overwrite(paths)
            return
        self.written = list(paths)
        self.exported.emit(self.written)
        self.accept()

    def confirm_overwrite(self, paths: list[Path]) -> None:
        """Ask before replacing existing files; "Replace" exports again with ``force``."""
        n = len(paths)
        names = "\n".join(str(p) for p in paths[:6]) + ("\n…" if n > 6 else "")
        box = QMessageBox(QMessageBox.Icon.Warning, "Replace existing files?",
                          f"{n} output file{'s' * (n != 1)} already exist{'s' * (n == 1)}. "
                          f"Replace {'them' if n != 1 else 'it'}?",
                          QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("export_confirm")
        box.setInformativeText(names)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        replace.setObjectName("export_replace")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            if box.clickedButton() is replace:
                self.start_export(force=True)

        box.finished.connect(answered)
        self.confirm_box = box
        box.open()

    def _set_busy(self, on: bool, text: str = "") -> None:
        if on != self.busy:
            if on:
                QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            else:
                QApplication.restoreOverrideCursor()
        self.busy = on
        self.busy_bar.setVisible(on)
        self.busy_label.setVisible(on)
        self.busy_label.setText(text)
        self._enable()

    def _enable(self) -> None:
        """Enable what can be used now (nothing while writing)."""
        idle, split = not self.busy, self.split.isChecked()
        w: QWidget
        for w in (self.format, self.split, self.output, self.browse, self.cancel_button):
            w.setEnabled(idle)
        for w in (self.parts, self.parts_label, self.seed, self.seed_label, self.stratify):
            w.setEnabled(idle and split)
        self.save_table.setEnabled(idle and self.table_model.rowCount() > 0
                                   and self._preview_job == 0)
        self._validate()

    # ----- jobs ---------------------------------------------------------
    def _submit(self, kind: str, fn: Callable[[Dataset], object]) -> int:
        """Run ``fn(dataset)`` in the dialog's worker; its result (or its error's message)
        comes back to :meth:`_job_done`. Previews: only the newest one's counts."""
        assert self.ds is not None
        return self._jobs.submit(
            self.ds, fn, lambda result: self._job_done(kind, True, result),
            lambda exc: self._job_done(kind, False, _message(exc)),
            channel="preview" if kind == "preview" else None)

    def _job_done(self, kind: str, ok: bool, result: object) -> None:
        if kind == "preview":
            self._preview_job = 0
            self._preview_done(ok, result)
            self._enable()
        elif kind == "export":
            self._export_done(ok, result)
        elif kind == "table":
            if ok:
                self.preview_status.setText(f"Saved the table to {result}.")
            else:
                self._show_error(f"Cannot save the table: {result}")

    def idle(self) -> bool:
        """No worker is running (tests wait for this)."""
        return self._jobs.idle()

    # ----- closing ------------------------------------------------------
    def reject(self) -> None:
        if self.busy:
            return  # the write finishes first (it cannot be interrupted half-way)
        super().reject()

    def done(self, result: int) -> None:
        self._timer.stop()
        self.save_settings()
        self._jobs.cancel("preview")
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy:
            event.ignore()
            return
        super().closeEvent(event)


def _bool(value: object) -> bool:
    return str(value).lower() in ("true", "1")
