"""The canvas's hover text names the TIDE type of a false positive and a missed GT."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.qt.test_review import _setup
from tests.test_review_tide import tide_case


def test_the_hover_text_has_the_tide_type(qtbot: QtBot, tmp_path: Path) -> None:
    ds, _rv = tide_case(tmp_path)
    _state, canvas, rc = _setup(qtbot, ds)
    items = canvas.frame.overlays.items  # type: ignore[union-attr]
    by_score = {round(it.score, 2): it for it in items if it.is_result}
    assert "TIDE Cls — classification error" in canvas.tooltip_text(by_score[0.7])
    assert "TIDE Dupe" in canvas.tooltip_text(by_score[0.8])
    assert "TIDE" not in canvas.tooltip_text(by_score[0.9])
    gt = {it.ann_id: it for it in items if not it.is_result}
    assert canvas.tooltip_text(gt[3]).endswith("ground truth: missed\nTIDE Miss — miss: no "
                                               "detection targets it, not even a "
                                               "mislocalised or misclassified one")
    rc.shutdown()
