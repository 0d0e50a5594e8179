"""The Problems dock: every problem of the dataset, grouped by code and severity with
counts, filtered by severity, code and category; a click shows the image and selects
the annotation; the list exports as CSV or JSON.

The validation runs in a worker (the one job pattern of ``qt/jobs.py``); the problems
of each check reach the dock as that check ends (the validator's ``found`` callback
fills a list that a timer drains on the GUI thread), so a long validation shows what
it has found while it runs. The table is an item model over the
:class:`~cocoview.model.problem_list.ProblemList`'s arrays: an index array per filter,
no object per row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cocoview.model.dataset import Dataset
from cocoview.model.errors import Problem, Severity
from cocoview.model.health import DEFAULT, HealthOptions
from cocoview.model.problem_list import NONE, Locator, ProblemList
from cocoview.qt.health_options import HealthOptionsDialog, load_options, save_options
from cocoview.qt.inspector_views import severity_icon
from cocoview.qt.jobs import Jobs
from cocoview.qt.settings import app_settings, cache_enabled
from cocoview.qt.state import ViewerState
from cocoview.qt.widgets import TOP, Index

COLUMNS = ("", "Code", "Message", "Category", "Image", "Annotation")
SEVERITIES: tuple[tuple[str, Severity], ...] = (
    ("All severities", Severity.INFO), ("Warnings and errors", Severity.WARNING),
    ("Errors only", Severity.ERROR))
GROUP_ROLE = Qt.ItemDataRole.UserRole + 2


Batch = tuple[list[Problem], np.ndarray]  # problems and their annotation rows


def _validate(ds: Dataset, report: Callable[[float], None], check_files: bool,
              allow_outside: bool, sink: list[Batch],
              options: HealthOptions = DEFAULT, cache: bool = True) -> int:
    """The worker: a full validation, each check's problems (located) appended to
    ``sink``; a big dataset's in a child process (the GUI thread keeps the GIL)."""
    from cocoview.model import validate_process as vp
    from cocoview.model.validate import validate_report

    locator = Locator(ds)

    last = [0.0]

    def progress(done: int, total: int) -> None:
        # at most ~8 reports a second: each is a signal the GUI thread handles, which
        # waits for the GIL this worker holds (an edit made meanwhile waited too)
        now = time.monotonic()
        if now - last[0] >= 0.12 or done >= total:
            last[0] = now
            report(done / total if total else -1.0)

    def found(problems: list[Problem]) -> None:
        sink.append((problems, locator.rows(problems)))

    if len(ds.anns) >= vp.MIN_ANNOTATIONS:
        fraction = [0.0]

        def child_progress(done: int, total: int) -> None:
            fraction[0] = done / total if total else -1.0
            report(fraction[0])

        try:
            req = vp.request_for(ds, check_files, allow_outside, options, cache)
            return vp.validate_in_child(req, found, child_progress,
                                        poll=lambda: report(fraction[0]))
        except vp.Unavailable:
            pass  # checked here instead
    rep = validate_report(ds, check_files=check_files, allow_outside=allow_outside,
                          progress=progress, found=found, options=options)
    return len(rep.problems)


class ProblemTableModel(QAbstractTableModel):
    """The rows of a :class:`ProblemList` picked by an index array."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.problems: ProblemList | None = None
        self.rows = np.zeros(0, np.int64)

    def set_rows(self, problems: ProblemList | None, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.problems, self.rows = problems, rows
        self.endResetModel()

    def rowCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def problem_index(self, row: int) -> int:
        return int(self.rows[row])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        pl = self.problems
        if pl is None or not index.isValid():
            return None
        i = int(self.rows[index.row()])
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            p = pl.problems[i]
            if col == 0:
                return None  # the severity is the icon (and the tooltip)
            if col == 1:
                return p.code
            if col == 2:
                return p.message
            if col == 3:
                return pl.category_name(i)
            if col == 4:
                return "" if p.image_id is None else str(p.image_id)
            return "" if p.annotation_id is None else str(p.annotation_id)
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return severity_icon(pl.problems[i].severity)
        if role == Qt.ItemDataRole.ToolTipRole:
            p = pl.problems[i]
            return "\n".join(x for x in (f"{p.severity}: {p.message}", p.location, p.file)
                             if x)
        return None


class ProblemsDock(QWidget):
    """Every problem of the open dataset; see the module docstring."""

    #: the validation finished (number of problems)
    finished = Signal(int)
    #: an export was written (path, number of problems)
    exported = Signal(str, int)

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._jobs = Jobs(self)
        self._sink: list[Batch] = []
        self.problems: ProblemList | None = None
        self.running = False
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._drain)

        self.status = QLabel("No dataset", self)
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setMaximumHeight(10)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.run_button = QPushButton("Check", self)
        self.run_button.setToolTip("Validate the whole dataset again (image files too when "
                                   "the images folder is known)")
        self.run_button.clicked.connect(self._run_or_cancel)
        self.options = load_options(app_settings())
        self.options_button = QPushButton("Thresholds…", self)
        self.options_button.setToolTip("The thresholds of the duplicate, tiny-box and "
                                       "near-duplicate checks (remembered)")
        self.options_button.clicked.connect(self._options_dialog)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Write the problems shown as CSV or JSON")
        self.export_button.clicked.connect(self._export_dialog)

        self.severity_box = QComboBox(self)
        for text, sev in SEVERITIES:
            self.severity_box.addItem(text, int(sev))
        self.category_box = QComboBox(self)
        self.category_box.addItem("All categories", None)
        self.severity_box.currentIndexChanged.connect(self._refilter)
        self.category_box.currentIndexChanged.connect(self._refilter)

        self.groups = QTreeWidget(self)
        self.groups.setHeaderLabels(["Code", "Severity", "Count"])
        self.groups.setRootIsDecorated(False)
        self.groups.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.groups.itemSelectionChanged.connect(self._refilter)
        self.groups.setMaximumHeight(170)
        gh = self.groups.header()
        gh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        gh.setStretchLastSection(False)

        self.model = ProblemTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        th = self.table.horizontalHeader()
        th.setStretchLastSection(False)
        for col, width in enumerate((26, 140, 360, 90, 80, 100)):
            self.table.setColumnWidth(col, width)
        self.table.clicked.connect(lambda ix: self.jump(ix.row()))
        self.table.activated.connect(lambda ix: self.jump(ix.row()))

        top = QHBoxLayout()  # the buttons under the summary: the dock stays narrow
        top.addWidget(self.run_button)
        top.addWidget(self.options_button)
        top.addWidget(self.export_button)
        top.addStretch(1)
        filters = QHBoxLayout()
        filters.addWidget(self.severity_box)
        filters.addWidget(self.category_box, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.status)
        lay.addLayout(top)
        lay.addWidget(self.progress)
        lay.addLayout(filters)
        lay.addWidget(self.groups)
        lay.addWidget(self.table, 1)
        self.shown_count = QLabel("", self)
        lay.addWidget(self.shown_count)

        state.datasetChanged.connect(self._dataset_changed)
        self._dataset_changed()

    # ----- validation ---------------------------------------------------------------
    def _dataset_changed(self) -> None:
        self._jobs.cancel("validate")
        self._timer.stop()
        self._stopped()
        ds = self._state.dataset
        self.problems = ProblemList(ds) if ds is not None else None
        self._sink = []
        self._rebuild()
        self.status.setText("No dataset" if ds is None else "Not checked yet")
        self.run_button.setEnabled(ds is not None)
        if ds is not None and self.isVisible():
            self.start()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._state.dataset is not None and self.problems is not None and \
                not len(self.problems) and not self.running:
            self.start()

    def start(self) -> None:
        """Validate the open dataset (again) in the worker."""
        ds = self._state.dataset
        if ds is None:
            return
        self.problems = ProblemList(ds)
        sink: list[Batch] = []
        self._sink = sink
        self._rebuild()
        self.running = True
        self.status.setText("Checking the dataset…")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.show()
        check = ds.images_found
        allow = self._state.allow_outside_images

        self.run_button.setText("Cancel")
        work = partial(_validate, check_files=check, allow_outside=allow, sink=sink,
                       options=self.options, cache=cache_enabled())
        self._jobs.submit(ds, work, self._done, self._failed, channel="validate",
                          on_progress=self._on_progress)
        self._timer.start()

    def _run_or_cancel(self) -> None:
        if not self.running:
            self.start()
            return
        self._jobs.cancel("validate")
        self._timer.stop()
        self._drain()
        self._stopped()
        self.status.setText(f"Check cancelled: {self._summary().lower()} so far")

    def _stopped(self) -> None:
        self.running = False
        self.progress.hide()
        self.run_button.setText("Check")

    def set_options(self, opts: HealthOptions) -> None:
        """New thresholds: remembered, and the dataset checked again with them."""
        self.options = opts
        save_options(app_settings(), opts)
        if self._state.dataset is not None:
            self.start()

    def _options_dialog(self) -> None:
        dlg = HealthOptionsDialog(self.options, self)
        if dlg.exec() == HealthOptionsDialog.DialogCode.Accepted and \
                dlg.options() != self.options:
            self.set_options(dlg.options())

    def _on_progress(self, fraction: float) -> None:
        if fraction < 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))

    def _drain(self) -> None:
        got = False
        while self._sink and self.problems is not None:
            problems, rows = self._sink.pop(0)
            self.problems.add(problems, rows)
            got = True
        if got and self.problems is not None:
            self._rebuild()
            if self.running:
                self.status.setText(f"Checking the dataset… {len(self.problems):,} found so far")

    def _done(self, _n: int) -> None:
        self._timer.stop()
        self._drain()
        self._stopped()
        n = len(self.problems) if self.problems is not None else 0
        self.status.setText(self._summary())
        self.finished.emit(n)

    def _failed(self, exc: Exception) -> None:
        self._timer.stop()
        self._stopped()
        self.status.setText(f"The check failed: {exc}")

    def _summary(self) -> str:
        pl = self.problems
        if pl is None:
            return "No dataset"
        if not len(pl):
            return "No problems found"
        sev = pl.severity
        parts = [f"{int((sev == s).sum()):,} {name}" for s, name in
                 ((Severity.ERROR, "errors"), (Severity.WARNING, "warnings"),
                  (Severity.INFO, "notes")) if (sev == s).any()]
        return ", ".join(parts)

    def shutdown(self, msecs: int = 5000) -> bool:
        """Stop the validation (at its next progress report) and wait for the worker."""
        self._timer.stop()
        self._jobs.cancel()
        self.running = False
        return self._jobs.wait(msecs)

    def idle(self) -> bool:
        return not self.running and self._jobs.idle()

    # ----- views --------------------------------------------------------------------
    def _rebuild(self) -> None:
        """The groups and category choices from the problems so far, then the table."""
        pl = self.problems
        picked = {(it.data(0, GROUP_ROLE)) for it in self.groups.selectedItems()}
        self.groups.blockSignals(True)
        self.groups.clear()
        for code, sev, n in (pl.groups() if pl is not None else []):
            it = QTreeWidgetItem([code, str(sev), f"{n:,}"])
            it.setIcon(1, severity_icon(sev))
            it.setData(0, GROUP_ROLE, (code, int(sev)))
            it.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
            self.groups.addTopLevelItem(it)
            if (code, int(sev)) in picked:
                it.setSelected(True)
        self.groups.blockSignals(False)
        current = self.category_box.currentData()
        self.category_box.blockSignals(True)
        self.category_box.clear()
        self.category_box.addItem("All categories", None)
        for cid, name, n in (pl.categories() if pl is not None else []):
            self.category_box.addItem(f"{name}  ({n:,})", cid)
        self.category_box.setCurrentIndex(max(self.category_box.findData(current), 0))
        self.category_box.blockSignals(False)
        self._refilter()

    def selected_groups(self) -> list[tuple[str, int]]:
        return [it.data(0, GROUP_ROLE) for it in self.groups.selectedItems()]

    def select_code(self, code: str) -> None:
        """Show only the problems of ``code`` (every severity of it)."""
        for k in range(self.groups.topLevelItemCount()):
            it = self.groups.topLevelItem(k)
            if it is not None:
                it.setSelected(it.data(0, GROUP_ROLE)[0] == code)

    def shown(self) -> np.ndarray:
        """The indices (into the ProblemList) of the rows shown."""
        return self.model.rows

    def _refilter(self) -> None:
        pl = self.problems
        if pl is None:
            self.model.set_rows(None, np.zeros(0, np.int64))
            self.shown_count.setText("")
            return
        rows = pl.select(Severity(int(self.severity_box.currentData())),
                         category_id=self.category_box.currentData())
        groups = self.selected_groups()
        if groups and len(rows):
            key = pl.code[rows].astype(np.int64) * 3 + pl.severity[rows]
            wanted = [pl.codes.index(c) * 3 + s for c, s in groups if c in pl.codes]
            rows = rows[np.isin(key, wanted)]
        self.model.set_rows(pl, rows)
        self.shown_count.setText(f"{len(rows):,} of {len(pl):,} problems shown")

    # ----- actions ------------------------------------------------------------------
    def jump(self, row: int) -> None:
        """Show the image of the problem in table row ``row`` and select its annotation."""
        pl, ds = self.problems, self._state.dataset
        if pl is None or ds is None or not 0 <= row < len(self.model.rows):
            return
        i = self.model.problem_index(row)
        image_id = int(pl.image_id[i])
        if image_id == NONE or ds.image_rows(np.asarray([image_id]))[0] < 0:
            return
        self._state.set_current_image(image_id)
        ann_row = int(pl.annotation_row[i])
        if ann_row >= 0 and int(ds.anns.image_id[ann_row]) == image_id:
            self._state.select(ann_row)

    def _export_dialog(self) -> None:
        if self.problems is None or not len(self.model.rows):
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export problems", "problems.csv",
                                              "CSV (*.csv);;JSON (*.json)")
        if path:
            self.export(path)

    def export(self, path: str | Path) -> None:
        """Write the rows shown to ``path`` (CSV, or JSON for ``.json``) in the worker."""
        ds, pl = self._state.dataset, self.problems
        if ds is None or pl is None:
            return
        rows = self.model.rows.copy()
        target = str(path)

        def work(_d: Dataset) -> int:
            return pl.write(target, rows)

        self._jobs.submit(ds, work, lambda n: self._exported(target, n),
                          lambda exc: self.status.setText(f"Export failed: {exc}"),
                          channel="export")

    def _exported(self, path: str, n: int) -> None:
        self.status.setText(f"Wrote {n:,} problems to {path}")
        self.exported.emit(path, n)
