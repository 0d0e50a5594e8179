"""The category tree model and panel: structure, check boxes, filter, double-click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QModelIndex, Qt

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.qt.category_tree import (
    CATEGORY_ID_ROLE,
    CategoryPanel,
    CategoryTreeModel,
    image_ids_with_category,
)
from cocoview.qt.state import ViewerState

CHECK = Qt.ItemDataRole.CheckStateRole


def find(model: CategoryTreeModel, name: str, parent: QModelIndex | None = None) -> QModelIndex:
    """The first row named ``name`` (depth-first)."""
    parent = parent if parent is not None else QModelIndex()
    for r in range(model.rowCount(parent)):
        idx = model.index(r, 0, parent)
        if idx.data() == name:
            return idx
        sub = find(model, name, idx)
        if sub.isValid():
            return sub
    return QModelIndex()


def test_model_tester_demo(qtmodeltester, state: ViewerState) -> None:
    model = CategoryTreeModel(state)
    qtmodeltester.check(model)
    state.set_category_visible(1, False)  # dataChanged while the tester watches
    state.set_dataset(state.dataset)  # a reset too
    qtmodeltester.check(model)


def test_structure_and_counts(state: ViewerState, demo: Dataset) -> None:
    model = CategoryTreeModel(state)
    supers = {c.supercategory for c in demo.categories}
    assert model.rowCount() == len(supers)
    vehicle = find(model, "vehicle")
    assert vehicle.isValid() and not vehicle.parent().isValid()
    assert model.rowCount(vehicle) == sum(c.supercategory == "vehicle" for c in demo.categories)
    inst, imgs = demo.category_counts()
    k = next(i for i, c in enumerate(demo.categories) if c.name == "person")
    person = find(model, "person", find(model, "person"))
    assert person.parent().data() == "person"
    assert person.siblingAtColumn(1).data() == f"{inst[k]:,}"
    assert person.siblingAtColumn(2).data() == f"{imgs[k]:,}"
    assert person.data(CATEGORY_ID_ROLE) == 1
    assert person.data(Qt.ItemDataRole.DecorationRole) is not None
    # a supercategory counts distinct images, not the sum over its categories
    rows = demo.anns.category_id
    vehicle_ids = [c.id for c in demo.categories if c.supercategory == "vehicle"]
    expected = len(np.unique(demo.anns.image_id[np.isin(rows, vehicle_ids)]))
    assert vehicle.siblingAtColumn(2).data() == f"{expected:,}"


def test_undefined_category_is_marked(qtmodeltester, qapp, tmp_path: Path) -> None:
    doc = ('{"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],'
           '"annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [1,1,2,2],'
           '"area": 4, "iscrowd": 0}, {"id": 2, "image_id": 1, "category_id": 1,'
           '"bbox": [1,1,2,2], "area": 4, "iscrowd": 0}],'
           '"categories": [{"id": 1, "name": "cat"}]}')
    path = tmp_path / "undef.json"
    path.write_text(doc)
    state = ViewerState()
    state.set_dataset(cocoview.open(path))
    model = CategoryTreeModel(state)
    qtmodeltester.check(model)
    assert model.rowCount() == 2  # no supercategories: a flat list
    undef = find(model, "category 7 (undefined)")
    assert undef.isValid()
    assert undef.data(Qt.ItemDataRole.FontRole).italic()


def test_checkboxes_hide_and_tristate(state: ViewerState, qtbot) -> None:
    model = CategoryTreeModel(state)
    vehicle = find(model, "vehicle")
    car = find(model, "car", vehicle)
    assert car.data(CHECK) == Qt.CheckState.Checked
    with qtbot.waitSignal(state.visibilityChanged):
        assert model.setData(car, Qt.CheckState.Unchecked.value, CHECK)
    assert state.hidden_categories == {3}
    assert car.data(CHECK) == Qt.CheckState.Unchecked
    assert vehicle.data(CHECK) == Qt.CheckState.PartiallyChecked
    # checking the partial parent shows every child
    model.setData(vehicle, Qt.CheckState.Checked, CHECK)
    assert state.hidden_categories == set()
    model.setData(vehicle, Qt.CheckState.Unchecked, CHECK)
    assert state.hidden_categories == {c for c in model.category_ids(vehicle)}
    assert vehicle.data(CHECK) == Qt.CheckState.Unchecked
    # a change made elsewhere (the canvas, a menu) reaches the tree: one signal, no echo
    with qtbot.waitSignal(model.dataChanged):
        state.set_categories_visible([3], True)
    assert car.data(CHECK) == Qt.CheckState.Checked
    assert vehicle.data(CHECK) == Qt.CheckState.PartiallyChecked
    emitted: list[None] = []
    state.visibilityChanged.connect(lambda: emitted.append(None))
    model.setData(car, Qt.CheckState.Checked, CHECK)  # already visible: nothing happens
    assert emitted == []


def test_clicking_the_checkbox_in_the_view(state: ViewerState, qtbot) -> None:
    panel = CategoryPanel(state)
    qtbot.addWidget(panel)
    panel.resize(360, 600)
    panel.show()
    qtbot.waitExposed(panel)
    panel.filter_edit.setText("bicycle")
    idx = panel.proxy.index(0, 0, panel.proxy.index(0, 0))
    assert idx.data() == "bicycle"
    rect = panel.view.visualRect(idx)
    # the check box sits at the left of the cell, before the swatch and the text
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    opt = QStyleOptionViewItem()
    panel.view.initViewItemOption(opt)
    opt.rect = rect
    opt.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = panel.view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator,
                                            opt, panel.view)
    with qtbot.waitSignal(state.visibilityChanged):
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                         pos=box.center())
    assert state.hidden_categories == {2}


def test_filter_keeps_parents_and_children(state: ViewerState) -> None:
    panel = CategoryPanel(state)
    proxy = panel.proxy
    panel.filter_edit.setText("CAR")
    tops = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert tops == ["vehicle", "food"]  # car, carrot
    vehicle = proxy.index(0, 0)
    assert [proxy.index(r, 0, vehicle).data() for r in range(proxy.rowCount(vehicle))] == ["car"]
    assert proxy.index(0, 0, proxy.index(1, 0)).data() == "carrot"
    panel.filter_edit.setText("vehicle")  # a supercategory brings all its categories
    vehicle = proxy.index(0, 0)
    assert proxy.rowCount(vehicle) == 8
    panel.filter_edit.clear()
    assert proxy.rowCount() == panel.model.rowCount()


def test_sort_by_count(state: ViewerState, demo: Dataset) -> None:
    panel = CategoryPanel(state)
    panel.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    proxy = panel.proxy
    assert proxy.index(0, 0).data() == "person"  # the supercategory with most instances
    panel.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    names = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert names == sorted(names, key=str.casefold)


def test_show_all_hide_all(state: ViewerState, demo: Dataset, qtbot) -> None:
    panel = CategoryPanel(state)
    qtbot.addWidget(panel)
    qtbot.mouseClick(panel.hide_all, Qt.MouseButton.LeftButton)
    assert state.hidden_categories == {c.id for c in demo.categories}
    assert "80 hidden" in panel.summary.text()
    qtbot.mouseClick(panel.show_all, Qt.MouseButton.LeftButton)
    assert state.hidden_categories == set()
    panel.show_only([1])
    assert state.visible_categories() == {1}


def test_double_click_browses_images_with_category(state: ViewerState, demo: Dataset,
                                                   qtbot) -> None:
    panel = CategoryPanel(state)
    qtbot.addWidget(panel)
    panel.filter_edit.setText("bird")
    idx = panel.proxy.index(0, 0, panel.proxy.index(0, 0))
    assert idx.data() == "bird"
    with qtbot.waitSignal(state.imageListChanged):
        panel.view.doubleClicked.emit(idx.siblingAtColumn(2))
    expected = [i for i in demo.image_ids.tolist()
                if 16 in demo.anns.category_id[demo.ann_rows(i)].tolist()]
    assert state.image_list.tolist() == expected and len(expected) == 3
    assert state.image_list_label == "images with bird"
    # double-clicking a supercategory only expands it
    panel.view.doubleClicked.emit(panel.proxy.index(0, 0))
    assert state.image_list_label == "images with bird"


def test_image_ids_in_dataset_order(demo: Dataset) -> None:
    ids = image_ids_with_category(demo, 1)
    assert ids.tolist() == [i for i in demo.image_ids.tolist()
                            if 1 in demo.anns.category_id[demo.ann_rows(i)].tolist()]
    assert image_ids_with_category(demo, 12345).tolist() == []


def test_lvis_scale(qtmodeltester, lvis: Dataset, qtbot) -> None:
    state = ViewerState()
    state.set_dataset(lvis)
    panel = CategoryPanel(state)
    qtbot.addWidget(panel)
    model = panel.model
    assert model.rowCount() == 1203  # LVIS has no supercategories: flat
    qtmodeltester.check(model)
    panel.show()
    panel.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    counts = [int(panel.proxy.index(r, 1).data().replace(",", "")) for r in range(1203)]
    assert counts == sorted(counts, reverse=True)
    panel.filter_edit.setText("object_00")
    assert panel.proxy.rowCount() == 99
    qtmodeltester.check(panel.proxy)
    panel.hide_all.click()
    assert len(state.hidden_categories) == 1203
    assert model.index(5, 0).data(CHECK) == Qt.CheckState.Unchecked
    state.set_dataset(None)
    assert model.rowCount() == 0 and panel.proxy.rowCount() == 0


def test_one_toggle_repaints_one_row_and_its_parent(qapp: object, lvis: Dataset) -> None:
    """1,203 categories: a click must not make the views walk every row."""
    st = ViewerState()
    st.set_dataset(lvis)
    model = CategoryTreeModel(st)
    seen: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles: seen.append((a.row(), b.row())))
    cat = lvis.categories[500]
    st.hidden_categories = {cat.id}
    st.visibilityChanged.emit()
    assert len(seen) <= 2 and all(a == b for a, b in seen)  # the row (and its supercategory)
    node_rows = {a for a, _ in seen}
    ix = next(model.index(r, 0) for r in range(model.rowCount()) if model.index(r, 0).data()
              == cat.name) if not cat.supercategory else None
    if ix is not None:
        assert ix.row() in node_rows
        assert ix.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    seen.clear()
    st.hidden_categories = {c.id for c in lvis.categories}  # hide all: block repaint
    st.visibilityChanged.emit()
    assert 0 < len(seen) < 100 and any(b - a > 100 for a, b in seen)


def test_the_filter_box_suggests_a_close_name(qtbot: Any, state: ViewerState) -> None:
    panel = CategoryPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    panel.filter_edit.setText("persn")
    assert panel.proxy.rowCount() == 0
    assert panel.suggestion.isVisible() and "person" in panel.suggestion.text()
    panel.suggestion.linkActivated.emit("person")  # the user clicks it
    assert panel.filter_edit.text() == "person" and panel.proxy.rowCount() > 0
    assert not panel.suggestion.isVisible()
