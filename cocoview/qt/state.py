"""The viewer's state: one object every view follows (current image, selection, layers…).

Views never talk to each other; they change the state and listen to it. Each
setter emits only when the value really changes, so two-way bindings cannot
echo.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from cocoview.model.dataset import Dataset

LAYER_KEYS = ("masks", "boxes", "keypoints", "labels", "results")
DEFAULT_LAYERS = {"masks": True, "boxes": True, "keypoints": True, "labels": True,
                  "results": True}


class ViewerState(QObject):
    datasetChanged = Signal()
    #: the list of image ids being browsed changed (filter, search, category double-click)
    imageListChanged = Signal()
    #: current image id (-1: none)
    currentImageChanged = Signal("qlonglong")  # type: ignore[arg-type]  # 64-bit ids
    #: selected annotation row in the dataset (-1: none); results rows are not selectable
    selectionChanged = Signal(int)
    hoverChanged = Signal(int)
    layersChanged = Signal()
    opacityChanged = Signal(float)
    outlineOnlyChanged = Signal(bool)
    #: the set of visible category ids changed
    visibilityChanged = Signal()
    minScoreChanged = Signal(float)
    #: whether image files outside the images folder may be opened changed
    imagePolicyChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.image_list: np.ndarray = np.empty(0, np.int64)
        self.image_list_label = "all images"
        self.current_image = -1
        self.selected_row = -1
        self.hover_row = -1
        self.layers: dict[str, bool] = dict(DEFAULT_LAYERS)
        self.opacity = 0.5
        self.outline_only = False
        self.hidden_categories: set[int] = set()
        self.min_score = 0.3
        #: open image files whose file_name leads outside the images folder (off: a
        #: dataset should not make the viewer read arbitrary files)
        self.allow_outside_images = False

    # ----- dataset & list ---------------------------------------------
    def set_dataset(self, ds: Dataset | None) -> None:
        self.dataset = ds
        self.hidden_categories = set()
        self.selected_row = -1
        self.hover_row = -1
        self.current_image = -1
        self.image_list = ds.image_ids.copy() if ds is not None else np.empty(0, np.int64)
        self.image_list_label = "all images"
        self.datasetChanged.emit()
        self.imageListChanged.emit()
        self.visibilityChanged.emit()
        if ds is not None and len(ds.image_ids):
            self.set_current_image(int(ds.image_ids[0]))
        else:
            self.currentImageChanged.emit(-1)

    def set_image_list(self, ids: np.ndarray, label: str) -> None:
        self.image_list = np.asarray(ids, np.int64)
        self.image_list_label = label
        self.imageListChanged.emit()
        if len(self.image_list) and self.current_image not in set(self.image_list[:1].tolist()) \
                and self.current_index() < 0:
            self.set_current_image(int(self.image_list[0]))

    def current_index(self) -> int:
        """Position of the current image in the browsed list (-1 if not in it)."""
        hits = np.flatnonzero(self.image_list == self.current_image)
        return int(hits[0]) if len(hits) else -1

    # ----- navigation ---------------------------------------------------
    def set_current_image(self, image_id: int) -> None:
        if image_id == self.current_image:
            return
        self.current_image = int(image_id)
        self.selected_row = -1
        self.hover_row = -1
        self.currentImageChanged.emit(self.current_image)
        self.selectionChanged.emit(-1)

    def step(self, delta: int) -> None:
        n = len(self.image_list)
        if not n:
            return
        i = self.current_index()
        j = 0 if i < 0 else min(max(i + delta, 0), n - 1)
        self.set_current_image(int(self.image_list[j]))

    def go_first(self) -> None:
        if len(self.image_list):
            self.set_current_image(int(self.image_list[0]))

    def go_last(self) -> None:
        if len(self.image_list):
            self.set_current_image(int(self.image_list[-1]))

    # ----- selection ----------------------------------------------------
    def select(self, row: int) -> None:
        if row != self.selected_row:
            self.selected_row = row
            self.selectionChanged.emit(row)

    def hover(self, row: int) -> None:
        if row != self.hover_row:
            self.hover_row = row
            self.hoverChanged.emit(row)

    # ----- display ------------------------------------------------------
    def set_layer(self, key: str, on: bool) -> None:
        if self.layers.get(key) != on:
            self.layers[key] = on
            self.layersChanged.emit()

    def set_opacity(self, value: float) -> None:
        value = min(max(float(value), 0.0), 1.0)
        if abs(value - self.opacity) > 1e-6:
            self.opacity = value
            self.opacityChanged.emit(value)

    def set_outline_only(self, on: bool) -> None:
        if on != self.outline_only:
            self.outline_only = on
            self.outlineOnlyChanged.emit(on)

    def set_min_score(self, value: float) -> None:
        if abs(value - self.min_score) > 1e-6:
            self.min_score = float(value)
            self.minScoreChanged.emit(self.min_score)

    def set_allow_outside_images(self, on: bool) -> None:
        if on != self.allow_outside_images:
            self.allow_outside_images = on
            self.imagePolicyChanged.emit()

    def set_category_visible(self, category_id: int, visible: bool) -> None:
        self.set_categories_visible([category_id], visible)

    def set_categories_visible(self, category_ids: list[int], visible: bool) -> None:
        before = set(self.hidden_categories)
        if visible:
            self.hidden_categories.difference_update(category_ids)
        else:
            self.hidden_categories.update(category_ids)
        if before != self.hidden_categories:
            self.visibilityChanged.emit()

    def visible_categories(self) -> set[int] | None:
        """None when every category is visible (the common, cheapest case)."""
        if not self.hidden_categories or self.dataset is None:
            return None
        return {c.id for c in self.dataset.categories} - self.hidden_categories
