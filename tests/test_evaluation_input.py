"""Bad results never raise a traceback: they are counted and listed, or one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import cocoview
from cocoview import CocoFormatError
from tests.conftest import REAL
from tests.eval_oracle import check_against_pycocotools

MMPOSE = REAL / "mmpose/coco/test_coco.json"
DETVIS = REAL / "detvisgui/data/coco/annotations/instances_val2017.json"
FAKE_KP = REAL / "cocoapi/results/person_keypoints_val2014_fakekeypoints100_results.json"


def _codes(ev: object) -> dict[str, str]:
    return {p.code: p.message for p in ev.problems}  # type: ignore[attr-defined]


def test_results_on_unknown_images_are_counted_and_the_rest_evaluated() -> None:
    # pycocotools' loadRes asserts on these; we leave them out and say how many
    gt = json.loads(MMPOSE.read_text())
    res = json.loads(FAKE_KP.read_text())
    known = {i["id"] for i in gt["images"]}
    kept = [r for r in res if r["image_id"] in known]
    assert 0 < len(kept) < len(res)
    ds = cocoview.open(MMPOSE, cache=False)
    ev = check_against_pycocotools(ds, gt, kept, "keypoints", res_arg=FAKE_KP)
    msg = _codes(ev)["result-unknown-image"]
    assert msg.startswith(f"{len(res) - len(kept)} of {len(res)} results left out: image id not in")
    det = ev.detections_table()
    assert (det["reason"] == "unknown-image").sum() == len(res) - len(kept)
    assert len(det["status"]) == len(res)


def test_unknown_categories_nan_scores_and_non_objects(tmp_path: Path) -> None:
    res = json.loads((REAL / "detvisgui/results/mask_rcnn_r50_fpn_1x/"
                      "val_results.bbox.json").read_text())
    good = res[3:]
    bad = [dict(res[0], category_id=999), dict(res[1], score=None), 17, *good]
    p = tmp_path / "res.json"
    p.write_text(json.dumps(bad).replace("null", "NaN", 1))  # a NaN literal, too
    ds = cocoview.open(DETVIS, cache=False)
    gt = json.loads(DETVIS.read_text())
    ev = check_against_pycocotools(ds, gt, good, "bbox", res_arg=p)
    codes = _codes(ev)
    assert {"result-unknown-category", "result-bad-score", "result-not-an-object"} <= set(codes)
    assert "(result index 0)" in codes["result-unknown-category"]
    det = ev.detections_table()
    assert det["status"][:3].tolist() == ["skipped"] * 3
    assert det["category_id"][0] == 999 and det["image_id"][0] == res[0]["image_id"]
    assert np.isnan(det["score"][1]) and det["image_id"][2] == -1


def test_segm_of_box_only_results_is_one_clear_error() -> None:
    ds = cocoview.open(DETVIS, cache=False)
    with pytest.raises(ValueError, match="segm evaluation needs results with a 'segmentation'"):
        ds.evaluate(REAL / "detvisgui/results/mask_rcnn_r50_fpn_1x/val_results.bbox.json",
                    iou_type="segm")
    with pytest.raises(ValueError, match="keypoints evaluation needs results with 'keypoints'"):
        ds.evaluate(REAL / "detvisgui/results/mask_rcnn_r50_fpn_1x/val_results.bbox.json",
                    iou_type="keypoints")


def test_keypoints_of_the_wrong_length_are_skipped() -> None:
    gt = json.loads(MMPOSE.read_text())
    a = gt["annotations"][0]
    res = [{"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"],
            "score": 0.9},
           {"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"][:-3],
            "score": 0.8}]
    ds = cocoview.open(MMPOSE, cache=False)
    ev = check_against_pycocotools(ds, gt, res[:1], "keypoints", res_arg=res)
    assert "result-bad-keypoints" in _codes(ev)


def test_rle_of_the_wrong_size_is_skipped() -> None:
    res = json.loads((REAL / "detvisgui/results/mask_rcnn_r50_fpn_1x/"
                      "val_results.segm.json").read_text())
    wrong = dict(res[0], segmentation=dict(res[0]["segmentation"], size=[5, 5]))
    ds = cocoview.open(DETVIS, cache=False)
    gt = json.loads(DETVIS.read_text())
    ev = check_against_pycocotools(ds, gt, res[1:], "segm", res_arg=[wrong, *res[1:]])
    assert "result-rle-size" in _codes(ev)


def test_not_a_results_file_and_no_results() -> None:
    ds = cocoview.open(DETVIS, cache=False)
    with pytest.raises(CocoFormatError, match="not a results file"):
        ds.evaluate(DETVIS)
    with pytest.raises(ValueError, match="no results to evaluate"):
        ds.evaluate()
    with pytest.raises(ValueError, match="iou_type must be one of"):
        ds.evaluate([], iou_type="mask")
    with pytest.raises(ValueError, match="area must be one of"):
        ds.evaluate([], area="huge")


def test_no_usable_result_at_all() -> None:
    ds = cocoview.open(DETVIS, cache=False)
    ev = ds.evaluate([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])
    assert ev.stats[0] == 0.0 and len(ev.dt) == 0
    assert ev.verdict_counts()["gt_missed"] == 61
    assert np.all(ev.detections_table()["status"] == "skipped")
