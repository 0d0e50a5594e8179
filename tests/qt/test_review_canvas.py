"""The canvas side of the review (issue 14): legend, distinct verdict styles, hover and
click on detections, the inspector on a detection, the list's error columns, the review
filters at the min score, and results that match no image as a problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.model.filters import ANY_CAT
from cocoview.model.overlays import AnnOverlay
from cocoview.model.review import STYLES
from cocoview.model.viewer import Item
from cocoview.qt.canvas import Canvas
from cocoview.qt.inspector import InspectorPanel
from cocoview.qt.thumbnail_grid import ERRORS_ROLE, SUBTITLE_ROLE
from tests.qt.test_review import _setup, show_evaluated
from tests.test_review import review_case
from tests.test_review_filters import three_images


def _det(canvas: Canvas, score: float) -> AnnOverlay:
    return next(it for it in canvas.frame.overlays.items  # type: ignore[union-attr]
                if it.is_result and round(it.score, 2) == score)


def _gt(canvas: Canvas, ann_id: int) -> AnnOverlay:
    return next(it for it in canvas.frame.overlays.items  # type: ignore[union-attr]
                if not it.is_result and it.ann_id == ann_id)


def _view_point(canvas: Canvas, x: float, y: float) -> QPoint:
    return canvas.mapFromScene(QPointF(x, y))


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # a tooltip, offscreen
def test_a_tp_differs_from_its_gt_and_the_legend_shows(qtbot: QtBot, tmp_path: Path) -> None:
    ds, _rv = review_case(tmp_path)
    state, canvas, rc = _setup(qtbot, ds)
    canvas.resize(600, 600)
    canvas.show()
    tp, gt = canvas.boxes.style_fn(_det(canvas, 0.9)), canvas.boxes.style_fn(_gt(canvas, 10))
    assert tp is STYLES["tp"] and gt is STYLES["matched"]
    assert tp.color != gt.color and tp.badge and not gt.badge  # not by colour alone
    # the outlines (segm layer) carry the verdicts too
    assert canvas.outlines.style_fn(_gt(canvas, 12)) is STYLES["missed"]
    assert canvas.outlines.style_fn(_det(canvas, 0.8)) is STYLES["fp"]
    # the legend: every verdict, with its counts at the min score
    assert canvas.legend.isVisible()
    rows = {k: text for k, _st, text in canvas.legend.rows()}
    assert list(rows) == ["tp", "fp", "ignored", "matched", "missed", "gt_ignored"]
    assert rows["tp"] == "TP  2" and rows["missed"] == "GT missed  1"
    assert canvas.legend.title.startswith("this image · IoU 0.50")
    state.set_min_score(0.5)  # the 0.4 TP drops out: GT 11 is missed there
    rows = {k: text for k, _st, text in canvas.legend.rows()}
    assert rows["tp"] == "TP  1" and rows["missed"] == "GT missed  2"
    # inside the view, bottom left
    g = canvas.legend.geometry()
    assert g.left() >= 0 and g.bottom() <= canvas.viewport().height()
    qtbot.mouseMove(canvas.viewport(), g.center())  # the cursor over it: it fades
    qtbot.waitUntil(lambda: canvas.legend.faded, timeout=3000)
    qtbot.mouseMove(canvas.viewport(), QPoint(300, 20))
    qtbot.waitUntil(lambda: not canvas.legend.faded, timeout=3000)
    canvas.grab()
    canvas.set_review(None)
    assert not canvas.legend.isVisible()
    rc.shutdown()


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the tooltip, offscreen
def test_hover_and_click_a_detection_shows_it_in_the_inspector(qtbot: QtBot,
                                                               tmp_path: Path) -> None:
    ds, _rv = review_case(tmp_path)
    state, canvas, rc = _setup(qtbot, ds)
    inspector = InspectorPanel(state)
    qtbot.addWidget(inspector)
    rc.reviewChanged.connect(inspector.set_review)
    inspector.set_review(rc.review)
    canvas.resize(600, 600)
    canvas.show()
    canvas.fit()
    tp = _det(canvas, 0.9)
    # the TP lies on GT 10's box: the shared edge picks the detection (drawn on top)
    at = canvas.hit_test(QPointF(25, 10), results=True)
    assert at is not None and at.is_result and at.row == tp.row
    assert canvas.hit_test(QPointF(25, 10)) is not None  # GT only: the old behaviour
    assert not canvas.hit_test(QPointF(25, 10)).is_result  # type: ignore[union-attr]
    text = canvas.tooltip_text(tp)
    assert "score 0.900" in text and "true positive" in text
    assert "matched GT #10, IoU 1.00" in text
    fp_text = canvas.tooltip_text(_det(canvas, 0.8))
    assert "false positive" in fp_text and "overlaps no ground truth" in fp_text
    assert "ignored (crowd)" in canvas.tooltip_text(_det(canvas, 0.7))
    assert "ground truth: missed" in canvas.tooltip_text(_gt(canvas, 12))
    # hover: the detection and its match are highlighted
    qtbot.mouseMove(canvas.viewport(), _view_point(canvas, 25, 10))
    qtbot.waitUntil(lambda: state.hovered == Item("detection", tp.row), timeout=3000)
    assert canvas.highlight.hover is tp
    assert [m.ann_id for m in canvas.highlight.linked] == [10]
    # a click selects it (it used to clear the selection)
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=_view_point(canvas, 25, 10))
    qtbot.waitUntil(lambda: state.selected_detection == tp.row, timeout=3000)
    assert canvas.highlight.selected is tp
    details = _props(inspector)
    assert details["verdict"].startswith("true positive")
    assert details["match"] == "GT #10, IoU 1.000"
    assert json.loads(inspector.json_text())["score"] == 0.9
    # the 0.4 TP: its match, and the other GT it overlaps, with their IoU
    low = _det(canvas, 0.4)
    state.select(low.row, "detection")
    details = _props(inspector)
    assert details["match"].startswith("GT #11, IoU 0.9")
    state.set_min_score(0.5)  # under the operating point
    assert _props(inspector)["verdict"].startswith("under the min score")
    state.set_min_score(0.0)
    # from the detection to its match and back, by double-clicks in the inspector
    state.select(tp.row, "detection")
    _double_click(qtbot, inspector, "match")
    assert state.selected_row == _gt(canvas, 10).row
    props = _props(inspector)
    assert props["verdict"] == "found" and props["found by"].startswith(
        "detection, score 0.900, IoU 1.000")
    _double_click(qtbot, inspector, "found by")
    assert state.selected_detection == tp.row
    state.select(_gt(canvas, 12).row)
    assert _props(inspector)["verdict"] == "missed"
    # a click on empty canvas clears the selection
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=_view_point(canvas, 100, 60))
    qtbot.waitUntil(lambda: not state.model.selection, timeout=3000)
    rc.shutdown()


def _double_click(qtbot: QtBot, inspector: InspectorPanel, key: str) -> None:
    tree = inspector.details
    for i in range(tree.topLevelItemCount()):
        sec = tree.topLevelItem(i)
        for j in range(sec.childCount()):  # type: ignore[union-attr]
            ch = sec.child(j)  # type: ignore[union-attr]
            if ch.text(0) == key:
                tree.itemDoubleClicked.emit(ch, 1)
                return
    raise AssertionError(f"no {key!r} row")


def _props(inspector: InspectorPanel) -> dict[str, str]:
    tree = inspector.details
    out: dict[str, str] = {}
    for i in range(tree.topLevelItemCount()):
        sec = tree.topLevelItem(i)
        for j in range(sec.childCount()):  # type: ignore[union-attr]
            ch = sec.child(j)  # type: ignore[union-attr]
            out.setdefault(ch.text(0), ch.text(1))
    return out


def test_candidates_in_the_inspector(qtbot: QtBot, tmp_path: Path) -> None:
    g, r = three_images(tmp_path)
    res = json.loads(r.read_text())
    res.append({"image_id": 1, "category_id": 2, "bbox": [12, 10, 40, 40], "score": 0.5})
    r.write_text(json.dumps(res))  # a dog on the cat: the cat is its only candidate
    ds = cocoview.open(g, results=r, cache=False)
    state, canvas, rc = _setup(qtbot, ds)
    inspector = InspectorPanel(state)
    qtbot.addWidget(inspector)
    inspector.set_review(rc.review)
    state.select(_det(canvas, 0.5).row, "detection")
    tree = inspector.details
    sec = tree.topLevelItem(0)
    rows = [(sec.child(j).text(0), sec.child(j).text(1))  # type: ignore[union-attr]
            for j in range(sec.childCount())]  # type: ignore[union-attr]
    assert ("match", "none") in rows
    assert any(k == "candidate" and v.startswith("GT #1 cat, IoU 0.9") for k, v in rows)
    rc.shutdown()


def test_the_list_sorts_by_errors_and_the_filters_follow_the_min_score(
        qtbot: QtBot, tmp_path: Path) -> None:
    from cocoview.qt.main_window import MainWindow

    g, r = three_images(tmp_path)
    w = MainWindow()
    qtbot.addWidget(w)
    show_evaluated(qtbot, w.state, w.review, cocoview.open(g, results=r, cache=False))
    m = w.browser.model
    assert m.COLUMNS[3:] == ("FP", "Missed", "Errors")
    col = {c: i for i, c in enumerate(m.COLUMNS)}

    def column(name: str) -> list[Any]:
        return [m.index(i, col[name]).data() for i in range(m.rowCount())]

    assert w.state.image_list.tolist() == [1, 2, 3]
    assert column("FP") == [1, 0, 2] and column("Missed") == [0, 1, 0]
    assert column("Errors") == [0.8, 1.0, 0.8]
    assert m.index(2, 0).data(ERRORS_ROLE) == (2, 0)
    assert m.index(2, 0).data(SUBTITLE_ROLE).endswith("2 FP · 0 missed")
    m.sort(col["Errors"], Qt.SortOrder.DescendingOrder)
    assert w.state.image_list.tolist() == [2, 1, 3]
    assert "sorted by errors" in w.state.image_list_label
    # the min score is the operating point: counts follow it
    w.state.set_min_score(0.437)  # set elsewhere (a PR curve): the box shows it, rounded,
    assert abs(w.score_spin.value() - 0.44) < 1e-9  # without sending the rounding back
    assert w.state.min_score == 0.437
    w.state.set_min_score(0.5)
    assert column("FP") == [0, 1, 1] and column("Missed") == [2, 0, 0]  # in [2, 1, 3] order
    # the review filters use the controller's evaluation, at the min score
    fm = w.filter_model
    fm.set_filter(fm.filter.with_(has_missed=1), immediate=True)
    qtbot.waitUntil(lambda: w.state.image_list.tolist() == [2], timeout=5000)
    assert fm._extras.review is w.review.review
    fm.set_filter(fm.filter.with_(has_missed=None, has_fp=ANY_CAT), immediate=True)
    qtbot.waitUntil(lambda: w.state.image_list.tolist() == [1, 3], timeout=5000)
    w.state.set_min_score(0.7)  # the cat FPs (0.6, 0.2) drop out
    qtbot.waitUntil(lambda: w.state.image_list.tolist() == [1], timeout=5000)
    assert fm.describe() == "has FP of any category"
    # the filter panel has the rows by itself (the criteria's forms), and they filter
    box = w.filter_panel.boxes["has_missed"][1]
    texts = [box.itemText(i) for i in range(box.count())]
    assert texts == ["any", "any category", "cat", "dog"]
    box.setCurrentIndex(texts.index("dog"))
    qtbot.waitUntil(lambda: fm.filter.has_missed == 2, timeout=3000)
    qtbot.waitUntil(lambda: w.state.image_list.tolist() == [], timeout=5000)  # AND has FP
    w.review.shutdown()


def test_results_on_no_image_are_a_problem(qtbot: QtBot, tmp_path: Path) -> None:
    from cocoview.model.validate import validate_report

    g, r = three_images(tmp_path)
    res = json.loads(r.read_text())
    for x in res:
        x["image_id"] = 999
    r.write_text(json.dumps(res))
    ds = cocoview.open(g, results=r, cache=False)
    rep = validate_report(ds, check_files=False)
    msgs = [p.message for p in rep.problems if p.code == "result-unknown-image"]
    assert msgs and msgs[0].startswith("none of the 6 results matches an image")
    assert "999" in msgs[0]
    res[0]["image_id"] = 1
    r.write_text(json.dumps(res))
    ds = cocoview.open(g, results=r, cache=False)
    (p,) = [p for p in ds.results.problems if p.code == "result-unknown-image"]  # type: ignore[union-attr]
    assert p.message.startswith("5 of the 6 results refer to image ids not in")
    assert np.isin(ds.image_ids, [1]).any()


def test_the_problems_dock_lists_results_on_unknown_images(qtbot: QtBot,
                                                           tmp_path: Path) -> None:
    from cocoview.qt.problems_dock import ProblemsDock
    from cocoview.qt.state import ViewerState

    g, r = three_images(tmp_path)
    res = json.loads(r.read_text())
    for x in res[1:]:
        x["image_id"] = 4242
    r.write_text(json.dumps(res))
    state = ViewerState()
    state.set_dataset(cocoview.open(g, results=r, cache=False))
    dock = ProblemsDock(state)
    qtbot.addWidget(dock)
    with qtbot.waitSignal(dock.finished, timeout=30_000):
        dock.start()
    codes = [code for code, _sev, _n in dock.problems.groups()]  # type: ignore[union-attr]
    assert "result-unknown-image" in codes
    dock.select_code("result-unknown-image")
    assert dock.model.rowCount() == 1
    texts = [dock.model.index(0, c).data() for c in range(dock.model.columnCount())]
    assert any(isinstance(t, str) and "5 of the 6 results" in t and "4242" in t for t in texts)
