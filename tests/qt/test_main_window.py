"""The assembled window: open, browse, layers, categories, selection, failures, settings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from cocoview.qt.main_window import MainWindow
from cocoview.resources import demo_files
from tests.builders import doc, write
from tests.conftest import REAL


@pytest.fixture
def win(qtbot: QtBot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    yield w
    w.close()
    assert w.frames.jobs.active_threads() == 0


def open_and_wait(qtbot: QtBot, w: MainWindow, files: list[Path], **kw: object) -> None:
    with qtbot.waitSignal(w.loader.loaded, timeout=20000):
        w.open_files(files, **kw)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: w.canvas.frame is not None
                    and w.canvas.frame.image_id == w.state.current_image, timeout=10000)


def test_open_demo_and_browse(qtbot: QtBot, win: MainWindow) -> None:
    open_and_wait(qtbot, win, demo_files())
    ds = win.state.dataset
    assert ds is not None and len(ds.image_ids) == 19
    assert win.canvas.frame.image_id == int(ds.image_ids[0])
    assert "instances_demo.json" in win.windowTitle()
    first = win.state.current_image
    win.actions_["next"].trigger()
    qtbot.waitUntil(lambda: win.canvas.frame.image_id == int(ds.image_ids[1]), timeout=10000)
    assert win.status_index.text().startswith("2 /")
    win.actions_["last"].trigger()
    qtbot.waitUntil(lambda: win.canvas.frame.image_id == int(ds.image_ids[-1]), timeout=10000)
    win.actions_["first"].trigger()
    qtbot.waitUntil(lambda: win.canvas.frame.image_id == first, timeout=10000)
    # the keyboard: → and D move on
    qtbot.keyClick(win.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: win.state.current_image == int(ds.image_ids[1]), timeout=5000)
    qtbot.keyClick(win.canvas, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: win.state.current_image == first, timeout=5000)


def test_layer_actions(qtbot: QtBot, win: MainWindow) -> None:
    open_and_wait(qtbot, win, demo_files())
    for key, item in (("boxes", win.canvas.boxes), ("keypoints", win.canvas.keypoints),
                      ("labels", win.canvas.labels), ("masks", win.canvas.outlines)):
        act = win.actions_[key]
        assert act.isChecked() and item.isVisible()
        act.trigger()
        assert not win.state.layers[key] and not item.isVisible()
        act.trigger()
        assert win.state.layers[key] and item.isVisible()
    win.opacity_slider.setValue(20)
    assert win.state.opacity == pytest.approx(0.2)
    win.actions_["opacity_up"].trigger()
    assert win.opacity_slider.value() == 30


def test_hide_category_from_tree(qtbot: QtBot, win: MainWindow) -> None:
    open_and_wait(qtbot, win, demo_files())
    win.state.set_current_image(142238)
    qtbot.waitUntil(lambda: win.canvas.frame.image_id == 142238, timeout=10000)
    before = win.canvas.image_item.pixmap().toImage()
    model = win.categories.model
    person = next(i for i in _category_indexes(model) if model.category_ids(i) == [1])
    model.setData(person, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert 1 in win.state.hidden_categories
    qtbot.waitUntil(lambda: win.canvas.image_item.pixmap().toImage() != before, timeout=10000)
    person_items = [it for it in win.canvas.frame.overlays.items if it.category_id == 1]
    assert person_items and not any(win.canvas._is_visible(it) for it in person_items)


def _category_indexes(model: object) -> list[object]:
    out = []
    stack = [model.index(r, 0) for r in range(model.rowCount())]  # type: ignore[attr-defined]
    while stack:
        idx = stack.pop()
        out.append(idx)
        stack.extend(model.index(r, 0, idx) for r in range(model.rowCount(idx)))  # type: ignore
    return out


def test_click_selects_and_inspector_follows(qtbot: QtBot, win: MainWindow) -> None:
    open_and_wait(qtbot, win, demo_files())
    win.state.set_current_image(785)
    qtbot.waitUntil(lambda: win.canvas.frame.image_id == 785, timeout=10000)
    win.canvas.fit()
    person = next(it for it in win.canvas.frame.overlays.items if it.keypoints is not None)
    cx, cy = person.polygons[0].mean(axis=0)
    pt = win.canvas.mapFromScene(QPointF(float(cx), float(cy)))
    qtbot.mouseClick(win.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pt)
    assert win.state.selected_row == person.row
    qtbot.waitUntil(lambda: str(person.ann_id) in win.inspector.json_text(), timeout=5000)
    assert win.inspector.keypoint_model.rowCount() == 17


def test_missing_image_keeps_overlays(qtbot: QtBot, win: MainWindow) -> None:
    src = REAL / "mmdet_coco_dummy" / "annotations" / "instances_val2017.json"
    open_and_wait(qtbot, win, [src])
    win.state.set_current_image(255917)
    qtbot.waitUntil(lambda: win.canvas.frame.image_id == 255917, timeout=10000)
    assert win.canvas.placeholder.isVisible()
    assert "not found" in win.canvas.frame.error
    assert len(win.canvas.boxes.items) == 17


@pytest.mark.parametrize(("content", "says"), [
    ('{"images": [', "ends too early"),
    ('{"name": "my config", "layers": [1, 2, 3]}',
     "not a COCO file: it has none of images / annotations / categories"),
    ("[1, 2, 3]", "not a COCO file"),
])
def test_failed_load_keeps_previous_dataset(qtbot: QtBot, win: MainWindow,
                                            tmp_path: Path, content: str, says: str) -> None:
    open_and_wait(qtbot, win, demo_files())
    ds = win.state.dataset
    bad = tmp_path / "broken.json"
    bad.write_text(content)
    with qtbot.waitSignal(win.loader.failed, timeout=10000) as blocker:
        win.open_files([bad])
    assert str(bad) in blocker.args[1] and says in blocker.args[1]
    box = win.findChild(QMessageBox, "load_error")
    assert box is not None and str(bad) in box.informativeText()
    box.close()
    assert win.state.dataset is ds


def test_second_open_cancels_first(qtbot: QtBot, win: MainWindow, tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", doc())
    win.open_files(demo_files())
    with qtbot.waitSignal(win.loader.loaded, timeout=20000) as blocker:
        win.open_files([p])
    assert blocker.args[0].files == (p,)
    qtbot.waitUntil(lambda: not win.loader._old, timeout=10000)
    assert win.state.dataset is not None and len(win.state.dataset.image_ids) == 3


def test_results_layer(qtbot: QtBot, win: MainWindow) -> None:
    gt = REAL / "mmpose" / "coco" / "test_coco.json"
    res = REAL / "mmpose" / "coco" / "test_coco_det_AP_H_56.json"
    open_and_wait(qtbot, win, [gt], results=res)
    assert win.actions_["results"].isEnabled()
    win.state.set_current_image(785)
    qtbot.waitUntil(lambda: win.canvas.frame.image_id == 785, timeout=10000)
    dets = [it for it in win.canvas.frame.overlays.items if it.is_result]
    assert dets
    win.state.set_min_score(0.0)
    assert any(win.canvas._is_visible(it) for it in dets)
    win.actions_["results"].trigger()
    assert not any(win.canvas._is_visible(it) for it in dets)


def test_drop_json_opens_it(qtbot: QtBot, win: MainWindow, tmp_path: Path) -> None:
    p = write(tmp_path / "dropped.json", doc())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(win.loader.loaded, timeout=10000):
        win.dropEvent(event)
    assert win.state.dataset is not None and win.state.dataset.paths == [p]


def test_settings_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", doc())
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loader.loaded, timeout=10000):
        w.open_files([p])
    w.actions_["boxes"].trigger()
    w.opacity_slider.setValue(70)
    w.resize(701, 501)  # inside the offscreen screen, so restoring does not clamp it
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert not w2.state.layers["boxes"] and w2.actions_["boxes"].isChecked() is False
    assert w2.state.opacity == pytest.approx(0.7)
    assert w2.size().width() == 701
    assert [str(p.resolve())] in w2.recent()
    w2.close()


def test_shortcuts_dialog_lists_actions(qtbot: QtBot, win: MainWindow) -> None:
    win.actions_["shortcuts"].trigger()
    box = win.findChild(QMessageBox, "shortcuts_dialog")
    assert box is not None
    text = box.text()
    for needle in ("Next Image", "Masks", "Fit to Window", "Zoom to Selection", "F11"):
        assert needle in text
    box.close()


def test_close_during_load_is_clean(qtbot: QtBot, tmp_path: Path) -> None:
    d = doc()
    d["images"] = [{"id": i, "file_name": f"{i}.jpg", "width": 10, "height": 10}
                   for i in range(20000)]
    p = tmp_path / "big.json"
    p.write_text(json.dumps(d))
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.open_files([p])
    w.close()
    assert not w.loader.busy and not w.loader._old


def test_detection_masks_follow_toggle_and_score(qtbot: QtBot, win: MainWindow) -> None:
    gt = REAL / "detvisgui" / "data" / "coco" / "annotations" / "instances_val2017.json"
    res = REAL / "detvisgui" / "results" / "mask_rcnn_r50_fpn_1x" / "val_results.segm.json"
    open_and_wait(qtbot, win, [gt], results=res)
    assert win.score_spin.isEnabled()
    iid = win.state.current_image

    def shown() -> object:
        return win.canvas.image_item.pixmap().toImage()

    qtbot.waitUntil(lambda: win.canvas.frame.look == win.frames.look, timeout=10000)
    with_dets = shown()
    win.actions_["results"].trigger()  # detections off: their masks leave the image
    qtbot.waitUntil(lambda: shown() != with_dets, timeout=10000)
    without = shown()
    win.actions_["results"].trigger()
    qtbot.waitUntil(lambda: shown() == with_dets, timeout=10000)
    win.score_spin.setValue(1.0)  # no detection scores 1.0
    qtbot.waitUntil(lambda: shown() == without, timeout=10000)
    assert win.state.current_image == iid


def test_cache_setting_and_clear(qtbot: QtBot, win: MainWindow, tmp_path: Path) -> None:
    from cocoview.model import cache

    p = write(tmp_path / "a.json", doc())
    win.actions_["use_cache"].setChecked(False)
    with qtbot.waitSignal(win.loader.loaded, timeout=10000):
        win.open_files([p])
    assert not cache.entry_dir(p).exists()
    win.actions_["use_cache"].setChecked(True)
    with qtbot.waitSignal(win.loader.loaded, timeout=10000):
        win.open_files([p])
    cache.wait_pending(p)  # the entry is written by a background thread after the open
    assert cache.entry_dir(p).exists()
    win.actions_["clear_cache"].trigger()
    assert not cache.entry_dir(p).exists()


def test_big_file_is_indexed_in_a_child(qtbot: QtBot, win: MainWindow, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's loads parse big files in a child process (the GIL stays free)."""
    from cocoview.model import loader
    from cocoview.testing.synth import generate_coco

    monkeypatch.setattr(loader, "ISOLATE_MIN_BYTES", 0)
    here: list[int] = []
    real = loader._Builder.build
    monkeypatch.setattr(loader._Builder, "build", lambda self: here.append(1) or real(self))
    path = tmp_path / "gen.json"
    generate_coco(path, n_images=30, n_annotations=200, seed=2)
    steps: list[str] = []
    win.loader.progress.connect(lambda f, what: steps.append(what))
    open_and_wait(qtbot, win, [path])
    assert here == []  # nothing parsed in the GUI process
    assert "indexing annotations" in steps  # the child's progress reached the window
    assert win.state.dataset is not None and len(win.state.dataset.image_ids) == 30


def test_close_during_a_child_index_leaves_nothing_running(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        index_children: list[subprocess.Popen[bytes]]) -> None:
    from cocoview.model import loader
    from cocoview.testing.synth import generate_coco

    monkeypatch.setattr(loader, "ISOLATE_MIN_BYTES", 0)
    procs = index_children
    path = tmp_path / "gen.json"
    generate_coco(path, n_images=300, n_annotations=3000, seed=2)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.open_files([path])
    qtbot.waitUntil(lambda: bool(procs), timeout=10000)
    w.close()
    assert not w.loader.busy and not w.loader._old
    assert procs[0].poll() is not None


def test_colour_by_instance_with_c_is_drawn_and_remembered(qtbot: QtBot,
                                                           win: MainWindow) -> None:
    from PySide6.QtTest import QTest

    from cocoview.model.look import instance_color

    open_and_wait(qtbot, win, [REAL / "mmpose" / "coco" / "test_coco.json"])
    win.state.set_current_image(196141)  # five people, one category
    qtbot.waitUntil(lambda: win.canvas.frame is not None
                    and win.canvas.frame.image_id == 196141, timeout=10000)
    qtbot.waitUntil(lambda: win.canvas.frame.look == win.frames.look, timeout=10000)
    before = win.canvas.image_item.pixmap().toImage()
    assert len({it.color for it in win.canvas.frame.overlays.items}) == 1
    QTest.keyClick(win.canvas, Qt.Key.Key_C)
    assert win.state.color_by_instance and win.actions_["color_by_instance"].isChecked()
    qtbot.waitUntil(lambda: win.canvas.frame.look is not None
                    and win.canvas.frame.look.by_instance, timeout=10000)
    items = win.canvas.frame.overlays.items
    assert [it.color for it in items] == [instance_color(k) for k in range(len(items))]
    assert win.canvas.image_item.pixmap().toImage() != before  # the masks were re-blended
    win.save_settings()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert w2.state.color_by_instance and w2.actions_["color_by_instance"].isChecked()
    w2.close()


def test_a_layer_off_with_data_says_so_and_is_remembered_per_file(qtbot: QtBot,
                                                                   tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", doc())
    b = write(tmp_path / "b.json", doc())
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    open_and_wait(qtbot, w, [a])
    assert w.status_hidden.text() == ""
    w.actions_["masks"].trigger()  # the user turns masks off on file a
    assert "masks hidden (M)" in w.status_hidden.text()
    assert w.actions_["masks"].iconText().endswith("●")
    w.actions_["masks"].trigger()
    w.actions_["boxes"].trigger()
    assert w.status_hidden.text() == "boxes hidden (B)"
    open_and_wait(qtbot, w, [b])  # another file: every layer with data is on
    assert w.state.layers["boxes"] and w.status_hidden.text() == ""
    open_and_wait(qtbot, w, [a])  # back to a: its own choice
    assert not w.state.layers["boxes"] and w.state.layers["masks"]
    w.close()


def test_detections_hidden_by_the_min_score_are_counted(qtbot: QtBot, win: MainWindow) -> None:
    from cocoview.model.layer_data import hidden

    gt = REAL / "detvisgui" / "data" / "coco" / "annotations" / "instances_val2017.json"
    res = REAL / "detvisgui" / "results" / "mask_rcnn_r50_fpn_1x" / "val_results.bbox.json"
    open_and_wait(qtbot, win, [gt], results=res)
    ov = win.canvas.frame.overlays
    dets = [it for it in ov.items if it.is_result]
    under = sum(it.score < 0.3 for it in dets)
    assert under > 0
    assert f"{under} detection" in win.status_hidden.text()
    win.actions_["results"].trigger()
    assert f"{len(dets)} detection" in win.status_hidden.text()
    assert "Detections off" in hidden(ov, win.state.layers, win.state.look()).reason


def test_the_image_list_gets_most_of_its_column(qtbot: QtBot) -> None:
    """First run (no remembered layout): the image list most of the left column, not
    Qt's ~5 rows above the filter form; a layout the user made is kept on the next run."""
    from cocoview.qt.main_window import DEFAULT_SHARES

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    images, flt = w.docks["images"], w.docks["filter"]

    def share() -> float:
        return images.height() / (images.height() + flt.height())

    qtbot.waitUntil(lambda: share() > DEFAULT_SHARES[0] - 0.05, timeout=5000)
    assert w.docks["inspector"].height() > w.docks["categories"].height()
    w.resizeDocks([images, flt], [200, 500], Qt.Orientation.Vertical)  # the user's own
    qtbot.waitUntil(lambda: share() < 0.35, timeout=5000)
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert not w2._default_layout  # the remembered layout restored: no default applied
    w2.show()
    qtbot.waitExposed(w2)
    i2, f2 = w2.docks["images"], w2.docks["filter"]
    assert i2.height() / (i2.height() + f2.height()) < 0.35
    w2.close()
