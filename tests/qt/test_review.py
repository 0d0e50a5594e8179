"""The evaluation in a worker and the verdicts on the canvas (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot

import cocoview
from cocoview.model.review import STYLES
from cocoview.qt.canvas import Canvas
from cocoview.qt.frames import FrameLoader
from cocoview.qt.presenter import CanvasPresenter
from cocoview.qt.review import ReviewController, coverage_message
from cocoview.qt.state import ViewerState
from tests.test_review import review_case


def _setup(qtbot: QtBot, ds: cocoview.Dataset) -> tuple[ViewerState, Canvas, ReviewController]:
    state = ViewerState()
    frames = FrameLoader()
    canvas = Canvas(state)
    qtbot.addWidget(canvas)
    CanvasPresenter(state, frames, canvas, canvas)
    rc = ReviewController(state, canvas)
    rc.reviewChanged.connect(canvas.set_review)
    show_evaluated(qtbot, state, rc, ds)
    qtbot.waitUntil(lambda: canvas.frame is not None, timeout=10000)
    return state, canvas, rc


def show_evaluated(qtbot: QtBot, state: ViewerState, rc: ReviewController,
                   ds: cocoview.Dataset) -> None:
    """Show ``ds`` at min score 0 and wait for its evaluation."""
    state.set_min_score(0.0)
    with qtbot.waitSignal(rc.reviewChanged, timeout=30000,
                          check_params_cb=lambda r: r is not None):
        state.set_dataset(ds)


def test_verdict_styles_on_the_canvas(qtbot: QtBot, tmp_path: Path) -> None:
    ds, _rv = review_case(tmp_path)
    state, canvas, rc = _setup(qtbot, ds)
    assert rc.review is not None
    items = canvas.frame.overlays.items  # type: ignore[union-attr]
    by_det = {round(it.score, 2): it for it in items if it.is_result}
    by_gt = {it.ann_id: it for it in items if not it.is_result}
    style = canvas.boxes.style_fn  # what BoxesItem paints with
    assert style(by_det[0.9]) is STYLES["tp"]
    assert style(by_det[0.8]) is STYLES["fp"]
    assert style(by_det[0.7]) is STYLES["ignored"]  # the crowd's match
    assert style(by_gt[12]) is STYLES["missed"]
    assert style(by_gt[10]) is STYLES["matched"]
    assert style(by_gt[13]) is STYLES["gt_ignored"]
    # the min score is the operating point: GT 11's only match scores 0.4
    assert style(by_gt[11]) is STYLES["matched"]
    state.set_min_score(0.5)
    assert style(by_gt[11]) is STYLES["missed"]
    # view modes: errors only = FP + missed GT
    canvas.set_view_mode("errors")
    shown = {(it.is_result, it.ann_id if not it.is_result else round(it.score, 2))
             for it in canvas.boxes.shown()}
    assert shown == {(True, 0.8), (False, 11), (False, 12)}
    canvas.set_view_mode("gt")
    assert all(not it.is_result for it in canvas.boxes.shown())
    canvas.set_view_mode("predictions")
    assert all(it.is_result for it in canvas.boxes.shown())
    canvas.grab()  # paints the badges without error
    rc.shutdown()


def test_results_matching_no_image_are_reported(qtbot: QtBot, tmp_path: Path) -> None:
    _ds, _ = review_case(tmp_path)
    res = json.loads((tmp_path / "res.json").read_text())
    for r in res:
        r["image_id"] = 999
    (tmp_path / "none.json").write_text(json.dumps(res))
    ds = cocoview.open(tmp_path / "gt.json", results=tmp_path / "none.json", cache=False)
    msg = coverage_message(ds)
    assert "None of the 4 results" in msg and "none.json" in msg
    res[0]["image_id"] = 1
    (tmp_path / "some.json").write_text(json.dumps(res))
    ds = cocoview.open(tmp_path / "gt.json", results=tmp_path / "some.json", cache=False)
    assert coverage_message(ds).startswith("3 of the 4 results")
    state = ViewerState()
    rc = ReviewController(state)
    with qtbot.waitSignal(rc.message, timeout=5000,
                          check_params_cb=lambda m: m.startswith("3 of the 4")):
        state.set_dataset(ds)
    qtbot.waitUntil(lambda: rc.review is not None, timeout=30000)
    rc.shutdown()


def test_the_shortcut_cycles_the_view_modes(qtbot: QtBot) -> None:
    from cocoview.qt.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    act = w.actions_["review_mode"]
    assert act.shortcut().toString() == "E"
    seen = []
    for _ in range(4):
        act.trigger()
        seen.append(w.canvas.view_mode)
    assert seen == ["gt", "predictions", "errors", "both"]
