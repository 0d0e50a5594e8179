"""The TIDE type of a false positive / missed GT in the hover text (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

import cocoview
from cocoview.model.review import (
    TIDE_TEXT,
    Review,
    detection_props,
    detection_tooltip,
    ground_truth_props,
    ground_truth_tooltip,
    tide_line,
)
from tests.builders import result_row
from tests.test_review_filters import _det, _gt


def tide_case(tmp_path: Path) -> tuple[Any, Review]:
    """One image; GT cat 1, dog 2, cat 3 (nothing near it). Detections (file order): TP on
    1, Dupe of 1, Cls (a cat on the dog), Loc (a small dog in the dog), Both (a small cat
    there), Bkg (a cat on nothing)."""
    gt = {"images": [{"id": 1, "file_name": "1.jpg", "width": 300, "height": 300}],
          "annotations": [_gt(1, 1, 1, [10, 10, 40, 40]), _gt(2, 1, 2, [100, 100, 40, 40]),
                          _gt(3, 1, 1, [10, 200, 40, 40])],
          "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}
    res = [_det(1, 1, [10, 10, 40, 40], 0.9), _det(1, 1, [11, 10, 40, 40], 0.8),
           _det(1, 1, [100, 100, 40, 40], 0.7), _det(1, 2, [100, 100, 15, 15], 0.6),
           _det(1, 1, [100, 100, 15, 15], 0.5), _det(1, 1, [200, 10, 20, 20], 0.4)]
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "res.json").write_text(json.dumps(res))
    ds = cocoview.open(tmp_path / "gt.json", results=tmp_path / "res.json", cache=False)
    return ds, Review(ds, ds.evaluate())


def test_every_tide_type_in_the_tooltip(tmp_path: Path) -> None:
    ds, rv = tide_case(tmp_path)
    rows = [result_row(ds, k) for k in range(6)]
    got = [tide_line(rv, r).split(" — ")[0] for r in rows]
    assert got == ["", "TIDE Dupe", "TIDE Cls", "TIDE Loc", "TIDE Both", "TIDE Bkg"]
    # the same as the engine's per-detection table (``--detections``' error column)
    table = rv.evaluation.detections_table()
    assert [f"TIDE {e}" if e else "" for e in table["error"].tolist()] == got
    text = detection_tooltip(rv, rows[3], "dog", 0.6)
    assert "false positive" in text and TIDE_TEXT["Loc"].format(o="IoU") in text
    assert "TIDE" not in detection_tooltip(rv, rows[0], "cat", 0.9)
    by_id = {int(ds.anns.id[r]): r for r in range(len(ds.anns))}
    assert ground_truth_tooltip(rv, by_id[3]).splitlines() == [
        "ground truth: missed", "TIDE Miss — " + TIDE_TEXT["Miss"]]
    # the dog is missed, but a Loc / Cls detection targets it: not a TIDE miss
    assert ground_truth_tooltip(rv, by_id[2]) == "ground truth: missed"
    assert ground_truth_tooltip(rv, by_id[1]) == "ground truth: matched"
    assert np.asarray(rv.evaluation.tide.miss).sum() == 1
    # the inspector's rows say it too
    props = dict((k, v) for k, v, _tip in detection_props(ds, rv, rows[4]))
    assert props["TIDE error"].startswith("Both — localisation and classification")
    assert dict((k, v) for k, v, _t in ground_truth_props(rv, by_id[3]))["TIDE error"] \
        .startswith("Miss — ")


def test_tide_says_its_own_threshold(tmp_path: Path) -> None:
    from cocoview.model.review import at_setting

    ds, rv = tide_case(tmp_path)
    rv2 = Review(ds, at_setting(rv.evaluation, 0.75, "all"))
    line = tide_line(rv2, result_row(ds, 5))
    assert line.startswith("TIDE Bkg") and line.endswith("(TIDE is at IoU 0.5, area all)")
