"""The main window: assembles the canvas, docks, actions and status bar. No domain logic."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QSlider,
    QToolButton,
    QWidget,
)

from cocoview import __version__
from cocoview.model.dataset import Dataset
from cocoview.model.layer_data import DATA_LAYERS, hidden, layers_with_data
from cocoview.qt.actions import SPECS
from cocoview.qt.canvas import Canvas
from cocoview.qt.category_tree import CategoryPanel
from cocoview.qt.editing import EditController
from cocoview.qt.eval_dock import EvalDock
from cocoview.qt.export_dialog import ExportDialog
from cocoview.qt.filter_model import FilterModel
from cocoview.qt.filter_panel import FilterPanel
from cocoview.qt.frames import Frame, FrameLoader
from cocoview.qt.help import about_text, shortcuts_html
from cocoview.qt.image_browser import ImageBrowser
from cocoview.qt.inspector import InspectorPanel
from cocoview.qt.loading import DatasetLoader, OpenRequest, PreviewDataset
from cocoview.qt.presenter import CanvasPresenter
from cocoview.qt.problems_dock import ProblemsDock
from cocoview.qt.review import ReviewController
from cocoview.qt.settings import CACHE_KEY, app_settings, cache_enabled
from cocoview.qt.state import ViewerState
from cocoview.qt.stats_dock import StatsDock
from cocoview.qt.widgets import RevealButton, show_value


@dataclass(frozen=True)
class DockSpec:
    """One dock of the window: a new panel (problems, evaluation) is one more row."""

    key: str
    title: str
    area: Qt.DockWidgetArea
    tab_with: str = ""  # shown as a tab behind this dock
    below: str = ""  # shown under this dock, both visible


Area = Qt.DockWidgetArea
DOCKS: tuple[DockSpec, ...] = (
    DockSpec("images", "Images", Area.LeftDockWidgetArea),
    DockSpec("filter", "Filter", Area.LeftDockWidgetArea, below="images"),
    DockSpec("categories", "Categories", Area.RightDockWidgetArea),
    DockSpec("inspector", "Inspector", Area.RightDockWidgetArea),
    DockSpec("problems", "Problems", Area.RightDockWidgetArea, tab_with="inspector"),
    DockSpec("evaluation", "Evaluation", Area.BottomDockWidgetArea),
    DockSpec("statistics", "Statistics", Area.RightDockWidgetArea, tab_with="inspector"),
)

#: the default height shares of the image list (left column) and the category tree
#: (right column)
DEFAULT_SHARES = (0.58, 0.36)

JSON_FILTER = "COCO JSON (*.json *.json.gz *.gz);;All files (*)"
MAX_RECENT = 10


class MainWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("cocoview")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        # the left docks (Images, Filter) keep the window's height when the Evaluation
        # dock opens at the bottom (it squeezed the image list to two rows)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.state = ViewerState(self)
        self.settings = app_settings()
        self.loader = DatasetLoader(self)
        self.frames = FrameLoader(self)
        self.canvas = Canvas(self.state, self)
        self.setCentralWidget(self.canvas)
        self.presenter = CanvasPresenter(self.state, self.frames, self.canvas, self)
        self.review = ReviewController(self.state, self)  # evaluates opened results
        self.review.reviewChanged.connect(self.canvas.set_review)
        self.review.message.connect(lambda m: self.statusBar().showMessage(m, 15000))
        self.review.shownChanged.connect(lambda _m: self.frames.refresh())  # model A / B
        self.review.comparisonChanged.connect(self._comparison_changed)
        self.pending: OpenRequest | None = None
        self.current: OpenRequest | None = None

        self.filter_model = FilterModel(self.state, self)
        self.browser = ImageBrowser(self.state, self)
        self.filter_panel = FilterPanel(self.state, self, model=self.filter_model)
        self.categories = CategoryPanel(self.state, self, filter_model=self.filter_model)
        self.inspector = InspectorPanel(self.state, self)
        self.problems = ProblemsDock(self.state, self)
        for view in (self.inspector, self.filter_model, self.browser):  # the review's views
            self.review.reviewChanged.connect(view.set_review)
        self.stats = StatsDock(self.state, self, filter_model=self.filter_model)
        self.export_dialog: ExportDialog | None = None
        self.editing = EditController(self)  # undo stack, journal, Save As (issue 17)
        panels: dict[str, QWidget] = {"images": self.browser, "filter": self.filter_panel,
                                      "categories": self.categories,
                                      "inspector": self.inspector, "problems": self.problems,
                                      "evaluation": EvalDock(self.state, self.review,
                                                             self.filter_model, self),
                                      "statistics": self.stats}
        self.docks: dict[str, QDockWidget] = {}
        for spec in DOCKS:
            self.docks[spec.key] = dock = self._dock(spec.title, panels[spec.key], spec.area)
            if spec.tab_with:
                self.tabifyDockWidget(self.docks[spec.tab_with], dock)
            elif spec.below:
                self.splitDockWidget(self.docks[spec.below], dock, Qt.Orientation.Vertical)
        for spec in DOCKS:
            if spec.tab_with:
                self.docks[spec.tab_with].raise_()  # the first of a tab group in front
        self.docks["evaluation"].hide()  # shown once results are evaluated (or View menu)
        self.review.reviewChanged.connect(self._evaluated)
        self.actions_: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status()
        self._connect()
        self.editing.attach(self.actions_)
        self.categories.menu_extenders.append(self.editing.extend_category_menu)
        self.editing.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self._dataset_actions()
        self._restore()

    # ----- construction -------------------------------------------------
    def _evaluated(self, review: object) -> None:
        if review is not None:
            self.docks["evaluation"].show()

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_actions(self) -> None:
        handlers = {
            "open": self.open_dialog, "open_results": self.open_results_dialog,
            "compare_results": self.compare_results_dialog,
            "switch_model": self.review.toggle_shown,
            "open_demo": self.open_demo, "close": self.close_dataset,
            "quit": self.close,
            "next": lambda: self.state.step(1), "prev": lambda: self.state.step(-1),
            "first": self.state.go_first, "last": self.state.go_last,
            "goto": self.goto_dialog, "find": self.browser.focus_search,
            "export": self.export_dialog_open, "clear_filter": self.filter_model.clear,
            "opacity_up": lambda: self.state.set_opacity(self.state.opacity + 0.1),
            "opacity_down": lambda: self.state.set_opacity(self.state.opacity - 0.1),
            "review_mode": self._cycle_review_mode,
            "fit": self.canvas.fit, "actual": self.canvas.actual_size,
            "zoom_in": self.canvas.zoom_in, "zoom_out": self.canvas.zoom_out,
            "zoom_sel": self.canvas.zoom_to_selection,
            "deselect": lambda: self.state.select(-1),
            "use_cache": lambda on: self.settings.setValue(CACHE_KEY, on),
            "clear_cache": self.clear_cache,
            "allow_outside": self.allow_outside_images,
            "set_images": self.set_images_dialog,
            "fullscreen": self.toggle_fullscreen,
            "shortcuts": self.show_shortcuts, "about": self.show_about,
            **self.editing.handlers(),
        }
        for spec in SPECS:
            act = QAction(spec.text, self)
            act.setObjectName(f"action_{spec.key}")
            act.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if spec.tip:
                act.setStatusTip(spec.tip)
            tip = spec.tip or spec.text.replace("&", "").rstrip("…")
            if spec.shortcuts:
                tip += f"  ({QKeySequence(spec.shortcuts[0]).toString()})"
            act.setToolTip(tip)
            act.setCheckable(spec.checkable)
            if spec.key in self.state.layers:
                act.setChecked(self.state.layers[spec.key])
                act.toggled.connect(lambda on, k=spec.key: self.state.set_layer(k, on))
                act.triggered.connect(lambda _on: self._remember_layers())  # the user's
            elif spec.key == "outline_only":
                act.toggled.connect(self.state.set_outline_only)
            elif spec.key == "color_by_instance":
                act.toggled.connect(self.state.set_color_by_instance)
            elif spec.key in handlers:
                if spec.checkable:
                    act.toggled.connect(handlers[spec.key])
                else:
                    act.triggered.connect(handlers[spec.key])
            self.addAction(act)
            self.actions_[spec.key] = act
        self.recent_menu_actions: list[QAction] = []

    def _build_menus(self) -> None:
        bar = self.menuBar()
        menus = {g: bar.addMenu(f"&{g}") for g in ("File", "Edit", "View", "Go", "Help")}
        for spec in SPECS:
            menu = menus[spec.group]
            if spec.key == "use_cache":
                self.recent_menu = menu.addMenu("Open &Recent")
                self.recent_menu.aboutToShow.connect(self._fill_recent)
            if spec.key in ("use_cache", "close", "quit", "save_as", "fit", "opacity_up", "goto",
                            "delete_annotation", "tag_image",
                            "clear_filter", "fullscreen"):
                menu.addSeparator()
            menu.addAction(self.actions_[spec.key])
        menus["View"].addSeparator()
        panels = menus["View"].addMenu("&Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("toolbar_main")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for key in ("open", "prev", "next"):
            tb.addAction(self.actions_[key])
        tb.addSeparator()
        for key in ("fit", "actual"):
            tb.addAction(self.actions_[key])
        tb.addSeparator()
        for key in ("masks", "boxes", "keypoints", "labels", "results", "outline_only",
                    "color_by_instance"):
            tb.addAction(self.actions_[key])
        tb.addSeparator()
        box = QWidget(self)
        box.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        lay = QHBoxLayout(box)
        lay.setContentsMargins(6, 0, 6, 0)
        lay.setSpacing(6)
        lay.addWidget(QLabel("Mask opacity"))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, box)
        self.opacity_slider.setObjectName("opacity_slider")
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setFixedWidth(110)
        self.opacity_slider.setValue(round(self.state.opacity * 100))
        self.opacity_slider.setToolTip("Mask opacity  ([ and ])")
        lay.addWidget(self.opacity_slider)
        lay.addSpacing(12)
        self.score_label = QLabel("Min score")
        lay.addWidget(self.score_label)
        self.score_spin = QDoubleSpinBox(box)
        self.score_spin.setObjectName("min_score")
        self.score_spin.setRange(0.0, 1.0)
        self.score_spin.setSingleStep(0.05)
        self.score_spin.setDecimals(2)
        self.score_spin.setValue(self.state.min_score)
        self.score_spin.setToolTip("Hide detections scoring below this")
        lay.addWidget(self.score_spin)
        tb.addWidget(box)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_pos = QLabel("")
        self.status_size = QLabel("")
        self.status_zoom = QLabel("")
        self.status_index = QLabel("")
        #: which folder the images are read from (and whether any was found there)
        self.status_images = QLabel("")
        self.status_images.setObjectName("status_images")
        sb.addWidget(self.status_images)
        #: what the layer switches and the min score hide on this image
        self.status_hidden = QLabel("")
        self.status_hidden.setObjectName("status_hidden")
        sb.addWidget(self.status_hidden)
        #: after an export: opens the folder of what was written (gone with the message)
        self.reveal = RevealButton(self)
        sb.addPermanentWidget(self.reveal)
        sb.messageChanged.connect(self.reveal.follow)
        for lab in (self.status_pos, self.status_size, self.status_zoom, self.status_index):
            lab.setMinimumWidth(80)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            sb.addPermanentWidget(lab)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setObjectName("cancel_load")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_load)
        # permanent: a status message (an image not found) must not hide a load under way
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)

    def _connect(self) -> None:
        st = self.state
        st.currentImageChanged.connect(lambda _i: self._update_index())
        st.datasetChanged.connect(self._dataset_actions)
        st.imagePolicyChanged.connect(self._show_images_folder)
        st.imageListChanged.connect(self._update_index)
        st.layersChanged.connect(self._sync_layer_actions)
        st.minScoreChanged.connect(lambda _v: self._show_hidden())
        st.visibilityChanged.connect(self._show_hidden)
        st.opacityChanged.connect(self._sync_opacity)
        self.opacity_slider.valueChanged.connect(lambda v: st.set_opacity(v / 100))
        self.score_spin.valueChanged.connect(st.set_min_score)
        st.minScoreChanged.connect(lambda v: show_value(self.score_spin, v))  # both ways
        self.presenter.frameShown.connect(self._on_frame)
        for asker in (self.canvas, self.inspector):  # their "Set Images Folder…" buttons
            asker.imagesFolderRequested.connect(self.set_images_dialog)
        self.frames.failed.connect(lambda _i, msg: self.statusBar().showMessage(msg, 8000))
        self.canvas.cursorMoved.connect(self._on_cursor)
        self.canvas.zoomChanged.connect(lambda z: self.status_zoom.setText(f"{z * 100:.0f} %"))
        self.loader.started.connect(self._on_load_started)
        self.loader.progress.connect(self._on_load_progress)
        self.loader.preview.connect(self._on_preview)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.cancelled.connect(lambda _r: self._end_progress(self._cancelled_text()))

    # ----- opening ------------------------------------------------------
    def open_files(self, files: list[Path], images: Path | None = None,
                   results: Path | None = None, label: str = "",
                   compare: Path | None = None) -> None:
        """Open annotation ``files`` (with a ``results`` file: model A; and ``compare``:
        model B, added once the dataset is open)."""
        if not self.editing.may_leave(
                lambda: self.open_files(files, images, results, label, compare)):
            return  # unsaved edits: the user cancelled, or Save As runs first
        if images is None and files:
            images = self.remembered_images_folder(Path(files[0]))
        req = OpenRequest(tuple(Path(f) for f in files), images, results, label,
                          cache=self.actions_["use_cache"].isChecked(),
                          compare=Path(compare) if compare is not None else None)
        self.pending = req
        self.loader.open(req)

    def open_dialog(self) -> None:
        start = str(self.settings.value("last_dir", str(Path.home())))
        files, _ = QFileDialog.getOpenFileNames(self, "Open COCO annotations", start,
                                                JSON_FILTER)
        if files:
            self.settings.setValue("last_dir", str(Path(files[0]).parent))
            self.open_files([Path(f) for f in files])

    def open_results_dialog(self) -> None:
        if self.current is None:
            QMessageBox.information(self, "Open results", "Open a ground-truth file first.")
            return
        start = str(self.settings.value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open detection results", start, JSON_FILTER)
        if path:
            cur = self.current
            self.open_files(list(cur.files), cur.images, Path(path), cur.label)

    def compare_results_dialog(self) -> None:
        if self.state.dataset is None or self.state.dataset.results is None:
            QMessageBox.information(self, "Add results for comparison",
                                    "Open a ground-truth file and a results file first.")
            return
        start = str(self.settings.value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Results to compare (model B)", start,
                                              JSON_FILTER)
        if path:
            self.review.add_comparison(Path(path))

    def open_demo(self) -> None:
        from cocoview.resources import demo_files

        self.open_files(demo_files(), label="demo dataset")

    def cancel_load(self) -> None:
        self.loader.cancel()
        self._end_progress(self._cancelled_text())

    def _cancelled_text(self) -> str:
        if isinstance(self.state.dataset, PreviewDataset):  # its images stay
            return "Opening cancelled: only the images are shown, without annotations"
        return "Opening cancelled"

    def close_dataset(self) -> None:
        if not self.editing.may_leave(self.close_dataset):
            return
        self.current = None
        self.state.set_dataset(None)  # the presenter clears the frames and the canvas
        self.setWindowTitle("cocoview")

    @Slot(object)
    def _on_load_started(self, req: OpenRequest) -> None:
        self.progress.setValue(0)
        self.progress.setFormat(f"Opening {req.describe()}… %p%")
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)

    @Slot(float, str)
    def _on_load_progress(self, frac: float, what: str) -> None:
        self.progress.setValue(int(frac * 1000))
        self.progress.setToolTip(what)

    @Slot(object, object)
    def _on_preview(self, req: OpenRequest, ds: PreviewDataset) -> None:
        """A big file's images, while its annotations are indexed (issue 18)."""
        self._layers_for_new_dataset()
        self.state.set_dataset(ds)
        self._show_images_folder()
        for w in (self.actions_["results"], self.score_label, self.score_spin):
            w.setEnabled(False)
        self.setWindowTitle(f"{req.describe()} (reading the annotations…) — cocoview")
        self.progress.setFormat("Reading the annotations… %p%")

    @Slot(object, object)
    def _on_loaded(self, req: OpenRequest, ds: Dataset) -> None:
        self._end_progress(f"Opened {req.describe()}: {len(ds.image_ids):,} images, "
                           f"{len(ds.anns):,} annotations")
        self.current = req
        self.pending = None
        shown = isinstance(self.state.dataset, PreviewDataset)
        at = self.state.current_image if shown else -1  # the image the preview is on
        if not shown:
            self._layers_for_new_dataset()
        self.state.set_dataset(ds)  # the presenter hands it to the frame workers first
        if at >= 0 and at != self.state.current_image and ds.image_rows([at])[0] >= 0:
            self.state.set_current_image(at)
        self._show_images_folder()
        has_results = ds.results is not None
        for w in (self.actions_["results"], self.score_label, self.score_spin):
            w.setEnabled(has_results)
        self.setWindowTitle(f"{req.describe()}[*] — cocoview")  # [*]: unsaved edits
        if req.label != "demo dataset":
            self._add_recent(req)
        if req.compare is not None and has_results:
            self.review.add_comparison(req.compare)  # model B, as when it was added

    def _comparison_changed(self, comp: object) -> None:
        """Model B was added: the recent entry of this dataset brings it back too."""
        b = self.review.models.get("b")
        cur = self.current
        if comp is None or b is None or cur is None or cur.label == "demo dataset":
            return
        path = Path(b.file.path)
        if cur.compare is not None and cur.compare.resolve() == path.resolve():
            return
        self._add_recent(replace(cur, compare=path), instead_of=cur)
        self.current = replace(cur, compare=path)

    @Slot(object, str)
    def _on_load_failed(self, req: OpenRequest, message: str) -> None:
        self._end_progress("Opening failed")
        self.pending = None
        text = f"cocoview could not open {req.describe()}."
        if isinstance(self.state.dataset, PreviewDataset):  # its images stay on show
            text = f"cocoview could not read the annotations of {req.describe()}; " \
                   "only its images are shown."
            self.setWindowTitle(f"{req.describe()} (images only) — cocoview")
        box = QMessageBox(QMessageBox.Icon.Critical, "Cannot open dataset", text, parent=self)
        box.setInformativeText(message)
        box.setObjectName("load_error")
        box.open()

    def _end_progress(self, message: str) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.statusBar().showMessage(message, 10000)

    # ----- recent files -------------------------------------------------
    # An entry is one settings string: the annotation files' paths, one a line, then
    # "results\t<path>" (model A) and "compare\t<path>" (model B) lines if opened with
    # them (entries of earlier versions are paths only).
    def recent(self) -> list[list[str]]:
        value = self.settings.value("recent", [])
        items = value if isinstance(value, list) else [value] if value else []
        out: list[list[str]] = []
        for v in items:
            parts = [p for p in str(v).split("\n") if p]
            if parts:
                out.append(parts)
        return out

    @staticmethod
    def _recent_entry(req: OpenRequest) -> str:
        lines = [str(p.resolve()) for p in req.files]
        for key, path in (("results", req.results), ("compare", req.compare)):
            if path is not None:
                lines.append(f"{key}\t{Path(path).resolve()}")
        return "\n".join(lines)

    @staticmethod
    def recent_request(parts: list[str]) -> tuple[list[Path], Path | None, Path | None]:
        """(annotation files, results file or None, comparison file or None) of an entry."""
        files: list[Path] = []
        extra: dict[str, Path] = {}
        for part in parts:
            key, tab, rest = part.partition("\t")
            if tab and key in ("results", "compare"):
                extra[key] = Path(rest)
            else:
                files.append(Path(part))
        return files, extra.get("results"), extra.get("compare")

    def _add_recent(self, req: OpenRequest, instead_of: OpenRequest | None = None) -> None:
        """``req`` first in the recent files (``instead_of``'s entry, if given, leaves)."""
        entry = self._recent_entry(req)
        old = {entry} | ({self._recent_entry(instead_of)} if instead_of is not None else set())
        items = ["\n".join(r) for r in self.recent() if "\n".join(r) not in old]
        self.settings.setValue("recent", [entry, *items][:MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        entries = self.recent()
        if not entries:
            self.recent_menu.addAction("(none)").setEnabled(False)
            return
        for k, parts in enumerate(entries):
            files, results, compare = self.recent_request(parts)
            label = " + ".join(p.name for p in files)
            if results is not None:
                label += f"  · results {results.name}"
            if compare is not None:
                label += f" vs {compare.name}"
            act = self.recent_menu.addAction(f"&{k + 1} {label}")
            act.setToolTip("\n".join(p.replace("\t", ": ") for p in parts))
            act.triggered.connect(lambda _c=False, e=(files, results, compare):
                                  self.open_files(e[0], results=e[1], compare=e[2]))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear Recent", lambda: self.settings.setValue("recent", []))

    # ----- navigation and frames ---------------------------------------
    @Slot(object)
    def _on_frame(self, frame: Frame) -> None:
        self.status_size.setText(f"{frame.width} × {frame.height}")
        self._show_hidden()
        said = "; ".join(m for m in (frame.error, frame.overlays.note) if m)
        if said:
            self.statusBar().showMessage(said, 8000)

    def _update_index(self) -> None:
        n = len(self.state.image_list)
        i = self.state.current_index()
        self.status_index.setText(f"{i + 1:,} / {n:,}" if i >= 0 else f"– / {n:,}")

    def _on_cursor(self, x: float, y: float) -> None:
        self.status_pos.setText("" if math.isnan(x) else f"{int(x)}, {int(y)}")

    def goto_dialog(self) -> None:
        ds = self.state.dataset
        if ds is None:
            return
        text, ok = QInputDialog.getText(self, "Go to image", "Image id or file name:")
        if not ok or not text.strip():
            return
        text = text.strip()
        if text.lstrip("-").isdigit() and ds.image_rows([int(text)])[0] >= 0:
            self.state.set_current_image(int(text))
            return
        for k, name in enumerate(ds.image_file_names):
            if name == text or Path(name).name == text:
                self.state.set_current_image(int(ds.image_ids[k]))
                return
        QMessageBox.information(self, "Go to image", f"No image with id or file name {text!r}.")

    # ----- filter and export ---------------------------------------------
    def _dataset_actions(self) -> None:
        self.actions_["export"].setEnabled(self.state.dataset is not None)
        self.actions_["set_images"].setEnabled(self.state.dataset is not None)
        if self.state.dataset is None:
            self.status_images.setText("")

    # ----- where the images are -------------------------------------------
    def _show_images_folder(self) -> None:
        ds = self.state.dataset
        if ds is None:
            return
        root = ds.image_root
        found = "" if ds.images_found else " (no image found there: File → Set Images " \
                                              "Folder…)"
        self.status_images.setText(f"Images: {root.name or root}{found}")
        self.status_images.setToolTip(f"Images are read from {root}")

    def set_images_dialog(self) -> None:
        """File → Set Images Folder…: read the open dataset's images from a folder."""
        ds = self.state.dataset
        if ds is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Images folder", str(ds.image_root))
        if folder:
            self.set_images_folder(Path(folder))

    def set_images_folder(self, folder: Path) -> None:
        """Use ``folder`` for the open dataset's images, and remember it for its file."""
        ds = self.state.dataset
        if ds is None:
            return
        self.state.set_images_folder(folder)  # pictures, thumbnails and checks follow
        self.settings.setValue(_images_key(ds.paths[0]), str(folder))
        self._show_images_folder()
        self.statusBar().showMessage(f"Images are read from {folder}", 8000)

    def remembered_images_folder(self, json_path: Path) -> Path | None:
        """The folder the user chose for this annotation file before (if it still exists)."""
        value = self.settings.value(_images_key(json_path))
        folder = Path(str(value)) if value else None
        return folder if folder is not None and folder.is_dir() else None

    def export_dialog_open(self) -> None:
        """File → Export…: the browsed image list, whole or split."""
        if self.state.dataset is None or self.export_dialog is not None:
            return
        dlg = self.export_dialog = ExportDialog(self.state, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.exported.connect(self._on_exported)
        dlg.finished.connect(self._export_closed)
        dlg.open()

    def _export_closed(self) -> None:
        self.export_dialog = None

    def _on_exported(self, paths: list[Path]) -> None:
        where = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files in {paths[0].parent}"
        said = f"Exported {len(self.state.image_list):,} images to {where}"
        self.reveal.show_for(paths, said)
        self.statusBar().showMessage(said, 15000)

    # ----- view ---------------------------------------------------------
    def _sync_layer_actions(self) -> None:
        for key, on in self.state.layers.items():
            act = self.actions_.get(key)
            if act is not None and act.isChecked() != on:
                act.setChecked(on)
        self._show_hidden()

    # ----- what is hidden -------------------------------------------------
    def _show_hidden(self) -> None:
        """A layer that is off while the image has data for it says so: a dot on its
        toolbar button and a line in the status bar, as do detections the switch or the
        min score hide."""
        frame = self.canvas.frame
        have = layers_with_data(frame.overlays) if frame is not None else set()
        for key in DATA_LAYERS:
            act = self.actions_.get(key)
            if act is None:
                continue
            base = act.text().replace("&", "")
            dot = key in have and not self.state.layers.get(key, True)
            act.setIconText(f"{base} ●" if dot else base)
        if frame is None:
            self.status_hidden.setText("")
            return
        keys = {k: QKeySequence(s.shortcuts[0]).toString() for s in SPECS
                for k in [s.key] if s.shortcuts and k in DATA_LAYERS}
        self.status_hidden.setText(
            hidden(frame.overlays, self.state.layers, self.state.look()).text(keys))

    def _layers_key(self) -> str | None:
        cur = self.current
        return f"layers/off/{_file_digest(cur.files[0])}" if cur is not None and cur.files \
            else None

    def _remember_layers(self) -> None:
        """The user switched a layer: remembered for this annotation file."""
        key = self._layers_key()
        if key is not None:
            self.settings.setValue(key, [k for k in DATA_LAYERS
                                         if not self.state.layers.get(k, True)])

    def _layers_for_new_dataset(self) -> None:
        """Every layer with data is on, unless the user turned it off for this file."""
        key = self._layers_key()
        value = self.settings.value(key, []) if key is not None else []
        off = {str(v) for v in (value if isinstance(value, list) else [value]) if v}
        for k in DATA_LAYERS:
            self.state.set_layer(k, k not in off)

    def _sync_opacity(self, value: float) -> None:
        v = round(value * 100)
        if self.opacity_slider.value() != v:
            self.opacity_slider.blockSignals(True)
            self.opacity_slider.setValue(v)
            self.opacity_slider.blockSignals(False)

    def _cycle_review_mode(self) -> None:
        from cocoview.model.review import VIEW_MODES

        mode = VIEW_MODES[(VIEW_MODES.index(self.canvas.view_mode) + 1) % len(VIEW_MODES)]
        self.canvas.set_view_mode(mode)
        self.statusBar().showMessage(f"Review view: {mode}", 5000)

    def toggle_fullscreen(self, on: bool) -> None:
        self.showFullScreen() if on else self.showNormal()

    def show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", "", parent=self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(shortcuts_html(SPECS))
        box.setObjectName("shortcuts_dialog")
        box.open()

    def clear_cache(self) -> None:
        from cocoview.model.cache import clear

        freed = clear()
        self.statusBar().showMessage(f"Index cache cleared ({freed / 1e6:.1f} MB)", 8000)

    def allow_outside_images(self, on: bool) -> None:
        self.settings.setValue("images/allow_outside", on)
        self.state.set_allow_outside_images(on)  # the presenter tells the frame workers

    def show_about(self) -> None:
        QMessageBox.about(self, "About cocoview", about_text(__version__))

    # ----- settings -----------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        else:
            self.resize(1400, 900)
        st = s.value("window/state")
        #: no remembered layout: the docks get their default shares when first shown
        self._default_layout = not (isinstance(st, QByteArray) and self.restoreState(st))
        for key in self.state.layers:
            v = s.value(f"layers/{key}")
            if v is not None:
                self.state.set_layer(key, str(v).lower() in ("true", "1"))
        op = s.value("view/opacity")
        if op is not None:
            self.state.set_opacity(float(str(op)))
        self.actions_["use_cache"].setChecked(cache_enabled(s))
        self.actions_["allow_outside"].setChecked(
            str(s.value("images/allow_outside", "false")).lower() in ("true", "1"))
        oo = s.value("view/outline_only")
        if oo is not None:
            on = str(oo).lower() in ("true", "1")
            self.state.set_outline_only(on)
            self.actions_["outline_only"].setChecked(on)
        size = s.value("browser/thumbnail_size")
        if size is not None and str(size).isdigit():
            self.browser.set_thumbnail_size(int(str(size)))
        if str(s.value("view/color_by_instance", "false")).lower() in ("true", "1"):
            self.state.set_color_by_instance(True)
            self.actions_["color_by_instance"].setChecked(True)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        for key, on in self.state.layers.items():
            s.setValue(f"layers/{key}", on)
        s.setValue("view/opacity", self.state.opacity)
        s.setValue("view/outline_only", self.state.outline_only)
        s.setValue("view/color_by_instance", self.state.color_by_instance)
        s.setValue("browser/thumbnail_size", self.browser.thumbnail_size())
        s.sync()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._default_layout:
            self._default_layout = False
            QTimer.singleShot(0, self.default_dock_sizes)  # once the window is laid out

    def default_dock_sizes(self) -> None:
        """The image list most of the left column (the filter form scrolls), the
        inspector most of the right: Qt's split gave the list ~5 rows."""
        h = max(self.height() - 120, 400)
        self.resizeDocks([self.docks["images"], self.docks["filter"]],
                         [int(h * DEFAULT_SHARES[0]), int(h * (1 - DEFAULT_SHARES[0]))],
                         Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["categories"], self.docks["inspector"]],
                         [int(h * DEFAULT_SHARES[1]), int(h * (1 - DEFAULT_SHARES[1]))],
                         Qt.Orientation.Vertical)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.editing.may_close():  # unsaved edits: Save / Discard / Cancel
            event.ignore()
            return
        self.editing.shutdown()
        self.save_settings()
        self.loader.wait()
        self.frames.shutdown()
        for panel in (self.browser, self.inspector, self.categories, self.filter_panel,
                      self.problems, self.review):
            shutdown = getattr(panel, "shutdown", None)
            if callable(shutdown):
                shutdown()
        super().closeEvent(event)

    # ----- drag and drop ------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(_is_json(u.toLocalFile()) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls()
                 if _is_json(u.toLocalFile())]
        if files:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.open_files(files))


def _is_json(path: str) -> bool:
    p = path.lower()
    return p.endswith((".json", ".json.gz", ".gz"))


def _file_digest(json_path: Path) -> str:
    """A settings-key-safe name of an annotation file (its resolved path, hashed)."""
    import hashlib

    return hashlib.sha1(str(Path(json_path).resolve()).encode()).hexdigest()[:16]


def _images_key(json_path: Path) -> str:
    """The settings key of the images folder chosen for an annotation file."""
    return f"images/folder/{_file_digest(json_path)}"
