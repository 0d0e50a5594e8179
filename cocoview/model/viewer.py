"""What the viewer shows, without Qt: the dataset, the browsed image list, the current
image, the selection, hidden categories, layers and the operating point (min score).

The desktop app's ``qt/state.py`` is an adapter over one :class:`ViewerModel`
(it re-emits these events as Qt signals for the widgets); the CLI, scripts and
tests can drive a review or an edit with it alone. Events are psygnal signals
(the small evented-model library napari uses). Each setter emits only when the
value really changes, so two-way bindings cannot echo.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
from psygnal import Signal

from cocoview.model.filters import ImageFilter, filter_images
from cocoview.model.look import Look

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset
    from cocoview.model.edited import EditedView
    from cocoview.model.edits import Edit

LAYER_KEYS = ("masks", "boxes", "stuff_boxes", "keypoints", "labels", "results")
DEFAULT_LAYERS = {"masks": True, "boxes": True, "stuff_boxes": False, "keypoints": True,
                  "labels": True, "results": True}


class Item(NamedTuple):
    """One selectable thing on an image: an annotation row or a detection (result) row."""

    kind: Literal["annotation", "detection"]
    row: int


class ViewerModel:
    """The viewer's state and its events (psygnal), Qt-free."""

    dataset_changed = Signal()
    #: the list of image ids being browsed changed (filter, search, category double-click)
    image_list_changed = Signal()
    #: the current image id (-1: none)
    current_image_changed = Signal(int)
    #: the set of selected items changed
    selection_changed = Signal(frozenset)
    #: the hovered item changed (None: none)
    hover_changed = Signal(object)
    layers_changed = Signal()
    opacity_changed = Signal(float)
    outline_only_changed = Signal(bool)
    #: the set of hidden category ids changed
    visibility_changed = Signal()
    min_score_changed = Signal(float)
    #: whether image files outside the images folder may be opened changed
    image_policy_changed = Signal()
    #: colours by instance (True) or by category (False)
    color_by_instance_changed = Signal(bool)
    #: the image filter was edited (the new ImageFilter); applying it is separate
    filter_changed = Signal(object)
    #: an edit was applied (the Edit; ``edited_view`` has the edited data, issue 17)
    edited = Signal(object)

    def __init__(self) -> None:
        self.dataset: Dataset | None = None
        self.image_list: np.ndarray = np.empty(0, np.int64)
        self.image_list_label = "all images"
        self.current_image = -1
        self.selection: frozenset[Item] = frozenset()
        self.hovered: Item | None = None
        self.layers: dict[str, bool] = dict(DEFAULT_LAYERS)
        self.opacity = 0.5
        self.outline_only = False
        self.color_by_instance = False
        self.hidden_categories: set[int] = set()
        self.min_score = 0.3
        #: open image files whose file_name leads outside the images folder (off: a
        #: dataset should not make the viewer read arbitrary files)
        self.allow_outside_images = False
        self.filter = ImageFilter()
        self._look: Look | None = None
        #: the edits of the open dataset (made at the first edit; None: unedited)
        self.edits: EditedView | None = None
        self._prepared: EditedView | None = None  # made ready off the GUI thread
        self._deleted_at: dict[int, int] = {}  # deleted image id → its place in the list
        self._look_key: tuple[object, ...] = ()

    # ----- dataset & list ---------------------------------------------
    def set_dataset(self, ds: Dataset | None) -> None:
        """Show ``ds`` (every image, nothing hidden or selected; the filter is cleared)."""
        self.dataset = ds
        self.edits = None
        self._prepared = None
        self._deleted_at = {}
        self.set_filter(ImageFilter())
        self.hidden_categories = set()
        self.selection = frozenset()
        self.hovered = None
        self.current_image = -1
        self.image_list = ds.image_ids.copy() if ds is not None else np.empty(0, np.int64)
        self.image_list_label = "all images"
        self.dataset_changed.emit()
        self.image_list_changed.emit()
        self.visibility_changed.emit()
        if ds is not None and len(ds.image_ids):
            self.set_current_image(int(ds.image_ids[0]))
        else:
            self.current_image_changed.emit(-1)

    def set_image_list(self, ids: np.ndarray, label: str) -> None:
        self.image_list = np.asarray(ids, np.int64)
        self.image_list_label = label
        self.image_list_changed.emit()
        if len(self.image_list) and self.current_index() < 0:
            self.set_current_image(int(self.image_list[0]))

    # ----- the filter ---------------------------------------------------
    def set_filter(self, flt: ImageFilter) -> None:
        """Edit the filter (the browsed list changes only when it is applied)."""
        if flt != self.filter:
            self.filter = flt
            self.filter_changed.emit(flt)

    def apply_filter(self) -> int:
        """Browse the images the filter keeps, now (the app applies it in a worker, after
        a pause); returns how many."""
        if self.dataset is None:
            return 0
        ids = filter_images(self.dataset, self.filter)
        self.set_image_list(ids, self.filter.describe(self.dataset))
        return len(ids)

    # ----- edits (issue 17) -----------------------------------------------
    @property
    def view(self) -> Dataset | None:
        """The dataset as the edits make it (the opened one while nothing is edited)."""
        return self.edits.dataset() if self.edits is not None else self.dataset

    def prepare_edits(self, view: EditedView) -> None:
        """Keep ``view`` (an :class:`EditedView` of the open dataset, made and warmed
        off the GUI thread: :meth:`EditedView.warm`) for the first edit."""
        if self.edits is None and view.base is self.dataset:
            self._prepared = view

    def apply_edit(self, edit: Edit) -> Edit:
        """Apply ``edit`` (EditError: nothing changed); returns its inverse. A deleted image
        leaves the browsed list (and comes back to its place when restored)."""
        from cocoview.model import edits as E
        from cocoview.model.edited import EditedView

        if self.dataset is None:
            raise E.EditError("no dataset is open")
        if self.edits is None:
            ready = self._prepared
            self.edits = ready if ready is not None and ready.base is self.dataset \
                and ready.version == 0 else EditedView(self.dataset)
            self._prepared = None
        inverse = self.edits.apply(edit)
        if isinstance(edit, E.DeleteImage):
            self._list_after_image_edit(int(edit.image_id), edit.restore)
        self.edited.emit(edit)
        return inverse

    def _list_after_image_edit(self, image_id: int, restored: bool) -> None:
        ids = self.image_list
        if not restored:
            hits = np.flatnonzero(ids == image_id)
            if not len(hits):
                return
            at = int(hits[0])
            self._deleted_at[image_id] = at
            was_current = image_id == self.current_image
            self.image_list = np.delete(ids, at)
            self.image_list_changed.emit()
            if was_current and len(self.image_list):
                self.set_current_image(int(self.image_list[min(at, len(self.image_list) - 1)]))
            elif was_current:
                self.set_current_image(-1)
            return
        at = self._deleted_at.pop(image_id, len(ids))
        if image_id not in ids:
            self.image_list = np.insert(ids, min(at, len(ids)), image_id)
            self.image_list_changed.emit()
        self.set_current_image(image_id)

    def current_index(self) -> int:
        """Position of the current image in the browsed list (-1 if not in it)."""
        hits = np.flatnonzero(self.image_list == self.current_image)
        return int(hits[0]) if len(hits) else -1

    # ----- navigation ---------------------------------------------------
    def set_current_image(self, image_id: int) -> None:
        if image_id == self.current_image:
            return
        self.current_image = int(image_id)
        self.selection = frozenset()
        self.hovered = None
        self.current_image_changed.emit(self.current_image)
        self.selection_changed.emit(self.selection)  # another image: nothing is selected

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
    def set_selection(self, items: frozenset[Item] | set[Item]) -> None:
        items = frozenset(items)
        if items != self.selection:
            self.selection = items
            self.selection_changed.emit(items)

    def select(self, row: int, kind: Literal["annotation", "detection"] = "annotation",
               add: bool = False) -> None:
        """Select one item (``row`` -1: nothing); ``add`` toggles it in the selection."""
        if row < 0:
            self.set_selection(frozenset() if not add else self.selection)
            return
        item = Item(kind, row)
        if add:
            self.set_selection(self.selection ^ {item})
        else:
            self.set_selection(frozenset({item}))

    @property
    def selected_row(self) -> int:
        """The selected annotation row when exactly one annotation is selected, else -1."""
        rows = [it.row for it in self.selection if it.kind == "annotation"]
        return rows[0] if len(rows) == 1 and len(self.selection) == 1 else -1

    @property
    def selected_detection(self) -> int:
        """The selected result row when exactly one detection is selected, else -1."""
        if len(self.selection) == 1:
            (it,) = self.selection
            if it.kind == "detection":
                return it.row
        return -1

    def hover(self, item: Item | None) -> None:
        if item != self.hovered:
            self.hovered = item
            self.hover_changed.emit(item)

    # ----- display ------------------------------------------------------
    def set_layer(self, key: str, on: bool) -> None:
        if self.layers.get(key) != on:
            self.layers[key] = on
            self.layers_changed.emit()

    def set_opacity(self, value: float) -> None:
        value = min(max(float(value), 0.0), 1.0)
        if abs(value - self.opacity) > 1e-6:
            self.opacity = value
            self.opacity_changed.emit(value)

    def set_outline_only(self, on: bool) -> None:
        if on != self.outline_only:
            self.outline_only = on
            self.outline_only_changed.emit(on)

    def set_color_by_instance(self, on: bool) -> None:
        if on != self.color_by_instance:
            self.color_by_instance = on
            self.color_by_instance_changed.emit(on)

    def set_min_score(self, value: float) -> None:
        value = float(value)
        if abs(value - self.min_score) > 1e-6:
            self.min_score = value
            self.min_score_changed.emit(value)

    def set_allow_outside_images(self, on: bool) -> None:
        if on != self.allow_outside_images:
            self.allow_outside_images = on
            self.image_policy_changed.emit()

    def set_images_folder(self, folder: Path | None) -> None:
        """Read the dataset's images from ``folder`` (None: the guessed one); every view
        that shows pictures makes them again."""
        if self.dataset is not None:
            self.dataset.set_images_dir(folder)
            self.image_policy_changed.emit()

    def set_categories_visible(self, category_ids: list[int], visible: bool) -> None:
        before = set(self.hidden_categories)
        if visible:
            self.hidden_categories.difference_update(category_ids)
        else:
            self.hidden_categories.update(category_ids)
        if before != self.hidden_categories:
            self.visibility_changed.emit()

    def set_hidden_categories(self, category_ids: set[int]) -> None:
        if set(category_ids) != self.hidden_categories:
            self.hidden_categories = set(category_ids)
            self.visibility_changed.emit()

    def look(self) -> Look:
        """The frozen display choices every view draws with (model/look.py)."""
        key = (frozenset(self.hidden_categories), self.opacity,
               self.layers.get("results", True), self.min_score, self.color_by_instance)
        if self._look is None or self._look_key != key:  # made once per change
            self._look_key, self._look = key, Look(*key)
        return self._look

    def visible_categories(self) -> set[int] | None:
        """None when every category is visible (the common, cheapest case)."""
        return None if self.dataset is None else self.look().categories(self.dataset)
