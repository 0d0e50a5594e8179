"""The evaluation dock (issue 14): the numbers, the table, and every part a way in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.model.compare import short_summary
from cocoview.qt.eval_dock import COLUMNS, EMPTY_TEXT, SORT_ROLE, TIDE_BARS, EvalDock
from cocoview.qt.filter_model import FilterModel
from cocoview.qt.review import ReviewController
from cocoview.qt.state import ViewerState
from tests.conftest import REAL
from tests.eval_oracle import pyco_eval
from tests.test_evaluation import DETVIS, DETVIS_RES
from tests.test_review_dock import random_review


def _dock(qtbot: QtBot, ds: Any) -> tuple[ViewerState, ReviewController, EvalDock]:
    state = ViewerState()
    rc = ReviewController(state)
    flt = FilterModel(state, rc)
    dock = EvalDock(state, rc, flt)
    qtbot.addWidget(dock)
    dock.resize(1400, 420)
    dock.show()
    state.set_min_score(0.0)
    with qtbot.waitSignal(rc.reviewChanged, timeout=30000,
                          check_params_cb=lambda r: r is not None):
        state.set_dataset(ds)
    qtbot.waitUntil(lambda: not dock.drawing())  # the plots, one per event-loop turn
    return state, rc, dock


def _col(key: str) -> int:
    return [c[0] for c in COLUMNS].index(key)


def test_the_twelve_numbers_equal_pycocotools(qtbot: QtBot) -> None:
    gt_path = REAL / DETVIS
    res_path = REAL / DETVIS_RES.format("bbox")
    ds = cocoview.open(gt_path, results=res_path, cache=False)
    _state, rc, dock = _dock(qtbot, ds)
    lines = dock.summary.toPlainText().splitlines()
    oracle = pyco_eval(json.loads(gt_path.read_text()), json.loads(res_path.read_text()),
                       "bbox")
    assert len(lines) == 12
    for line, want in zip(lines, oracle.stats, strict=True):
        assert line.endswith(f"  {want:0.3f}")
    assert lines[0].split()[0] == "AP" and lines[8].split()[0] == "AR@100"
    full = dock.summary.toolTip().splitlines()  # pycocotools' wording, as its tooltip
    for line, want in zip(full, oracle.stats, strict=True):
        assert line.endswith(f"= {want:0.3f}")
    assert full[0].startswith(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all")
    assert dock.stack.currentIndex() == 1
    # the table: one row per category, AP as the evaluation has it
    assert rc.review is not None
    per = {r["category_id"]: r for r in rc.review.evaluation.per_category}
    m = dock.table_model
    assert m.rowCount() == len(per)
    for row in range(m.rowCount()):
        cid = int(m.cols["category_id"][row])
        ap = m.index(row, _col("ap")).data()
        assert ap == ("–" if per[cid]["ap"] < 0 else f"{per[cid]['ap']:.3f}")
    # the confusion matrix has the background row and column; TIDE has its six bars
    keep, _sub = rc.review.confusion_view()  # only the classes that occur, background last
    k = len(rc.review.evaluation.confusion.category_ids)
    assert dock.confusion.shape == (len(keep), len(keep)) and keep[-1] == k
    assert 3 < len(keep) < k
    # a cell of the compact heat map opens the full matrix's cell: the background row
    # (detections on nothing) of the class with most of them
    vcol = int(np.argmax(_sub[-1, :-1]))
    dock.confusion.click_at(vcol + 0.5, len(keep) - 0.5)
    ev = rc.review.evaluation
    want = np.unique(ev.dt.image_id[ev.confusion.detections(k, int(keep[vcol]))])
    assert dock.last_shown is not None and np.array_equal(dock.last_shown[1], want)
    assert len(want) > 0
    assert dock.tide.n == len(TIDE_BARS)
    dock.grab()
    rc.shutdown()


def test_sorting_the_table(qtbot: QtBot, tmp_path: Path) -> None:
    ds, _ = random_review(tmp_path)
    _state, rc, dock = _dock(qtbot, ds)
    for key in ("fp", "ap", "name"):
        dock.table.sortByColumn(_col(key), Qt.SortOrder.DescendingOrder)
        vals = [dock.proxy.index(r, _col(key)).data(SORT_ROLE)
                for r in range(dock.proxy.rowCount())]
        assert vals == sorted(vals, reverse=True)
    rc.shutdown()


def test_a_confusion_cell_shows_exactly_its_images(qtbot: QtBot, tmp_path: Path) -> None:
    ds, _ = random_review(tmp_path)
    state, rc, dock = _dock(qtbot, ds)
    assert rc.review is not None
    ev = rc.review.evaluation
    det = ev.detections_table()
    c = ev.confusion
    k = len(c.category_ids)
    # an off-diagonal cell of a detected class: GT class 0 detected as class 1
    row, col = max(((r, cc) for r in range(k + 1) for cc in range(k) if r != cc),
                   key=lambda rc_: int(c.matrix[rc_]))
    assert c.matrix[row, col] > 0
    want = np.unique(det["image_id"][ev.dt.result_index[c.detections(row, col)]])
    # a small map has its counts written in the cells
    _keep, sub = rc.review.confusion_view()
    assert sorted(int(t.toPlainText().replace(",", "")) for t in dock.confusion.texts) == \
        sorted(sub[sub > 0].tolist())
    # a real click in the middle of the cell
    vrow, vcol = (int(np.searchsorted(dock._cells, i)) for i in (row, col))
    pos = dock.confusion.view_to_widget(vcol + 0.5, vrow + 0.5)
    qtbot.mouseClick(dock.confusion.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(int(pos.x()), int(pos.y())))
    qtbot.waitUntil(lambda: dock.last_shown is not None)
    qtbot.waitUntil(lambda: np.array_equal(np.sort(state.image_list), want))
    assert dock.filter_model is not None
    assert dock.filter_model.filter.image_ids == tuple(want.tolist())
    rc.shutdown()


def test_a_tide_bar_and_a_category_row_show_their_images(qtbot: QtBot,
                                                         tmp_path: Path) -> None:
    ds, _ = random_review(tmp_path)
    state, rc, dock = _dock(qtbot, ds)
    assert rc.review is not None
    ev = rc.review.evaluation
    det, gtt = ev.detections_table(), ev.ground_truth_table()
    kind = max(TIDE_BARS[:-1], key=lambda t: int((det["error"] == t).sum()))
    dock.tide.click_at(TIDE_BARS.index(kind), 0.0)
    want = np.unique(det["image_id"][det["error"] == kind])
    qtbot.waitUntil(lambda: np.array_equal(np.sort(state.image_list), want))
    dock.tide.click_at(TIDE_BARS.index("Miss"), 0.0)
    want = np.unique(gtt["image_id"][gtt["error"] == "Miss"])
    qtbot.waitUntil(lambda: np.array_equal(np.sort(state.image_list), want))
    # a double-click on a category row: its images with FP or missed GT
    index = dock.proxy.index(0, 0)
    dock.table.doubleClicked.emit(index)
    cid = int(index.data(Qt.ItemDataRole.UserRole + 2))
    fp = (det["status"] == "fp") & (det["category_id"] == cid)
    miss = (gtt["status"] == "missed") & (gtt["category_id"] == cid)
    want = np.union1d(det["image_id"][fp], gtt["image_id"][miss])
    qtbot.waitUntil(lambda: np.array_equal(np.sort(state.image_list), want))
    rc.shutdown()


def test_a_click_on_the_pr_curve_sets_the_min_score(qtbot: QtBot, tmp_path: Path) -> None:
    ds, _ = random_review(tmp_path)
    state, rc, dock = _dock(qtbot, ds)
    assert rc.review is not None
    cur = rc.review.curve(None)
    i = len(cur.score) // 2
    target = float(cur.score[i])
    assert target > 0
    with qtbot.waitSignal(state.minScoreChanged):
        dock.pr.click_at(float(cur.recall[i]), float(cur.precision[i]))
    assert state.min_score == pytest.approx(target, abs=1e-6)
    assert f"min score {target:.2f}" in dock.readout.text()
    # the counts in the table follow the min score
    fp = dock.table_model.cols["fp"].sum()
    assert fp == rc.review.counts(state.min_score)["fp"]
    # selecting a category draws its curve
    dock.table.selectRow(0)
    assert len(dock.pr.curves) == 1
    assert dock.pr.curves[0].name() == dock.proxy.index(0, 0).data()
    rc.shutdown()


def test_changing_the_iou_threshold_updates_the_counts(qtbot: QtBot, tmp_path: Path) -> None:
    ds, _ = random_review(tmp_path)
    _state, rc, dock = _dock(qtbot, ds)
    fresh = ds.evaluate(iou_thr=0.8, area="medium").verdict_counts()
    dock.area.setCurrentText("medium")
    dock.iou_thr.setValue(0.8)  # each edit is a job; the newest wins
    qtbot.waitUntil(lambda: rc.review is not None and rc.review.evaluation.iou_thr == 0.8
                    and rc.review.evaluation.area == "medium" and not rc.running(),
                    timeout=30000)
    assert dock.table_model.cols["fp"].sum() == fresh["fp"]
    assert dock.table_model.cols["missed"].sum() == fresh["gt_missed"]
    assert not dock.busy.isVisible()
    rc.shutdown()


def test_without_results_the_dock_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    random_review(tmp_path)
    state = ViewerState()
    rc = ReviewController(state)
    dock = EvalDock(state, rc)
    qtbot.addWidget(dock)
    state.set_dataset(cocoview.open(tmp_path / "gt.json", cache=False))
    assert dock.stack.currentIndex() == 0
    assert dock.message.text() == EMPTY_TEXT
    assert dock.iou_type.count() == 0
    assert not hasattr(dock, "pr")  # the plots are made with the first evaluation


def test_the_window_starts_without_pyqtgraph() -> None:
    """``import pyqtgraph`` costs ~0.5 s: the app pays it only once results are evaluated."""
    import subprocess
    import sys

    code = ("import sys, cocoview.qt.main_window, cocoview.qt.eval_dock; "
            "print('pyqtgraph' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_the_iou_type_and_cancel(qtbot: QtBot) -> None:
    ds = cocoview.open(REAL / DETVIS, results=REAL / DETVIS_RES.format("segm"), cache=False)
    _state, rc, dock = _dock(qtbot, ds)
    types = [dock.iou_type.itemText(i) for i in range(dock.iou_type.count())]
    assert types == ["bbox", "segm"]  # what the results support
    dock.iou_type.setCurrentText("segm")
    dock.iou_type.activated.emit(1)
    assert dock.busy.isVisible() and dock.cancel.isVisible()
    qtbot.waitUntil(lambda: rc.review is not None and rc.review.evaluation.iou_type == "segm"
                    and not rc.running(), timeout=30000)
    assert not dock.busy.isVisible()
    want = short_summary(ds.evaluate(iou_type="segm"))
    assert dock.summary.toPlainText().splitlines() == want
    # Cancel: the running request is dropped, the dock keeps the last evaluation
    dock.iou_type.setCurrentText("bbox")
    dock.iou_type.activated.emit(0)
    with qtbot.waitSignal(rc.busyChanged, check_params_cb=lambda on: not on):
        dock.cancel.click()
    qtbot.waitUntil(lambda: rc.jobs.idle())
    assert rc.review is not None and rc.review.evaluation.iou_type == "segm"
    assert not dock.cancel.isVisible()
    rc.shutdown()


def test_the_main_window_has_the_dock(qtbot: QtBot, tmp_path: Path) -> None:
    from cocoview.qt.main_window import MainWindow

    ds, _ = random_review(tmp_path)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    dock = w.docks["evaluation"]
    assert not dock.isVisible()  # until results are evaluated
    assert dock.toggleViewAction() in w.findChildren(type(dock.toggleViewAction()))
    with qtbot.waitSignal(w.review.reviewChanged, timeout=30000,
                          check_params_cb=lambda r: r is not None):
        w.state.set_dataset(ds)
    assert dock.isVisible()
    assert w.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    w.review.shutdown()
