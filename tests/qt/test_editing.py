"""Editing in the app (issue 17): every edit and its undo/redo through the Qt actions,
the modified title, closing asks, Save As equals the model's ``save_as``, the journal
restored after a kill, bad edits refused with a message and nothing written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from cocoview.model import edits as E
from cocoview.model.journal import journal_path
from cocoview.model.viewer import Item
from cocoview.qt.main_window import MainWindow
from tests.conftest import DEMO, REPO


@pytest.fixture
def src(tmp_path: Path) -> Path:
    p = tmp_path / "instances.json"
    p.write_bytes((DEMO / "annotations" / "instances_demo.json").read_bytes())
    return p


@pytest.fixture
def win(qtbot: QtBot) -> Iterator[MainWindow]:
    w = MainWindow()
    w.editing.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    yield w
    w.editing.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    w.close()


def open_file(qtbot: QtBot, w: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(w.loader.loaded, timeout=20000):
        w.open_files([path], images=DEMO / "images")
    qtbot.waitUntil(lambda: w.canvas.frame is not None
                    and w.canvas.frame.image_id == w.state.current_image, timeout=10000)


def select_first(w: MainWindow) -> tuple[int, int]:
    """Select the current image's first annotation: (row, id)."""
    ds = w.state.dataset
    assert ds is not None
    row = int(ds.ann_rows(w.state.current_image)[0])
    w.state.model.set_selection({Item("annotation", row)})
    return row, int(ds.anns.id[row])


def frame_ids(w: MainWindow) -> set[int]:
    assert w.canvas.frame is not None
    return {it.ann_id for it in w.canvas.frame.overlays.items if not it.is_result}


def test_delete_undo_redo_title_and_canvas(qtbot: QtBot, win: MainWindow, src: Path) -> None:
    open_file(qtbot, win, src)
    assert not win.isWindowModified() and "[*]" in win.windowTitle()
    ds = win.state.dataset
    image = win.state.current_image
    n_before = int(ds.image_ann_count[ds.image_row(image)])
    _row, ann = select_first(win)
    win.actions_["delete_annotation"].trigger()
    assert win.isWindowModified()
    assert win.actions_["undo"].text() == f"&Undo Delete annotation {ann}"
    qtbot.waitUntil(lambda: ann not in frame_ids(win), timeout=5000)
    model = win.browser.list_model if hasattr(win.browser, "list_model") else None
    view = win.state.view
    assert int(view.image_ann_count[ds.image_row(image)]) == n_before - 1
    assert not win.state.model.selection  # the deleted one is no longer selected
    win.actions_["undo"].trigger()
    assert not win.isWindowModified()
    qtbot.waitUntil(lambda: ann in frame_ids(win), timeout=5000)
    assert win.actions_["redo"].text() == f"&Redo Delete annotation {ann}"
    win.actions_["redo"].trigger()
    qtbot.waitUntil(lambda: ann not in frame_ids(win), timeout=5000)
    assert model is None or model.rowCount() >= 0


def test_an_edit_shows_on_the_canvas_at_once(qtbot: QtBot, win: MainWindow, src: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Within the edit itself (no event handled, no worker), the canvas draws the shown
    image's items as the edit makes them; the worker's frame (masks too) follows."""
    open_file(qtbot, win, src)
    ds = win.state.dataset
    rows = ds.ann_rows(win.state.current_image)
    assert len(rows) >= 2
    ann, other = int(ds.anns.id[rows[0]]), int(ds.anns.id[rows[1]])
    cats = [c.id for c in ds.categories]
    new_cat = next(c for c in cats if c != int(ds.anns.category_id[rows[1]]))

    def items() -> dict[int, tuple[int, bool, str]]:
        return {it.ann_id: (it.category_id, it.iscrowd, it.label)
                for it in win.canvas.frame.overlays.items if not it.is_result}

    for layer in win.canvas.layers:  # what the layers draw is the shown frame's
        assert len(layer.items) == len(win.canvas.frame.overlays.items)
    select_first(win)
    win.actions_["delete_annotation"].trigger()
    assert win.canvas.frame.provisional and ann not in items()  # at once
    assert all(ann not in {it.ann_id for it in layer.items} for layer in win.canvas.layers)
    qtbot.waitUntil(lambda: not win.canvas.frame.provisional, timeout=5000)
    assert ann not in items()
    win.editing.edit([E.Relabel(other, new_cat)])
    assert win.canvas.frame.provisional and items()[other][0] == new_cat
    assert win.state.view.category(new_cat).name in items()[other][2]
    win.editing.edit([E.SetCrowd(other, 1)])
    assert items()[other][1] and "(crowd)" in items()[other][2]
    qtbot.waitUntil(lambda: not win.canvas.frame.provisional, timeout=5000)
    assert items()[other][:2] == (new_cat, True)  # the worker's frame agrees
    win.editing.edit([E.SetTags(win.state.current_image, ("x",))])
    assert not win.canvas.frame.provisional  # nothing drawn changed: nothing redrawn


def _tree_counts(win: MainWindow, cid: int) -> tuple[int, int]:
    node = win.categories.model._node_of[cid]
    return node.instances, node.images


def test_the_first_edit_is_made_ready_after_the_open(qtbot: QtBot, win: MainWindow,
                                                    src: Path) -> None:
    """The edit state and its lookups are made in a worker after the open, and the
    first edit takes them (a lookup it would otherwise make on the GUI thread); a
    prepared state of another dataset is never taken."""
    open_file(qtbot, win, src)
    model = win.state.model
    qtbot.waitUntil(lambda: model._prepared is not None, timeout=10000)
    ready = model._prepared
    assert ready is not None and ready.layer._repeated is not None  # warmed
    assert ready._by_cat is not None
    _row, ann = select_first(win)
    win.editing.delete_selected()
    assert model.edits is ready and ready.layer.is_deleted(ann)
    assert win.editing.journal is not None
    assert win.editing.journal.path == journal_path(src)
    win.editing.stack.undo()
    other = type(ready)(ready.base)
    model.edits = None
    model.set_dataset(None)
    model.prepare_edits(other)  # not the open dataset: ignored
    assert model._prepared is None


def test_relabel_crowd_and_category_edits(qtbot: QtBot, win: MainWindow, src: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    open_file(qtbot, win, src)
    ds = win.state.dataset
    row, ann = select_first(win)
    old = int(ds.anns.category_id[row])
    new = next(c.id for c in ds.categories if c.id != old)
    old_counts, new_counts = _tree_counts(win, old), _tree_counts(win, new)
    monkeypatch.setattr(win.editing, "ask_category", lambda *_a, **_k: new)
    win.actions_["relabel"].trigger()
    name = ds.category(new).name
    assert win.editing.stack.undoText() == f"Relabel annotation {ann} to {name}"
    assert _tree_counts(win, old)[0] == old_counts[0] - 1
    assert _tree_counts(win, new)[0] == new_counts[0] + 1
    qtbot.waitUntil(lambda: any(it.ann_id == ann and it.category_id == new
                                for it in win.canvas.frame.overlays.items), timeout=5000)
    win.actions_["toggle_crowd"].trigger()
    assert int(win.state.view.anns.iscrowd[row]) == 1 - int(ds.anns.iscrowd[row])
    win.actions_["undo"].trigger()
    win.actions_["undo"].trigger()
    assert _tree_counts(win, old) == old_counts and _tree_counts(win, new) == new_counts
    # the category tree's menu: rename, merge into…, delete (says how many)
    monkeypatch.setattr(win.editing, "ask_text", lambda *_a, **_k: "renamed")
    win.editing.rename_category(old)
    assert win.categories.model._node_of[old].name == "renamed"
    said: list[str] = []
    monkeypatch.setattr(win.editing, "confirm", lambda _t, text: said.append(text) or True)
    win.editing.delete_category(new)
    assert f"its {new_counts[0]:,} annotation" in said[0]
    assert new not in win.categories.model._node_of
    win.actions_["undo"].trigger()
    assert new in win.categories.model._node_of
    monkeypatch.setattr(win.editing, "ask_category", lambda *_a, **_k: new)
    win.editing.merge_category(old)
    assert old not in win.categories.model._node_of
    assert _tree_counts(win, new)[0] == new_counts[0] + old_counts[0]
    win.actions_["undo"].trigger()
    win.actions_["undo"].trigger()
    assert _tree_counts(win, old) == old_counts and not win.isWindowModified()


def test_delete_image_and_tags(qtbot: QtBot, win: MainWindow, src: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    open_file(qtbot, win, src)
    first = win.state.current_image
    n = len(win.state.image_list)
    win.actions_["delete_image"].trigger()
    assert len(win.state.image_list) == n - 1 and first not in win.state.image_list
    assert win.editing.stack.undoText() == f"Delete image {first}"
    win.actions_["undo"].trigger()
    assert int(win.state.image_list[0]) == first and win.state.current_image == first
    monkeypatch.setattr(win.editing, "ask_text", lambda *_a, **_k: "blurry, dup , blurry")
    win.actions_["tag_image"].trigger()
    assert win.state.model.edits.layer.tags[first] == ("blurry", "dup")


def test_bad_edit_is_a_message(qtbot: QtBot, win: MainWindow, src: Path,
                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    open_file(qtbot, win, src)
    cid = win.state.dataset.categories[0].id
    monkeypatch.setattr(win.editing, "ask_category", lambda *_a, **_k: cid)
    win.editing.merge_category(cid)
    box = win.findChild(QMessageBox, "edit_error")
    assert box is not None and "into itself" in box.text()
    assert not win.isWindowModified() and win.editing.stack.count() == 0
    # Save As over the input without the confirmation: refused, nothing written
    before = src.read_bytes()
    monkeypatch.setattr(win.editing, "ask_save_path", lambda: None)
    assert not win.editing.save_as_dialog()
    assert src.read_bytes() == before


def test_close_asks(qtbot: QtBot, win: MainWindow, src: Path,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    open_file(qtbot, win, src)
    select_first(win)
    win.actions_["delete_annotation"].trigger()
    asked: list[int] = []
    monkeypatch.setattr(win.editing, "ask_unsaved",
                        lambda: asked.append(1) or "cancel")  # type: ignore[func-returns-value]
    win.close()
    assert asked and win.isVisible()
    win.editing.journal.wait()
    assert journal_path(src).exists()
    monkeypatch.setattr(win.editing, "ask_unsaved", lambda: "discard")
    win.close()
    assert not win.isVisible()
    assert not journal_path(src).exists()  # discarded with the edits


def test_closing_or_replacing_the_dataset_asks_too(qtbot: QtBot, win: MainWindow, src: Path,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """File → Close and opening another file ask about unsaved edits like closing the
    window: Cancel keeps everything, Save writes first and then goes on."""
    open_file(qtbot, win, src)
    select_first(win)
    win.actions_["delete_annotation"].trigger()
    monkeypatch.setattr(win.editing, "ask_unsaved", lambda: "cancel")
    win.actions_["close"].trigger()
    assert win.state.dataset is not None and win.isWindowModified()
    win.open_demo()
    assert win.state.dataset is not None and win.state.dataset.paths == [src]
    out = tmp_path / "saved.json"
    monkeypatch.setattr(win.editing, "ask_unsaved", lambda: "save")
    monkeypatch.setattr(win.editing, "ask_save_path", lambda: (out, False))
    with qtbot.waitSignal(win.editing.saved, timeout=20000):
        win.actions_["close"].trigger()
    assert out.is_file()
    qtbot.waitUntil(lambda: win.state.dataset is None, timeout=10000)  # then closed


def test_save_as_equals_the_model(qtbot: QtBot, win: MainWindow, src: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    open_file(qtbot, win, src)
    ds = win.state.dataset
    _row, ann = select_first(win)
    win.actions_["delete_annotation"].trigger()
    row2 = int(ds.ann_rows(win.state.current_image)[1])
    win.state.model.set_selection({Item("annotation", row2)})
    other = next(c.id for c in ds.categories if c.id != int(ds.anns.category_id[row2]))
    monkeypatch.setattr(win.editing, "ask_category", lambda *_a, **_k: other)
    win.actions_["relabel"].trigger()
    out = tmp_path / "out.json"
    monkeypatch.setattr(win.editing, "ask_save_path", lambda: (out, False))
    with qtbot.waitSignal(win.editing.saved, timeout=20000):
        win.actions_["save_as"].trigger()
    assert not win.isWindowModified()
    assert str(out) in win.statusBar().currentMessage()
    oracle = E.EditLayer(ds)
    oracle.apply(E.DeleteAnnotation(ann))
    oracle.apply(E.Relabel(int(ds.anns.id[row2]), other))
    E.save_as(oracle, tmp_path / "oracle.json")
    assert json.loads(out.read_text()) == json.loads((tmp_path / "oracle.json").read_text())
    # over the original only when confirmed, then with a backup
    before = src.read_bytes()
    win.actions_["undo"].trigger()
    monkeypatch.setattr(win.editing, "ask_save_path", lambda: (src, True))
    with qtbot.waitSignal(win.editing.saved, timeout=20000):
        win.actions_["save_as"].trigger()
    assert src.with_name(src.name + ".bak").read_bytes() == before
    assert "backup" in win.statusBar().currentMessage() or ".bak" in \
        win.statusBar().currentMessage()


CHILD = """
import os, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from cocoview.qt.main_window import MainWindow
from cocoview.model.viewer import Item
w = MainWindow()
w.open_files([Path(sys.argv[1])])
while w.state.dataset is None:
    app.processEvents()
ds = w.state.dataset
row = int(ds.ann_rows(w.state.current_image)[0])
w.state.model.set_selection({Item("annotation", row)})
w.actions_["delete_annotation"].trigger()
w.editing.ask_text = lambda *a, **k: "checked"
w.actions_["tag_image"].trigger()
w.editing.journal.wait()
print(int(ds.anns.id[row]), w.state.current_image, flush=True)
sys.stdin.read()  # killed here
"""


def test_journal_restored_after_a_kill(qtbot: QtBot, win: MainWindow, src: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(src)], stdout=subprocess.PIPE,
                             stdin=subprocess.PIPE, env=env, text=True)
    try:
        line = child.stdout.readline() if child.stdout else ""
        ann, image = map(int, line.split())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert journal_path(src).exists()
    asked: list[int] = []
    monkeypatch.setattr(win.editing, "ask_restore", lambda n, _p: asked.append(n) or True)
    open_file(qtbot, win, src)
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    assert asked == [2]
    layer = win.state.model.edits.layer
    assert ann in layer.deleted_anns and layer.tags[image] == ("checked",)
    assert win.isWindowModified()
    assert win.editing.stack.undoText() == "Restore 2 unsaved edits"
