"""The review controller evaluates in a child process, in-process when it cannot
(issue 14, "Fluid": the GUI process keeps its GIL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from cocoview.model.evaluation import remote
from cocoview.model.review import Review, at_setting
from cocoview.qt.review import ReviewController
from cocoview.qt.state import ViewerState
from tests.test_evaluation_speed import _same_verdicts
from tests.test_review import review_case


def _controller(qtbot: QtBot, ds: object) -> tuple[ViewerState, ReviewController]:
    state = ViewerState()
    rc = ReviewController(state)
    with qtbot.waitSignal(rc.reviewChanged, timeout=30000,
                          check_params_cb=lambda r: r is not None):
        state.set_dataset(ds)  # type: ignore[arg-type]
    return state, rc


def test_the_controller_evaluates_in_the_child(qtbot: QtBot, tmp_path: Path) -> None:
    ds, here = review_case(tmp_path)
    state, rc = _controller(qtbot, ds)
    try:
        assert rc.review is not None and rc.process.holds(rc.review.evaluation)
        assert rc.review.counts(0.5) == here.counts(0.5)
        with qtbot.waitSignal(rc.reviewChanged, timeout=30000,
                              check_params_cb=lambda r: r is not None):
            rc.evaluate(iou_thr=0.75, area="small")
        ev = rc.review.evaluation
        assert (ev.iou_thr, ev.area) == (0.75, "small") and rc.process.holds(ev)
        _same_verdicts(ev.verdicts, at_setting(here.evaluation, 0.75, "small").verdicts)
        assert rc.review.counts() == Review(ds, at_setting(here.evaluation, 0.75,
                                                           "small")).counts()
        state.set_dataset(None)
        assert rc.process._proc is None  # what it held belonged to that dataset
    finally:
        rc.shutdown()


def test_without_the_child_it_evaluates_in_process(qtbot: QtBot, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "command", lambda: [str(tmp_path / "no-such-python")])
    ds, here = review_case(tmp_path)
    _state, rc = _controller(qtbot, ds)
    try:
        assert rc.review is not None and not rc.process.holds(rc.review.evaluation)
        assert rc.review.counts(0.5) == here.counts(0.5)
        with qtbot.waitSignal(rc.reviewChanged, timeout=30000,
                              check_params_cb=lambda r: r is not None):
            rc.evaluate(iou_thr=0.75)
        _same_verdicts(rc.review.evaluation.verdicts,
                       at_setting(here.evaluation, 0.75, "all").verdicts)
    finally:
        rc.shutdown()
