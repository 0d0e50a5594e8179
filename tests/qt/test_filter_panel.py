"""The filter panel and the shared filter model: live count, state list, slow criteria."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.model.filters import FilterExtras, ImageFilter, filter_images
from cocoview.qt.actions import SPECS, key_text
from cocoview.qt.category_tree import CategoryPanel
from cocoview.qt.filter_model import FilterModel
from cocoview.qt.filter_panel import CategoryChoiceModel, FilterPanel, parse_ids
from cocoview.qt.help import shortcuts_html
from cocoview.qt.state import ViewerState
from tests.builders import doc, write

CHECK = Qt.ItemDataRole.CheckStateRole
PERSON, CAR = 1, 3


@pytest.fixture
def panel(qtbot: QtBot, state: ViewerState) -> FilterPanel:
    p = FilterPanel(state)
    qtbot.addWidget(p)
    p.resize(340, 760)
    p.show()
    yield p
    assert p.filters.shutdown()


def check(p: FilterPanel, name: str, on: bool = True) -> None:
    """Check a category by name through the panel's (proxy) model, as a click does."""
    proxy = p.proxy
    for r in range(proxy.rowCount()):
        ix = proxy.index(r, 0)
        if ix.data() == name:
            proxy.setData(ix, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked, CHECK)
            return
    raise AssertionError(f"no category {name!r} shown")


def ids_of(state: ViewerState) -> list[int]:
    return state.image_list.tolist()


def test_choice_model_passes_the_model_tester(qtmodeltester, qtbot: QtBot, state: ViewerState,
                                              demo: Dataset, lvis: Dataset) -> None:
    filters = FilterModel(state)
    model = CategoryChoiceModel(filters)
    qtmodeltester.check(model)
    # the image counts come from a worker, then fill the column
    qtbot.waitUntil(model.counted, timeout=10000)
    assert model.index(0, 0).data() == "person"
    assert model.index(0, 1).data() == f"{demo.category_counts()[1][0]:,}"
    assert model.index(0, 0).data(CHECK) == Qt.CheckState.Unchecked
    filters.set_categories([PERSON], "any")  # dataChanged while the tester watches
    assert model.index(0, 0).data(CHECK) == Qt.CheckState.Checked
    state.set_dataset(lvis)  # a reset too: 1,203 categories
    assert model.rowCount() == 1203
    assert filters.filter.is_empty  # not carried over to another dataset
    qtmodeltester.check(model)
    qtbot.waitUntil(model.counted, timeout=10000)
    assert filters.shutdown()


@pytest.mark.parametrize("match", ["any", "all", "none"])
def test_editing_updates_count_and_state(qtbot: QtBot, panel: FilterPanel, state: ViewerState,
                                         demo: Dataset, match: str) -> None:
    panel.mode.setCurrentIndex(["any", "all", "none"].index(match))
    check(panel, "person")
    with qtbot.waitSignal(panel.filters.applied, timeout=2000):
        check(panel, "car")
    expected = filter_images(demo, ImageFilter(categories=(PERSON, CAR), match=match))  # type: ignore[arg-type]
    assert ids_of(state) == expected.tolist()
    assert panel.count_label.text() == f"{len(expected):,} of 19 images match"
    assert f"{match} of {{person, car}}" in panel.summary.text()
    assert state.image_list_label == f"{match} of {{person, car}}"
    assert panel.mode.currentText() == f"has {match} of"
    # unchecking goes back
    with qtbot.waitSignal(panel.filters.applied, timeout=2000):
        check(panel, "car", on=False)
    expected = filter_images(demo, ImageFilter(categories=(PERSON,), match=match))  # type: ignore[arg-type]
    assert ids_of(state) == expected.tolist()


def test_mode_is_spelled_out(panel: FilterPanel) -> None:
    texts = [panel.mode.itemText(k) for k in range(panel.mode.count())]
    assert texts == ["has any of", "has all of", "has none of"]
    panel.mode.setCurrentIndex(2)
    assert "without" in panel.mode_hint.text()
    assert panel.filters.filter.match == "none"


def test_clicking_a_row_toggles_it(qtbot: QtBot, panel: FilterPanel) -> None:
    qtbot.waitExposed(panel)
    panel.search.setText("bicycle")
    ix = panel.proxy.index(0, 1)  # the count column: anywhere on the row
    rect = panel.cat_view.visualRect(ix)
    qtbot.mouseClick(panel.cat_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.filters.filter.categories == (2,)
    qtbot.mouseClick(panel.cat_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.filters.filter.categories == ()


def test_clear_restores_all_images(qtbot: QtBot, panel: FilterPanel, state: ViewerState,
                                   demo: Dataset) -> None:
    panel.filters.set_categories([CAR], "any", immediate=True)
    panel.box("crowd").setCurrentIndex(2)
    qtbot.waitUntil(lambda: state.image_list_label.endswith("without crowd"), timeout=2000)
    assert len(state.image_list) < len(demo)
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert ids_of(state) == demo.image_ids.tolist()
    assert state.image_list_label == "all images"
    assert panel.filters.filter.is_empty
    assert panel.box("crowd").currentIndex() == 0 and panel.proxy.index(0, 0).data(CHECK) == \
        Qt.CheckState.Unchecked
    assert "No filter" in panel.summary.text()
    assert panel.count_label.text() == "19 of 19 images match"


def test_every_form_field(qtbot: QtBot, panel: FilterPanel, state: ViewerState,
                          demo: Dataset) -> None:
    panel.box("size").setCurrentIndex(panel.box("size").findData("small"))
    panel.min_count.setValue(3)
    panel.max_count.setValue(20)
    panel.box("keypoints").setCurrentIndex(panel.box("keypoints").findData(True))
    panel.name.setText("0000001*")
    want = ImageFilter(size="small", min_annotations=3, max_annotations=20, has_keypoints=True,
                       name="0000001*")
    assert panel.filters.filter == want
    qtbot.waitUntil(lambda: ids_of(state) == filter_images(demo, want).tolist(), timeout=2000)
    panel.max_count.setValue(-1)  # "any"
    assert panel.filters.filter.max_annotations is None
    assert panel.max_count.text() == "any"


def test_text_input_is_debounced(qtbot: QtBot, panel: FilterPanel, state: ViewerState,
                                 demo: Dataset) -> None:
    before = ids_of(state)
    panel.name.setText("139")
    # the summary follows at once, the list after a short pause
    assert "'139'" in panel.summary.text()
    assert ids_of(state) == before
    with qtbot.waitSignal(panel.filters.applied, timeout=2000):
        pass
    assert ids_of(state) == filter_images(demo, ImageFilter(name="139")).tolist()


def test_pasted_ids(qtbot: QtBot, panel: FilterPanel, state: ViewerState) -> None:
    assert parse_ids("139, 785\n40083;x 139") == ((139, 785, 40083), 1)
    assert parse_ids("  ") == (None, 0)
    with qtbot.waitSignal(panel.filters.applied, timeout=2000):
        panel.ids.setPlainText("139\n785\nabc 5")
    assert ids_of(state) == [139, 785]
    assert panel.filters.filter.image_ids == (139, 785, 5)
    hint = panel.ids_hint.text()
    assert "3 ids" in hint and "1 not in the dataset" in hint and "1 entry ignored" in hint


def test_search_and_enter_checks(qtbot: QtBot, state: ViewerState, lvis: Dataset) -> None:
    state.set_dataset(lvis)
    p = FilterPanel(state)
    qtbot.addWidget(p)
    assert p.proxy.rowCount() == 1203
    first = p.choices.index(5, 0).data()
    p.search.setText(first)
    assert 1 <= p.proxy.rowCount() < 1203
    qtbot.keyClick(p.search, Qt.Key.Key_Return)
    assert p.filters.filter.categories == (lvis.categories[5].id,)
    assert p.search.text() == ""
    p.checked_only.setChecked(True)
    assert p.proxy.rowCount() == 1
    p.checked_only.setChecked(False)
    assert p.filters.shutdown()


def test_category_tree_context_menu_sets_the_filter(qtbot: QtBot, state: ViewerState,
                                                    demo: Dataset) -> None:
    filters = FilterModel(state)
    tree = CategoryPanel(state)
    qtbot.addWidget(tree)
    panel = FilterPanel(state, model=filters)
    qtbot.addWidget(panel)

    def row(name: str) -> QModelIndex:
        tree.filter_edit.setText(name)
        parent = tree.proxy.index(0, 0)
        ix = tree.proxy.index(0, 0, parent)
        assert ix.data() == name
        return ix

    def trigger(name: str, action: str) -> None:
        menu = tree.context_menu(row(name))
        acts = {a.objectName(): a for a in menu.actions()}
        acts[action].trigger()
        menu.deleteLater()

    assert "filter_with" not in {a.objectName() for a in tree.context_menu(row("car")).actions()}
    tree.filter_model = filters
    texts = [a.text() for a in tree.context_menu(row("car")).actions()]
    assert "Filter: images with this category" in texts
    assert "Filter: …require this category too (all)" in texts
    assert "Filter: …exclude this category (none)" in texts
    trigger("car", "filter_with")
    assert filters.filter == ImageFilter(categories=(CAR,), match="any")
    assert ids_of(state) == filter_images(demo, filters.filter).tolist()
    trigger("person", "filter_require")
    assert filters.filter == ImageFilter(categories=(CAR, PERSON), match="all")
    assert ids_of(state) == filter_images(demo, filters.filter).tolist()
    assert "all of {car, person}" in panel.summary.text()
    trigger("person", "filter_exclude")
    assert filters.filter == ImageFilter(categories=(PERSON,), match="none")
    assert ids_of(state) == filter_images(demo, filters.filter).tolist()
    assert panel.mode.currentIndex() == 2
    # a supercategory row: images with any of its categories
    tree.filter_edit.setText("vehicle")
    menu = tree.context_menu(tree.proxy.index(0, 0))
    next(a for a in menu.actions() if a.objectName() == "filter_with").trigger()
    vehicles = tuple(c.id for c in demo.categories if c.supercategory == "vehicle")
    assert filters.filter == ImageFilter(categories=vehicles, match="any")
    assert filters.shutdown()


def test_list_set_elsewhere_is_noticed(qtbot: QtBot, panel: FilterPanel,
                                       state: ViewerState) -> None:
    panel.filters.set_categories([PERSON], "any", immediate=True)
    state.set_image_list(np.asarray([139]), "images with car")
    assert not panel.filters.following
    assert panel.note.isVisibleTo(panel) and "images with car" in panel.note.text()
    panel.note.linkActivated.emit("apply")
    assert panel.filters.following and not panel.note.isVisibleTo(panel)
    assert state.image_list_label == "any of {person}"
    # the browser's search narrowing our list keeps it ours
    state.set_image_list(state.image_list[:1], "any of {person}; name contains “1”")
    assert panel.filters.following


def test_new_dataset_forgets_the_filter(qtbot: QtBot, panel: FilterPanel, state: ViewerState,
                                        demo: Dataset) -> None:
    panel.filters.set_categories([PERSON], "all", immediate=True)
    state.set_dataset(demo)
    assert panel.filters.filter.is_empty
    assert ids_of(state) == demo.image_ids.tolist()
    assert panel.proxy.index(0, 0).data(CHECK) == Qt.CheckState.Unchecked


@pytest.fixture
def damaged(tmp_path: Path) -> Dataset:
    d = doc()
    d["annotations"].append({"id": 12, "image_id": 3, "category_id": 1, "bbox": [0, 0, 50, 50],
                             "area": 1, "iscrowd": 0, "segmentation": []})
    path = write(tmp_path / "ann.json", d)
    (tmp_path / "a.jpg").write_bytes(b"present")  # sub/b.jpg and c.jpg are missing
    return cocoview.open(path)


def test_slow_criteria_run_in_a_worker(qtbot: QtBot, state: ViewerState, damaged: Dataset,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[bool] = []  # per computation (not per cache hit): on the GUI thread?
    real_missing, real_problems = FilterExtras.missing_files, FilterExtras.problem_images

    def missing(self, ds, progress=None):  # type: ignore[no-untyped-def]
        if self._missing is None:
            threads.append(threading.current_thread() is threading.main_thread())
        return real_missing(self, ds, progress)

    def problems(self, ds):  # type: ignore[no-untyped-def]
        if self._problems is None:
            threads.append(threading.current_thread() is threading.main_thread())
        return real_problems(self, ds)

    monkeypatch.setattr(FilterExtras, "missing_files", missing)
    monkeypatch.setattr(FilterExtras, "problem_images", problems)
    state.set_dataset(damaged)
    p = FilterPanel(state)
    qtbot.addWidget(p)
    busy: list[str] = []
    p.filters.busyChanged.connect(busy.append)
    with qtbot.waitSignal(p.filters.applied, timeout=10000):
        p.box("missing").setCurrentIndex(p.box("missing").findData(True))
        p.filters.apply_now()  # no pause: the worker starts at once
        assert p.filters.busy() == "Checking image files…"
        assert p.busy_row.isVisibleTo(p)
        assert p.count_label.text() == "Counting…"
    assert ids_of(state) == [2, 3]
    assert busy[0] == "Checking image files…" and busy[-1] == ""
    assert not p.busy_row.isVisibleTo(p)
    assert p.count_label.text() == "2 of 3 images match"
    with qtbot.waitSignal(p.filters.applied, timeout=10000):
        p.box("problems").setCurrentIndex(p.box("problems").findData(True))
    assert ids_of(state) == [3]
    assert threads == [False, False]  # both computed off the GUI thread
    # cached for the dataset: no worker the second time
    p.box("missing").setCurrentIndex(p.box("missing").findData(False))
    p.filters.apply_now()
    assert ids_of(state) == []
    assert p.filters.is_ready("missing") and p.filters.is_ready("problems")
    assert threads == [False, False]
    assert p.filters.shutdown()


def test_slow_criterion_can_be_cancelled(qtbot: QtBot, state: ViewerState, damaged: Dataset,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    real = FilterExtras.problem_images

    def slow(self, ds):  # type: ignore[no-untyped-def]
        gate.wait(10)
        return real(self, ds)

    monkeypatch.setattr(FilterExtras, "problem_images", slow)
    state.set_dataset(damaged)
    p = FilterPanel(state)
    qtbot.addWidget(p)
    p.box("problems").setCurrentIndex(p.box("problems").findData(True))
    p.filters.apply_now()
    assert p.filters.busy()
    qtbot.mouseClick(p.cancel_button, Qt.MouseButton.LeftButton)
    assert p.filters.filter.has_problems is None and p.box("problems").currentIndex() == 0
    assert not p.filters.busy() and ids_of(state) == [1, 2, 3]
    gate.set()
    assert p.filters.shutdown()
    assert not p.filters.is_ready("problems")  # a cancelled result is not trusted


def test_failing_worker_is_reported(qtbot: QtBot, state: ViewerState, damaged: Dataset,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self, ds):  # type: ignore[no-untyped-def]
        raise RuntimeError("validator exploded")

    monkeypatch.setattr(FilterExtras, "problem_images", boom)
    state.set_dataset(damaged)
    p = FilterPanel(state)
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.filters.failed, timeout=10000):
        p.box("problems").setCurrentIndex(p.box("problems").findData(True))
    assert "validator exploded" in p.note.text() and p.note.isVisibleTo(p)
    assert p.filters.shutdown()


def test_actions_and_shortcuts() -> None:
    specs = {s.key: s for s in SPECS}
    assert specs["clear_filter"].shortcuts == ("Ctrl+Shift+L",)
    assert specs["export"].shortcuts == ("Ctrl+E",)
    keys = [key_text(k) for s in SPECS for k in s.shortcuts]
    assert len(keys) == len(set(keys)), "a shortcut is used twice"
    html = shortcuts_html(SPECS)
    assert "Clear Filter" in html and "Export…" in html


def test_main_window_filter_dock_and_clear_action(qtbot: QtBot) -> None:
    from cocoview.qt.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loader.loaded, timeout=20000):
        w.open_demo()
    assert w.docks["filter"].objectName() == "dock_filter"
    # beside the image list, both visible (not a tab behind it)
    assert w.docks["filter"] not in w.tabifiedDockWidgets(w.docks["images"])
    assert w.dockWidgetArea(w.docks["filter"]) == w.dockWidgetArea(w.docks["images"])
    assert w.docks["filter"].isVisible() and w.docks["images"].isVisible()
    assert w.docks["filter"].geometry().top() >= w.docks["images"].geometry().bottom()
    assert w.categories.filter_model is w.filter_model
    w.filter_model.set_categories([CAR], "any", immediate=True)
    ds = w.state.dataset
    assert ds is not None
    assert ids_of(w.state) == filter_images(ds, w.filter_model.filter).tolist()
    assert "any of {car}" in w.browser.count_label.text()
    w.actions_["clear_filter"].trigger()
    assert len(w.state.image_list) == 19 and w.filter_model.filter.is_empty
    w.close()
    assert w.filter_model._jobs.active_threads() == 0


def test_a_new_criterion_with_a_form_needs_no_panel_code(
        qtbot: QtBot, state: ViewerState, demo: Dataset,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The form is built from the registry: a criterion with choices (here ones that
    depend on the dataset) gets its row, its section and its edits without panel code."""
    from cocoview.model import filters as flt_mod
    from cocoview.qt import filter_panel as panel_mod
    extra = flt_mod.Criterion(
        "review_probe", ("has_keypoints",), "annotation",
        lambda cx: np.ones(cx.n, bool), lambda f, _ds: "probe",
        form=flt_mod.Form("Probe:", "Review",
                          choices=lambda ds: (flt_mod.ANY,
                                              (f"{len(ds) if ds else 0} images", True))))
    monkeypatch.setattr(panel_mod, "CRITERIA", (*flt_mod.CRITERIA, extra))
    p = FilterPanel(state)
    qtbot.addWidget(p)
    box = p.box("review_probe")
    assert [box.itemText(i) for i in range(box.count())] == ["any", f"{len(demo)} images"]
    assert "Review" in [w.text() for w in p.findChildren(type(p.count_label))]
    box.setCurrentIndex(1)
    assert p.filters.filter.has_keypoints is True
    p.filters.update(has_keypoints=None)
    assert box.currentIndex() == 0
    assert p.filters.shutdown()


def test_every_criterion_with_a_form_has_a_row(panel: FilterPanel) -> None:
    from cocoview.model.filters import CRITERIA
    shown = {w.text() for w in panel.findChildren(type(panel.count_label))}
    for crit in CRITERIA:
        if crit.form is not None:
            assert crit.form.label in shown, crit.name
            if crit.form.kind == "choice":
                assert panel.box(crit.name).count() == len(crit.form.options(None))
