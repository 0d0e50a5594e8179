"""model/review.py: the verdict of each drawn item at the operating point (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as pmask

from cocoview.model.review import STYLES, Review
from tests.builders import result_row, reviewed

CATS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def _ann(i: int, box: list[float], crowd: int = 0) -> dict[str, Any]:
    x, y, w, h = box
    seg: Any = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    if crowd:
        m = np.zeros((200, 200), np.uint8, order="F")
        m[int(y):int(y + h), int(x):int(x + w)] = 1
        seg = {"size": [200, 200], "counts": pmask.encode(m)["counts"].decode()}
    return {"id": i, "image_id": 1, "category_id": 1, "bbox": box, "area": w * h,
            "iscrowd": crowd, "segmentation": seg}


def _det(box: list[float], score: float, cat: int = 1) -> dict[str, Any]:
    return {"image_id": 1, "category_id": cat, "bbox": box, "score": score}


def review_case(tmp_path: Path) -> tuple[Any, Review]:
    """GT: 10 (found by a 0.9 detection), 11 (found only by a 0.4 one), 12 (missed),
    13 a crowd. Detections (file order): TP 0.9, FP 0.8, a crowd match 0.7, TP 0.4."""
    gt = {"images": [{"id": 1, "file_name": "1.jpg", "width": 200, "height": 200}],
          "annotations": [_ann(10, [10, 10, 30, 30]), _ann(11, [60, 10, 30, 30]),
                          _ann(12, [10, 120, 20, 20]), _ann(13, [100, 100, 90, 90], crowd=1)],
          "categories": CATS}
    res = [_det([10, 10, 30, 30], 0.9), _det([150, 10, 20, 20], 0.8),
           _det([110, 110, 40, 40], 0.7), _det([61, 10, 30, 30], 0.4)]
    return reviewed(tmp_path, gt, res)


def test_each_detection_and_gt_has_its_verdict(tmp_path: Path) -> None:
    ds, rv = review_case(tmp_path)
    got = [rv.detection(result_row(ds, k)) for k in range(4)]
    assert got == ["tp", "fp", "ignored", "tp"]
    gts = {int(ds.anns.id[r]): rv.ground_truth(r) for r in range(len(ds.anns))}
    assert gts == {10: "matched", 11: "matched", 12: "missed", 13: "ignored"}
    assert rv.match_of(result_row(ds, 0))[1] == 10
    assert abs(rv.match_of(result_row(ds, 0))[2] - 1.0) < 1e-9
    assert rv.match_of(result_row(ds, 1))[0] == -1
    # styles differ by more than colour: line style or badge
    s = {n: (STYLES[n].pen, STYLES[n].badge) for n in ("tp", "fp", "ignored", "missed")}
    assert len(set(s.values())) == 4
    assert rv.style(result_row=result_row(ds, 1)) is STYLES["fp"]
    assert rv.is_error(result_row=result_row(ds, 1))
    assert not rv.is_error(result_row=result_row(ds, 0))


def test_the_min_score_moves_the_verdicts_and_counts(tmp_path: Path) -> None:
    ds, rv = review_case(tmp_path)
    row11 = int(np.flatnonzero(np.asarray(ds.anns.id) == 11)[0])
    assert rv.counts(0.0) == {"tp": 2, "fp": 1, "ignored": 1, "gt_matched": 2,
                              "gt_missed": 1, "gt_ignored": 1}
    assert rv.counts(0.0)["tp"] == ds.evaluate().verdict_counts()["tp"]
    assert rv.ground_truth(row11, 0.5) == "missed"
    assert rv.is_error(ann_row=row11, min_score=0.5)
    assert rv.counts(0.5) == {"tp": 1, "fp": 1, "ignored": 1, "gt_matched": 1,
                              "gt_missed": 2, "gt_ignored": 1}
    assert rv.counts(0.85) == {"tp": 1, "fp": 0, "ignored": 0, "gt_matched": 1,
                               "gt_missed": 2, "gt_ignored": 1}


def test_the_min_score_equals_evaluating_only_the_results_above_it(tmp_path: Path) -> None:
    ds, rv = review_case(tmp_path)
    res = json.loads((tmp_path / "res.json").read_text())
    for t in (0.0, 0.5, 0.75, 0.85):
        ev = ds.evaluate([r for r in res if r["score"] >= t])
        assert rv.counts(t) == ev.verdict_counts(), t


def test_drawn_points_keep_the_curve_s_shape() -> None:
    """A PR curve with more points than are drawn keeps its ends, its extremes per
    stretch and its order (recall never decreases)."""
    from cocoview.model.review import drawn_points

    rng = np.random.default_rng(5)
    x = np.sort(rng.random(50_011))
    y = rng.random(50_011)
    dx, dy = drawn_points(x, y, most=400)
    assert 300 < len(dx) <= 400
    assert (np.diff(dx) >= 0).all() and dx[0] == x[0] and dx[-1] == x[-1]
    assert dy.max() == y.max() and dy.min() == y.min()
    pos = np.searchsorted(x, dx)  # every drawn point is one of the curve's
    assert np.array_equal(x[pos], dx) and set(dy.tolist()) <= set(y.tolist())
    small = drawn_points(x[:300], y[:300], most=400)  # few points: all of them
    assert np.array_equal(small[0], x[:300]) and np.array_equal(small[1], y[:300])
