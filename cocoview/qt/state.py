"""The viewer's state for the widgets: a Qt adapter over the Qt-free
:class:`cocoview.model.viewer.ViewerModel`.

Views never talk to each other; they change the state and listen to it. The
model holds the values and emits psygnal events; this object re-emits them as
Qt signals (queued connections, ``Slot``s and ``qtbot.waitSignal`` need those)
and keeps the widgets' vocabulary: one selected annotation row, a hovered row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from PySide6.QtCore import QObject, Signal

from cocoview.model.dataset import Dataset
from cocoview.model.look import Look
from cocoview.model.viewer import DEFAULT_LAYERS, LAYER_KEYS, Item, ViewerModel

__all__ = ["DEFAULT_LAYERS", "LAYER_KEYS", "ViewerState"]


class ViewerState(QObject):
    datasetChanged = Signal()
    #: the list of image ids being browsed changed (filter, search, category double-click)
    imageListChanged = Signal()
    #: current image id (-1: none)
    currentImageChanged = Signal("qlonglong")  # type: ignore[arg-type]  # 64-bit ids
    #: the selected annotation row when one annotation is selected (-1: none)
    selectionChanged = Signal(int)
    #: the whole selection (a frozenset of model.viewer.Item)
    selectionSetChanged = Signal(object)
    hoverChanged = Signal(int)
    layersChanged = Signal()
    opacityChanged = Signal(float)
    outlineOnlyChanged = Signal(bool)
    #: the set of visible category ids changed
    visibilityChanged = Signal()
    minScoreChanged = Signal(float)
    colorByInstanceChanged = Signal(bool)
    #: whether image files outside the images folder may be opened changed
    imagePolicyChanged = Signal()
    #: an edit was applied (the Edit; :attr:`view` is the edited dataset, issue 17)
    edited = Signal(object)

    def __init__(self, parent: QObject | None = None, model: ViewerModel | None = None) -> None:
        super().__init__(parent)
        self.model = m = model if model is not None else ViewerModel()
        m.dataset_changed.connect(self.datasetChanged.emit)
        m.image_list_changed.connect(self.imageListChanged.emit)
        m.current_image_changed.connect(self.currentImageChanged.emit)
        m.selection_changed.connect(self._selection_changed)
        m.hover_changed.connect(self._hover_changed)
        m.layers_changed.connect(self.layersChanged.emit)
        m.opacity_changed.connect(self.opacityChanged.emit)
        m.outline_only_changed.connect(self.outlineOnlyChanged.emit)
        m.visibility_changed.connect(self.visibilityChanged.emit)
        m.min_score_changed.connect(self.minScoreChanged.emit)
        m.color_by_instance_changed.connect(self.colorByInstanceChanged.emit)
        m.image_policy_changed.connect(self.imagePolicyChanged.emit)
        m.edited.connect(self.edited.emit)

    def _selection_changed(self, items: frozenset[Item]) -> None:
        self.selectionChanged.emit(self.model.selected_row)
        self.selectionSetChanged.emit(items)

    def _hover_changed(self, item: Item | None) -> None:
        self.hoverChanged.emit(item.row if item is not None and item.kind == "annotation"
                               else -1)

    # ----- the model's values -------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        return self.model.dataset

    @property
    def view(self) -> Dataset | None:
        """The dataset as the edits make it (what the views count and draw)."""
        return self.model.view

    @property
    def image_list(self) -> np.ndarray:
        return self.model.image_list

    @property
    def image_list_label(self) -> str:
        return self.model.image_list_label

    @property
    def current_image(self) -> int:
        return self.model.current_image

    @property
    def selected_row(self) -> int:
        return self.model.selected_row

    @property
    def hover_row(self) -> int:
        h = self.model.hovered
        return h.row if h is not None and h.kind == "annotation" else -1

    @property
    def layers(self) -> dict[str, bool]:
        return self.model.layers

    @property
    def opacity(self) -> float:
        return self.model.opacity

    @property
    def outline_only(self) -> bool:
        return self.model.outline_only

    @property
    def hidden_categories(self) -> set[int]:
        return self.model.hidden_categories

    @hidden_categories.setter
    def hidden_categories(self, ids: set[int]) -> None:
        self.model.hidden_categories = set(ids)  # quietly, as an attribute always was

    @property
    def color_by_instance(self) -> bool:
        return self.model.color_by_instance

    def set_color_by_instance(self, on: bool) -> None:
        self.model.set_color_by_instance(on)

    @property
    def min_score(self) -> float:
        return self.model.min_score

    @property
    def allow_outside_images(self) -> bool:
        return self.model.allow_outside_images

    # ----- dataset & list ---------------------------------------------
    def set_dataset(self, ds: Dataset | None) -> None:
        self.model.set_dataset(ds)

    def set_image_list(self, ids: np.ndarray, label: str) -> None:
        self.model.set_image_list(ids, label)

    def current_index(self) -> int:
        """Position of the current image in the browsed list (-1 if not in it)."""
        return self.model.current_index()

    # ----- navigation ---------------------------------------------------
    def set_current_image(self, image_id: int) -> None:
        self.model.set_current_image(image_id)

    def step(self, delta: int) -> None:
        self.model.step(delta)

    def go_first(self) -> None:
        self.model.go_first()

    def go_last(self) -> None:
        self.model.go_last()

    # ----- selection ----------------------------------------------------
    def select(self, row: int, kind: Literal["annotation", "detection"] = "annotation",
               add: bool = False) -> None:
        self.model.select(row, kind, add)

    def hover(self, row: int) -> None:
        self.model.hover(Item("annotation", row) if row >= 0 else None)

    def hover_item(self, item: Item | None) -> None:
        """Hover an annotation or a detection (None: nothing)."""
        self.model.hover(item)

    @property
    def hovered(self) -> Item | None:
        return self.model.hovered

    @property
    def selected_detection(self) -> int:
        return self.model.selected_detection

    # ----- display ------------------------------------------------------
    def set_layer(self, key: str, on: bool) -> None:
        self.model.set_layer(key, on)

    def set_opacity(self, value: float) -> None:
        self.model.set_opacity(value)

    def set_outline_only(self, on: bool) -> None:
        self.model.set_outline_only(on)

    def set_min_score(self, value: float) -> None:
        self.model.set_min_score(value)

    def set_allow_outside_images(self, on: bool) -> None:
        self.model.set_allow_outside_images(on)

    def set_images_folder(self, folder: Path | None) -> None:
        self.model.set_images_folder(folder)

    def set_category_visible(self, category_id: int, visible: bool) -> None:
        self.model.set_categories_visible([category_id], visible)

    def set_categories_visible(self, category_ids: list[int], visible: bool) -> None:
        self.model.set_categories_visible(category_ids, visible)

    def look(self) -> Look:
        return self.model.look()

    def visible_categories(self) -> set[int] | None:
        """None when every category is visible (the common, cheapest case)."""
        return self.model.visible_categories()
