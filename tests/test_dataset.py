"""Several files over the same images, results, keypoints, captions, panoptic, overlays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import cocoview
from cocoview.model.errors import Severity
from tests.builders import doc, write
from tests.conftest import DEMO, REAL

INST = DEMO / "annotations" / "instances_demo.json"
KP = DEMO / "annotations" / "person_keypoints_demo.json"


def test_instances_plus_keypoints_is_one_dataset() -> None:
    ds = cocoview.open([INST, KP])
    inst = json.loads(INST.read_text())
    kp = json.loads(KP.read_text())
    assert len(ds.image_ids) == len(inst["images"])
    assert len(ds.anns) == len(inst["annotations"])  # persons not doubled
    person = ds.category(1)
    assert len(person.keypoint_names) == 17 and person.skeleton.shape == (19, 2)
    assert person.skeleton.min() == 0  # 1-based in the file, 0-based here
    kp_ids = {a["id"] for a in kp["annotations"]}
    for aid in kp_ids:
        rec = ds.annotation(aid)
        assert "keypoints" in rec  # taken from the keypoints file
    row = ds.ann_row(next(iter(kp_ids)))
    assert ds.keypoints_array(row).shape == (17, 3)


def test_results_attached_by_image_id() -> None:
    gt = REAL / "detvisgui" / "data" / "coco" / "annotations" / "instances_val2017.json"
    res = REAL / "detvisgui" / "results" / "mask_rcnn_r50_fpn_1x" / "val_results.segm.json"
    ds = cocoview.open(gt, results=res)
    assert ds.results is not None and len(ds.results) == 231
    dets = json.loads(res.read_text())
    iid = dets[0]["image_id"]
    ov = ds.overlays(iid)
    n_res = sum(1 for d in dets if d["image_id"] == iid)
    assert sum(it.is_result for it in ov.items) == n_res
    assert all(0 < it.score <= 1 for it in ov.items if it.is_result)
    # results record as in the file
    assert ds.results.record(0) in dets


def test_results_for_unknown_images_are_reported(tmp_path: Path) -> None:
    p = write(tmp_path / "gt.json", doc())
    r = write(tmp_path / "res.json", [
        {"image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4], "score": 0.9},
        {"image_id": 999, "category_id": 1, "bbox": [1, 1, 4, 4], "score": 0.5},
    ])
    ds = cocoview.open(p, results=r)
    assert len(ds.results) == 1
    assert any(p.code == "result-unknown-image" for p in ds.problems())


def test_results_file_alone_opens() -> None:
    res = REAL / "cocoapi" / "results" / "person_keypoints_val2014_fakekeypoints100_results.json"
    ds = cocoview.open(res)
    assert ds.images_implied and len(ds.image_ids) == 47
    ov = ds.overlays(int(ds.image_ids[0]))
    assert all(it.keypoints is not None for it in ov.items)


def test_captions(tmp_path: Path) -> None:
    d = doc(annotations=[{"id": 1, "image_id": 1, "caption": "a cat on a mat"},
                         {"id": 2, "image_id": 1, "caption": "a small cat"}])
    ds = cocoview.open([write(tmp_path / "inst.json", doc()),
                        write(tmp_path / "captions.json", d)])
    assert ds.captions(1) == ["a cat on a mat", "a small cat"]
    assert len(ds.anns) == 3


def test_panoptic() -> None:
    p = REAL / "panopticapi" / "sample_data" / "panoptic_examples.json"
    ds = cocoview.open(p)
    assert ds.kinds == ["panoptic"]
    src = json.loads(p.read_text())
    assert len(ds.anns) == sum(len(a["segments_info"]) for a in src["annotations"])
    iid = src["annotations"][0]["image_id"]
    recs = ds.annotations(iid)
    assert recs[0]["id"] == src["annotations"][0]["segments_info"][0]["id"]
    ov = ds.overlays(iid)
    assert all(it.seg_kind == "panoptic" for it in ov.items)
    stuff = {c["id"] for c in src["categories"] if not c["isthing"]}
    assert {it.is_stuff for it in ov.items} == {True, False}
    assert all(it.is_stuff == (it.category_id in stuff) for it in ov.items)
    assert all(it.label.endswith("(stuff)") for it in ov.items if it.is_stuff)
    assert sum(it.mask.sum() for it in ov.items if it.mask is not None) > 0


def test_panoptic_png_of_wrong_size_reported() -> None:
    p = REAL / "datumaro" / "coco_panoptic" / "annotations" / "panoptic_train.json"
    ds = cocoview.open(p, images=REAL / "datumaro" / "coco_panoptic" / "images" / "train")
    codes = {x.code for x in ds.problems()}
    assert "panoptic-png-size" in codes
    row = 0
    m = ds.mask_of_row(row)
    h, w = ds.image_size(int(ds.ann_image_row[row]))
    assert m.shape == (h, w)


def test_overlays_layers() -> None:
    ds = cocoview.open([INST, KP])
    ov = ds.overlays(142238)
    crowd = [it for it in ov.items if it.iscrowd]
    assert crowd and all(it.mask is not None and "crowd" in it.label for it in crowd)
    layer = ov.mask_layer(opacity=0.5)
    assert layer.shape == (ov.height, ov.width, 4) and layer[..., 3].max() > 0
    hidden = ov.mask_layer(categories=set())
    assert hidden[..., 3].max() == 0
    ov = ds.overlays(785)
    kp = [it for it in ov.items if it.keypoints is not None]
    assert kp and kp[0].skeleton is not None and len(kp[0].keypoint_names) == 17


def test_colors_stable_and_shared() -> None:
    a = cocoview.open(INST)
    b = cocoview.open(REAL / "mmdet_coco_dummy" / "annotations" / "instances_val2017.json")
    assert a.category(1).color == b.category(1).color
    assert a.category(1).color != a.category(2).color


def test_image_roots(tmp_path: Path) -> None:
    # COCO layout: annotations/instances_val2017.json next to val2017/
    (tmp_path / "annotations").mkdir()
    (tmp_path / "val2017").mkdir()
    (tmp_path / "val2017" / "a.jpg").write_bytes(b"x")
    p = write(tmp_path / "annotations" / "instances_val2017.json", doc())
    ds = cocoview.open(p)
    assert ds.image_root == tmp_path / "val2017"
    assert ds.image_path(1) == tmp_path / "val2017" / "a.jpg"
    ds = cocoview.open(p, images=tmp_path / "elsewhere")
    assert ds.image_root == tmp_path / "elsewhere"


def test_problem_locations_name_file_and_item(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][2]["bbox"] = [15, 0, 10, 4]  # image 2 is 20 wide
    ds = cocoview.open(write(tmp_path / "a.json", d))
    p = next(p for p in ds.problems() if p.code == "bbox-outside-image")
    assert p.location == "annotations[2] (id 4294967297)"
    assert p.file.endswith("a.json") and p.severity == Severity.WARNING
    assert "annotations[2] (id 4294967297)" in str(p)


def test_num_keypoints_disagreement(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][0]["keypoints"] = [1, 1, 2, 0, 0, 0, 3, 3, 1]
    d["annotations"][0]["num_keypoints"] = 3
    ds = cocoview.open(write(tmp_path / "a.json", d))
    p = next(p for p in ds.problems() if p.code == "num-keypoints")
    assert "2 keypoints are labelled" in p.message and p.annotation_id == 10


def test_annotations_for_every_image_are_complete() -> None:
    ds = cocoview.open(INST)
    src = json.loads(INST.read_text())
    got = [a for iid in ds.image_ids.tolist() for a in ds.annotations(iid)]
    assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, src["annotations"]))
    assert np.array_equal(np.sort(ds.anns.id), np.sort([a["id"] for a in src["annotations"]]))
