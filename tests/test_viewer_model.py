"""The Qt-free viewer model: a review can be driven without widgets, and every event
fires once per real change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cocoview
from cocoview.model.viewer import Item, ViewerModel
from tests.builders import doc, write


def _events(m: ViewerModel) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []
    for name in ("dataset_changed", "image_list_changed", "visibility_changed",
                 "layers_changed", "image_policy_changed"):
        getattr(m, name).connect(lambda name=name: seen.append((name, None)))
    for name in ("current_image_changed", "selection_changed", "hover_changed",
                 "opacity_changed", "min_score_changed", "outline_only_changed"):
        getattr(m, name).connect(lambda v, name=name: seen.append((name, v)))
    return seen


def test_a_review_driven_without_qt(tmp_path: Path) -> None:
    ds = cocoview.open(write(tmp_path / "d.json", doc()), cache=False)
    m = ViewerModel()
    seen = _events(m)
    m.set_dataset(ds)
    assert [n for n, _ in seen] == ["dataset_changed", "image_list_changed",
                                    "visibility_changed", "current_image_changed",
                                    "selection_changed"]
    assert m.current_image == 1 and m.image_list.tolist() == [1, 2, 3]
    seen.clear()
    m.step(1)
    m.step(5)  # clamped at the end
    m.step(5)  # no change: no event
    assert [v for n, v in seen if n == "current_image_changed"] == [2, 3]
    seen.clear()
    m.select(0)
    m.select(1, "detection", add=True)
    assert m.selection == {Item("annotation", 0), Item("detection", 1)}
    assert m.selected_row == -1  # two items: not "one annotation"
    m.select(1, "detection", add=True)  # toggled off
    assert m.selected_row == 0
    m.select(0)  # the same selection again: no event
    assert [n for n, _ in seen].count("selection_changed") == 3
    m.set_image_list(ds.image_ids[:2], "two")  # the current image (3) left the list
    assert m.current_image == 1 and m.selection == frozenset()


def test_setters_emit_only_on_change() -> None:
    m = ViewerModel()
    seen = _events(m)
    m.set_opacity(0.5)  # the default
    m.set_opacity(2.0)  # clamped to 1
    m.set_opacity(1.0)
    m.set_min_score(0.3)
    m.set_min_score(0.8)
    m.set_layer("masks", True)
    m.set_layer("masks", False)
    m.set_categories_visible([4], False)
    m.set_categories_visible([4], False)
    m.set_hidden_categories({4})
    m.set_outline_only(True)
    m.hover(Item("annotation", 3))
    m.hover(Item("annotation", 3))
    m.set_allow_outside_images(True)
    assert seen == [("opacity_changed", 1.0), ("min_score_changed", 0.8),
                    ("layers_changed", None), ("visibility_changed", None),
                    ("outline_only_changed", True),
                    ("hover_changed", Item("annotation", 3)),
                    ("image_policy_changed", None)]
    assert m.visible_categories() is None  # no dataset: nothing to subtract from


def test_the_viewer_model_imports_no_qt() -> None:
    code = ("import sys, cocoview.model.viewer; "
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_the_qt_state_follows_its_model(qtbot: object) -> None:
    from cocoview.qt.state import ViewerState

    st = ViewerState()
    got: list[object] = []
    st.selectionChanged.connect(got.append)
    st.selectionSetChanged.connect(got.append)
    st.model.select(4)  # a script changes the model: the widgets hear it
    assert got == [4, frozenset({Item("annotation", 4)})]
    assert st.selected_row == 4
    st.hidden_categories = {2}
    assert st.model.hidden_categories == {2}


def test_the_filter_lives_in_the_model(tmp_path: Path) -> None:
    from cocoview.model.filters import ImageFilter

    ds = cocoview.open(write(tmp_path / "d.json", doc()), cache=False)
    m = ViewerModel()
    m.set_dataset(ds)
    seen: list[object] = []
    m.filter_changed.connect(seen.append)
    m.set_filter(ImageFilter(categories=(2,)))
    m.set_filter(ImageFilter(categories=(2,)))  # equal: no event
    assert len(seen) == 1 and m.image_list.tolist() == [1, 2, 3]  # not applied yet
    assert m.apply_filter() == 2
    assert m.image_list.tolist() == [1, 2] and m.image_list_label == "any of {dog}"
    m.set_dataset(ds)  # a dataset opens unfiltered
    assert m.filter == ImageFilter() and len(seen) == 2


def test_the_app_filter_follows_a_script(qtbot: object, tmp_path: Path) -> None:
    from cocoview.model.filters import ImageFilter
    from cocoview.qt.filter_model import FilterModel
    from cocoview.qt.state import ViewerState

    st = ViewerState()
    st.set_dataset(cocoview.open(write(tmp_path / "d.json", doc()), cache=False))
    fm = FilterModel(st, delay_ms=0)
    heard: list[object] = []
    fm.changed.connect(heard.append)
    st.model.set_filter(ImageFilter(categories=(1,)))
    assert heard == [ImageFilter(categories=(1,))] and fm.filter.categories == (1,)
    fm.apply_now()
    assert st.image_list.tolist() == [1]
    fm.shutdown()
