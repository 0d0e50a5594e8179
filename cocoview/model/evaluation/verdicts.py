"""Every detection's and every ground truth's verdict, read from hotcoco's ``evalImgs``.

One evaluation at the chosen IoU threshold, area range and maxDets gives, per
(image, category), the detections kept (score order, cut at maxDets), what
each matched, and what COCOeval ignored — exactly pycocotools' ``evalImgs``.
This module turns that into columns over the detection and ground-truth tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cocoview.model.evaluation.inputs import Detections, GroundTruth

TP, FP, IGNORED, SKIPPED = 0, 1, 2, 3
STATUS_NAMES = ("tp", "fp", "ignored", "skipped")
MATCHED, MISSED, GT_IGNORED = 0, 1, 2
GT_STATUS_NAMES = ("matched", "missed", "ignored")


@dataclass
class Verdicts:
    """Per-detection and per-ground-truth outcomes at one (IoU, area, maxDets) setting."""

    iou_thr: float
    area: list[float]
    max_dets: int
    status: np.ndarray  # per detection row: TP / FP / IGNORED
    reason: np.ndarray  # '' | crowd | area | maxdets | no-keypoints
    gt_row: np.ndarray  # matched ground-truth row, -1
    iou: np.ndarray  # IoU (OKS) with gt_row, NaN
    gt_status: np.ndarray  # per ground-truth row: MATCHED / MISSED / GT_IGNORED
    gt_det_row: np.ndarray  # detection row that matched it, -1


def read_eval_imgs(eval_imgs: list[Any], n_dt: int, n_gt: int) -> dict[str, np.ndarray]:
    """The first IoU threshold of ``evalImgs`` as flat columns (ids are table rows + 1)."""
    dt_m = np.full(n_dt, -1, np.int64)
    dt_ig = np.zeros(n_dt, bool)
    in_cell = np.zeros(n_dt, bool)
    gt_m = np.full(n_gt, -1, np.int64)
    gt_ig = np.zeros(n_gt, bool)
    gt_in = np.zeros(n_gt, bool)
    d_ids: list[int] = []
    d_m: list[int] = []
    d_ig: list[bool] = []
    g_ids: list[int] = []
    g_m: list[int] = []
    g_ig: list[bool] = []
    for e in eval_imgs:
        if e is None:
            continue
        ids = e["dtIds"]
        if ids:
            d_ids.extend(ids)
            d_m.extend(e["dtMatches"][0])
            d_ig.extend(e["dtIgnore"][0])
        gids = e["gtIds"]
        if gids:
            g_ids.extend(gids)
            g_m.extend(e["gtMatches"][0])
            g_ig.extend(e["gtIgnore"])
    if d_ids:
        rows = np.asarray(d_ids, np.int64) - 1
        in_cell[rows] = True
        dt_m[rows] = np.asarray(d_m, np.float64).astype(np.int64) - 1
        dt_ig[rows] = np.asarray(d_ig, bool)
    if g_ids:
        rows = np.asarray(g_ids, np.int64) - 1
        gt_in[rows] = True
        gt_m[rows] = np.asarray(g_m, np.float64).astype(np.int64) - 1
        gt_ig[rows] = np.asarray(g_ig, bool)
    return {"dt_match": dt_m, "dt_ignore": dt_ig, "dt_in_cell": in_cell, "gt_match": gt_m,
            "gt_ignore": gt_ig, "gt_in_cell": gt_in}


def verdicts(cols: dict[str, np.ndarray], gt: GroundTruth, dt: Detections, iou_type: str,
             iou_thr: float, area: list[float], max_dets: int) -> Verdicts:
    n = len(dt)
    m = cols["dt_match"]
    ig = cols["dt_ignore"]
    status = np.full(n, IGNORED, np.int8)
    reason = np.full(n, "maxdets", object)
    cell = cols["dt_in_cell"]
    hit = cell & (m >= 0)
    status[cell & ~ig & hit] = TP
    status[cell & ~ig & ~hit] = FP
    reason[cell & ~ig] = ""
    reason[cell & ig & ~hit] = "area"
    if hit.any():
        g = m[hit]
        why = np.where(gt.iscrowd[g], "crowd", "area").astype(object)
        if iou_type == "keypoints":
            why[(gt.num_keypoints[g] == 0) & ~gt.iscrowd[g]] = "no-keypoints"
        r = reason[hit]
        r[ig[hit]] = why[ig[hit]]
        reason[hit] = r
    iou = np.full(n, np.nan)
    rows = np.flatnonzero(hit)
    if len(rows):
        iou[rows] = pair_similarity(gt, dt, iou_type, rows, m[rows])
    gt_status = np.full(len(gt), MISSED, np.int8)
    gt_status[cols["gt_match"] >= 0] = MATCHED
    gt_status[cols["gt_ignore"]] = GT_IGNORED
    gt_status[~cols["gt_in_cell"]] = GT_IGNORED
    return Verdicts(iou_thr, list(area), max_dets, status, reason.astype(str),
                    np.where(hit, m, -1), iou, gt_status, cols["gt_match"])


# ----- similarities ----------------------------------------------------------

def box_iou(d: np.ndarray, g: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """pycocotools' box IoU of pairs (rows of ``d`` with rows of ``g``), same operations."""
    w = np.minimum(d[:, 0] + d[:, 2], g[:, 0] + g[:, 2]) - np.maximum(d[:, 0], g[:, 0])
    h = np.minimum(d[:, 1] + d[:, 3], g[:, 1] + g[:, 3]) - np.maximum(d[:, 1], g[:, 1])
    inter = w * h
    da = d[:, 2] * d[:, 3]
    ga = g[:, 2] * g[:, 3]
    union = np.where(crowd, da, da + ga - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((w > 0) & (h > 0), inter / union, 0.0)
    return out


def pair_similarity(gt: GroundTruth, dt: Detections, iou_type: str, d_rows: np.ndarray,
                    g_rows: np.ndarray) -> np.ndarray:
    """IoU (OKS for keypoints) of detection/ground-truth row pairs."""
    if iou_type == "bbox":
        return box_iou(dt.bbox[d_rows], gt.bbox[g_rows], gt.iscrowd[g_rows])
    if iou_type == "segm":
        masks = Masks(gt, dt)
        out = np.empty(len(d_rows))
        for k, (d, g) in enumerate(zip(d_rows.tolist(), g_rows.tolist(), strict=True)):
            out[k] = masks.iou([d], [g])[0, 0]
        return out
    return oks_pairs(gt, dt, d_rows, g_rows)


SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07,
                   .87, .87, .89, .89]) / 10.0


def oks_pairs(gt: GroundTruth, dt: Detections, d_rows: np.ndarray,
              g_rows: np.ndarray) -> np.ndarray:
    """pycocotools' computeOks for pairs."""
    assert gt.keypoints is not None and dt.keypoints is not None
    out = np.empty(len(d_rows))
    var = (SIGMAS * 2) ** 2
    k = len(SIGMAS)
    for i, (d, g) in enumerate(zip(d_rows.tolist(), g_rows.tolist(), strict=True)):
        gk = np.array(gt.keypoints[g], np.float64)
        dk = np.array(dt.keypoints[d], np.float64)
        xg, yg, vg = gk[0::3], gk[1::3], gk[2::3]
        xd, yd = dk[0::3], dk[1::3]
        k1 = np.count_nonzero(vg > 0)
        bb = gt.bbox[g]
        x0, x1 = bb[0] - bb[2], bb[0] + bb[2] * 2
        y0, y1 = bb[1] - bb[3], bb[1] + bb[3] * 2
        if k1 > 0:
            dx, dy = xd - xg, yd - yg
        else:
            z = np.zeros(k)
            dx = np.max((z, x0 - xd), axis=0) + np.max((z, xd - x1), axis=0)
            dy = np.max((z, y0 - yd), axis=0) + np.max((z, yd - y1), axis=0)
        e = (dx ** 2 + dy ** 2) / var / (gt.area[g] + np.spacing(1)) / 2
        if k1 > 0:
            e = e[vg > 0]
        out[i] = np.sum(np.exp(-e)) / e.shape[0]
    return out


class Masks:
    """RLEs of ground truth and detections, made on first use (hotcoco's mask functions)."""

    def __init__(self, gt: GroundTruth, dt: Detections) -> None:
        from hotcoco import mask as hmask

        self._m = hmask
        self.gt, self.dt = gt, dt
        self._g: dict[int, Any] = {}
        self._d: dict[int, Any] = {}
        order = np.argsort(gt.image_ids)
        self._img_sorted = gt.image_ids[order]
        self._img_order = order

    def _size(self, image_id: int) -> tuple[int, int]:
        j = self._img_order[int(np.searchsorted(self._img_sorted, image_id))]
        return int(self.gt.image_height[j]), int(self.gt.image_width[j])

    def _rle(self, seg: Any, image_id: int) -> Any:
        h, w = self._size(image_id)
        m = self._m
        if isinstance(seg, list):
            rles = m.frPyObjects(seg, h, w)
            return m.merge(rles)
        if isinstance(seg, dict) and isinstance(seg.get("counts"), list):
            return m.frPyObjects(seg, *seg["size"])
        if isinstance(seg, dict):
            return seg
        return m.encode(np.zeros((h, w), np.uint8, order="F"))

    def gt_rle(self, row: int) -> Any:
        r = self._g.get(row)
        if r is None:
            assert self.gt.segmentation is not None
            r = self._g[row] = self._rle(self.gt.segmentation[row], int(self.gt.image_id[row]))
        return r

    def dt_rle(self, row: int) -> Any:
        r = self._d.get(row)
        if r is None:
            assert self.dt.segmentation is not None
            r = self._d[row] = self._rle(self.dt.segmentation[row], int(self.dt.image_id[row]))
        return r

    def iou(self, d_rows: list[int], g_rows: list[int], crowd: bool | None = None) -> np.ndarray:
        """(len(d_rows), len(g_rows)) mask IoU; crowd columns use the detection's area."""
        if not d_rows or not g_rows:
            return np.zeros((len(d_rows), len(g_rows)))
        flags = [bool(self.gt.iscrowd[g]) if crowd is None else crowd for g in g_rows]
        out = self._m.iou([self.dt_rle(d) for d in d_rows], [self.gt_rle(g) for g in g_rows],
                          flags)
        return np.asarray(out, np.float64).reshape(len(d_rows), len(g_rows))
