"""The inspector: the current image's annotations and everything about the selected one.

A list of the image's annotations on top (selection two-way bound to
:attr:`ViewerState.selected_row`); below it tabs for the selected annotation
(properties + keypoint table), its raw JSON, the image's metadata and captions,
and the image's validation problems (computed in a worker; results for an image
the user already left are dropped). This module is the panel; what it says is
``inspector_text`` (Qt-free), its item models and small widgets ``inspector_views``.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cocoview.model.errors import Problem, Severity
from cocoview.model.review import (
    Review,
    detection_props,
    found_by,
    ground_truth_props,
    gt_id_in,
)
from cocoview.model.viewer import Item
from cocoview.qt.inspector_text import (  # re-exported: the inspector's API
    _ANN_KEYS,
    JSON_DISPLAY_LIMIT,
    Prop,
    annotation_props,
    extra_props,
    image_props,
    num,
    pretty_json,
)
from cocoview.qt.inspector_views import (  # re-exported: the inspector's API
    ANN_ID_ROLE,
    KIND_ROLE,
    ROW_ROLE,
    WRAP_LIMIT,
    AnnotationListModel,
    KeypointTableModel,
    PropertyGrid,
    _WrapDelegate,
    severity_icon,
)
from cocoview.qt.jobs import Jobs
from cocoview.qt.state import ViewerState
from cocoview.qt.widgets import RowHeightDelegate, heading, row_height

__all__ = ["ROW_ROLE", "AnnotationListModel", "InspectorPanel", "KeypointTableModel",
           "PropertyGrid", "annotation_props", "extra_props", "image_props", "num",
           "pretty_json", "severity_icon"]


class InspectorPanel(QWidget):
    """Annotation list + tabs: Details (properties, keypoints), JSON, Image, Problems."""

    #: the validation problems of an image are ready (image id, problems); the id is
    #: passed as a Python int (``Signal(int)`` would wrap ids above 2³¹)
    problemsReady = Signal(object, list)
    #: the Problems tab's "Set Images Folder…" (shown for an ``image-missing`` problem)
    imagesFolderRequested = Signal()

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._syncing = False
        self._json_text = ""
        self._jobs = Jobs(self)  # validates the current image (it reads image headers)
        self.problems: list[Problem] = []
        #: the evaluation's verdicts (ReviewController.reviewChanged; None: none)
        self.review: Review | None = None

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
        self.list_view.entered.connect(self._list_hovered)
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
        state.edited.connect(self._edited)
        state.selectionChanged.connect(self._selection_changed)
        state.minScoreChanged.connect(lambda _v: self._selection_changed(state.selected_row))
        self.details.itemDoubleClicked.connect(self._link_activated)
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
        self.folder_button = QPushButton("Set Images Folder…", page)
        self.folder_button.setObjectName("problems_folder_button")
        self.folder_button.setToolTip("Point the dataset at the folder of its images (Ctrl+I)")
        self.folder_button.clicked.connect(self.imagesFolderRequested)
        self.folder_button.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.problems_status, 1)
        row.addWidget(self.folder_button)
        lay.addLayout(row)
        lay.addWidget(self.problems_view)
        return page

    # ----- following the state ------------------------------------------------
    def _edited(self, edit: object) -> None:
        """An edit (issue 17): the list, its count and the selection's details show the
        edited view. Only for an edit of the current image (or of a category); only the
        changed parts are made again (one image's rows: cheap)."""
        from cocoview.model import edits as E

        ds, image_id = self._state.dataset, self._state.current_image
        if ds is None or image_id < 0:
            return
        if isinstance(edit, (E.DeleteAnnotation, E.Relabel, E.SetCrowd)):
            r = int(ds.ann_image_row[ds.ann_row(edit.ann_id)])
            if r < 0 or int(ds.image_ids[r]) != image_id:
                return
        elif isinstance(edit, (E.SetTags, E.DeleteImage)):
            view = self._state.view
            if edit.image_id == image_id and isinstance(edit, E.SetTags) and view is not None:
                self.image_grid.set_sections([("Image", image_props(view, image_id))])
            return  # a deleted image is left: the current image changes
        self._syncing = True  # rows removed in place move the view's selection: not ours
        try:
            self.list_model.follow_edit()
        finally:
            self._syncing = False
        self._sync_list(self._state.selected_row)
        self._set_list_title(image_id)
        n = len(self.list_model.rows)
        self.image_grid.set_value("annotations", str(n))
        sel = self._state.selected_row
        if isinstance(edit, (E.Relabel, E.SetCrowd)) and sel != ds.ann_row(edit.ann_id):
            return  # the details shown are of another annotation
        if not isinstance(edit, E.DeleteAnnotation):  # a deleted one leaves the selection
            self._selection_changed(sel)

    def _set_list_title(self, image_id: int) -> None:
        n, n_det = len(self.list_model.rows), len(self.list_model.detections)
        dets = f" · {n_det} detection{'s' * (n_det != 1)}" if n_det else ""
        self.list_title.setText(f"Annotations  ({n}){dets}" if image_id >= 0
                                else "Annotations")

    def _image_changed(self) -> None:
        ds, image_id = self._state.view, self._state.current_image
        self._set_list_title(image_id)
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
        ds = self._state.view
        selected = ds is not None and 0 <= row < len(ds.anns)
        self.details_stack.setCurrentIndex(1 if selected else 0)
        if ds is not None and selected:
            rec = ds.annotation_record(row)
            review = [] if self.review is None else [
                ("Review", ground_truth_props(self.review, row, self._state.min_score))]
            self.details.set_sections([("Annotation", annotation_props(ds, row)), *review,
                                       ("Other fields", extra_props(rec, _ANN_KEYS))])
            self._set_json(rec, f"Annotation {int(ds.anns.id[row])}")
        elif not self._show_detection():
            self.details.set_sections([])
            self._set_json(None, "")
        n_kp = self.keypoint_model.rowCount()
        self.keypoint_box.setVisible(n_kp > 0)
        self.keypoint_title.setText(f"Keypoints  ({n_kp})")

    def set_review(self, review: Review | None) -> None:
        self.review = review
        self.list_model.set_review(review)  # the detections' verdicts in the list
        self._image_changed()

    def _link_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        """A double-click on a "GT #id" value or on "found by" selects that item."""
        ds, rv = self._state.dataset, self.review
        if ds is None or rv is None:
            return
        if item.text(0) == "found by":
            r = found_by(rv, self._state.selected_row)
            if r >= 0:
                self._state.select(r, "detection")
            return
        gid = gt_id_in(item.text(1))
        if gid is None:
            return
        rows = np.flatnonzero(ds.anns.id == gid)
        if len(rows):
            self._state.select(int(rows[0]))

    def _show_detection(self) -> bool:
        """A selected detection: its verdict, match and candidates, and its result JSON."""
        ds, row = self._state.dataset, self._state.selected_detection
        if ds is None or ds.results is None or not 0 <= row < len(ds.results):
            return False
        self.details_stack.setCurrentIndex(1)
        self.details.set_sections([("Detection", detection_props(
            ds, self.review, row, self._state.min_score))])
        n = int(ds.results.anns.ordinal[row]) + 1
        self._set_json(ds.results.record(row), f"Detection (result {n:,} of the file)")
        return True

    def _sync_list(self, row: int) -> None:
        """Select ``row`` in the list without telling the state again."""
        sm = self.list_view.selectionModel()
        det = self._state.selected_detection
        pos = self.list_model.position(row) if row >= 0 else \
            self.list_model.detection_position(det) if det >= 0 else -1
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
        if indexes and indexes[0].data(KIND_ROLE) == "detection":
            self._state.select(int(indexes[0].data(ROW_ROLE)), "detection")
            return
        self._state.select(int(indexes[0].data(ROW_ROLE)) if indexes else -1)

    def _list_hovered(self, index: QModelIndex) -> None:
        row = int(index.data(ROW_ROLE))
        if index.data(KIND_ROLE) == "detection":
            self._state.hover_item(Item("detection", row))
        else:
            self._state.hover(row)

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
        self.folder_button.setVisible(any(p.code == "image-missing" for p in problems))
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
