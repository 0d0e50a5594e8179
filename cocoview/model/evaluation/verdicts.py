"""Every detection's and every ground truth's verdict, as pycocotools' ``evalImgs`` has it.

From one hotcoco evaluation at the chosen IoU threshold, area range and
maxDets: its image diagnostics give the true and false positives and their
matches; the maxDets cut is a rank by stable score sort; the ignored
detections' matches to ignored ground truth are COCOeval's second pass,
replayed on those alone. (Converting hotcoco's ``eval_imgs`` instead costs
0.9 s on val2017.) The tests compare every verdict with pycocotools'.
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


def _from_map(d: dict[int, Any]) -> tuple[np.ndarray, list[Any]]:
    """A hotcoco ``{ann id: value}`` map as (table rows, values)."""
    keys = np.fromiter(d.keys(), np.int64, len(d)) - 1
    return keys, list(d.values())


def rank_in_cell(gt: GroundTruth, dt: Detections) -> np.ndarray:
    """Each detection's position in its (image, category) by score, ties in file order
    (pycocotools' stable sort); the maxDets cut keeps positions below maxDets."""
    n = len(dt)
    order = np.lexsort((np.arange(n), -dt.score, dt.category_id, dt.image_id))
    key_i, key_c = dt.image_id[order], dt.category_id[order]
    first = np.ones(n, bool)
    first[1:] = (key_i[1:] != key_i[:-1]) | (key_c[1:] != key_c[:-1])
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else first
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - start
    return rank


def verdicts(ev: Any, gt: GroundTruth, dt: Detections, iou_type: str, iou_thr: float,
             area: list[float], max_dets: int, masks: Masks | None = None) -> Verdicts:
    """Verdicts from an evaluation run at one threshold, area range and maxDets.

    hotcoco's ``image_diagnostics`` gives the true and false positives and what
    they matched. The rest of the kept detections are ignored: the ones
    COCOeval's second pass gave to an ignored ground truth (a crowd, or one
    outside the area range: one detection each, a crowd any number) are found
    the same way here — best similarity, ties to the later ground truth, in
    score order — and the others lie outside the area range themselves.
    """
    n, n_gt = len(dt), len(gt)
    diag = ev.image_diagnostics(iou_thr=iou_thr)
    status = np.full(n, IGNORED, np.int8)
    rows, vals = _from_map(diag["dt_status"])
    is_tp = np.array([v == "tp" for v in vals], bool)
    status[rows[is_tp]] = TP
    status[rows[~is_tp]] = FP
    gt_row = np.full(n, -1, np.int64)
    rows, vals = _from_map(diag["dt_match"])
    gt_row[rows] = np.asarray(vals, np.int64) - 1
    gt_det = np.full(n_gt, -1, np.int64)
    rows, vals = _from_map(diag["gt_match"])
    gt_det[rows] = np.asarray(vals, np.int64) - 1
    reason = np.full(n, "", "<U12")
    rank = rank_in_cell(gt, dt)
    kept = rank < max_dets
    reason[~kept] = "maxdets"
    g_ig = gt.iscrowd | (gt.area < area[0]) | (gt.area > area[1])
    if iou_type == "keypoints":
        g_ig |= gt.num_keypoints == 0
    rest = np.flatnonzero(kept & (status == IGNORED))
    reason[rest] = "area"
    if len(rest):
        _second_pass(gt, dt, iou_type, masks, rest, np.flatnonzero(g_ig), iou_thr, rank,
                     gt_row, gt_det)
        hit = rest[gt_row[rest] >= 0]
        g = gt_row[hit]
        why = np.where(gt.iscrowd[g], "crowd", "area").astype("<U12")
        if iou_type == "keypoints":
            why[(gt.num_keypoints[g] == 0) & ~gt.iscrowd[g]] = "no-keypoints"
        reason[hit] = why
    iou = np.full(n, np.nan)
    rows = np.flatnonzero(gt_row >= 0)
    if len(rows):
        iou[rows] = pair_similarity(gt, dt, iou_type, rows, gt_row[rows], masks)
    gt_status = np.full(n_gt, MISSED, np.int8)
    gt_status[gt_det >= 0] = MATCHED
    gt_status[g_ig] = GT_IGNORED
    return Verdicts(iou_thr, list(area), max_dets, status, reason, gt_row, iou,
                    gt_status, gt_det)


def _second_pass(gt: GroundTruth, dt: Detections, iou_type: str, masks: Masks | None,
                 d_sel: np.ndarray, g_sel: np.ndarray, iou_thr: float, rank: np.ndarray,
                 gt_row: np.ndarray, gt_det: np.ndarray) -> None:
    """COCOeval's match of unmatched detections to ignored ground truth, for ``d_sel``."""
    from cocoview.model.evaluation.analysis import image_pairs

    floor = min(iou_thr, 1 - 1e-10)
    cd, cg, ci = [], [], []
    for pd, pg in image_pairs(gt, dt, d_sel, g_sel):
        same = gt.category_id[pg] == dt.category_id[pd]
        pd, pg = pd[same], pg[same]
        sim = pair_similarity(gt, dt, iou_type, pd, pg, masks)
        ok = sim >= floor
        cd.append(pd[ok])
        cg.append(pg[ok])
        ci.append(sim[ok])
    if not cd:
        return
    d, g, s = np.concatenate(cd), np.concatenate(cg), np.concatenate(ci)
    # cells are independent: order detections by (image, category, score rank)
    n = len(dt)
    key = np.empty(n, np.int64)
    key[np.lexsort((rank, dt.category_id, dt.image_id))] = np.arange(n)
    md, mg = greedy_match(d, g, s, key[d], g, gt.iscrowd)
    gt_row[md] = mg
    # a crowd keeps the last detection it took (score order), as gtMatches does
    last = np.argsort(key[md], kind="stable")
    gt_det[mg[last]] = md[last]


def greedy_match(d: np.ndarray, g: np.ndarray, s: np.ndarray, det_key: np.ndarray,
                 gt_key: np.ndarray, rematchable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pycocotools' greedy assignment over candidate pairs (all at or above the floor).

    Detections in ``det_key`` order each take their best candidate ground truth
    not yet taken (a ``rematchable`` one — a crowd — never counts as taken);
    equal similarities go to the later one in ``gt_key`` order. A detection
    whose candidates nobody else wants is decided at once, vectorised; only
    the contested rest run through the loop. Returns (detections, their GT).
    """
    if not len(d):
        return d, g
    o = np.lexsort((gt_key, det_key))
    d, g, s = d[o], g[o], s[o]
    excl = rematchable[g]
    contested = ~excl
    if contested.any():
        gu, cnt = np.unique(g[contested], return_counts=True)
        shared = np.zeros(len(g), bool)
        shared[contested] = np.isin(g[contested], gu[cnt > 1])
    else:
        shared = np.zeros(len(g), bool)
    du, inv = np.unique(d, return_inverse=True)
    det_shared = np.bincount(inv, weights=shared, minlength=len(du)) > 0
    free = ~det_shared[inv]
    out_d: list[np.ndarray] = []
    out_g: list[np.ndarray] = []
    if free.any():  # best similarity, ties to the later GT: the last of (det, s, gt order)
        fd, fg, fs, fk = d[free], g[free], s[free], gt_key[o][free]
        oo = np.lexsort((fk, fs, fd))
        fd, fg = fd[oo], fg[oo]
        last = np.ones(len(fd), bool)
        last[:-1] = fd[1:] != fd[:-1]
        out_d.append(fd[last])
        out_g.append(fg[last])
    if det_shared.any():
        rest = ~free
        d_l, g_l, s_l = d[rest].tolist(), g[rest].tolist(), s[rest].tolist()
        again = set(np.flatnonzero(rematchable).tolist())
        taken: set[int] = set()
        md: list[int] = []
        mg: list[int] = []
        j, m = 0, len(d_l)
        while j < m:
            det = d_l[j]
            best_g, best = -1, -1.0
            while j < m and d_l[j] == det:
                gg = g_l[j]
                if s_l[j] >= best and (gg not in taken or gg in again):
                    best_g, best = gg, s_l[j]
                j += 1
            if best_g >= 0:
                taken.add(best_g)
                md.append(det)
                mg.append(best_g)
        out_d.append(np.asarray(md, np.int64))
        out_g.append(np.asarray(mg, np.int64))
    return np.concatenate(out_d), np.concatenate(out_g)


# ----- similarities ----------------------------------------------------------

def box_columns(bbox: np.ndarray) -> np.ndarray:
    """(x0, y0, x0 + w, y0 + h, w·h) of boxes as five contiguous rows: what the IoU reads."""
    x, y, w, h = (np.ascontiguousarray(bbox[:, k]) for k in range(4))
    return np.stack([x, y, x + w, y + h, w * h])


def box_iou_cols(dc: np.ndarray, gc: np.ndarray, pd: np.ndarray, pg: np.ndarray,
                 crowd: np.ndarray) -> np.ndarray:
    """pycocotools' box IoU of pairs (``pd[i]``, ``pg[i]``), with its operations in its
    order, over :func:`box_columns`; a crowd's union is the detection's area."""
    w = np.minimum(dc[2][pd], gc[2][pg]) - np.maximum(dc[0][pd], gc[0][pg])
    h = np.minimum(dc[3][pd], gc[3][pg]) - np.maximum(dc[1][pd], gc[1][pg])
    inter = w * h
    da = dc[4][pd]
    union = np.where(crowd, da, da + gc[4][pg] - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((w > 0) & (h > 0), inter / union, 0.0)
    return out


def pair_similarity(gt: GroundTruth, dt: Detections, iou_type: str, d_rows: np.ndarray,
                    g_rows: np.ndarray, masks: Masks | None = None) -> np.ndarray:
    """IoU (OKS for keypoints) of detection/ground-truth row pairs; crowds by detection area."""
    if iou_type == "bbox":
        return box_iou_cols(dt.box_cols, gt.box_cols, d_rows, g_rows, gt.iscrowd[g_rows])
    if iou_type == "segm":
        from cocoview.model.evaluation.analysis import pair_ious

        return pair_ious(gt, dt, iou_type, d_rows, g_rows, masks or Masks(gt, dt))
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
        self._sizes = dict(zip(gt.image_ids.tolist(), zip(
            gt.image_height.tolist(), gt.image_width.tolist(), strict=True), strict=True))

    def _rle(self, seg: Any, image_id: int) -> Any:
        h, w = self._sizes[image_id]
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
