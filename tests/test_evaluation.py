"""The evaluation equals pycocotools' COCOeval: stats to 1e-12, every detection's verdict.

Real sets with results (the repository's copies, plus ../shared's when present),
the regression numbers of the shared DetVisGUI set, and generated cases for each
rule: crowds absorbing several detections, a regular GT before a crowd, score
ties, areas of exactly 1024 and 9216, empty images, categories without GT and
the maxDets cut.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as pmask

import cocoview
from tests.conftest import REAL, SHARED_REAL
from tests.eval_oracle import check_against_pycocotools, check_tide_against_hotcoco, pyco_eval

DETVIS = "detvisgui/data/coco/annotations/instances_val2017.json"
DETVIS_RES = "detvisgui/results/mask_rcnn_r50_fpn_1x/val_results.{}.json"


def _open(tmp_path: Path, gt: dict[str, Any], name: str = "gt.json") -> Any:
    p = tmp_path / name
    p.write_text(json.dumps(gt))
    return cocoview.open(p, cache=False)


def _result_sets() -> list[tuple[Path, str, str, str]]:
    """(root, ground truth, results, iou type) of every real set with results."""
    out = []
    for root in (REAL, SHARED_REAL):
        index = root / "index.json"
        if not index.is_file():
            continue
        for s in json.loads(index.read_text())["sets"]:
            if s["kind"] != "results" or not s.get("ground_truth"):
                continue
            kinds = ["segm"] if "segm" in s["annotation"] else ["bbox"]
            for k in kinds:
                out.append((root, s["ground_truth"], s["annotation"], k))
    return out


@pytest.mark.parametrize("case", _result_sets(),
                         ids=lambda c: f"{c[0].parent.name}:{Path(c[2]).name}:{c[3]}")
@pytest.mark.parametrize("setting", [(0.5, "all", None), (0.75, "small", 10),
                                     (0.5, "large", 1)], ids=str)
def test_real_sets_equal_pycocotools(case: tuple[Path, str, str, str],
                                     setting: tuple[float, str, int | None]) -> None:
    root, gt_name, res_name, iou_type = case
    gt = json.loads((root / gt_name).read_text())
    results = json.loads((root / res_name).read_text())
    ds = cocoview.open(root / gt_name, cache=False)
    ours = check_against_pycocotools(ds, gt, results, iou_type, *setting,
                                     res_arg=root / res_name)
    assert not ours.problems


@pytest.mark.parametrize("case", _result_sets(),
                         ids=lambda c: f"{c[0].parent.name}:{Path(c[2]).name}:{c[3]}")
def test_real_sets_tide_equals_hotcoco(case: tuple[Path, str, str, str]) -> None:
    root, gt_name, res_name, iou_type = case
    ds = cocoview.open(root / gt_name, cache=False)
    check_tide_against_hotcoco(ds.evaluate(root / res_name, iou_type=iou_type))


def test_detvisgui_regression_numbers() -> None:
    ds = cocoview.open(REAL / DETVIS, cache=False)
    bbox = ds.evaluate(REAL / DETVIS_RES.format("bbox"))
    want = [0.625914, 0.816729, 0.698412, 0.461448, 0.690768, 0.796931, 0.442643, 0.670417,
            0.694167, 0.465625, 0.774242, 0.828704]
    np.testing.assert_allclose(bbox.stats, want, atol=5e-7)
    segm = ds.evaluate(REAL / DETVIS_RES.format("segm"), iou_type="segm")
    np.testing.assert_allclose(segm.stats[[0, 3, 4, 5]], [0.568476, 0.391368, 0.607524,
                                                          0.788420], atol=5e-7)
    assert bbox.summary_lines()[0] == (" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all"
                                       " | maxDets=100 ] = 0.626")
    assert len(bbox.summary_lines()) == 12


def test_attached_results_and_a_list_give_the_same_numbers() -> None:
    res = REAL / DETVIS_RES.format("bbox")
    ds = cocoview.open(REAL / DETVIS, results=res, cache=False)
    a = ds.evaluate()
    b = ds.evaluate(json.loads(res.read_text()))
    assert np.array_equal(a.stats, b.stats)
    assert a.detections_table()["status"].tolist() == b.detections_table()["status"].tolist()


# ----- generated cases, one per rule -------------------------------------

CATS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "no-gt"}]


def _img(i: int, w: int = 200, h: int = 200) -> dict[str, Any]:
    return {"id": i, "file_name": f"{i}.jpg", "width": w, "height": h}


def _ann(i: int, img: int, cat: int, box: list[float], crowd: int = 0,
         area: float | None = None) -> dict[str, Any]:
    x, y, w, h = box
    seg: Any = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    if crowd:
        m = np.zeros((200, 200), np.uint8, order="F")
        m[int(y):int(y + h), int(x):int(x + w)] = 1
        rle = pmask.encode(m)
        seg = {"size": [200, 200], "counts": rle["counts"].decode()}
    return {"id": i, "image_id": img, "category_id": cat, "bbox": box,
            "area": w * h if area is None else area, "iscrowd": crowd, "segmentation": seg}


def _det(img: int, cat: int, box: list[float], score: float) -> dict[str, Any]:
    return {"image_id": img, "category_id": cat, "bbox": box, "score": score}


def _with_polygons(res: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results with their box as a polygon (what loadRes adds to box-only results)."""
    out = []
    for r in res:
        x, y, w, h = r["bbox"]
        out.append({**r, "segmentation": [[x, y, x, y + h, x + w, y + h, x + w, y]]})
    return out


def _gt(images: list[dict[str, Any]], anns: list[dict[str, Any]]) -> dict[str, Any]:
    return {"images": images, "annotations": anns, "categories": CATS}


SETTINGS = [(0.5, "all", None), (0.75, "all", None), (0.5, "small", None),
            (0.5, "medium", None), (0.5, "all", 1), (0.95, "large", 10)]


@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_crowd_absorbs_several_detections_and_regular_gt_goes_first(
        tmp_path: Path, setting: tuple[float, str, int | None]) -> None:
    gt = _gt([_img(1)], [_ann(1, 1, 1, [0, 0, 100, 100], crowd=1),
                         _ann(2, 1, 1, [10, 10, 30, 30]),
                         _ann(3, 1, 1, [120, 120, 50, 50])])
    res = [_det(1, 1, [12, 12, 28, 28], 0.3),  # inside the crowd and on GT 2: takes GT 2
           _det(1, 1, [40, 40, 20, 20], 0.9), _det(1, 1, [50, 50, 30, 30], 0.8),
           _det(1, 1, [60, 5, 20, 20], 0.7),  # three absorbed by the crowd
           _det(1, 1, [121, 121, 50, 50], 0.6)]
    ds = _open(tmp_path, gt)
    check_against_pycocotools(ds, gt, _with_polygons(res), "segm", *setting)
    ev = check_against_pycocotools(ds, gt, res, "bbox", *setting)
    if setting == (0.5, "all", None):
        det = ev.detections_table()
        assert det["status"].tolist() == ["tp", "ignored", "ignored", "ignored", "tp"]
        assert det["reason"].tolist()[1:4] == ["crowd"] * 3
        assert det["gt_id"].tolist() == [2, 1, 1, 1, 3]


@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_score_ties_keep_file_order(tmp_path: Path,
                                    setting: tuple[float, str, int | None]) -> None:
    gt = _gt([_img(1)], [_ann(1, 1, 1, [10, 10, 50, 50])])
    res = [_det(1, 1, [10, 10, 50, 40], 0.9), _det(1, 1, [10, 10, 50, 50], 0.9)]
    ds = _open(tmp_path, gt)
    ev = check_against_pycocotools(ds, gt, res, "bbox", *setting)
    ref = pyco_eval(gt, res, "bbox")
    assert ref.stats[1] == pytest.approx(1.0) and ev.stats[2] == ref.stats[2]
    # the other order: the exact box comes first and wins at every threshold
    check_against_pycocotools(ds, gt, res[::-1], "bbox", *setting)


@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_area_ranges_are_closed_at_1024_and_9216(tmp_path: Path,
                                                 setting: tuple[float, str, int | None]) -> None:
    gt = _gt([_img(1), _img(2)], [_ann(1, 1, 1, [0, 0, 32, 32]),
                                  _ann(2, 1, 1, [100, 100, 96, 96]),
                                  _ann(3, 2, 2, [0, 0, 40, 40], area=1024.0),
                                  _ann(4, 2, 2, [50, 50, 80, 80], area=9216.0)])
    res = [_det(1, 1, [0, 0, 32, 32], 0.9), _det(1, 1, [100, 100, 96, 96], 0.8),
           _det(2, 2, [0, 0, 40, 40], 0.7), _det(2, 2, [50, 50, 80, 80], 0.6),
           _det(2, 2, [150, 150, 10, 10], 0.5), _det(1, 1, [150, 0, 40, 40], 0.4)]
    ds = _open(tmp_path, gt)
    ev = check_against_pycocotools(ds, gt, res, "bbox", *setting)
    if setting[1] in ("small", "medium"):  # 1024 is in both small and medium
        g = ev.ground_truth_table()
        assert dict(zip(g["id"].tolist(), g["status"].tolist(), strict=True))[3] == "matched"


@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_empty_images_and_categories_without_gt(tmp_path: Path,
                                                setting: tuple[float, str, int | None]) -> None:
    gt = _gt([_img(1), _img(2), _img(3)], [_ann(1, 1, 1, [10, 10, 40, 40])])
    res = [_det(1, 1, [10, 10, 40, 40], 0.9), _det(2, 3, [0, 0, 50, 50], 0.95),
           _det(2, 1, [0, 0, 50, 50], 0.5)]  # image 2 has no GT; category 3 has none
    ds = _open(tmp_path, gt)
    ev = check_against_pycocotools(ds, gt, res, "bbox", *setting)
    per = {c["category_id"]: c for c in ev.per_category}
    assert per[3]["ap"] == -1 and per[3]["detections"] == 1 and per[3]["gt"] == 0
    assert per[2]["ap"] == -1 and per[2]["detections"] == 0


@pytest.mark.parametrize("setting", SETTINGS, ids=str)
def test_maxdets_cut_per_image_and_category(tmp_path: Path,
                                            setting: tuple[float, str, int | None]) -> None:
    gt = _gt([_img(1)], [_ann(k, 1, 1 + k % 2, [k, k, 30, 30]) for k in range(1, 30)])
    rng = np.random.default_rng(3)
    res = [_det(1, 1 + k % 2, [k + float(rng.uniform(-3, 3)), k, 30, 30],
                round(float(rng.uniform()), 2)) for k in range(1, 130)]
    ds = _open(tmp_path, gt)
    ev = check_against_pycocotools(ds, gt, res, "bbox", *setting)
    if setting[2] is None:
        assert (ev.detections_table()["reason"] == "maxdets").sum() == 0  # 65 per category
    ev1 = ds.evaluate(res, max_dets=1)
    assert (ev1.detections_table()["reason"] == "maxdets").sum() == 127


def _random_case(seed: int, n_img: int = 12) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    images = [_img(i + 1) for i in range(n_img)]
    anns: list[dict[str, Any]] = []
    res: list[dict[str, Any]] = []
    for img in range(1, n_img + 1):
        for _ in range(int(rng.integers(0, 7))):
            x, y = (float(v) for v in rng.uniform(0, 150, 2))
            w, h = (float(v) for v in rng.uniform(4, 60, 2))
            w, h = min(w, 199 - x), min(h, 199 - y)
            cat = int(rng.integers(1, 3))
            crowd = int(rng.uniform() < 0.1)
            anns.append(_ann(len(anns) + 1, img, cat, [x, y, w, h], crowd=crowd))
            for _ in range(int(rng.integers(0, 4))):
                jit = rng.normal(0, 6, 4)
                bx = [max(0.0, x + jit[0]), max(0.0, y + jit[1]), max(1.0, w + jit[2]),
                      max(1.0, h + jit[3])]
                c = cat if rng.uniform() < 0.8 else 3 - cat
                res.append(_det(img, c, bx, round(float(rng.uniform()), 1)))
        for _ in range(int(rng.integers(0, 3))):  # background detections
            res.append(_det(img, int(rng.integers(1, 4)),
                            [float(v) for v in [*rng.uniform(0, 150, 2), *rng.uniform(3, 40, 2)]],
                            round(float(rng.uniform()), 1)))
    return _gt(images, anns), res


def _as_segm(res: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in res:
        x, y, w, h = r["bbox"]
        m = np.zeros((200, 200), np.uint8, order="F")
        m[int(y):int(np.ceil(y + h)), int(x):int(np.ceil(x + w))] = 1
        rle = pmask.encode(m)
        out.append({**{k: v for k, v in r.items() if k != "bbox"},
                    "segmentation": {"size": [200, 200], "counts": rle["counts"].decode()}})
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_random_cases_equal_pycocotools_and_hotcoco(tmp_path: Path, seed: int,
                                                    iou_type: str) -> None:
    gt, res = _random_case(seed)
    if iou_type == "segm":
        res = _as_segm(res) if seed % 2 else [{**r, **s} for r, s in zip(res, _as_segm(res),
                                                                         strict=True)]
    ds = _open(tmp_path, gt)
    for setting in SETTINGS[:3]:
        ev = check_against_pycocotools(ds, gt, res, iou_type, *setting)
    ev = ds.evaluate(res, iou_type=iou_type)
    t = ev.tide
    assert t is not None
    check_tide_against_hotcoco(ev)
    cm = ev.confusion
    assert cm is not None
    assert np.array_equal(cm.matrix, np.asarray(ev._main.confusion_matrix()["matrix"]))
    # every cell knows its detections; the background row holds the unmatched ones
    k = len(cm.category_ids)
    assert sum(len(cm.detections(r, c)) for r in range(k + 1) for c in range(k)) == \
        int(cm.matrix[:, :k].sum())


def test_keypoints_equal_pycocotools(tmp_path: Path) -> None:
    gt = json.loads((REAL / "mmpose/coco/test_coco.json").read_text())
    rng = np.random.default_rng(0)
    res = []
    for a in gt["annotations"]:
        kp = np.array(a["keypoints"], float).reshape(-1, 3)
        for s in range(2):
            jit = kp.copy()
            jit[:, :2] += rng.normal(0, 4 + 8 * s, (len(kp), 2))
            jit[:, 2] = 1
            res.append({"image_id": a["image_id"], "category_id": 1,
                        "keypoints": jit.ravel().tolist(), "score": float(rng.uniform())})
    ds = cocoview.open(REAL / "mmpose/coco/test_coco.json", cache=False)
    for setting in [(0.5, "all", None), (0.75, "medium", None), (0.5, "large", 5)]:
        ev = check_against_pycocotools(ds, gt, res, "keypoints", *setting)
    assert len(ev.stats) == 10 and len(ev.summary_lines()) == 10
    # TIDE and the confusion matrix over OKS; one category, so hotcoco's counts hold
    check_tide_against_hotcoco(ev)
    assert int(ev.confusion.matrix.sum()) == len(res) + int(ev.confusion.matrix[0, 1])
    ignored = {a["id"] for a in gt["annotations"] if a["num_keypoints"] == 0}
    g = ev.ground_truth_table()
    assert {int(i) for i, s in zip(g["id"], g["status"], strict=True) if s == "ignored"} \
        >= ignored


# ----- TIDE -------------------------------------------------------------

def test_tide_types(tmp_path: Path) -> None:
    gt = _gt([_img(1), _img(2)], [_ann(1, 1, 1, [0, 0, 100, 100]),
                                  _ann(2, 2, 1, [0, 0, 50, 50]),
                                  _ann(3, 2, 2, [100, 100, 50, 50]),
                                  _ann(4, 2, 2, [150, 0, 40, 40])])
    res = [_det(1, 1, [0, 0, 80, 50], 0.9),  # vernier fixture: IoU 0.4 → Loc
           _det(2, 1, [0, 0, 50, 50], 0.9),  # tp
           _det(2, 1, [1, 1, 50, 50], 0.8),  # duplicate
           _det(2, 1, [100, 100, 50, 50], 0.7),  # right box, wrong class
           _det(2, 2, [10, 160, 20, 20], 0.6)]  # nothing there
    ds = _open(tmp_path, gt)
    ev = ds.evaluate(res)
    assert ev.detections_table()["error"].tolist() == ["Loc", "", "Dupe", "Cls", "Bkg"]
    t = ev.tide
    assert t is not None
    assert t.counts == {"Loc": 1, "Cls": 1, "Dupe": 1, "Bkg": 1, "Both": 0, "Miss": 1}
    assert ev.ground_truth_table()["error"].tolist() == ["", "", "", "Miss"]
    assert set(ev.to_json()["tide"]["delta_ap"]) >= {"Loc", "Cls", "Dupe", "Bkg", "Both", "Miss"}
    check_tide_against_hotcoco(ev)


def _person(i: int, img: int, x0: float, y0: float, area: float = 3600.0) -> dict[str, Any]:
    kp = []
    for k in range(17):
        kp += [x0 + 3.5 * k, y0 + 2.0 * k, 2]
    return {"id": i, "image_id": img, "category_id": 1, "bbox": [x0, y0, 60, 60],
            "area": area, "iscrowd": 0, "num_keypoints": 17, "keypoints": kp}


def _pose(img: int, like: dict[str, Any], dx: float, score: float) -> dict[str, Any]:
    kp = list(like["keypoints"])
    for k in range(17):
        kp[3 * k] += dx
        kp[3 * k + 2] = 1
    return {"image_id": img, "category_id": 1, "keypoints": kp, "score": score}


def test_keypoints_tide_and_confusion_use_oks(tmp_path: Path) -> None:
    """Keypoints: TIDE and the confusion matrix measure overlap by OKS (area 3600: a shift
    of 2 px gives OKS 0.94, 12 px 0.33, 150 px ~0)."""
    a, b, c = _person(1, 1, 20, 20), _person(2, 1, 120, 120), _person(3, 2, 20, 20)
    gt = {"images": [_img(1), _img(2)], "annotations": [a, b, c],
          "categories": [{"id": 1, "name": "person", "keypoints": [str(k) for k in range(17)],
                          "skeleton": []}]}
    res = [_pose(1, a, 0, 0.9),  # tp
           _pose(1, a, 2, 0.8),  # a second one on the same person: Dupe
           _pose(1, b, 12, 0.7),  # OKS 0.33 with b: Loc
           _pose(2, c, 150, 0.6)]  # OKS ~0 with everything: Bkg; c: Miss
    ev = _open(tmp_path, gt).evaluate(res, iou_type="keypoints")
    assert ev.detections_table()["status"].tolist() == ["tp", "fp", "fp", "fp"]
    assert ev.detections_table()["error"].tolist() == ["", "Dupe", "Loc", "Bkg"]
    assert ev.tide.counts == {"Loc": 1, "Cls": 0, "Dupe": 1, "Bkg": 1, "Both": 0, "Miss": 1}
    assert ev.ground_truth_table()["error"].tolist() == ["", "", "Miss"]
    check_tide_against_hotcoco(ev)
    cm = ev.confusion
    assert cm.matrix.tolist() == [[1, 2], [3, 0]]  # row/column 1: background
    assert cm.detections(0, 0).tolist() == [0] and cm.detections(1, 0).tolist() == [1, 2, 3]


def test_confusion_matrix_layout(tmp_path: Path) -> None:
    gt = _gt([_img(1)], [_ann(1, 1, 1, [0, 0, 50, 50]), _ann(2, 1, 2, [100, 100, 50, 50]),
                         _ann(3, 1, 2, [0, 150, 30, 30])])
    res = [_det(1, 1, [0, 0, 50, 50], 0.9), _det(1, 1, [100, 100, 50, 50], 0.8),
           _det(1, 2, [150, 0, 30, 30], 0.7)]
    ev = _open(tmp_path, gt).evaluate(res)
    cm = ev.confusion
    assert cm is not None
    m = cm.matrix  # rows: a, b, no-gt, background; columns the same
    assert m[0, 0] == 1 and m[1, 0] == 1 and m[3, 1] == 1 and m[1, 3] == 1
    assert m.sum() == 4
    assert cm.detections(1, 0).tolist() == [1]


# ----- P/R/F1 against score ----------------------------------------------

def test_score_curve(tmp_path: Path) -> None:
    gt = _gt([_img(1)], [_ann(1, 1, 1, [0, 0, 50, 50]), _ann(2, 1, 1, [100, 100, 50, 50])])
    res = [_det(1, 1, [0, 0, 50, 50], 0.9), _det(1, 1, [60, 0, 20, 20], 0.8),
           _det(1, 1, [100, 100, 50, 50], 0.7)]
    ev = _open(tmp_path, gt).evaluate(res)
    per = ev.per_image_table()
    assert per["image_id"].tolist() == [1] and per["tp"].tolist() == [2]
    assert per["fp"].tolist() == [1] and per["gt_missed"].tolist() == [0]
    c = ev.score_curve()
    assert c.score.tolist() == [0.9, 0.8, 0.7]
    np.testing.assert_allclose(c.precision, [1, 0.5, 2 / 3])
    np.testing.assert_allclose(c.recall, [0.5, 0.5, 1])
    np.testing.assert_allclose(c.f1, [2 / 3, 0.5, 0.8])


def test_ordered_by_equals_stable_order() -> None:
    """One sort of a combined key, or successive stable sorts when it would not fit."""
    from cocoview.model.evaluation.verdicts import ordered_by, stable_order

    rng = np.random.default_rng(3)
    a, b, c = rng.integers(0, 4, 500), rng.integers(0, 7, 500), rng.integers(0, 3, 500)
    want = stable_order(c, b, a)  # last key primary
    assert np.array_equal(ordered_by([(a, 4), (b, 7), (c, 3)]), want)
    assert np.array_equal(ordered_by([(a, 1 << 40), (b, 1 << 40), (c, 3)]), want)  # fallback
