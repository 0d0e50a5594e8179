"""model/review.py: the evaluation dock's numbers and its "which images" (issue 14),
held to the evaluation's per-detection and per-ground-truth tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cocoview
from cocoview.model.evaluation.engine import AREA_RANGES
from cocoview.model.review import (
    Review,
    at_setting,
    iou_types,
    operating_point,
    score_near,
)
from tests.test_evaluation import _random_case


def random_review(tmp_path: Path, seed: int = 3) -> tuple[Any, Review]:
    """Generated GT (crowds, two classes, background boxes) and jittered detections."""
    gt, res = _random_case(seed, n_img=20)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "res.json").write_text(json.dumps(res))
    ds = cocoview.open(tmp_path / "gt.json", results=tmp_path / "res.json", cache=False)
    return ds, Review(ds, ds.evaluate()).prepare()


def _tables(rv: Review) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    ev = rv.evaluation
    return ev.detections_table(), ev.ground_truth_table()


@pytest.mark.parametrize("min_score", [0.0, 0.35, 0.75])
def test_category_table_counts_follow_the_min_score(tmp_path: Path, min_score: float) -> None:
    _ds, rv = random_review(tmp_path)
    det, gtt = _tables(rv)
    tab = rv.category_table(min_score)
    assert [r["ap"] for r in rv.evaluation.per_category] == tab["ap"].tolist()
    kept = {int(i) for i in det["result_index"][(det["score"] >= min_score)]}
    for k, cid in enumerate(tab["category_id"].tolist()):
        fp = (det["status"] == "fp") & (det["category_id"] == cid) & (det["score"] >= min_score)
        assert tab["fp"][k] == fp.sum()
        g = gtt["category_id"] == cid
        miss = g & ((gtt["status"] == "missed") | (
            (gtt["status"] == "matched") & ~np.isin(gtt["result_index"], list(kept))))
        assert tab["missed"][k] == miss.sum()
        want = set(det["image_id"][fp].tolist()) | set(gtt["image_id"][miss].tolist())
        assert set(rv.images_with_category_errors(cid, min_score).tolist()) == want
    assert tab["missed"].sum() == rv.counts(min_score)["gt_missed"]
    assert tab["fp"].sum() == rv.counts(min_score)["fp"]


def test_a_confusion_cell_gives_exactly_the_images_of_its_detections(tmp_path: Path) -> None:
    _ds, rv = random_review(tmp_path)
    ev = rv.evaluation
    det, gtt = _tables(rv)
    c = ev.confusion
    k = len(c.category_ids)
    seen = 0
    for row in range(k + 1):
        for col in range(k + 1):
            dets = ev.dt.result_index[c.detections(row, col)]
            want = set(det["image_id"][dets].tolist())
            if col == k:  # the background column: missed ground truth
                g = (c.gt_cell[:, 0] == row) & (c.gt_cell[:, 1] == col)
                want |= set(gtt["image_id"][g].tolist())
            got = rv.images_of_cell(row, col)
            assert set(got.tolist()) == want
            assert (len(want) > 0) == (c.matrix[row, col] > 0)
            seen += len(want) > 0
    assert seen >= 4
    keep, sub = rv.confusion_view()
    assert keep[-1] == k and sub.sum() == c.matrix.sum()
    assert np.array_equal(sub, c.matrix[np.ix_(keep, keep)])


def test_a_tide_type_gives_the_images_with_that_error(tmp_path: Path) -> None:
    _ds, rv = random_review(tmp_path)
    det, gtt = _tables(rv)
    some = 0
    for kind in ("Loc", "Cls", "Dupe", "Bkg", "Both"):
        want = set(det["image_id"][det["error"] == kind].tolist())
        assert set(rv.images_with_error(kind).tolist()) == want
        some += bool(want)
    assert some >= 2
    assert set(rv.images_with_error("Miss").tolist()) == set(
        gtt["image_id"][gtt["error"] == "Miss"].tolist())
    assert set(rv.images_with_error("FP").tolist()) == set(
        det["image_id"][det["error"] != ""].tolist()) - {-1}


def test_operating_point_and_a_click_on_the_curve(tmp_path: Path) -> None:
    _ds, rv = random_review(tmp_path)
    det, _ = _tables(rv)
    cur = rv.curve(None)
    for s in (0.0, 0.3, 0.65, 0.95):
        p, r, f1, i = operating_point(cur, s)
        on = det["score"] >= s
        tp = int((on & (det["status"] == "tp")).sum())
        fp = int((on & (det["status"] == "fp")).sum())
        assert i == int((cur.score >= s).sum()) - 1
        if tp + fp:
            assert p == pytest.approx(tp / (tp + fp))
        assert r == pytest.approx(tp / cur.n_gt)
        assert f1 == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)
    p, r, _f1, i = operating_point(cur, 0.5)
    assert score_near(cur, r, p) == pytest.approx(float(cur.score[i]))
    assert np.isnan(operating_point(cur, 2.0)[0])
    assert rv.curve(1) is rv.curve(1)  # cached


@pytest.mark.parametrize(("thr", "area"), [(0.75, "all"), (0.5, "medium"), (0.3, "small")])
def test_another_setting_equals_a_fresh_evaluation(tmp_path: Path, thr: float,
                                                   area: str) -> None:
    ds, rv = random_review(tmp_path)
    ev2 = at_setting(rv.evaluation, thr, area)
    fresh = ds.evaluate(iou_thr=thr, area=area)
    assert (ev2.iou_thr, ev2.area) == (thr, area)
    assert ev2.verdicts.area == AREA_RANGES[area]
    a, b = ev2.detections_table(), fresh.detections_table()
    for key in ("status", "reason", "gt_id"):
        assert np.array_equal(a[key], b[key]), key
    assert np.array_equal(ev2.stats, fresh.stats)
    assert rv.evaluation.iou_thr == 0.5  # the original is left as it was
    assert at_setting(rv.evaluation, 0.5, "all") is rv.evaluation
    with pytest.raises(ValueError, match="area"):
        at_setting(rv.evaluation, 0.5, "huge")


def test_iou_types_of_the_results(tmp_path: Path) -> None:
    ds, _rv = random_review(tmp_path)
    assert iou_types(ds) == ("bbox",)
    assert iou_types(cocoview.open(tmp_path / "gt.json", cache=False)) == ()
