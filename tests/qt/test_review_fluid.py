"""The review stays current and fluid (issue 14, "Fluid"): the status line follows the
min score, the recent files bring back both results files, and the dock draws its plots
without blocking the GUI thread for long."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pytestqt.qtbot import QtBot

from tests.qt.test_review import show_evaluated
from tests.test_review_dock import random_review


def _expected_line(det: dict[str, np.ndarray], gtt: dict[str, np.ndarray],
                   min_score: float) -> str:
    """The counts at ``min_score`` from the evaluation's per-row tables (not from
    ``Review.counts``, which the line is made with)."""
    on = det["score"] >= min_score
    tp = int((on & (det["status"] == "tp")).sum())
    fp = int((on & (det["status"] == "fp")).sum())
    kept = set(det["result_index"][on].tolist())
    lost = (gtt["status"] == "matched") & ~np.isin(gtt["result_index"], list(kept))
    missed = int(((gtt["status"] == "missed") | lost).sum())
    return f"min score {min_score:.2f}: {tp:,} TP, {fp:,} FP, {missed:,} missed GT"


def test_the_status_line_follows_the_min_score(qtbot: QtBot, tmp_path: Path) -> None:
    from cocoview.qt.main_window import MainWindow

    ds, _ = random_review(tmp_path)
    w = MainWindow()
    qtbot.addWidget(w)
    show_evaluated(qtbot, w.state, w.review, ds)
    rv = w.review.review
    assert rv is not None
    det, gtt = rv.evaluation.detections_table(), rv.evaluation.ground_truth_table()
    lines = []
    for s in (0.0, 0.5, 0.9, 0.2):
        w.state.set_min_score(s)
        msg = w.statusBar().currentMessage()
        assert msg.startswith("Evaluated bbox at IoU 0.50")
        assert msg.endswith(_expected_line(det, gtt, s)), msg
        lines.append(msg.split(": ", 1)[1])
    assert len(set(lines)) == 4  # the counts did move
    w.review.shutdown()


def test_a_recent_entry_brings_back_both_results_files(qtbot: QtBot,
                                                       tmp_path: Path) -> None:
    """GT + model A + model B, opened and added by hand, come back from File ▸ Open
    Recent as they were; the same dataset does not get a second entry for B."""
    from cocoview.qt.main_window import MainWindow
    from tests.test_compare import two_models

    g, a, b = two_models(tmp_path)
    other = tmp_path / "other.json"
    other.write_text(g.read_text())
    w = MainWindow()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.review.reviewChanged, timeout=30000,
                          check_params_cb=lambda r: r is not None):
        w.open_files([g], results=a)
    assert w.recent_request(w.recent()[0]) == ([g.resolve()], a.resolve(), None)
    with qtbot.waitSignal(w.review.comparisonChanged, timeout=30000,
                          check_params_cb=lambda c: c is not None):
        w.review.add_comparison(b)
    entries = [w.recent_request(e) for e in w.recent()]
    assert entries == [([g.resolve()], a.resolve(), b.resolve())]  # B joined A's entry
    with qtbot.waitSignal(w.loader.loaded, timeout=20000):
        w.open_files([other])  # something else in between
    qtbot.waitUntil(lambda: w.review.comparison is None and not w.review.models)
    w._fill_recent()
    acts = [act for act in w.recent_menu.actions() if act.text().startswith("&")]
    assert [act.text() for act in acts] == [
        "&1 other.json", f"&2 {g.name}  · results {a.name} vs {b.name}"]
    with qtbot.waitSignal(w.review.comparisonChanged, timeout=30000,
                          check_params_cb=lambda c: c is not None):
        acts[1].trigger()
    qtbot.waitUntil(lambda: w.review.review is not None
                    and w.review.review.comparison is not None, timeout=30000)
    assert {k: Path(r.file.path).resolve() for k, r in w.review.models.items()} == \
        {"a": a.resolve(), "b": b.resolve()}
    assert [w.recent_request(e) for e in w.recent()] == [
        ([g.resolve()], a.resolve(), b.resolve()), ([other.resolve()], None, None)]
    w.review.shutdown()
