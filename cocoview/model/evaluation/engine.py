"""Running hotcoco's COCOeval on the evaluation's columns (no temporary files).

hotcoco (Rust, MIT) reproduces pycocotools' COCOeval bit for bit; the tests
hold it to pycocotools on every real set and on each rule. Its inputs are
built in memory: ``COCO.from_arrays`` for boxes and masks, ``load_res`` on an
(N, 7) array for box results; keypoints need the dict form. Ground truth and
detections get the ids 1..n of their table rows, so a row is ``id - 1``.
"""

from __future__ import annotations

from typing import Any

import hotcoco
import numpy as np

from cocoview.model.evaluation.inputs import Detections, GroundTruth

#: pycocotools' defaults
IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
AREA_RANGES = {"all": [0.0, 1e5 ** 2], "small": [0.0, 32.0 ** 2],
               "medium": [32.0 ** 2, 96.0 ** 2], "large": [96.0 ** 2, 1e5 ** 2]}
MAX_DETS = {"bbox": [1, 10, 100], "segm": [1, 10, 100], "keypoints": [20]}
AREA_LABELS = {"bbox": ["all", "small", "medium", "large"],
               "segm": ["all", "small", "medium", "large"],
               "keypoints": ["all", "medium", "large"]}
_EXACT_IDS = 1 << 53  # ids above this cannot go through the float (N, 7) array


def gt_coco(gt: GroundTruth, iou_type: str) -> Any:
    """The ground truth as a hotcoco ``COCO``."""
    images = [{"id": int(i), "width": int(w), "height": int(h)} for i, w, h in zip(
        gt.image_ids.tolist(), gt.image_width.tolist(), gt.image_height.tolist(), strict=True)]
    cats = [{"id": int(c), "name": n} for c, n in zip(gt.category_ids.tolist(),
                                                       gt.category_names, strict=True)]
    ids = np.arange(1, len(gt) + 1, dtype=np.int64)
    if iou_type == "keypoints":
        assert gt.keypoints is not None
        anns = [{"id": k, "image_id": i, "category_id": c, "bbox": b, "area": a,
                 "iscrowd": int(z), "num_keypoints": nk,
                 "keypoints": kp if isinstance(kp, list) else [0] * 51}
                for k, i, c, b, a, z, nk, kp in zip(
                    ids.tolist(), gt.image_id.tolist(), gt.category_id.tolist(),
                    np.nan_to_num(gt.bbox).tolist(), gt.area.tolist(), gt.iscrowd.tolist(),
                    gt.num_keypoints.tolist(), gt.keypoints, strict=True)]
        for c in cats:
            c["keypoints"] = [str(k) for k in range(17)]
        return hotcoco.COCO({"images": images, "categories": cats, "annotations": anns})
    return hotcoco.COCO.from_arrays(
        images, cats, gt.image_id, gt.category_id, np.nan_to_num(gt.bbox), ids=ids,
        area=gt.area, iscrowd=gt.iscrowd.astype(np.int64),
        segmentation=gt.segmentation if iou_type == "segm" else None)


def dt_coco(gt_c: Any, dt: Detections, iou_type: str) -> Any:
    """The detections loaded as pycocotools' ``loadRes`` would (ids 1..n in file order)."""
    n = len(dt)
    big = n and max(abs(int(dt.image_id.max())), abs(int(dt.image_id.min())),
                    abs(int(dt.category_id.max()))) >= _EXACT_IDS
    if iou_type == "bbox" and not big:
        arr = np.empty((n, 7))
        arr[:, 0] = dt.image_id
        arr[:, 1:5] = dt.bbox
        arr[:, 5] = dt.score
        arr[:, 6] = dt.category_id
        return gt_c.load_res(arr)
    recs: list[dict[str, Any]] = []
    boxes = dt.bbox.tolist()
    for k in range(n):
        r: dict[str, Any] = {"image_id": int(dt.image_id[k]),
                             "category_id": int(dt.category_id[k]), "score": float(dt.score[k])}
        if iou_type == "bbox" or dt.first_has_bbox:
            r["bbox"] = boxes[k]
        if iou_type == "segm":
            assert dt.segmentation is not None
            r["segmentation"] = dt.segmentation[k]
        elif iou_type == "keypoints":
            assert dt.keypoints is not None
            r["keypoints"] = dt.keypoints[k]
        recs.append(r)
    if not recs:
        return gt_c.load_res(np.empty((0, 7)))
    return gt_c.load_res(recs)


def run(gt_c: Any, dt_c: Any, iou_type: str, iou_thrs: list[float] | None = None,
        area: list[float] | None = None, max_dets: list[int] | None = None,
        accumulate: bool = True) -> Any:
    """A hotcoco ``COCOeval``, evaluated (and accumulated), pycocotools' defaults unless given."""
    ev = hotcoco.COCOeval(gt_c, dt_c, iou_type)
    p = ev.params
    if iou_thrs is not None:
        p.iou_thrs = iou_thrs
    if area is not None:
        p.area_rng = [area]
        p.area_rng_lbl = ["all"]
    if max_dets is not None:
        p.max_dets = max_dets
    ev.evaluate()
    if accumulate:
        ev.accumulate()
    return ev


def summary_stats(precision: np.ndarray, recall: np.ndarray, iou_type: str) -> np.ndarray:
    """COCOeval.summarize()'s numbers, computed as it computes them (same slices, same means)."""
    labels = AREA_LABELS[iou_type]
    max_dets = MAX_DETS[iou_type]

    def one(ap: int, iou: float | None = None, area: str = "all", md: int = 100) -> float:
        aind = [i for i, a in enumerate(labels) if a == area]
        mind = [i for i, m in enumerate(max_dets) if m == md]
        if ap == 1:
            s = precision
            if iou is not None:
                s = s[np.where(iou == IOU_THRS)[0]]
            s = s[:, :, :, aind, mind]
        else:
            s = recall
            if iou is not None:
                s = s[np.where(iou == IOU_THRS)[0]]
            s = s[:, :, aind, mind]
        return -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))

    if iou_type == "keypoints":
        return np.array([one(1, md=20), one(1, .5, md=20), one(1, .75, md=20),
                         one(1, area="medium", md=20), one(1, area="large", md=20),
                         one(0, md=20), one(0, .5, md=20), one(0, .75, md=20),
                         one(0, area="medium", md=20), one(0, area="large", md=20)])
    return np.array([one(1), one(1, .5), one(1, .75), one(1, area="small"),
                     one(1, area="medium"), one(1, area="large"), one(0, md=max_dets[0]),
                     one(0, md=max_dets[1]), one(0), one(0, area="small"),
                     one(0, area="medium"), one(0, area="large")])


def summary_lines(stats: np.ndarray, iou_type: str) -> list[str]:
    """pycocotools' summary printout, line for line."""
    rows: list[tuple[int, float | None, str, int]]
    if iou_type == "keypoints":
        rows = [(1, None, "all", 20), (1, .5, "all", 20), (1, .75, "all", 20),
                (1, None, "medium", 20), (1, None, "large", 20), (0, None, "all", 20),
                (0, .5, "all", 20), (0, .75, "all", 20), (0, None, "medium", 20),
                (0, None, "large", 20)]
    else:
        rows = [(1, None, "all", 100), (1, .5, "all", 100), (1, .75, "all", 100),
                (1, None, "small", 100), (1, None, "medium", 100), (1, None, "large", 100),
                (0, None, "all", 1), (0, None, "all", 10), (0, None, "all", 100),
                (0, None, "small", 100), (0, None, "medium", 100), (0, None, "large", 100)]
    out = []
    for (ap, iou, area, md), v in zip(rows, stats.tolist(), strict=True):
        title = "Average Precision" if ap == 1 else "Average Recall"
        kind = "(AP)" if ap == 1 else "(AR)"
        iou_s = f"{IOU_THRS[0]:0.2f}:{IOU_THRS[-1]:0.2f}" if iou is None else f"{iou:0.2f}"
        out.append(f" {title:<18} {kind} @[ IoU={iou_s:<9} | area={area:>6s} | "
                   f"maxDets={md:>3d} ] = {v:0.3f}")
    return out
