"""pycocotools as the oracle of the evaluation tests: stats, evalImgs, IoUs."""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

AREAS = {"all": [0, 1e5 ** 2], "small": [0, 32 ** 2], "medium": [32 ** 2, 96 ** 2],
         "large": [96 ** 2, 1e5 ** 2]}


def _coco(gt: dict[str, Any]) -> COCO:
    c = COCO()
    c.dataset = copy.deepcopy(gt)
    with contextlib.redirect_stdout(io.StringIO()):
        c.createIndex()
    return c


def pyco_eval(gt: dict[str, Any], results: list[dict[str, Any]], iou_type: str,
              iou_thr: float | None = None, area: str | None = None,
              max_dets: int | None = None) -> COCOeval:
    """pycocotools' COCOeval on plain dicts (results must all be on GT images)."""
    g = _coco(gt)
    with contextlib.redirect_stdout(io.StringIO()):
        d = g.loadRes(copy.deepcopy(results)) if results else COCO()
        if not results:  # loadRes cannot take an empty list
            d.dataset = {"images": gt["images"], "categories": gt["categories"],
                         "annotations": []}
            d.createIndex()
        ev = COCOeval(g, d, iou_type)
        if iou_thr is not None:
            ev.params.iouThrs = np.array([iou_thr])
        if area is not None:
            ev.params.areaRng = [AREAS[area]]
            ev.params.areaRngLbl = ["all"]
        if max_dets is not None:
            ev.params.maxDets = [max_dets]
        ev.evaluate()
        if iou_thr is None and area is None and max_dets is None:
            ev.accumulate()
            ev.summarize()
    return ev


def check_against_pycocotools(ds: Any, gt: dict[str, Any], results: list[dict[str, Any]],
                              iou_type: str, iou_thr: float = 0.5, area: str = "all",
                              max_dets: int | None = None, res_arg: Any = None) -> Any:
    """Evaluate with cocoview and pycocotools; assert stats and every verdict agree.

    ``results`` are the usable results (what pycocotools can load), in file order;
    ``res_arg`` is what cocoview is given (defaults to ``results``).
    """
    ours = ds.evaluate(results if res_arg is None else res_arg, iou_type=iou_type,
                       iou_thr=iou_thr, area=area, max_dets=max_dets)
    ref = pyco_eval(gt, results, iou_type)
    assert len(ours.stats) == len(ref.stats)
    np.testing.assert_allclose(ours.stats, ref.stats, rtol=0, atol=1e-12)
    md = max_dets if max_dets is not None else (20 if iou_type == "keypoints" else 100)
    one = pyco_eval(gt, results, iou_type, iou_thr, area, md)
    det = ours.detections_table()
    usable = np.flatnonzero(det["status"] != "skipped")
    assert len(usable) == len(results)
    # pycocotools' result ids are 1..N over the usable results; ours keep file positions
    rid = {k + 1: int(r) for k, r in enumerate(usable.tolist())}
    want_status = {int(r): "ignored" for r in usable.tolist()}
    want_reason_maxdets = set(want_status)
    want_gt_id: dict[int, int] = {}
    want_gt: dict[int, tuple[str, int]] = {}
    for e in one.evalImgs:
        if e is None:
            continue
        for k, did in enumerate(e["dtIds"]):
            r = rid[did]
            want_reason_maxdets.discard(r)
            m, ig = int(e["dtMatches"][0][k]), bool(e["dtIgnore"][0][k])
            want_status[r] = "ignored" if ig else ("tp" if m else "fp")
            want_gt_id[r] = m if m else -1
        for k, gid in enumerate(e["gtIds"]):
            m, ig = int(e["gtMatches"][0][k]), bool(e["gtIgnore"][k])
            want_gt[gid] = ("ignored" if ig else ("matched" if m else "missed"),
                            rid[m] if m else -1)
    got_status = {int(r): str(det["status"][r]) for r in usable.tolist()}
    assert got_status == want_status
    got_gt_id = {int(r): int(det["gt_id"][r]) for r in usable.tolist()
                 if r not in want_reason_maxdets}
    assert got_gt_id == want_gt_id
    assert {int(r) for r in usable.tolist() if det["reason"][r] == "maxdets"} == \
        want_reason_maxdets
    g = ours.ground_truth_table()
    got_gt = {int(i): (str(s), int(r) if s != "ignored" else -1) for i, s, r in zip(
        g["id"].tolist(), g["status"].tolist(), g["result_index"].tolist(), strict=True)}
    want_gt = {k: (s, r if s != "ignored" else -1) for k, (s, r) in want_gt.items()}
    assert got_gt == want_gt
    # the IoU of every matched pair, from pycocotools' own matrices
    for e in one.evalImgs:
        if e is None or not e["dtIds"]:
            continue
        ious = one.ious[e["image_id"], e["category_id"]]
        gorder = [x["id"] for x in one._gts[e["image_id"], e["category_id"]]]
        for k, did in enumerate(e["dtIds"]):
            m = int(e["dtMatches"][0][k])
            if m:
                want = ious[k, gorder.index(m)]
                assert abs(det["iou"][rid[did]] - want) < 1e-12, (did, m)
    return ours


def check_tide_against_hotcoco(ev: Any) -> None:
    """cocoview's TIDE counts, AP50 and every ΔAP equal hotcoco's ``tide_errors`` exactly
    (cocoview computes the ΔAP itself; hotcoco stays the oracle)."""
    want = ev._main.tide_errors(pos_thr=0.5, bg_thr=0.1)
    t = ev.tide
    assert t.counts == {k: int(want["counts"][k]) for k in t.counts}
    assert t.ap_base == want["ap_base"]
    assert t.delta_ap == dict(want["delta_ap"])
