"""The evaluation sees the edits (issue 17): with results open and evaluated, an edit
(or its undo) evaluates again on the edited ground truth, once edits pause; the verdicts
and the stats follow, equal to pycocotools on the file Save As writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from cocoview.model import edits as E
from cocoview.qt.main_window import MainWindow
from tests.eval_oracle import pyco_eval
from tests.qt import test_editing
from tests.test_box_edits import result_row, review_case

src, win = test_editing.src, test_editing.win  # the same fixtures


def _evaluated(qtbot: QtBot, w: MainWindow, then: object) -> None:
    """Wait for the evaluation that follows ``then()`` (an edit, an undo)."""
    with qtbot.waitSignal(w.review.reviewChanged, timeout=30000,
                          check_params_cb=lambda r: r is not None):
        then()  # type: ignore[operator]


def test_deleting_a_matched_gt_makes_its_detection_fp(qtbot: QtBot, win: MainWindow,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    review_case(tmp_path)
    gt, res = tmp_path / "gt.json", tmp_path / "res.json"
    _evaluated(qtbot, win, lambda: win.open_files([gt], results=res))
    ds = win.state.dataset
    assert ds is not None
    tp = result_row(ds, 1)  # cat 0.95 on GT 11
    assert win.review.review.verdict_at(tp) == "tp"
    before = np.array(win.review.review.evaluation.stats)
    _evaluated(qtbot, win, lambda: win.editing.edit([E.DeleteAnnotation(11)]))
    rv = win.review.review
    assert rv.verdict_at(tp) == "fp"
    assert rv.counts()["tp"] == 0
    # the stats are pycocotools' on the edited file (written by Save As)
    out = tmp_path / "edited.json"
    monkeypatch.setattr(win.editing, "ask_save_path", lambda: (out, False))
    with qtbot.waitSignal(win.editing.saved, timeout=20000):
        win.actions_["save_as"].trigger()
    doc = json.loads(out.read_text())
    assert [a["id"] for a in doc["annotations"]] == [10]
    ids = {im["id"] for im in doc["images"]}
    usable = [r for r in json.loads(res.read_text()) if r["image_id"] in ids]
    ref = pyco_eval(doc, usable, "bbox")
    np.testing.assert_allclose(rv.evaluation.stats, ref.stats, rtol=0, atol=1e-12)
    assert not np.allclose(rv.evaluation.stats, before)
    # undo: the old verdict and stats come back
    _evaluated(qtbot, win, win.actions_["undo"].trigger)
    assert win.review.review.verdict_at(tp) == "tp"
    np.testing.assert_allclose(win.review.review.evaluation.stats, before, rtol=0, atol=0)


def test_a_relabel_re_evaluates_and_suggestions_follow(qtbot: QtBot, win: MainWindow,
                                                       tmp_path: Path) -> None:
    """Accepting "Relabel GT #10 as dog" makes the dog detection on it a TP (the fresh
    review), so nothing more is suggested for it."""
    review_case(tmp_path)
    _evaluated(qtbot, win, lambda: win.open_files([tmp_path / "gt.json"],
                                                  results=tmp_path / "res.json"))
    win.state.set_min_score(0.0)
    ds = win.state.dataset
    dog = result_row(ds, 0)
    assert win.review.review.verdict_at(dog) == "fp"
    win.state.select(dog, "detection")
    fixes = win.editing.canvas_edits.fixes
    assert [b.text() for b in fixes.buttons] == ["Relabel GT #10 as dog"]
    _evaluated(qtbot, win, fixes.buttons[0].click)
    assert win.review.review.verdict_at(dog) == "tp"
    assert win.editing.canvas_edits.suggestions(dog) == []


def test_suggestion_threshold_settable_and_remembered(qtbot: QtBot, win: MainWindow,
                                                      tmp_path: Path) -> None:
    """The inspector's "Suggest fixes from score ≥" spin box: a confident FP (0.8) on
    nothing is offered as a missing annotation at 0.5, not at 0.85; a weak one (0.3)
    only under 0.3. The value is in the settings, and a new window starts with it."""
    review_case(tmp_path)
    _evaluated(qtbot, win, lambda: win.open_files([tmp_path / "gt.json"],
                                                  results=tmp_path / "res.json"))
    win.state.set_min_score(0.0)
    ds = win.state.dataset
    ce = win.editing.canvas_edits
    spin = ce.threshold_row.spin
    assert spin.value() == 0.5
    assert not ce.threshold_row.isVisible()  # no detection selected
    win.state.select(result_row(ds, 2), "detection")
    assert ce.threshold_row.isVisible()
    assert [b.text() for b in ce.fixes.buttons] == ["Add as annotation (cat)"]
    spin.setValue(0.85)
    assert ce.fixes.buttons == [] and not ce.fixes.isVisible()
    win.state.select(result_row(ds, 3), "detection")  # cat 0.3 on nothing
    assert ce.suggestions() == []
    spin.setValue(0.25)
    assert [b.text() for b in ce.fixes.buttons] == ["Add as annotation (cat)"]
    spin.setValue(0.85)
    other = MainWindow()
    qtbot.addWidget(other)
    assert other.editing.canvas_edits.threshold == 0.85
    assert other.editing.canvas_edits.threshold_row.spin.value() == 0.85
    other.close()
