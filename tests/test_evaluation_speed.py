"""The evaluation's speed machinery changes no number (issue 13): verdicts at another
setting from the cached candidate pairs, hotcoco in a background thread."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cocoview.model.review import at_setting
from tests.eval_oracle import check_against_pycocotools
from tests.test_evaluation import SETTINGS, _as_segm, _open, _random_case


def _same_verdicts(a: object, b: object) -> None:
    for f in fields(a):  # type: ignore[arg-type]
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f.name
        else:
            assert x == y, f.name


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("seed", range(3))
def test_another_setting_from_cached_pairs_equals_a_fresh_evaluation(
        tmp_path: Path, seed: int, iou_type: str) -> None:
    gt, res = _random_case(seed)
    if iou_type == "segm":
        res = _as_segm(res)
    ds = _open(tmp_path, gt)
    base = ds.evaluate(res, iou_type=iou_type)
    for thr, area, _md in [*SETTINGS, (0.95, "large", None), (0.0, "all", None),
                           (1.0, "all", None), (0.5, "all", None)]:
        moved = at_setting(base, thr, area)
        fresh = ds.evaluate(res, iou_type=iou_type, iou_thr=thr, area=area)
        _same_verdicts(moved.verdicts, fresh.verdicts)
        assert np.array_equal(moved.stats, fresh.stats)


def _gt_arrays(gt: Any) -> dict[str, np.ndarray]:
    return {f.name: getattr(gt, f.name) for f in fields(gt)
            if isinstance(getattr(gt, f.name), np.ndarray)}


def _assert_same_ground_truth(a: Any, b: Any) -> None:
    x, y = _gt_arrays(a), _gt_arrays(b)
    assert x.keys() == y.keys()
    for name in x:
        assert x[name].dtype == y[name].dtype, name
        assert np.array_equal(x[name], y[name], equal_nan=x[name].dtype.kind == "f"), name
    assert [p.code for p in a.problems] == [p.code for p in b.problems]


def _odd_ground_truth(seed: int) -> dict[str, Any]:
    """A random case plus what the exact columns must carry through: doubles float32
    cannot hold, iscrowd 2 and 256 (an int8 wraps it to 0), integer boxes, no area,
    no bbox, no iscrowd."""
    gt, _res = _random_case(seed)
    anns = gt["annotations"]
    rng = np.random.default_rng(seed)
    for a in anns:
        a["bbox"] = [float(v) + float(rng.uniform()) * 1e-9 for v in a["bbox"]]
        a["area"] = float(a["area"]) + 1e-7
    if len(anns) >= 5:
        anns[0]["iscrowd"] = 2
        anns[1]["iscrowd"] = 256
        anns[2]["bbox"] = [int(v) for v in anns[2]["bbox"]]
        del anns[3]["area"]
        del anns[4]["iscrowd"]
    gt["annotations"].append({"id": 10_000, "image_id": 1, "category_id": 1, "area": 5.0,
                              "iscrowd": 0})  # no bbox at all
    return gt


@pytest.mark.parametrize("seed", range(3))
def test_loader_exact_columns_equal_the_files_decode(tmp_path: Path, seed: int) -> None:
    """The bbox ground truth from the loader's kept doubles equals decoding the file again,
    array for array, bit for bit."""
    from cocoview.model.evaluation import inputs

    ds = _open(tmp_path, _odd_ground_truth(seed))
    (f,) = ds.files
    assert f.exact is not None  # every record took the fast path: the doubles are kept
    kept = inputs.ground_truth(ds, "bbox")
    assert kept.iscrowd[:2].all()  # 2 and 256 are crowds
    f.exact = None
    decoded = inputs.ground_truth(ds, "bbox")
    _assert_same_ground_truth(kept, decoded)


def test_loader_exact_columns_through_the_helper_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks the helper process decodes carry the doubles too."""
    from cocoview.model.evaluation import inputs
    from tests.test_parallel_load import use_helper_for_small_files

    use_helper_for_small_files(monkeypatch)
    ds = _open(tmp_path, _odd_ground_truth(7))
    (f,) = ds.files
    assert f.helper_chunks > 0 and f.exact is not None
    kept = inputs.ground_truth(ds, "bbox")
    f.exact = None
    _assert_same_ground_truth(kept, inputs.ground_truth(ds, "bbox"))


def test_a_lenient_record_means_no_exact_columns(tmp_path: Path) -> None:
    """A record the loader salvages (a boolean iscrowd) leaves the doubles to the
    evaluation's own decode, and the numbers stay pycocotools'."""
    gt, res = _random_case(1)
    gt["annotations"][0]["iscrowd"] = True
    ds = _open(tmp_path, gt)
    assert ds.files[0].exact is None
    check_against_pycocotools(ds, gt, res, "bbox")


@pytest.mark.parametrize("seed", range(3))
def test_odd_ground_truth_from_the_kept_doubles_equals_pycocotools(
        tmp_path: Path, seed: int) -> None:
    gt = _odd_ground_truth(seed)
    gt["annotations"] = [{**a, "iscrowd": min(a["iscrowd"], 3)} for a in gt["annotations"]
                         if {"bbox", "area", "iscrowd"} <= a.keys()]  # pycocotools: uint8
    _gt, res = _random_case(seed)
    ds = _open(tmp_path, gt)
    assert ds.files[0].exact is not None
    check_against_pycocotools(ds, gt, res, "bbox")


def _sorted_overlaps(ov: Any) -> tuple[np.ndarray, ...]:
    o = np.lexsort((ov.g, ov.d))
    return ov.d[o], ov.g[o], ov.iou[o]


@pytest.mark.parametrize("seed", range(4))
def test_x_sorted_pairs_find_every_overlap(tmp_path: Path, seed: int,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The overlaps from the x-sorted runs equal those from every pair of an image, pair
    for pair and bit for bit: wide, empty and negative-width boxes, boxes that only touch,
    crowds, coordinates far from 0."""
    from cocoview.model.evaluation import analysis

    gt, res = _random_case(seed, n_img=20)
    rng = np.random.default_rng(seed)
    anns = gt["annotations"]
    for a in anns[::5]:
        a["bbox"] = [0.0, float(rng.uniform(0, 100)), 199.0, 30.0]  # as wide as the image
    if len(anns) > 3:
        anns[1]["bbox"][2] = 0.0
        anns[2]["bbox"][2] = -5.0
    for r in res[::7]:  # touching a GT's right edge: no overlap
        src = anns[int(rng.integers(len(anns)))]
        r["image_id"] = src["image_id"]
        r["bbox"] = [src["bbox"][0] + src["bbox"][2], src["bbox"][1], 10.0, 10.0]
    far = 1e7 if seed % 2 else 0.0
    for item in (*anns, *res):
        item["bbox"][0] += far
    ds = _open(tmp_path, gt)
    ev = ds.evaluate(res)
    assert analysis.x_pairs(ev.gt, ev.dt) is not None
    fast = analysis.overlaps(ev.gt, ev.dt, "bbox", None)
    assert (np.diff(fast.d) >= 0).all()  # grouped by detection, as TIDE reads them
    monkeypatch.setattr(analysis, "x_pairs", lambda *a, **k: None)
    every = analysis.overlaps(ev.gt, ev.dt, "bbox", None)
    assert len(every.d) > 0
    for x, y in zip(_sorted_overlaps(fast), _sorted_overlaps(every), strict=True):
        assert np.array_equal(x, y)


def test_a_box_without_numbers_falls_back_to_every_pair(tmp_path: Path) -> None:
    from cocoview.model.evaluation import analysis

    gt, res = _random_case(2)
    gt["annotations"].append({"id": 9_999, "image_id": 1, "category_id": 1, "iscrowd": 0,
                              "area": 10.0})  # no bbox: NaN
    ds = _open(tmp_path, gt)
    ev = ds.evaluate(res)
    assert analysis.x_pairs(ev.gt, ev.dt) is None
    assert len(ev._overlaps.d) > 0
