"""Edits on the canvas and from the review (issue 17): drag a box's handle or its inside
(Esc cancels), undo, Save As writing only the new box; Set Box to Mask Bounds; accepting
the review's suggested relabel and addition, with undo, and the journal replayed by
``cocoview edit --journal``; a drag to zero size refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from cocoview.cli import main
from cocoview.model import dataset
from cocoview.model import edits as E
from cocoview.model.journal import journal_path
from cocoview.model.overlays import AnnOverlay
from cocoview.model.viewer import Item
from cocoview.qt.box_drag import dragged, rounded
from cocoview.qt.main_window import MainWindow
from tests.qt import test_editing
from tests.qt.test_editing import open_file
from tests.test_box_edits import result_row, review_case

src, win = test_editing.src, test_editing.win  # the same fixtures


def _overlay(w: MainWindow, ann_id: int) -> AnnOverlay:
    assert w.canvas.frame is not None
    return next(it for it in w.canvas.frame.overlays.items
                if not it.is_result and it.ann_id == ann_id)


def _select_big(w: MainWindow) -> tuple[int, int, tuple[float, float, float, float]]:
    """Select the current image's largest annotation: (row, id, its box)."""
    items = [it for it in w.canvas.frame.overlays.items  # type: ignore[union-attr]
             if not it.is_result and it.bbox is not None]
    it = max(items, key=lambda it: float(it.bbox[2] * it.bbox[3]))  # type: ignore[index]
    w.state.model.set_selection({Item("annotation", it.row)})
    box = tuple(float(v) for v in it.bbox)  # type: ignore[union-attr]
    return it.row, it.ann_id, box  # type: ignore[return-value]


def _pt(w: MainWindow, x: float, y: float) -> QPoint:
    return w.canvas.mapFromScene(QPointF(x, y))


def _drag(qtbot: QtBot, w: MainWindow, a: QPoint, b: QPoint, esc: bool = False) -> None:
    vp = w.canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=a)
    mid = QPoint((a.x() + b.x()) // 2, (a.y() + b.y()) // 2)
    qtbot.mouseMove(vp, mid)
    qtbot.mouseMove(vp, b)
    if esc:
        assert w.canvas.highlight.drag_box is not None  # the preview
        qtbot.keyClick(w.canvas, Qt.Key.Key_Escape)
        assert w.canvas.highlight.drag_box is None
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=b)


def _expected(w: MainWindow, box: tuple[float, float, float, float], grip: str, a: QPoint,
              b: QPoint) -> tuple[float, float, float, float]:
    s0, s1 = w.canvas.mapToScene(a), w.canvas.mapToScene(b)
    return rounded(dragged(box, grip, s1.x() - s0.x(), s1.y() - s0.y()))


def _record_bytes(path: Path) -> dict[int, bytes]:
    ds = dataset.open(path, cache=False)
    f = ds.files[0]
    return {int(ds.anns.id[r]): bytes(f.record_bytes(int(ds.anns.ordinal[r])))
            for r in range(len(ds.anns))}


def test_drag_a_handle_resizes_undo_and_save_as(qtbot: QtBot, win: MainWindow, src: Path,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    open_file(qtbot, win, src)
    row, ann, box = _select_big(win)
    x, y, bw, bh = box
    a = _pt(win, x + bw, y + bh)  # the bottom-right handle
    b = a + QPoint(-30, 20)
    want = _expected(win, box, "br", a, b)
    _drag(qtbot, win, a, b)
    assert win.editing.stack.undoText() == f"Resize box of annotation {ann}"
    assert win.actions_["undo"].text() == f"&Undo Resize box of annotation {ann}"
    layer = win.state.model.edits.layer
    assert layer.ann_bbox[ann] == want
    assert "box and mask now disagree" in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: rounded(tuple(_overlay(win, ann).bbox.tolist())) == want,
                    timeout=5000)
    assert win.state.view.anns.bbox[row].tolist() == pytest.approx(want, abs=1e-3)
    win.actions_["undo"].trigger()
    assert not layer.ann_bbox and not win.isWindowModified()
    qtbot.waitUntil(lambda: tuple(float(v) for v in _overlay(win, ann).bbox) == box,
                    timeout=5000)
    win.actions_["redo"].trigger()
    assert layer.ann_bbox[ann] == want
    out = tmp_path / "out.json"
    monkeypatch.setattr(win.editing, "ask_save_path", lambda: (out, False))
    with qtbot.waitSignal(win.editing.saved, timeout=20000):
        win.actions_["save_as"].trigger()
    saved, orig = json.loads(out.read_text()), json.loads(src.read_text())
    k = next(i for i, a_ in enumerate(orig["annotations"]) if a_["id"] == ann)
    assert saved["annotations"][k]["bbox"] == pytest.approx(list(want))
    assert {kk: v for kk, v in saved["annotations"][k].items() if kk != "bbox"} == \
        {kk: v for kk, v in orig["annotations"][k].items() if kk != "bbox"}  # area too
    assert saved["annotations"][:k] + saved["annotations"][k + 1:] == \
        orig["annotations"][:k] + orig["annotations"][k + 1:]
    before, after = _record_bytes(src), _record_bytes(out)
    assert {i: v for i, v in after.items() if i != ann} == \
        {i: v for i, v in before.items() if i != ann}  # untouched: the input's bytes


def test_move_esc_cancels_and_zero_size_refused(qtbot: QtBot, win: MainWindow,
                                                src: Path) -> None:
    open_file(qtbot, win, src)
    _row, ann, box = _select_big(win)
    x, y, bw, bh = box
    inside = _pt(win, x + bw / 2, y + bh / 2)
    _drag(qtbot, win, inside, inside + QPoint(25, 15), esc=True)
    assert win.editing.stack.count() == 0 and win.state.model.edits is None
    assert not win.canvas.box_drag.active
    want = _expected(win, box, "move", inside, inside + QPoint(25, 15))
    _drag(qtbot, win, inside, inside + QPoint(25, 15))
    assert win.editing.stack.undoText() == f"Move box of annotation {ann}"
    got = win.state.model.edits.layer.ann_bbox[ann]
    assert got == want and got[2:] == pytest.approx(box[2:], abs=0.01)
    # a drag of the bottom-right handle onto the top-left corner: refused, no edit
    qtbot.waitUntil(lambda: rounded(tuple(_overlay(win, ann).bbox.tolist())) == want,
                    timeout=5000)
    gx, gy, gw, gh = want
    _drag(qtbot, win, _pt(win, gx + gw, gy + gh), _pt(win, gx, gy))
    assert win.editing.stack.count() == 1
    assert "at least 1 pixel" in win.statusBar().currentMessage()
    # the selection cleared under a drag (Esc's Clear Selection, a list click): it ends
    vp = win.canvas.viewport()
    mid = _pt(win, gx + gw / 2, gy + gh / 2)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=mid)
    qtbot.mouseMove(vp, mid + QPoint(10, 10))
    assert win.canvas.box_drag.active and win.canvas.hasFocus()
    win.state.select(-1)
    assert not win.canvas.box_drag.active and win.canvas.highlight.drag_box is None
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=mid + QPoint(20, 20))
    assert win.editing.stack.count() == 1
    win.state.model.set_selection({Item("annotation", _row)})
    # a click inside the selected box is a click: it selects what is there (the box
    # grown over a small object first), no edit
    small = min((it for it in win.canvas.frame.overlays.items
                 if not it.is_result and it.bbox is not None and it.ann_id != ann),
                key=lambda it: float(it.bbox[2] * it.bbox[3]))
    sx, sy, sw, sh = (float(v) for v in small.bbox)
    w_box = win.state.model.edits.layer.box_of(ann)
    win.editing.canvas_edits.set_box(_row, (min(sx, w_box[0]) - 2, min(sy, w_box[1]) - 2,
                                            max(sx + sw, w_box[0] + w_box[2]) + 4
                                            - min(sx, w_box[0]),
                                            max(sy + sh, w_box[1] + w_box[3]) + 4
                                            - min(sy, w_box[1])), "Resize box")
    qtbot.waitUntil(lambda: _overlay(win, ann).bbox[2] > gw + 0.5
                    or _overlay(win, ann).bbox[3] > gh + 0.5, timeout=5000)
    n = win.editing.stack.count()
    spot = win.canvas.hit_test(QPointF(sx + sw / 2, sy + sh / 2), results=True)
    qtbot.mouseClick(win.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=_pt(win, sx + sw / 2, sy + sh / 2))
    assert win.editing.stack.count() == n, win.editing.stack.undoText()
    assert spot is not None and win.state.model.selection == {Item("annotation", spot.row)}


def test_set_box_to_mask_bounds(qtbot: QtBot, win: MainWindow, src: Path) -> None:
    open_file(qtbot, win, src)
    row, ann, box = _select_big(win)
    assert "Set Box to Mask Bounds" in _menu_texts(win, box[0] + box[2] / 2,
                                                   box[1] + box[3] / 2)
    win.state.model.set_selection({Item("annotation", row)})
    win.editing.canvas_edits.set_box(row, (box[0] + 5, box[1] + 5, box[2], box[3]), "Move box")
    assert win.editing.stack.count() == 1
    win.actions_["box_to_mask"].trigger()
    qtbot.waitUntil(lambda: win.editing.stack.count() == 2, timeout=5000)
    assert win.editing.stack.undoText() == f"Set box of annotation {ann} to its mask"
    bounds = E.mask_bounds(win.state.dataset, row)
    assert bounds is not None
    assert win.state.model.edits.layer.box_of(ann).tolist() == pytest.approx(bounds,
                                                                              abs=1e-3)
    # polygon extents: within a pixel of the file's box (COCO's boxes are made so)
    assert bounds == pytest.approx(box, abs=1.0)


def _menu_texts(w: MainWindow, x: float, y: float) -> list[str]:
    return [a.text() for a in w.canvas.context_menu(_pt(w, x, y)).actions()]


def test_accept_relabel_and_add_undo_and_journal(qtbot: QtBot, win: MainWindow,
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ds0, _rv = review_case(tmp_path)
    gt, res = tmp_path / "gt.json", tmp_path / "res.json"
    with qtbot.waitSignal(win.review.reviewChanged, timeout=30000,
                          check_params_cb=lambda r: r is not None):
        win.open_files([gt], results=res)
    qtbot.waitUntil(lambda: win.canvas.frame is not None and win.canvas.review is not None,
                    timeout=10000)
    win.state.set_min_score(0.0)
    ds = win.state.dataset
    fixes = win.editing.canvas_edits.fixes
    # the wrong label: select the dog detection lying on the missed cat GT 10
    win.state.select(result_row(ds, 0), "detection")
    assert fixes.isVisible() and [b.text() for b in fixes.buttons] == [
        "Relabel GT #10 as dog"]
    assert _menu_texts(win, 10, 25) == ["Relabel GT #10 as dog"]  # its left edge
    assert win.state.model.selection == {Item("detection", result_row(ds, 0))}
    fixes.buttons[0].click()
    layer = win.state.model.edits.layer
    assert layer.category_of(10) == 2
    assert win.editing.stack.undoText() == "Relabel GT #10 as dog"
    assert not fixes.isVisible()  # made: no longer suggested
    win.actions_["undo"].trigger()
    assert layer.category_of(10) == 1 and fixes.isVisible()
    win.canvas.context_menu(_pt(win, 10, 25)).actions()[0].trigger()  # the menu's entry
    assert layer.category_of(10) == 2 and win.editing.stack.count() == 1
    # the missing annotation: a confident cat overlapping nothing
    win.state.select(result_row(ds, 2), "detection")
    assert [b.text() for b in fixes.buttons] == ["Add as annotation (cat)"]
    fixes.buttons[0].click()
    qtbot.waitUntil(lambda: bool(layer.added), timeout=5000)
    assert win.editing.stack.undoText() == "Add annotation 12 (cat) from a detection"
    added = layer.added[12]
    assert added.bbox == (150, 150, 20, 10) and added.image_id == 1
    qtbot.waitUntil(lambda: any(not it.is_result and it.ann_id == 12
                                for it in win.canvas.frame.overlays.items), timeout=5000)
    assert int(win.state.view.image_ann_count[0]) == 3
    cat_node = win.categories.model._node_of[1]
    assert cat_node.instances == 2  # GT 10 is a dog now, 11 and the new 12 are cats
    assert _menu_texts(win, 160, 155) == []  # added: nothing more to suggest
    # an added annotation is selected, relabelled and deleted as the file's are
    n = len(ds.anns)
    qtbot.mouseClick(win.canvas.viewport(), Qt.MouseButton.LeftButton, pos=_pt(win, 155, 153))
    assert win.state.model.selection == {Item("annotation", n)}  # its row after the file's
    monkeypatch.setattr(win.editing, "ask_category", lambda *_a, **_k: 2)
    win.editing.relabel_selected()
    assert layer.added[12].category_id == 2 and layer.added[12].bbox == added.bbox
    assert win.editing.stack.undoText() == "Relabel annotation 12 to dog"
    assert win.state.model.selection == {Item("annotation", n)}  # still it
    assert win.categories.model._node_of[2].instances == 2  # GT 10 and the added 12
    win.actions_["undo"].trigger()
    assert layer.added[12].category_id == 1
    win.editing.delete_selected()
    assert 12 not in layer.added and win.state.model.selection == set()
    assert win.editing.stack.undoText() == "Delete annotation 12"
    win.actions_["undo"].trigger()
    assert layer.added[12] == added
    win.state.model.set_selection({Item("annotation", n)})
    win.editing.toggle_crowd()  # an added annotation has no crowd flag to set
    assert "deleted or relabelled" in win.statusBar().currentMessage()
    box = win.findChild(QMessageBox, "edit_error")
    assert box is not None
    box.close()
    assert layer.added[12] == added and win.editing.stack.count() == 3
    win.actions_["undo"].trigger()
    assert not layer.added
    qtbot.waitUntil(lambda: not any(not it.is_result and it.ann_id == 12
                                    for it in win.canvas.frame.overlays.items), timeout=5000)
    assert win.categories.model._node_of[1].instances == 1
    win.actions_["redo"].trigger()
    assert 12 in layer.added
    # Save As from the app, and the journal replayed by the CLI: the same file
    out = tmp_path / "app.json"
    monkeypatch.setattr(win.editing, "ask_save_path", lambda: (out, False))
    win.editing.journal.wait()
    jcopy = tmp_path / "edits.jsonl"
    jcopy.write_bytes(journal_path(gt).read_bytes())
    with qtbot.waitSignal(win.editing.saved, timeout=20000):
        win.actions_["save_as"].trigger()
    doc = json.loads(out.read_text())
    assert [a["id"] for a in doc["annotations"]] == [10, 11, 12]
    assert doc["annotations"][0]["category_id"] == 2
    assert doc["annotations"][2]["segmentation"] == [[150, 150, 170, 150, 170, 160, 150, 160]]
    replayed = tmp_path / "cli.json"
    assert main(["edit", str(gt), "--no-cache", "--journal", str(jcopy),
                 "--out", str(replayed)]) == 0
    assert json.loads(replayed.read_text()) == doc
    assert ds0.results is not None and len(ds0.results) == 5
