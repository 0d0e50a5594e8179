"""Model A vs model B in the app (issue 14): a second results file, both sets of numbers
side by side in the Evaluation dock, either model on the canvas (combo + shortcut), and
the "A right, B wrong" filter — the list shows exactly the images the model says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.model.compare import Comparison
from cocoview.model.filters import ImageFilter
from tests.qt.test_review import show_evaluated
from tests.test_compare import two_models


def _window(qtbot: QtBot, tmp_path: Path,  # type: ignore[no-untyped-def]
            files: tuple[Path, Path, Path] | None = None):
    from cocoview.qt.main_window import MainWindow

    g, a, b = files or two_models(tmp_path)
    w = MainWindow()
    qtbot.addWidget(w)
    show_evaluated(qtbot, w.state, w.review, cocoview.open(g, results=a, cache=False))
    with qtbot.waitSignal(w.review.comparisonChanged, timeout=30000,
                          check_params_cb=lambda c: c is not None):
        w.review.add_comparison(b)
    qtbot.waitUntil(lambda: w.review.review is not None
                    and w.review.review.comparison is not None, timeout=10000)
    return w


def test_the_model_a_vs_b_filter(qtbot: QtBot, tmp_path: Path) -> None:
    w = _window(qtbot, tmp_path)
    comp = w.review.comparison
    assert isinstance(comp, Comparison)
    assert comp.names == ("res.json", "b.json")
    fm = w.filter_model
    box = w.filter_panel.boxes["compare"][1]
    texts = [box.itemText(i) for i in range(box.count())]
    assert texts[0] == "any" and len(texts) == 4
    for min_score in (0.0, 0.5):
        w.state.set_min_score(min_score)
        for kind in ("a", "b", "differ"):
            box.setCurrentIndex([box.itemData(i) for i in range(box.count())].index(kind))
            qtbot.waitUntil(lambda k=kind: fm.filter.compare == k, timeout=3000)
            want = comp.image_ids(kind, min_score).tolist()
            qtbot.waitUntil(lambda want=want: w.state.image_list.tolist() == want,
                            timeout=5000)
    # the model says, checked by hand: A alone found image 1's cat, B alone image 2's dog
    assert comp.image_ids("a", 0.0).tolist() == [1]
    assert comp.image_ids("b", 0.0).tolist() == [2]
    assert comp.image_ids("differ", 0.0).tolist() == [1, 2]
    # the same filter with another model on the canvas: A and B keep their meaning
    w.state.set_min_score(0.0)
    fm.set_filter(ImageFilter(compare="a"), immediate=True)
    qtbot.waitUntil(lambda: w.state.image_list.tolist() == [1], timeout=5000)
    w.actions_["switch_model"].trigger()
    assert w.review.shown == "b"
    fm.set_filter(ImageFilter(compare="b"), immediate=True)
    qtbot.waitUntil(lambda: w.state.image_list.tolist() == [2], timeout=5000)
    w.review.shutdown()


def test_numbers_side_by_side_and_the_switch(qtbot: QtBot, tmp_path: Path) -> None:
    w = _window(qtbot, tmp_path)
    comp = w.review.comparison
    assert comp is not None
    dock = w.docks["evaluation"].widget()
    text = dock.summary.toPlainText().splitlines()
    assert "Δ (B−A)" in text[0] and len(text) == 16
    assert text[-2:] == ["A: res.json", "B: b.json"]
    m = dock.table_model
    headers = [m.headerData(c, Qt.Orientation.Horizontal) for c in range(m.columnCount())]
    assert headers[:8] == ["category", "AP A", "AP B", "ΔAP", "AP50 A", "AP50 B", "ΔAP50",
                           "AP75"]
    pc = comp.per_category()
    assert np.array_equal(m.cols["ap_b"], pc["ap_b"])
    row = int(np.flatnonzero(m.cols["category_id"] == 2)[0])  # dog: A 0, B found it
    d = m.index(row, headers.index("ΔAP50")).data()
    assert d == f"{pc['ap50_delta'][row]:+.3f}" and d.startswith("+")
    # the canvas shows one model at a time: the combo and the shortcut switch
    assert dock.model_box.isVisibleTo(dock) and dock.model_box.count() == 2
    assert w.actions_["switch_model"].shortcut().toString() == "X"
    w.state.set_current_image(2)
    qtbot.waitUntil(lambda: w.canvas.frame is not None
                    and w.canvas.frame.image_id == 2, timeout=10000)

    def scores() -> list[float]:
        f = w.canvas.frame
        return sorted(round(it.score, 2) for it in f.overlays.items  # type: ignore[union-attr]
                      if it.is_result)

    assert scores() == [0.35]  # A's cat
    dock.model_box.setCurrentIndex(1)
    dock.model_box.activated.emit(1)
    assert w.review.shown == "b" and w.state.dataset.results is w.review.models["b"]
    qtbot.waitUntil(lambda: scores() == [0.7, 0.9], timeout=10000)
    assert w.review.review is w.review.reviews["b"] and w.canvas.review is w.review.review
    w.actions_["switch_model"].trigger()
    assert w.review.shown == "a" and dock.model_box.currentData() == "a"
    qtbot.waitUntil(lambda: scores() == [0.35], timeout=10000)
    w.review.shutdown()


def test_a_bad_second_file_is_a_message(qtbot: QtBot, tmp_path: Path) -> None:
    from cocoview.qt.main_window import MainWindow

    g, a, b = two_models(tmp_path)
    w = MainWindow()
    qtbot.addWidget(w)
    show_evaluated(qtbot, w.state, w.review, cocoview.open(g, results=a, cache=False))
    msgs: list[str] = []
    w.review.message.connect(msgs.append)
    w.actions_["switch_model"].trigger()  # one file: says how to add another
    assert w.review.shown == "a" and "Add Results for Comparison" in msgs[-1]
    with qtbot.waitSignal(w.review.busyChanged, timeout=10000,
                          check_params_cb=lambda on: not on):
        w.review.add_comparison(g)  # a ground-truth file, not results
    assert msgs[-1].startswith("Could not open gt.json for comparison") and \
        "not a results file" in msgs[-1]
    none = tmp_path / "none.json"
    none.write_text(b.read_text().replace('"image_id": 2', '"image_id": 99')
                    .replace('"image_id": 3', '"image_id": 99'))
    with qtbot.waitSignal(w.review.busyChanged, timeout=10000,
                          check_params_cb=lambda on: not on):
        w.review.add_comparison(none)
    assert any(m.startswith("none.json: none of the 5 results matches an image") for m in msgs)
    assert w.review.comparison is None and "b" not in w.review.models
    assert w.state.dataset.results is w.review.models["a"]  # type: ignore[union-attr]
    w.review.shutdown()


def test_model_b_without_masks_leaves_a_segm_comparison(qtbot: QtBot, tmp_path: Path) -> None:
    import json

    g, a, b = two_models(tmp_path)
    res = json.loads(a.read_text())
    for r in res:  # model A has masks (its boxes as polygons); B has boxes only
        x, y, w_, h = r["bbox"]
        r["segmentation"] = [[x, y, x + w_, y, x + w_, y + h, x, y + h]]
    a.write_text(json.dumps(res))
    w = _window(qtbot, tmp_path, (g, a, b))
    w.actions_["switch_model"].trigger()
    assert w.review.shown == "b"
    msgs: list[str] = []
    w.review.message.connect(msgs.append)
    with qtbot.waitSignal(w.review.comparisonChanged, timeout=30000,
                          check_params_cb=lambda c: c is None):
        w.review.evaluate(iou_type="segm")
    qtbot.waitUntil(lambda: not w.review.running(), timeout=30000)
    assert w.review.shown == "a" and w.state.dataset.results is w.review.models["a"]  # type: ignore[union-attr]
    assert w.review.review is not None and w.review.review.evaluation.iou_type == "segm"
    assert msgs[-1].startswith("Model B (b.json) not compared:")
    dock = w.docks["evaluation"].widget()
    assert not dock.model_box.isVisibleTo(dock)
    # back to bbox: B is compared again
    with qtbot.waitSignal(w.review.comparisonChanged, timeout=30000,
                          check_params_cb=lambda c: c is not None):
        w.review.evaluate(iou_type="bbox")
    w.review.shutdown()
