"""The views follow the edits (issue 17): the inspector's list and counts, the filter
panel's category counts and match count, the image list's Tags column and the tag
filter, the canvas's frame made again from its decoded pixels; undo restores them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QToolButton
from pytestqt.qtbot import QtBot

from cocoview.model import edits as E
from cocoview.model.filters import ImageFilter
from cocoview.model.journal import Journal, journal_path
from cocoview.model.tags import UNTAGGED
from cocoview.model.viewer import Item
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
    win.state.model.set_selection({Item("annotation", row)})
    win.editing.edit([E.Relabel(ann, other.id)])
    pos = insp.list_model.position(row)
    assert insp.list_model.index(pos).data().startswith(other.name)
    assert [i.row() for i in insp.list_view.selectionModel().selectedIndexes()] == [pos]
    assert other.name in (insp.details.value("category") or "")
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


def test_save_as_progress_and_cancel(qtbot: QtBot, win: MainWindow, src: Path,
                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Save As shows its progress; Cancel leaves nothing written (no file, no temp file,
    no backup) and the edits unsaved."""
    open_file(qtbot, win, src)
    select_first(win)
    win.actions_["delete_annotation"].trigger()
    monkeypatch.setattr(E, "_REPORT_EVERY", 1)
    real = E.save_as
    gate = threading.Event()
    fractions: list[float] = []

    def slow(layer: E.EditLayer, out: Path, overwrite_input: bool = False,
             report: Callable[[float], None] | None = None) -> Path:
        def rep(f: float) -> None:
            assert report is not None
            report(f)  # raises once the save is cancelled
            fractions.append(f)
            gate.wait(10)
        return real(layer, out, overwrite_input, rep)

    monkeypatch.setattr(E, "save_as", slow)
    shown: list[int] = []
    monkeypatch.setattr(win.editing, "_progress",
                        lambda f: shown.append(int(f * 1000)))
    out = tmp_path / "out.json"
    # a whole save: the bar follows the records written
    gate.set()
    with qtbot.waitSignal(win.editing.saved, timeout=20000):
        win.editing.save_as(out)
    assert fractions == sorted(fractions) and fractions[-1] > 0.9 and len(fractions) > 5
    qtbot.waitUntil(lambda: bool(shown) and max(shown) > 900, timeout=5000)
    out.unlink()
    # cancelled midway
    assert win.editing.edit([E.SetTags(win.state.current_image, ("x",))])
    gate.clear()
    fractions.clear()
    assert win.editing.save_as(out, overwrite_input=False)
    button = win.findChild(QToolButton, "cancel_save")
    assert button is not None and win.progress.isVisible()
    qtbot.waitUntil(lambda: bool(fractions), timeout=5000)
    button.click()
    assert not win.editing.saving and not win.progress.isVisible()
    assert "not written" in win.statusBar().currentMessage()
    gate.set()
    assert win.editing.jobs.wait(10000)
    assert not out.exists() and not list(tmp_path.glob("*.tmp")) and win.isWindowModified()
    # over the input, cancelled: the input untouched, no backup left
    before = src.read_bytes()
    gate.clear()
    fractions.clear()
    assert win.editing.save_as(src, overwrite_input=True)
    qtbot.waitUntil(lambda: bool(fractions), timeout=5000)
    win.editing.cancel_save()
    gate.set()
    assert win.editing.jobs.wait(10000)
    assert src.read_bytes() == before
    assert not list(src.parent.glob("*.bak*")) and not list(src.parent.glob(".*.tmp"))


def test_bad_edits_in_the_app_change_nothing(qtbot: QtBot, win: MainWindow, src: Path,
                                             tmp_path: Path) -> None:
    """An unknown annotation, image or category is a message; nothing changes."""
    open_file(qtbot, win, src)
    ds = win.state.dataset
    ann = int(ds.anns.id[0])
    for edits, msg in (([E.DeleteAnnotation(10**9)], "no annotation with id"),
                       ([E.Relabel(ann, 10**9)], "no category with id"),
                       ([E.DeleteImage(10**9)], "no image with id"),
                       ([E.SetTags(win.state.current_image, ("a,b",))], "comma"),
                       # all or none: the good first edit is rolled back too
                       ([E.DeleteAnnotation(ann), E.DeleteAnnotation(10**9)], "no annotation")):
        assert not win.editing.edit(edits)
        box = win.findChild(QMessageBox, "edit_error")
        assert box is not None and msg in box.text()
        box.close()
        box.deleteLater()
        qtbot.waitUntil(lambda: win.findChild(QMessageBox, "edit_error") is None, timeout=5000)
    assert win.editing.stack.count() == 0 and not win.isWindowModified()
    assert win.state.model.edits is None or not win.state.model.edits.layer.deleted_anns


def test_a_journal_of_another_file_or_with_bad_edits_is_set_aside(
        qtbot: QtBot, win: MainWindow, src: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"images": [], "annotations": [], "categories": []}')
    path = journal_path(src)
    Journal(other, path).record(E.DeleteAnnotation(1))  # its header names the other file
    asked: list[int] = []
    monkeypatch.setattr(win.editing, "ask_restore", lambda n, _p: asked.append(n) or True)
    said: list[str] = []
    win.editing.message.connect(said.append)
    open_file(qtbot, win, src)
    qtbot.waitUntil(lambda: any("set aside" in t for t in said), timeout=5000)
    assert not asked and not path.exists() and path.with_name(path.name + ".stale").exists()
    assert win.state.model.edits is None and not win.isWindowModified()
    # a journal of this file whose second edit does not fit: nothing of it is applied
    win.close()
    ds_ann = int(win.state.dataset.anns.id[0]) if win.state.dataset is not None else 1
    j = Journal(src, path)
    j.record(E.DeleteAnnotation(ds_ann))
    j.record(E.DeleteAnnotation(10**9))
    j.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    w2.editing.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    w2.editing.ask_restore = lambda n, _p: True  # type: ignore[method-assign]
    open_file(qtbot, w2, src)
    qtbot.waitUntil(lambda: w2.findChild(QMessageBox, "edit_error") is not None, timeout=5000)
    box = w2.findChild(QMessageBox, "edit_error")
    assert "could not be restored" in box.text() and "nothing was changed" in box.text()
    layer = w2.state.model.edits.layer if w2.state.model.edits is not None else None
    assert layer is None or not layer.deleted_anns
    assert not w2.isWindowModified() and w2.editing.stack.count() == 0
    assert not path.exists()
    w2.close()


def test_a_saved_files_tags_come_back_in_the_app(qtbot: QtBot, win: MainWindow, src: Path,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from cocoview.model import dataset

    ds = dataset.open(src, cache=False)
    layer = E.EditLayer(ds)
    iid = int(ds.image_ids[0])
    layer.apply(E.SetTags(iid, ("kept",)))
    tagged = E.save_as(layer, tmp_path / "tagged.json")
    open_file(qtbot, win, tagged)
    qtbot.waitUntil(lambda: "Tags" in win.browser.model.COLUMNS, timeout=10000)
    box = win.filter_panel.box("tag")
    qtbot.waitUntil(lambda: box.count() == 3, timeout=10000)  # any, untagged, kept (1)
    assert win.state.current_image == iid
    asked: list[str] = []
    monkeypatch.setattr(win.editing, "ask_text",
                        lambda _t, _l, text="": asked.append(text))  # type: ignore[func-returns-value]
    win.actions_["tag_image"].trigger()
    assert asked == ["kept"]
