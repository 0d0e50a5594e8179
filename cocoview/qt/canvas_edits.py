"""Edits made on the canvas and from the review (issue 17): a dragged box becomes a
"Move box" / "Resize box" command, Edit → Set Box to Mask Bounds, and the fixes the
review suggests for a selected detection ("Relabel GT as …", "Add as annotation"),
offered in the inspector (:class:`FixesBox`) and in the canvas's context menu.

Every edit goes through :meth:`EditController.edit` (one named undo command, journaled);
what reads the file (a mask's bounds, a detection's segmentation) runs in a job.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cocoview.model import edits as E
from cocoview.model.columns import SEG_KIND_NAMES, SEG_POLYGON, SEG_RLE, SEG_RLE_RAW
from cocoview.model.dataset import Dataset
from cocoview.model.overlays import AnnOverlay
from cocoview.model.suggestions import MIN_SCORE, Suggestion, add_edit, suggest
from cocoview.qt.jobs import Jobs

if TYPE_CHECKING:
    from cocoview.qt.editing import EditController

#: a box smaller than this (image pixels) is refused: a drag to (almost) nothing
MIN_BOX = 1.0


class FixesBox(QWidget):
    """The inspector's "Suggested fix" buttons for the selected detection."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("review_fixes")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 4, 0, 0)
        self._layout.setSpacing(4)
        self.title = QLabel("<b>Suggested fix</b>", self)
        self._layout.addWidget(self.title)
        self.buttons: list[QPushButton] = []
        self.setVisible(False)

    def set_fixes(self, fixes: list[Suggestion],
                  accept: Callable[[Suggestion], None]) -> None:
        for b in self.buttons:
            b.deleteLater()
        self.buttons = []
        for s in fixes:
            b = QPushButton(s.text, self)
            b.setObjectName(f"fix_{s.kind}")
            b.setToolTip(_tip(s))
            b.clicked.connect(lambda _checked=False, s=s: accept(s))
            self._layout.addWidget(b)
            self.buttons.append(b)
        self.setVisible(bool(fixes))


#: where the suggestions' score threshold is remembered
THRESHOLD_KEY = "review/suggestion_min_score"


def stored_threshold(settings: QSettings) -> float:
    """The remembered score threshold of the suggestions (MIN_SCORE if none or bad)."""
    try:
        v = float(settings.value(THRESHOLD_KEY, MIN_SCORE))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return MIN_SCORE
    return min(max(v, 0.0), 1.0) if v == v else MIN_SCORE


class ThresholdRow(QWidget):
    """"Suggest fixes from score ≥ [0.50]": the score a false positive needs for the
    review to suggest a fix from it (shown while a detection is selected)."""

    def __init__(self, value: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("suggestion_threshold_row")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        label = QLabel("Suggest fixes from score ≥", self)
        self.spin = QDoubleSpinBox(self)
        self.spin.setObjectName("suggestion_threshold")
        self.spin.setRange(0.0, 1.0)
        self.spin.setDecimals(2)
        self.spin.setSingleStep(0.05)
        self.spin.setValue(value)
        self.spin.setToolTip("A false positive scoring at least this much (and the min "
                             "score) is offered as a fix: a wrong label or a missing "
                             "annotation")
        label.setBuddy(self.spin)
        lay.addWidget(label)
        lay.addWidget(self.spin)
        lay.addStretch(1)
        self.setVisible(False)


def _tip(s: Suggestion) -> str:
    if s.kind == "relabel":
        return (f"A confident detection of another class covers this missed ground truth "
                f"(IoU {s.iou:.2f}): the label is probably wrong")
    return ("A confident detection that overlaps no ground truth"
            + (f" (best IoU {s.iou:.2f})" if s.iou > 0 else "")
            + ": probably a missing annotation. Adds it from the detection's box (and mask)")


class CanvasEdits(QObject):
    """Made by the :class:`EditController`; hooks itself to the canvas and inspector."""

    def __init__(self, ctl: EditController) -> None:
        super().__init__(ctl)
        self.ctl = ctl
        self.window = ctl.window
        self.state = ctl.state
        self.jobs = Jobs(self)
        canvas = self.window.canvas
        canvas.boxEdited.connect(self.set_box)
        canvas.box_drag.editable = self._editable
        canvas.menu_extenders.append(self.extend_menu)
        self.fixes = FixesBox(self.window.inspector)
        self.threshold = stored_threshold(self.window.settings)
        self.threshold_row = ThresholdRow(self.threshold, self.window.inspector)
        self.threshold_row.spin.valueChanged.connect(self.set_threshold)
        lay = self.window.inspector.layout()
        if lay is not None:
            lay.addWidget(self.fixes)
            lay.addWidget(self.threshold_row)
        for sig in (self.state.selectionChanged, self.state.minScoreChanged,
                    self.state.edited):
            sig.connect(lambda *_a: self.refresh())
        self.window.review.reviewChanged.connect(lambda _r: self.refresh())

    # ----- boxes ---------------------------------------------------------------
    def _base_rows(self) -> int:
        ds = self.state.dataset
        return len(ds.anns) if ds is not None else 0

    def _editable(self, it: AnnOverlay) -> bool:
        """A file's annotation (an added one keeps the box it was added with)."""
        return not it.is_result and 0 <= it.row < self._base_rows() \
            and it.seg_kind != "panoptic"

    def set_box(self, row: int, box: E.Box, name: str = "Set box") -> bool:
        """The dragged box of annotation ``row`` as one command; a polygon or RLE is left
        as it is, and the status bar says that box and mask now disagree."""
        ds = self.state.dataset
        if ds is None or not 0 <= row < len(ds.anns):
            return False
        ann = int(ds.anns.id[row])
        if not (box[2] >= MIN_BOX and box[3] >= MIN_BOX):
            self.ctl._say(f"Not done: a box needs a width and height of at least "
                          f"{MIN_BOX:g} pixel (annotation {ann} is unchanged)")
            return False
        if not self.ctl.edit([E.SetBox(ann, box)], f"{name} of annotation {ann}"):
            return False
        kind = int(ds.anns.seg_kind[row])
        if kind in (SEG_POLYGON, SEG_RLE, SEG_RLE_RAW):
            self.ctl._say(f"{name} of annotation {ann}: its {SEG_KIND_NAMES[kind]} "
                          "segmentation is unchanged, so box and mask now disagree "
                          "(Edit → Set Box to Mask Bounds fits the box to the mask)")
        return True

    def selected_annotation(self) -> int:
        """The one selected file annotation's row (-1: none)."""
        ds = self.state.dataset
        sel = self.state.model.selection
        if ds is None or len(sel) != 1:
            return -1
        it = next(iter(sel))
        return it.row if it.kind == "annotation" and 0 <= it.row < len(ds.anns) else -1

    def box_to_mask(self) -> None:
        """Edit → Set Box to Mask Bounds: the box of the segmentation (read in a job)."""
        ds, row = self.state.dataset, self.selected_annotation()
        if ds is None or row < 0:
            self.ctl._say("Select an annotation first (click it)")
            return
        ann = int(ds.anns.id[row])
        self.jobs.submit(ds, lambda d: E.mask_bounds(d, row),
                         partial(self._mask_bounds, ds, ann), self._failed,
                         channel="mask_bounds")

    def _mask_bounds(self, ds: Dataset, ann: int, box: E.Box | None) -> None:
        if ds is not self.state.dataset:
            return
        if box is None:
            self.ctl._say(f"Not done: annotation {ann} has no polygon or RLE mask")
            return
        self.ctl.edit([E.SetBox(ann, box)], f"Set box of annotation {ann} to its mask")

    def _failed(self, exc: Exception) -> None:
        self.ctl._say(f"Not done: {exc}")

    # ----- the review's fixes -----------------------------------------------------
    def selected_detection(self) -> int:
        sel = self.state.model.selection
        if len(sel) != 1:
            return -1
        it = next(iter(sel))
        return it.row if it.kind == "detection" else -1

    def suggestions(self, result_row: int | None = None) -> list[Suggestion]:
        """The fixes for the selected detection (or ``result_row``) not yet made."""
        ds, rv = self.state.dataset, self.window.canvas.review
        row = self.selected_detection() if result_row is None else result_row
        if ds is None or rv is None or row < 0:
            return []
        view = self.state.model.edits
        out = []
        for s in suggest(ds, rv, row, self.state.min_score, self.threshold):
            if view is not None and s.kind == "relabel":
                try:
                    if view.layer.category_of(s.ann_id) == s.category_id or \
                            view.layer.is_deleted(s.ann_id):
                        continue
                except E.EditError:
                    continue
            if view is not None and s.kind == "add" and self._added_from(row):
                continue
            out.append(s)
        return out

    def _added_from(self, result_row: int) -> bool:
        """Whether the detection was added as an annotation already (same image, class
        and box)."""
        ds, view = self.state.dataset, self.state.model.edits
        if ds is None or view is None or ds.results is None:
            return False
        res = ds.results
        image = int(ds.image_ids[int(res.ann_image_row[result_row])])
        box = tuple(float(v) for v in res.anns.bbox[result_row])
        cid = int(res.anns.category_id[result_row])
        return any(a.image_id == image and a.category_id == cid and a.bbox == box
                   for a in view.layer.added.values())

    def refresh(self) -> None:
        self.fixes.set_fixes(self.suggestions(), self.accept)
        self.threshold_row.setVisible(self.window.canvas.review is not None
                                      and self.selected_detection() >= 0)

    def set_threshold(self, value: float) -> None:
        """The suggestions' score threshold, remembered in the settings."""
        self.threshold = float(value)
        self.window.settings.setValue(THRESHOLD_KEY, self.threshold)
        if abs(self.threshold_row.spin.value() - self.threshold) > 1e-9:
            self.threshold_row.spin.setValue(self.threshold)
        self.refresh()

    def accept(self, s: Suggestion) -> None:
        """Make the suggested fix: a relabel now; an addition once its segmentation is
        read (a job)."""
        ds = self.state.dataset
        if ds is None:
            return
        if s.kind == "relabel":
            self.ctl.edit([E.Relabel(s.ann_id, s.category_id)], s.text)
            return
        view = self.state.model.edits
        layer = view.layer if view is not None else E.EditLayer(ds)
        ann_id = layer.fresh_ann_id()

        def work(d: Dataset) -> E.AddAnnotation:
            if view is not None:  # the columns the row joins, made here (~30 ms, once)
                view.prepare_addition()
            return add_edit(d, s.result_row, ann_id)

        self.jobs.submit(ds, work, partial(self._add, ds), self._failed, channel="add")

    def _accept_checked(self, s: Suggestion, _checked: bool = False) -> None:
        self.accept(s)

    def _add(self, ds: Dataset, edit: E.AddAnnotation) -> None:
        if ds is not self.state.dataset:
            return
        name = _cat_name(ds, edit.category_id)
        self.ctl.edit([edit], f"Add annotation {edit.ann_id} ({name}) from a detection")

    def extend_menu(self, menu: QMenu, it: AnnOverlay | None) -> None:
        """The canvas's context menu: the fixes of a detection, the box of an annotation."""
        if it is None or self.state.dataset is None:
            return
        if it.is_result:
            for s in self.suggestions(it.row):
                act = menu.addAction(s.text)
                act.setObjectName(f"menu_fix_{s.kind}")
                act.triggered.connect(partial(self._accept_checked, s))
        elif self._editable(it):
            menu.addAction("Set Box to Mask Bounds", self.box_to_mask).setObjectName(
                "menu_box_to_mask")

    def handlers(self) -> dict[str, Callable[[], object]]:
        return {"box_to_mask": self.box_to_mask}

    def shutdown(self) -> None:
        self.jobs.cancel()


def _cat_name(ds: Dataset, cid: int) -> str:
    try:
        return ds.category(cid).name
    except KeyError:
        return str(cid)
