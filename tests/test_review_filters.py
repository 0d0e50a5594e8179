"""Review filters and sorts (issue 14): has FP / has missed of a category, sorted by errors,
at the operating point; the same through ``cocoview export``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cocoview
from cocoview.cli import main
from cocoview.model.filters import (
    ANY_CAT,
    CRITERIA,
    FilterError,
    FilterExtras,
    ImageFilter,
    filter_images,
    sort_by_errors,
)
from cocoview.model.review import Review
from tests.builders import result_row
from tests.test_review import review_case

CATS = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]


def _gt(i: int, img: int, cat: int, box: list[float]) -> dict[str, Any]:
    x, y, w, h = box
    return {"id": i, "image_id": img, "category_id": cat, "bbox": box, "area": w * h,
            "iscrowd": 0, "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]]}


def _det(img: int, cat: int, box: list[float], score: float) -> dict[str, Any]:
    return {"image_id": img, "category_id": cat, "bbox": box, "score": score}


def three_images(tmp_path: Path) -> tuple[Path, Path]:
    """Image 1: a cat found (0.9) + a dog FP (0.8). Image 2: a dog missed, a cat found only
    at 0.35. Image 3: a cat found (0.95); two cat FPs (0.6, 0.2)."""
    gt = {"images": [{"id": i, "file_name": f"{i}.jpg", "width": 200, "height": 200}
                     for i in (1, 2, 3)],
          "annotations": [_gt(1, 1, 1, [10, 10, 40, 40]), _gt(2, 2, 2, [10, 10, 40, 40]),
                          _gt(3, 2, 1, [100, 100, 40, 40]), _gt(4, 3, 1, [10, 10, 40, 40])],
          "categories": CATS}
    res = [_det(1, 1, [10, 10, 40, 40], 0.9), _det(1, 2, [120, 120, 30, 30], 0.8),
           _det(2, 1, [101, 100, 40, 40], 0.35), _det(3, 1, [11, 10, 40, 40], 0.95),
           _det(3, 1, [150, 150, 20, 20], 0.6), _det(3, 1, [100, 10, 20, 20], 0.2)]
    g, r = tmp_path / "gt.json", tmp_path / "res.json"
    g.write_text(json.dumps(gt))
    r.write_text(json.dumps(res))
    return g, r


@pytest.fixture
def case(tmp_path: Path) -> tuple[Any, Review]:
    g, r = three_images(tmp_path)
    ds = cocoview.open(g, results=r, cache=False)
    return ds, Review(ds, ds.evaluate())


def test_per_image_counts_equal_the_evaluation_tables(case: tuple[Any, Review]) -> None:
    ds, rv = case
    per = rv.per_image(0.0)
    table = rv.evaluation.per_image_table()
    rows = ds.image_rows(table["image_id"])
    assert per["fp"][rows].tolist() == table["fp"].tolist() == [1, 0, 2]
    assert per["missed"][rows].tolist() == table["gt_missed"].tolist() == [0, 1, 1 - 1]
    assert per["tp"][rows].tolist() == table["tp"].tolist()
    assert np.allclose(per["errors"], [0.8, 1.0, 0.8])
    # the detections table says the same per category
    dt = rv.evaluation.detections_table()
    fp_dog = set(dt["image_id"][(dt["status"] == "fp") & (dt["category_id"] == 2)].tolist())
    assert fp_dog == {1}


def test_has_fp_and_has_missed_by_category_follow_the_min_score(
        case: tuple[Any, Review]) -> None:
    ds, rv = case

    def ids(min_score: float, **kw: Any) -> list[int]:
        extras = FilterExtras(review=rv, min_score=min_score)
        return filter_images(ds, ImageFilter(**kw), extras).tolist()

    assert ids(0.0, has_fp=2) == [1]
    assert ids(0.0, has_fp=1) == [3]
    assert ids(0.0, has_fp=ANY_CAT) == [1, 3]
    assert ids(0.0, has_missed=2) == [2]
    assert ids(0.0, has_missed=1) == []
    # at 0.5 the 0.35 cat no longer finds its GT: image 2 misses a cat too
    assert ids(0.5, has_missed=1) == [2]
    assert ids(0.7, has_fp=1) == []  # the cat FPs score 0.6 and 0.2
    assert ids(0.0, has_fp=1, has_missed=2) == []
    assert ImageFilter(has_fp=2).describe(ds) == "has FP of dog"
    assert ImageFilter(has_missed=ANY_CAT).describe(ds) == "has missed of any category"
    assert ImageFilter(has_fp=2).slow() == ["review"]
    forms = {c.name: c.form for c in CRITERIA if c.form is not None}
    assert ("dog", 2) in forms["has_fp"].options(ds)
    assert ("any category", ANY_CAT) in forms["has_missed"].options(ds)


def test_counts_of_one_image(case: tuple[Any, Review]) -> None:
    ds, rv = case
    row3 = int(ds.image_rows([3])[0])
    assert rv.counts(0.0, row3) == {"tp": 1, "fp": 2, "ignored": 0, "gt_matched": 1,
                                    "gt_missed": 0, "gt_ignored": 0}
    row2 = int(ds.image_rows([2])[0])
    assert rv.counts(0.5, row2)["gt_missed"] == 2
    total = rv.counts(0.5)
    per = [rv.counts(0.5, int(r)) for r in ds.image_rows(ds.image_ids)]
    assert {k: sum(c[k] for c in per) for k in total} == total


def test_sort_by_errors(case: tuple[Any, Review]) -> None:
    ds, rv = case
    all_ids = ds.image_ids
    assert sort_by_errors(rv, ds, all_ids, "fp").tolist() == [3, 1, 2]
    assert sort_by_errors(rv, ds, all_ids, "missed").tolist() == [2, 1, 3]
    assert sort_by_errors(rv, ds, all_ids, "errors").tolist() == [2, 1, 3]  # 1.0, 0.8, 0.8
    assert sort_by_errors(rv, ds, all_ids, "errors", 0.5).tolist() == [2, 1, 3]  # 2.0, .8, .6
    assert sort_by_errors(rv, ds, all_ids, "fp", 0.7).tolist() == [1, 2, 3]
    with pytest.raises(FilterError):
        sort_by_errors(rv, ds, all_ids, "nonsense")


def test_the_filter_evaluates_when_not_given_and_refuses_without_results(
        tmp_path: Path) -> None:
    g, r = three_images(tmp_path)
    ds = cocoview.open(g, results=r, cache=False)
    assert filter_images(ds, ImageFilter(has_missed=2)).tolist() == [2]
    plain = cocoview.open(g, cache=False)
    with pytest.raises(FilterError, match="results"):
        filter_images(plain, ImageFilter(has_fp=ANY_CAT))


def test_candidates_list_the_match_and_the_other_overlaps(tmp_path: Path) -> None:
    ds, rv = review_case(tmp_path)
    tp = rv.candidates(result_row(ds, 0))
    assert tp[0].ann_id == 10 and tp[0].is_match and abs(tp[0].iou - 1.0) < 1e-12
    assert all(not c.is_match for c in tp[1:])
    crowd = rv.candidates(result_row(ds, 2))  # the detection given to the crowd
    assert [c.ann_id for c in crowd] == [13] and crowd[0].crowd and crowd[0].is_match
    assert abs(crowd[0].iou - 1.0) < 1e-12  # a crowd's IoU: intersection / detection area
    assert rv.candidates(result_row(ds, 1)) == []  # the FP overlaps nothing
    # IoU equal to pycocotools' on the 0.4 detection and GT 11
    from pycocotools import mask as pmask

    c = rv.candidates(result_row(ds, 3))[0]
    ref = pmask.iou([[61, 10, 30, 30]], [[60, 10, 30, 30]], [0])[0, 0]
    assert c.ann_id == 11 and abs(c.iou - ref) < 1e-12
    assert rv.verdict_at(result_row(ds, 3), 0.5) == "below min score"


def test_export_has_fp_and_sort_errors(tmp_path: Path, capsys: Any) -> None:
    g, r = three_images(tmp_path)
    out = tmp_path / "ids.txt"
    assert main(["export", str(g), "--results", str(r), "--has-fp", "any", "--sort", "fp",
                 "--out", str(out), "--no-cache"]) == 0
    assert out.read_text().split() == ["3", "1"]
    out2 = tmp_path / "ids2.txt"
    assert main(["export", str(g), "--results", str(r), "--has-missed", "cat",
                 "--min-score", "0.5", "--sort", "errors", "--out", str(out2),
                 "--no-cache"]) == 0
    assert out2.read_text().split() == ["2"]
    out3 = tmp_path / "ids3.txt"
    assert main(["export", str(g), "--results", str(r), "--sort", "errors",
                 "--out", str(out3), "--no-cache"]) == 0
    assert out3.read_text().split() == ["2", "1", "3"]
    # without results: a clear message, no traceback
    assert main(["export", str(g), "--has-fp", "cat", "--out", str(tmp_path / "x.txt"),
                 "--no-cache"]) != 0
    assert "needs --results" in capsys.readouterr().err


def test_a_duplicate_says_why_it_is_a_false_positive(tmp_path: Path) -> None:
    from cocoview.model.review import detection_props, detection_tooltip

    g, r = three_images(tmp_path)
    res = json.loads(r.read_text())
    res.append(_det(1, 1, [10, 11, 40, 40], 0.5))  # a second cat on image 1's cat
    r.write_text(json.dumps(res))
    ds = cocoview.open(g, results=r, cache=False)
    rv = Review(ds, ds.evaluate())
    row = int(np.flatnonzero(np.asarray(ds.results.anns.ordinal) == len(res) - 1)[0])
    assert rv.detection(row) == "fp"
    tip = detection_tooltip(rv, row, "cat", 0.5)
    assert "best overlap GT #1, IoU 0.95" in tip and "duplicate" in tip
    props = dict((k, v) for k, v, _t in detection_props(ds, rv, row) if k != "candidate")
    assert props["verdict"] == "false positive" and props["match"] == "none"
    cands = [v for k, v, _t in detection_props(ds, rv, row) if k == "candidate"]
    assert cands == [f"GT #1 cat, IoU {rv.candidates(row)[0].iou:.3f} — already matched by "
                     "a higher score (duplicate)"]
