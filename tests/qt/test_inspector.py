"""The inspector: annotation list, details, keypoints, JSON, image metadata, problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.qt.inspector import (
    ROW_ROLE,
    AnnotationListModel,
    InspectorPanel,
    KeypointTableModel,
    pretty_json,
)
from cocoview.qt.state import ViewerState
from cocoview.resources import demo_files
from cocoview.testing.synth import generate_coco

BAD = {
    "images": [{"id": 1, "file_name": "missing.jpg", "width": 100, "height": 80, "license": 3},
               {"id": 2, "file_name": "also_missing.jpg", "width": 100, "height": 80}],
    "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [90, 70, 50, 50], "area": 2500,
         "iscrowd": 0, "segmentation": [[90, 70, 140, 70, 140, 120, 90, 120]]},
        {"id": 11, "image_id": 1, "category_id": 2, "bbox": [1, 1, 5, 5], "area": 25,
         "iscrowd": 0, "segmentation": [[1, 1, 5, 5]], "attributes": {"occluded": True}},
        {"id": 12, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100,
         "iscrowd": 1, "segmentation": {"size": [80, 100], "counts": [0, 8000]}},
        {"id": 13, "image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 50,
         "iscrowd": 0, "segmentation": [[0, 0, 10, 0, 10, 10]]},
    ],
    "categories": [{"id": 1, "name": "thing", "supercategory": "stuff"}],
}


@pytest.fixture
def bad_state(qapp, tmp_path: Path) -> ViewerState:
    path = tmp_path / "annotations" / "bad.json"
    path.parent.mkdir()
    path.write_text(json.dumps(BAD))
    s = ViewerState()
    s.set_dataset(cocoview.open(path))
    return s


@pytest.fixture
def panel(state: ViewerState, qtbot) -> InspectorPanel:
    p = InspectorPanel(state)
    qtbot.addWidget(p)
    p.resize(380, 700)
    return p


def wait_problems(qtbot, panel: InspectorPanel) -> None:
    qtbot.waitUntil(lambda: not panel.problems_status.text().startswith("Checking"))


def test_models_pass_the_model_tester(qtmodeltester, state: ViewerState) -> None:
    ann = AnnotationListModel(state)
    kp = KeypointTableModel(state)
    for image_id in (139, 785):
        state.set_current_image(image_id)
        state.select(int(state.dataset.ann_rows(image_id)[0]))  # type: ignore[union-attr]
        qtmodeltester.check(ann)
        qtmodeltester.check(kp)
    state.set_category_visible(1, False)  # dataChanged on the list
    qtmodeltester.check(ann)
    state.set_dataset(None)
    assert ann.rowCount() == 0 and kp.rowCount() == 0


def test_models_on_lvis_scale(qtmodeltester, qapp, tmp_path: Path) -> None:
    path = tmp_path / "lvis.json"
    generate_coco(path, n_images=50, n_annotations=3000, n_categories=1203, lvis=True)
    state = ViewerState()
    state.set_dataset(cocoview.open(path))
    ann = AnnotationListModel(state)
    busiest = max(state.dataset.image_ids.tolist(),  # type: ignore[union-attr]
                  key=lambda i: len(state.dataset.ann_rows(i)))  # type: ignore[union-attr]
    state.set_current_image(busiest)
    assert ann.rowCount() > 50
    qtmodeltester.check(ann)


def test_list_shows_the_current_image(state: ViewerState, demo: Dataset) -> None:
    model = AnnotationListModel(state)
    state.set_current_image(139)
    rows = demo.ann_rows(139).tolist()
    assert model.rowCount() == len(rows) == 20
    first = model.index(0)
    cat = demo.category(int(demo.anns.category_id[rows[0]]))
    assert first.data() == f"{cat.name}  #{int(demo.anns.id[rows[0]])}"
    assert first.data(ROW_ROLE) == rows[0]
    assert "area" in first.data(Qt.ItemDataRole.ToolTipRole)
    assert first.data(Qt.ItemDataRole.DecorationRole) is not None
    crowd = [r for r in range(len(demo.anns)) if demo.anns.iscrowd[r]]
    state.set_current_image(int(demo.anns.image_id[crowd[0]]))
    texts = [model.index(i).data() for i in range(model.rowCount())]
    assert any(t.endswith(" crowd") for t in texts)
    state.set_current_image(785)
    assert model.rowCount() == 1


def test_state_select_shows_details_and_json(panel: InspectorPanel, state: ViewerState,
                                             demo: Dataset) -> None:
    state.set_current_image(139)
    assert panel.details_stack.currentIndex() == 0  # the placeholder
    assert not panel.copy_json_button.isEnabled()
    row = int(demo.ann_rows(139)[3])
    state.select(row)
    ann_id = int(demo.anns.id[row])
    assert panel.details_stack.currentIndex() == 1
    assert panel.details.value("id") == str(ann_id)
    cat = demo.category(int(demo.anns.category_id[row]))
    assert panel.details.value("category") == f"{cat.name} ({cat.id})"
    assert panel.details.value("supercategory") == cat.supercategory
    assert panel.details.value("segmentation").startswith("polygon · ")
    assert json.loads(panel.json_text()) == demo.annotation_record(row)
    assert json.loads(panel.json_edit.toPlainText()) == demo.annotation_record(row)
    assert panel.json_edit.isReadOnly()
    # the list follows the state, and the state follows the list
    sel = panel.list_view.selectionModel().selectedIndexes()
    assert [i.row() for i in sel] == [3]
    panel.list_view.selectionModel().setCurrentIndex(
        panel.list_model.index(5), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert state.selected_row == int(demo.ann_rows(139)[5])
    assert panel.details.value("id") == str(int(demo.anns.id[state.selected_row]))
    state.select(-1)
    assert panel.list_view.selectionModel().selectedIndexes() == []
    assert panel.details_stack.currentIndex() == 0 and panel.json_text() == ""


def test_clicking_a_list_item_selects(panel: InspectorPanel, state: ViewerState,
                                      demo: Dataset, qtbot) -> None:
    panel.show()
    qtbot.waitExposed(panel)
    state.set_current_image(139)
    rect = panel.list_view.visualRect(panel.list_model.index(2))
    emitted: list[int] = []
    state.selectionChanged.connect(emitted.append)
    qtbot.mouseClick(panel.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert state.selected_row == int(demo.ann_rows(139)[2])
    assert emitted == [state.selected_row]  # once: no echo from the list
    qtbot.keyClick(panel.list_view, Qt.Key.Key_Down)
    assert state.selected_row == int(demo.ann_rows(139)[3])


def test_keypoint_table_for_a_person(panel: InspectorPanel, state: ViewerState,
                                     demo: Dataset) -> None:
    panel.show()
    state.set_current_image(139)
    state.select(int(demo.ann_rows(139)[0]))  # a potted plant: no keypoints
    assert panel.keypoint_box.isHidden()
    state.set_current_image(785)
    row = int(demo.ann_rows(785)[0])
    state.select(row)
    model = panel.keypoint_model
    assert not panel.keypoint_box.isHidden()
    kp = demo.keypoints_array(row)
    assert kp is not None and model.rowCount() == len(kp) == 17
    assert model.columnCount() == 4
    assert model.index(0, 0).data() == "nose"
    assert model.index(0, 1).data() == "367" and model.index(0, 2).data() == "81"
    assert model.index(0, 3).data() == "visible"
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Visibility"
    assert panel.details.value("num_keypoints") == "17 (17 of 17 labelled)"
    state.select(-1)
    assert model.rowCount() == 0 and panel.keypoint_box.isHidden()


def test_keypoint_visibility_names(qapp, tmp_path: Path) -> None:
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9],
                            "area": 81, "iscrowd": 0, "num_keypoints": 2,
                            "keypoints": [1, 2, 2, 3.5, 4, 1, 0, 0, 0]}],
           "categories": [{"id": 1, "name": "hand", "keypoints": ["a", "b"]}]}
    path = tmp_path / "kp.json"
    path.write_text(json.dumps(doc))
    state = ViewerState()
    state.set_dataset(cocoview.open(path))
    model = KeypointTableModel(state)
    state.select(0)
    col = [model.index(r, 3).data() for r in range(3)]
    assert col == ["visible", "occluded", "absent"]
    assert [model.index(r, 0).data() for r in range(3)] == ["a", "b", "2"]  # unnamed: index
    assert model.index(1, 1).data() == "3.5"
    assert model.index(2, 0).data(Qt.ItemDataRole.ForegroundRole) is not None  # dimmed


def test_image_metadata_and_captions(qapp, qtbot, tmp_path: Path, demo: Dataset) -> None:
    state = ViewerState()
    state.set_dataset(demo)
    panel = InspectorPanel(state)
    qtbot.addWidget(panel)
    state.set_current_image(785)
    grid = panel.image_grid
    assert grid.value("id") == "785"
    assert grid.value("file_name") == "000000000785.jpg"
    assert grid.value("size") == "640 × 425"
    assert grid.value("licence") == "Attribution License"
    assert grid.value("licence url") == "http://creativecommons.org/licenses/by/2.0/"
    assert grid.value("coco_url", ).endswith("000000000785.jpg")
    assert grid.value("date_captured") == "2013-11-19 21:22:42"
    assert panel.captions.isHidden()
    # a captions file over the same image
    caps = {"images": [demo.image_record(785)], "annotations": [
        {"id": 1, "image_id": 785, "caption": "A woman skiing <fast> & happy."},
        {"id": 2, "image_id": 785, "caption": "Someone on skis."}]}
    path = tmp_path / "captions.json"
    path.write_text(json.dumps(caps))
    state.set_dataset(cocoview.open([*demo_files(), path]))
    state.set_current_image(785)
    assert not panel.captions.isHidden()
    text = panel.captions.toPlainText()
    assert "A woman skiing <fast> & happy." in text and "Someone on skis." in text


def test_copy_json(panel: InspectorPanel, state: ViewerState, demo: Dataset, qtbot) -> None:
    state.set_current_image(785)
    row = int(demo.ann_rows(785)[0])
    state.select(row)
    qtbot.mouseClick(panel.copy_json_button, Qt.MouseButton.LeftButton)
    assert json.loads(QGuiApplication.clipboard().text()) == demo.annotation_record(row)


def test_pretty_json_keeps_number_lists_on_one_line() -> None:
    text = pretty_json({"bbox": [1, 2, 3, 4], "segmentation": [[1, 2, 3, 4, 5, 6], [7, 8]],
                        "attributes": {"a": None}, "empty": [], "s": "é"})
    assert '"bbox": [1, 2, 3, 4]' in text
    assert "\n    [1, 2, 3, 4, 5, 6],\n    [7, 8]\n" in text
    assert '"s": "é"' in text
    assert json.loads(text)["attributes"] == {"a": None}


def test_problems_of_a_bad_file(bad_state: ViewerState, qtbot) -> None:
    panel = InspectorPanel(bad_state)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.problemsReady, timeout=5000) as blocker:
        bad_state.set_current_image(1)
    image_id, problems = blocker.args
    assert image_id == 1
    codes = {p.code for p in problems}
    assert any("outside" in p.message for p in problems), codes
    wait_problems(qtbot, panel)
    view = panel.problems_view
    assert view.topLevelItemCount() == len(problems)
    texts = [view.topLevelItem(i).text(0) for i in range(view.topLevelItemCount())]
    assert any("extends outside the 100×80 image" in t for t in texts)
    assert view.topLevelItem(1).text(1) == "annotations[0] (id 10)"
    assert view.topLevelItem(0).toolTip(0).startswith("error: ")  # worst first
    assert view.topLevelItem(0).icon(0).isNull() is False
    assert panel.problems_status.text() == "1 error, 3 warnings"
    assert not panel.tabs.tabIcon(3).isNull()
    assert panel.tabs.tabToolTip(3) == "1 error, 3 warnings"
    # double-clicking an annotation's problem selects it
    item = next(view.topLevelItem(i) for i in range(view.topLevelItemCount())
                if "outside" in view.topLevelItem(i).text(0))
    view.itemDoubleClicked.emit(item, 2)
    assert bad_state.selected_row == bad_state.dataset.ann_row(10)  # type: ignore[union-attr]


def test_bad_annotation_details(bad_state: ViewerState, qtbot) -> None:
    panel = InspectorPanel(bad_state)
    qtbot.addWidget(panel)
    ds = bad_state.dataset
    assert ds is not None
    bad_state.set_current_image(1)
    bad_state.select(ds.ann_row(11))
    assert panel.details.value("category") == "2 — undefined"
    assert "2 point(s)" in (panel.details.value("geometry") or "")
    assert panel.details.value("attributes") == '{"occluded": true}'
    bad_state.select(ds.ann_row(12))
    assert panel.details.value("iscrowd") == "1 — crowd region"
    assert panel.details.value("segmentation") == "RLE (uncompressed counts) · 100 × 80"
    wait_problems(qtbot, panel)


def test_stale_problem_results_are_dropped(bad_state: ViewerState, qtbot) -> None:
    panel = InspectorPanel(bad_state)
    qtbot.addWidget(panel)
    reported: list[int] = []
    panel.problemsReady.connect(lambda image_id, _: reported.append(image_id))
    bad_state.set_current_image(1)
    bad_state.set_current_image(2)  # before image 1's check could report
    with qtbot.waitSignal(panel.problemsReady, timeout=5000):
        pass
    wait_problems(qtbot, panel)
    assert reported == [2]
    view = panel.problems_view
    assert all("also_missing.jpg" in view.topLevelItem(i).text(0)
               for i in range(view.topLevelItemCount()))
    # and a result that arrives late for the image left behind changes nothing
    panel._problems_done(1, [])
    assert view.topLevelItemCount() == 1 and reported == [2]


def test_hidden_categories_are_dimmed(state: ViewerState) -> None:
    model = AnnotationListModel(state)
    state.set_current_image(785)
    idx = model.index(0)
    assert idx.data(Qt.ItemDataRole.ForegroundRole) is None
    state.set_category_visible(1, False)
    assert idx.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "hidden" in idx.data(Qt.ItemDataRole.ToolTipRole)


def test_hovering_the_list_hovers_the_canvas(panel: InspectorPanel, state: ViewerState,
                                             demo: Dataset) -> None:
    state.set_current_image(139)
    panel.list_view.entered.emit(panel.list_model.index(4))
    assert state.hover_row == int(demo.ann_rows(139)[4])


def test_no_dataset(panel: InspectorPanel, state: ViewerState, qtbot) -> None:
    state.set_current_image(785)
    state.select(int(state.dataset.ann_rows(785)[0]))  # type: ignore[union-attr]
    wait_problems(qtbot, panel)
    state.set_dataset(None)
    assert panel.list_model.rowCount() == 0
    assert panel.details_stack.currentIndex() == 0
    assert panel.image_grid.topLevelItemCount() == 0
    assert panel.problems_view.topLevelItemCount() == 0 and panel.problems_status.text() == ""


def test_panels_render_offscreen(state: ViewerState, qtbot, tmp_path: Path) -> None:
    """Both panels side by side grab to a picture (look at it when changing the layout)."""
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from cocoview.qt.category_tree import CategoryPanel

    host = QWidget()
    qtbot.addWidget(host)
    lay = QHBoxLayout(host)
    lay.addWidget(CategoryPanel(state))
    inspector = InspectorPanel(state)
    lay.addWidget(inspector)
    host.resize(720, 640)
    host.show()
    state.set_current_image(785)
    state.select(int(state.dataset.ann_rows(785)[0]))  # type: ignore[union-attr]
    wait_problems(qtbot, inspector)
    assert inspector.minimumSizeHint().width() <= 320  # fits a narrow dock
    out = tmp_path / "panels.png"
    assert host.grab().save(str(out)) and out.stat().st_size > 10_000


def test_image_ids_above_32_bits(qapp, qtbot, tmp_path: Path) -> None:
    """The panel reads ids from the state, never from an ``int`` signal argument."""
    big = 5_000_000_001
    doc = {"images": [{"id": big, "file_name": "x.jpg", "width": 10, "height": 10}],
           "annotations": [{"id": 2**40, "image_id": big, "category_id": 1,
                            "bbox": [5, 5, 20, 20], "area": 400, "iscrowd": 0}],
           "categories": [{"id": 1, "name": "a"}]}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    state = ViewerState()
    panel = InspectorPanel(state)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.problemsReady, timeout=5000) as blocker:
        state.set_dataset(cocoview.open(path))
    assert blocker.args[0] == big
    assert panel.list_model.rowCount() == 1
    assert panel.image_grid.value("id") == str(big)
    panel.list_view.setCurrentIndex(panel.list_model.index(0))
    assert state.selected_row == 0
    assert panel.details.value("id") == str(2**40)


def test_the_annotation_list_describes_rows_when_shown(qapp: object, tmp_path: Path) -> None:
    from tests.builders import write

    anns = [{"id": i, "image_id": 1, "category_id": 1, "bbox": [i % 30, 1, 4, 4], "area": 16}
            for i in range(1, 3001)]
    d = {"images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}],
         "annotations": anns, "categories": [{"id": 1, "name": "dot"}]}
    st = ViewerState()
    st.set_dataset(cocoview.open(write(tmp_path / "dense.json", d)))
    model = AnnotationListModel(st)
    assert model.rowCount() == 3000
    assert model._items == {}  # nothing described up front (an image may hold 300,000)
    assert model.data(model.index(2999)) == "dot  #3000"
    assert len(model._items) == 1


def test_lvis_category_lists_are_shown_as_names(qapp: object, tmp_path: Path) -> None:
    from cocoview.qt.inspector import image_props
    from tests.builders import doc, write

    d = doc()
    d["images"][0].update(neg_category_ids=[2, 99], not_exhaustive_category_ids=[])
    ds = cocoview.open(write(tmp_path / "lvis.json", d))
    props = {k: (v, tip) for k, v, tip in image_props(ds, 1)}
    assert props["absent categories"][0] == "dog, id 99 (not in 'categories')"
    assert "dog (id 2)" in props["absent categories"][1]
    assert props["not exhaustive"][0] == "—"
    assert "neg_category_ids" not in props  # not repeated raw among the extra fields
