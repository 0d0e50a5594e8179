"""``cocoview eval``: pycocotools' summary word for word, JSON, per-row outputs, bad input."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from cocoview.cli import main
from tests.conftest import REAL

GT = REAL / "detvisgui/data/coco/annotations/instances_val2017.json"
RES = str(REAL / "detvisgui/results/mask_rcnn_r50_fpn_1x/val_results.{}.json")


def _pycocotools(iou_type: str) -> tuple[list[str], np.ndarray]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        g = COCO(str(GT))
        ev = COCOeval(g, g.loadRes(str(RES.format(iou_type))), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [ln for ln in out.getvalue().splitlines() if ln.startswith(" Average")], ev.stats


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_summary_is_pycocotools_word_for_word(capsys: pytest.CaptureFixture[str],
                                              iou_type: str) -> None:
    lines, _ = _pycocotools(iou_type)
    assert main(["eval", str(GT), "--results", str(RES.format(iou_type)), "--iou-type",
                 iou_type, "--no-cache"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == lines
    assert out.err == ""


def test_json_and_per_row_outputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, stats = _pycocotools("bbox")
    det, gtf = tmp_path / "d.csv", tmp_path / "g.jsonl"
    assert main(["eval", str(GT), "--results", str(RES.format("bbox")), "--json", "--no-cache",
                 "--detections", str(det), "--ground-truth", str(gtf)]) == 0
    doc = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(doc["stats"], stats, rtol=0, atol=1e-12)
    cat = doc["per_category"][0]
    assert set(cat) >= {"category_id", "name", "ap", "ap50", "ap75", "ar100", "gt",
                        "detections"}
    assert set(doc["tide"]["counts"]) == {"Loc", "Cls", "Dupe", "Bkg", "Both", "Miss"}
    rows = list(csv.DictReader(det.open()))
    n_res = len(json.loads(Path(RES.format("bbox")).read_text()))
    assert len(rows) == n_res
    assert set(rows[0]) >= {"result_index", "image_id", "category_id", "score", "status",
                            "reason", "gt_id", "iou", "error"}
    assert [int(r["result_index"]) for r in rows] == list(range(n_res))
    assert {r["status"] for r in rows} == {"tp", "fp"}
    gts = [json.loads(ln) for ln in gtf.read_text().splitlines()]
    assert len(gts) == len(json.loads(GT.read_text())["annotations"])
    assert set(gts[0]) >= {"id", "image_id", "category_id", "status", "result_index"}
    assert sum(g["status"] == "matched" for g in gts) == sum(r["status"] == "tp" for r in rows)


def test_per_category_table_and_two_models(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    assert main(["eval", str(GT), "--results", str(RES.format("bbox")), "--results",
                 str(RES.format("segm")), "--per-category", "--no-cache"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("== ") and out[0].endswith("(bbox) ==")
    assert any(ln.split()[:2] == ["1", "person"] for ln in out)
    assert sum(ln.startswith("== ") for ln in out) == 2
    assert main(["eval", str(GT), "--results", str(RES.format("bbox")), "--results",
                 str(RES.format("segm")), "--json", "--no-cache"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [e["results_file"] for e in doc["evaluations"]] == [RES.format("bbox"),
                                                              RES.format("segm")]
    diff = doc["differences"]
    # the segm file's boxes are the bbox file's: the same verdicts everywhere
    assert diff["gt_matched_only_by_a"] == diff["gt_matched_only_by_b"] == []
    assert diff["images_with_other_counts"] == []
    res = json.loads(Path(RES.format("bbox")).read_text())
    fewer = tmp_path / "fewer.json"
    fewer.write_text(json.dumps(res[1:]))  # the first is a true positive on image 252219
    assert main(["eval", str(GT), "--results", str(RES.format("bbox")), "--results",
                 str(fewer), "--json", "--no-cache"]) == 0
    diff = json.loads(capsys.readouterr().out)["differences"]
    assert len(diff["gt_matched_only_by_a"]) >= 1 and diff["gt_matched_only_by_b"] == []
    assert [d["image_id"] for d in diff["images_with_other_counts"]] == [252219]


def test_bad_input_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["eval", str(GT), "--results", str(RES.format("bbox")), "--iou-type", "segm",
                 "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "boxes only" in err and "Traceback" not in err
    assert main(["eval", str(GT), "--no-cache"]) == 2
    assert "needs --results" in capsys.readouterr().err
    assert main(["eval", str(GT), "--results", str(RES.format("bbox")), "--detections",
                 str(tmp_path / "x.txt")]) == 2
    assert "write .csv or .jsonl" in capsys.readouterr().err
    assert main(["eval", str(GT), "--results", str(GT), "--no-cache"]) == 2
    assert "not a results file" in capsys.readouterr().err
    res = json.loads(Path(RES.format("bbox")).read_text())
    p = tmp_path / "r.json"
    p.write_text(json.dumps([dict(res[0], image_id=123456789), *res[1:]]))
    assert main(["eval", str(GT), "--results", str(p), "--no-cache"]) == 0
    captured = capsys.readouterr()
    assert "1 of 231 results left out: image id not in the ground truth" in captured.err
    assert len(captured.out.splitlines()) == 12


def test_names_are_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    gt = json.loads(GT.read_text())
    gt["categories"][0]["name"] = "per\x1b[31mson"
    p = tmp_path / "gt.json"
    p.write_text(json.dumps(gt))
    assert main(["eval", str(p), "--results", str(RES.format("bbox")), "--per-category",
                 "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "per\\x1b[31mson" in out
