"""The views follow the edits (issue 17): the inspector's list and counts, the filter
panel's category counts and match count, the image list's Tags column and the tag
filter, the canvas's frame made again from its decoded pixels; undo restores them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from cocoview.model import edits as E
from cocoview.model.filters import ImageFilter
from cocoview.model.tags import UNTAGGED
from cocoview.qt.main_window import MainWindow
from tests.qt.test_editing import frame_ids, open_file, select_first, src, win

__all__ = ["src", "win"]  # the fixtures


def _picker_count(w: MainWindow, cid: int) -> int:
    m = w.filter_panel.choices
    row = next(r for r in range(m.rowCount()) if m.category_id(r) == cid)
    return int(str(m.index(row, 1).data()).replace(",", "") or -1)


def test_inspector_and_filter_panel_follow_edits(qtbot: QtBot, win: MainWindow,
                                                 src: Path) -> None:
    open_file(qtbot, win, src)
    ds = win.state.dataset
    image = win.state.current_image
    insp = win.inspector
    n = insp.list_model.rowCount()
    assert insp.list_title.text() == f"Annotations  ({n})"
    assert insp.image_grid.value("annotations") == str(n)
    qtbot.waitUntil(win.filter_panel.choices.counted, timeout=10000)
    row, ann = select_first(win)
    cid = int(ds.anns.category_id[row])
    before = _picker_count(win, cid)
    frame = win.canvas.frame
    assert frame is not None
    win.actions_["delete_annotation"].trigger()
    assert insp.list_model.rowCount() == n - 1 and row not in insp.list_model.rows
    assert insp.list_title.text() == f"Annotations  ({n - 1})"
    assert insp.image_grid.value("annotations") == str(n - 1)
    # the picker counts images: the image still has another of the category, or not
    others = [r for r in ds.ann_rows(image).tolist() if r != row
              and int(ds.anns.category_id[r]) == cid]
    assert _picker_count(win, cid) == before - (0 if others else 1)
    # the canvas: the same decoded pixels, the overlays made again
    qtbot.waitUntil(lambda: ann not in frame_ids(win), timeout=5000)
    assert win.canvas.frame.base_bgrx is frame.base_bgrx
    win.actions_["undo"].trigger()
    assert insp.list_model.rowCount() == n and _picker_count(win, cid) == before
    assert insp.image_grid.value("annotations") == str(n)
    # a relabel shows in the list's text
    other = next(c for c in ds.categories if c.id != cid)
    win.editing.edit([E.Relabel(ann, other.id)])
    pos = insp.list_model.position(row)
    assert insp.list_model.index(pos).data().startswith(other.name)
    win.actions_["undo"].trigger()
    # deleting the image: the match count and the total leave it out
    total = len(ds.image_ids)
    win.actions_["delete_image"].trigger()
    assert win.filter_panel.count_label.text() == f"{total - 1:,} of {total - 1:,} images match"
    win.actions_["undo"].trigger()
    assert win.filter_panel.count_label.text() == f"{total:,} of {total:,} images match"


def test_tags_column_choices_and_filter(qtbot: QtBot, win: MainWindow, src: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    open_file(qtbot, win, src)
    model = win.browser.model
    assert "Tags" not in model.COLUMNS
    box = win.filter_panel.box("tag")
    assert box.count() == 1 and not box.isEnabled()  # nothing tagged: no choice
    first = win.state.current_image
    monkeypatch.setattr(win.editing, "ask_text", lambda *_a, **_k: "blurry, dup")
    win.actions_["tag_image"].trigger()
    assert model.COLUMNS[-1] == "Tags"
    col = len(model.COLUMNS) - 1
    assert model.index(model.row_of(first), col).data() == "blurry, dup"
    assert model.index(model.row_of(first) + 1, col).data() == ""
    assert box.isEnabled() and [box.itemData(k) for k in range(box.count())] == [
        None, UNTAGGED, "blurry", "dup"]
    assert win.inspector.image_grid.value("tags") == "blurry, dup"
    win.filter_model.set_filter(ImageFilter(tag="dup"))
    win.filter_model.apply_now()
    qtbot.waitUntil(lambda: win.state.image_list.tolist() == [first], timeout=10000)
    win.filter_model.set_filter(ImageFilter(tag=UNTAGGED))
    win.filter_model.apply_now()
    qtbot.waitUntil(lambda: first not in win.state.image_list.tolist()
                    and len(win.state.image_list) == len(win.state.dataset.image_ids) - 1,
                    timeout=10000)
    win.actions_["undo"].trigger()
    assert model.index(model.row_of(first), col).data() in ("", None)
    assert box.count() == 1
