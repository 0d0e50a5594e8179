"""TIDE error types per detection, the class-agnostic confusion matrix, P/R/F1 vs score.

hotcoco computes TIDE's ΔAP and counts, and a confusion matrix, but not which
detection is which; these are the same definitions applied per detection
(hotcoco's ``detection/tide.rs`` and ``confusion.rs``), over all
detection/ground-truth pairs of an image, vectorised. The tests hold the
counts and the matrix to hotcoco's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from cocoview.model.evaluation.engine import REC_THRS
from cocoview.model.evaluation.inputs import Detections, GroundTruth
from cocoview.model.evaluation.verdicts import (
    FP,
    GT_IGNORED,
    IGNORED,
    MISSED,
    TP,
    Masks,
    Verdicts,
    box_iou_cols,
    boxes_meet,
    cell_pairs,
    greedy_match,
    image_index,
    oks_pairs,
    ordered_by,
    stable_order,
    unique_order,
)

TIDE_TYPES = ("Loc", "Cls", "Dupe", "Bkg", "Both")
_LOC, _CLS, _DUPE, _BKG, _BOTH = range(5)


def image_pairs(gt: GroundTruth, dt: Detections, d_sel: np.ndarray, g_sel: np.ndarray,
                chunk: int = 1 << 22) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every (detection, ground truth) pair on one image, in chunks of about ``chunk`` pairs."""
    yield from cell_pairs(image_index(gt, dt.image_id) if len(dt) else np.zeros(0, np.int64),
                          image_index(gt, gt.image_id) if len(gt) else np.zeros(0, np.int64),
                          d_sel, g_sel, chunk)


def x_pairs(gt: GroundTruth, dt: Detections, chunk: int = 1 << 22
            ) -> Iterator[tuple[np.ndarray, np.ndarray]] | None:
    """The (detection, ground truth) pairs on one image whose boxes may overlap along x,
    grouped by detection row (ascending), in chunks of about ``chunk`` pairs: a superset
    of the pairs whose boxes meet, a fraction of all the image's pairs. None when some
    box is not finite (then :func:`image_pairs`).

    Each image's ground truth sorted by x0; a box of ground truth meets a detection only
    if its x0 lies in (det x0 − the image's widest GT, det x1), one contiguous run of
    that order. The bounds are widened by a relative 1e-9 (far beyond the rounding of
    the keys), so no meeting pair is lost; the exact test follows."""
    n, n_gt = len(dt), len(gt)
    if not n or not n_gt:
        return None
    dc, gc = dt.box_cols, gt.box_cols
    gx0, gx2, dx0, dx2 = gc[0], gc[2], dc[0], dc[2]
    if not (np.isfinite(gx0).all() and np.isfinite(gx2).all() and np.isfinite(dx0).all()
            and np.isfinite(dx2).all()):
        return None
    n_img = len(gt.image_ids)
    gi = image_index(gt, gt.image_id)
    di = image_index(gt, dt.image_id)
    max_w = np.zeros(n_img)
    np.maximum.at(max_w, gi, np.maximum(gx2 - gx0, 0.0))
    lo_x = min(float(gx0.min()), float(dx0.min()))
    span = max(float(gx2.max()), float(dx2.max())) - lo_x + float(max_w.max()) + 1.0
    step = 2.0 * span  # images' key ranges apart by at least a span
    order = np.argsort(gi * step + (gx0 - lo_x), kind="stable")
    g_img = gi[order]
    if (np.diff(g_img) < 0).any():  # keys too coarse to keep images apart: not expected
        return None
    keys = (gi * step + (gx0 - lo_x))[order]
    seg_lo = np.searchsorted(g_img, np.arange(n_img), "left")
    seg_hi = np.searchsorted(g_img, np.arange(n_img), "right")
    base = di * step - lo_x
    eps = 1e-9 * (base + lo_x + 3.0 * span) + 1e-9
    mw = max_w[di]
    start = np.maximum(np.searchsorted(keys, base + dx0 - mw - eps, "left"), seg_lo[di])
    end = np.minimum(np.searchsorted(keys, base + dx2 + eps, "right"), seg_hi[di])
    cnt = np.maximum(end - start, 0)
    return _expand(np.arange(n), start, cnt, order, chunk)


def _meet_y_first(dc: np.ndarray, gc: np.ndarray, pd: np.ndarray, pg: np.ndarray
                  ) -> np.ndarray:
    """``boxes_meet`` testing y first: the pairs of :func:`x_pairs` mostly meet along x."""
    sel = np.flatnonzero(np.minimum(dc[3][pd], gc[3][pg]) > np.maximum(dc[1][pd], gc[1][pg]))
    d2, g2 = pd[sel], pg[sel]
    return sel[np.minimum(dc[2][d2], gc[2][g2]) > np.maximum(dc[0][d2], gc[0][g2])]


def _expand(d_rows: np.ndarray, start: np.ndarray, cnt: np.ndarray, order: np.ndarray,
            chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Detection ``d_rows[i]`` with ``order[start[i]:start[i] + cnt[i]]``, in chunks."""
    ends = np.cumsum(cnt)
    total = int(ends[-1]) if len(ends) else 0
    lo = 0
    while lo < len(d_rows) and total:
        hi = int(np.searchsorted(ends, (int(ends[lo - 1]) if lo else 0) + chunk, "right"))
        hi = min(max(hi, lo + 1), len(d_rows))
        c = cnt[lo:hi]
        m = int(c.sum())
        if m:
            offs = np.arange(m) - np.repeat(np.cumsum(c) - c, c)
            yield np.repeat(d_rows[lo:hi], c), order[np.repeat(start[lo:hi], c) + offs]
        lo = hi


def pair_ious(gt: GroundTruth, dt: Detections, iou_type: str, pd: np.ndarray, pg: np.ndarray,
              masks: Masks | None) -> np.ndarray:
    """IoU of pairs on the same image (crowd ground truth: by the detection's area); OKS
    for keypoints."""
    if iou_type == "keypoints":  # OKS, across categories too (one set of 17 sigmas)
        return oks_pairs(gt, dt, pd, pg)
    if iou_type != "segm" or masks is None:
        return box_iou_cols(dt.box_cols, gt.box_cols, pd, pg, gt.iscrowd[pg])
    out = np.empty(len(pd))
    key = dt.image_id[pd]
    order = np.argsort(key, kind="stable")
    edges = np.flatnonzero(np.diff(key[order])) + 1
    for block in np.split(order, edges):
        if not len(block):
            continue
        ds_, dinv = np.unique(pd[block], return_inverse=True)
        gs_, ginv = np.unique(pg[block], return_inverse=True)
        mat = masks.iou(ds_.tolist(), gs_.tolist())
        out[block] = mat[dinv, ginv]
    return out


@dataclass
class Overlaps:
    """Every detection/ground-truth pair on one image that overlaps (IoU > 0; crowds by
    the detection's area; OKS for keypoints), computed once for TIDE and the confusion
    matrix; grouped by detection row, ascending."""

    d: np.ndarray
    g: np.ndarray
    iou: np.ndarray


def overlaps(gt: GroundTruth, dt: Detections, iou_type: str, masks: Masks | None) -> Overlaps:
    ds_, gs_, ious = [], [], []
    boxes = iou_type == "bbox" or (iou_type == "segm" and masks is None)
    chunk = 1 << 16 if iou_type == "keypoints" else 1 << 22  # OKS holds 17 values a pair
    pairs = x_pairs(gt, dt, chunk) if boxes else None
    meet = _meet_y_first
    if pairs is None:
        pairs = image_pairs(gt, dt, np.arange(len(dt)), np.arange(len(gt)), chunk)
        meet = boxes_meet
    for pd, pg in pairs:
        if boxes:  # most pairs on an image do not overlap: drop them before the IoU
            keep = meet(dt.box_cols, gt.box_cols, pd, pg)
            pd, pg = pd[keep], pg[keep]
        iou = pair_ious(gt, dt, iou_type, pd, pg, masks)
        keep = iou > 0
        ds_.append(pd[keep])
        gs_.append(pg[keep])
        ious.append(iou[keep])
    if not ds_:
        return Overlaps(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    return Overlaps(np.concatenate(ds_), np.concatenate(gs_), np.concatenate(ious))


@dataclass
class Tide:
    """TIDE error type of every detection ('' for none) and every missed ground truth."""

    error: np.ndarray  # per detection row: Loc | Cls | Dupe | Bkg | Both | ''
    target_gt: np.ndarray  # the ground truth row a Loc/Cls fix would recover, -1
    miss: np.ndarray  # per ground-truth row: counted as Miss
    counts: dict[str, int]
    delta_ap: dict[str, float]  # hotcoco's definitions, on a 0-1 scale
    ap_base: float


def tide(gt: GroundTruth, dt: Detections, v: Verdicts, iou_type: str, ov: Overlaps,
         delta_ap: dict[str, float] | None = None, ap_base: float | None = None,
         pos: float = 0.5, bg: float = 0.1) -> Tide:
    """TIDE types from the verdicts at IoU 0.5, area all, 100 detections (tidecv order);
    the ΔAP computed by :func:`tide_delta_ap` unless given."""
    n = len(dt)
    fp = np.flatnonzero(v.status == FP)
    same_max = np.zeros(n)
    same_arg = np.full(n, -1, np.int64)
    same_key = np.full(n, np.iinfo(np.int64).max)
    dupe = np.zeros(n, bool)
    cross_max = np.zeros(n)
    cross_arg = np.full(n, -1, np.int64)
    cross_key = np.full(n, np.iinfo(np.int64).max)
    g_ignored = gt.iscrowd | ((gt.num_keypoints == 0) if iou_type == "keypoints" else False)
    n_gt = len(gt)
    cat_slot = np.searchsorted(gt.category_ids, gt.category_id)
    gt_matched = v.gt_det_row >= 0
    sel = v.status[ov.d] == FP
    pd, pg, iou = ov.d[sel], ov.g[sel], ov.iou[sel]
    same = gt.category_id[pg] == dt.category_id[pd]
    # same class: highest IoU, ties to the first in evalImgs' order (not ignored first)
    key = g_ignored[pg].astype(np.int64) * n_gt + pg
    _best(same, pd, iou, key, same_max, same_arg, same_key, pg)
    hit = same & (iou >= pos) & gt_matched[pg]
    dupe[pd[hit]] = True
    other = ~same & ~gt.iscrowd[pg]
    _best(other, pd, iou, cat_slot[pg].astype(np.int64) * n_gt + pg, cross_max, cross_arg,
          cross_key, pg)
    err = np.full(n, -1, np.int8)
    sm, cm = same_max[fp], cross_max[fp]
    t = np.full(len(fp), _BOTH, np.int8)
    t[cm <= bg] = _BKG
    t[(cm > bg) & (cm < pos)] = _BOTH
    t[dupe[fp] & (cm < pos)] = _DUPE
    t[(cm >= pos)] = _CLS
    t[(sm >= bg) & (sm <= pos)] = _LOC
    err[fp] = t
    target = np.full(n, -1, np.int64)
    target[err == _LOC] = same_arg[err == _LOC]
    target[err == _CLS] = cross_arg[err == _CLS]
    covered = np.zeros(n_gt, bool)
    covered[target[target >= 0]] = True
    miss = (v.gt_status == 1) & ~covered
    names = np.array([*TIDE_TYPES, ""], "<U4")
    error = names[np.where(err < 0, 5, err)]
    counts = {k: int((err == i).sum()) for i, k in enumerate(TIDE_TYPES)}
    counts["Miss"] = int(miss.sum())
    if delta_ap is None or ap_base is None:
        delta_ap, ap_base = tide_delta_ap(gt, dt, v, err, target, miss)
    return Tide(error, target, miss, counts, delta_ap, ap_base)


def _ap(matched: np.ndarray, ignored: np.ndarray, n_gt: int) -> float:
    """AP at one IoU threshold of detections in rank order, as COCOeval's accumulate
    (101 recall points; a plain left-to-right sum, as hotcoco sums)."""
    if n_gt <= 0 or not len(matched):
        return 0.0
    tps = np.cumsum(matched & ~ignored, dtype=np.float64)
    fps = np.cumsum(~matched & ~ignored, dtype=np.float64)
    rc = tps / n_gt
    pr = np.maximum.accumulate((tps / (fps + tps + np.spacing(1)))[::-1])[::-1]
    inds = np.searchsorted(rc, REC_THRS, side="left")
    q = np.zeros(len(REC_THRS))
    ok = inds < len(pr)
    q[ok] = pr[inds[ok]]
    return float(np.add.accumulate(q)[-1]) / len(REC_THRS)


def _mean(values: list[float]) -> float:
    total = 0.0
    for x in values:  # left to right (Python's sum() compensates since 3.12)
        total += x
    return total / len(values) if values else 0.0


def tide_delta_ap(gt: GroundTruth, dt: Detections, v: Verdicts, err: np.ndarray,
                  target: np.ndarray, miss: np.ndarray) -> tuple[dict[str, float], float]:
    """TIDE's ΔAP per error type and the AP50 it starts from, as hotcoco 1.3's
    ``tide_errors`` computes them (equal to it bit for bit in the tests).

    Per category with ground truth: the detections of its (image, category) cells
    (the first maxDets of each) by score, ties by image id and file order; AP at
    IoU 0.5 (``v``'s setting must be 0.5, area all, default maxDets). The fixes:
    *Loc* and *Cls* — taken together by score, each recovers its target ground
    truth if no true positive and no earlier fix has it (a crowd target never):
    a Loc detection becomes a true positive where it is, a Cls detection leaves
    its category and joins the target's as a true positive; one that recovers
    nothing is dropped. *Dupe*, *Bkg*, *Both*: the detections dropped. *Miss*:
    the missed ground truth that no Loc/Cls detection targets leaves the
    denominator; *FN*: every missed one does; *FP*: every false positive dropped.
    The ΔAPs are the means over categories of fixed AP − AP.
    """
    k = len(gt.category_ids)
    d_slot = np.searchsorted(gt.category_ids, dt.category_id)
    g_slot = np.searchsorted(gt.category_ids, gt.category_id)
    img_pos = np.searchsorted(gt.image_ids[gt.image_order], dt.image_id)
    in_cell = v.reason != "maxdets"
    neg_score = -dt.score
    # Loc/Cls fixes: by score (then image, file order); the first free claim on a target
    cand = np.flatnonzero(in_cell & ((err == _LOC) | (err == _CLS)) & (target >= 0))
    cand = cand[~gt.iscrowd[target[cand]]]
    cand = cand[stable_order(img_pos[cand], neg_score[cand])]
    cand = cand[v.gt_det_row[target[cand]] < 0]
    fixed = np.zeros(len(dt), bool)
    if len(cand):
        _, first = np.unique(target[cand], return_index=True)
        fixed[cand[first]] = True
    moved = cand[fixed[cand] & (err[cand] == _CLS)]  # in rank order
    moved_slot = g_slot[target[moved]]
    rows = np.flatnonzero(in_cell)
    rank = dt.score_rank
    rows = rows[ordered_by([(d_slot[rows], k), (rank[rows], len(dt)),
                            (img_pos[rows], len(gt.image_ids))])]
    edges = np.searchsorted(d_slot[rows], np.arange(k + 1))
    counted = v.gt_status != GT_IGNORED
    n_gt = np.bincount(g_slot[counted], minlength=k)
    n_fn = np.bincount(g_slot[v.gt_status == MISSED], minlength=k)
    n_miss = np.bincount(g_slot[miss], minlength=k)
    out: dict[str, list[float]] = {key: [] for key in (*TIDE_TYPES, "FP", "FN", "Miss")}
    base_aps: list[float] = []
    for c in range(k):
        npig = int(n_gt[c])
        if npig == 0:
            continue
        r = rows[edges[c]:edges[c + 1]]
        st, e = v.status[r], err[r]
        m, ig = st == TP, st == IGNORED
        base = _ap(m, ig, npig)
        base_aps.append(base)
        loc = e == _LOC
        out["Loc"].append(_ap(m | (loc & fixed[r]), ig | (loc & ~fixed[r]), npig) - base)
        mv = moved[moved_slot == c]
        o = np.argsort(np.r_[neg_score[r], neg_score[mv]], kind="stable")
        out["Cls"].append(_ap(np.r_[m, np.ones(len(mv), bool)][o],
                              np.r_[ig | (e == _CLS), np.zeros(len(mv), bool)][o], npig) - base)
        for name, code in (("Both", _BOTH), ("Dupe", _DUPE), ("Bkg", _BKG)):
            out[name].append(_ap(m, ig | (e == code), npig) - base)
        out["FP"].append(_ap(m, ig | (e >= 0), npig) - base)
        out["FN"].append(_ap(m, ig, npig - int(n_fn[c])) - base)
        out["Miss"].append(_ap(m, ig, npig - int(n_miss[c])) - base)
    return {key: _mean(vals) for key, vals in out.items()}, _mean(base_aps)


def _best(mask: np.ndarray, pd: np.ndarray, iou: np.ndarray, key: np.ndarray,
          best: np.ndarray, arg: np.ndarray, best_key: np.ndarray, pg: np.ndarray) -> None:
    """Fold pairs (grouped by detection, as :func:`overlaps` gives them) into
    per-detection (max IoU, its ground truth): ties to the smaller key."""
    if not mask.any():
        return
    d, i, k, g = pd[mask], iou[mask], key[mask], pg[mask]
    seg = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
    top = np.maximum.reduceat(i, seg)
    lens = np.diff(np.r_[seg, len(d)])
    big = np.iinfo(np.int64).max
    kk = np.minimum.reduceat(np.where(i == np.repeat(top, lens), k, big), seg)
    pos = seg + np.minimum.reduceat(np.where((i == np.repeat(top, lens)) & (k == np.repeat(
        kk, lens)), np.arange(len(d)) - np.repeat(seg, lens), len(d)), seg)
    d, i, k, g = d[seg], top, kk, g[pos]
    better = (i > best[d]) | ((i == best[d]) & (k < best_key[d]))
    d, i, k, g = d[better], i[better], k[better], g[better]
    best[d], arg[d], best_key[d] = i, g, k


@dataclass
class Confusion:
    """Counts[gt class, detected class] with background last; each detection's cell."""

    category_ids: np.ndarray
    matrix: np.ndarray  # (K+1, K+1) int64; row = ground truth, column = detection
    dt_cell: np.ndarray  # per detection row: (row, column), (-1, -1) if beyond maxDets
    gt_cell: np.ndarray  # per ground-truth row: (row, column), (-1, -1) for crowds

    def detections(self, row: int, col: int) -> np.ndarray:
        """The detection rows counted in one cell."""
        return np.flatnonzero((self.dt_cell[:, 0] == row) & (self.dt_cell[:, 1] == col))


def confusion(gt: GroundTruth, dt: Detections, ov: Overlaps, iou_thr: float = 0.5,
              max_dets: int = 100) -> Confusion:
    """Class-agnostic greedy matching per image (hotcoco's ``confusion_matrix``)."""
    k = len(gt.category_ids)
    d_slot = np.searchsorted(gt.category_ids, dt.category_id)
    g_slot = np.searchsorted(gt.category_ids, gt.category_id)
    n = len(dt)
    # per image: category-major, then score descending (stable), at most max_dets
    d_img = image_index(gt, dt.image_id) if n else np.zeros(0, np.int64)
    by_score = ordered_by([(dt.score_rank, n), (d_slot, k)])
    score_rank = np.empty(n, np.int64)
    score_rank[by_score] = np.arange(n)
    order = unique_order(d_img, score_rank)
    img_sorted = d_img[order]
    first = np.ones(n, bool)
    first[1:] = img_sorted[1:] != img_sorted[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else np.zeros(0, int)
    rank_in_img = np.arange(n) - start
    kept = np.zeros(n, bool)
    kept[order[rank_in_img < max_dets]] = True
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    ok = kept[ov.d] & ~gt.iscrowd[ov.g] & (ov.iou >= iou_thr)
    dt_gt = np.full(n, -1, np.int64)
    if ok.any():
        cd, cg, ci = ov.d[ok], ov.g[ok], ov.iou[ok]
        # per image in matching order; GTs in category-major file order
        md, mg, _ = greedy_match(cd, cg, ci, rank[cd], g_slot[cg] * len(gt) + cg,
                                 np.zeros(len(gt), bool), d_img)
        dt_gt[md] = mg
    dt_cell = np.full((n, 2), -1, np.int64)
    dt_cell[kept, 1] = d_slot[kept]
    dt_cell[kept, 0] = np.where(dt_gt[kept] >= 0, g_slot[np.maximum(dt_gt[kept], 0)], k)
    gt_cell = np.full((len(gt), 2), -1, np.int64)
    matched_g = np.zeros(len(gt), bool)
    matched_g[dt_gt[dt_gt >= 0]] = True
    free = ~gt.iscrowd & ~matched_g
    gt_cell[free, 0] = g_slot[free]
    gt_cell[free, 1] = k
    matrix = np.zeros((k + 1, k + 1), np.int64)
    np.add.at(matrix, (dt_cell[kept, 0], dt_cell[kept, 1]), 1)
    np.add.at(matrix, (gt_cell[free, 0], gt_cell[free, 1]), 1)
    return Confusion(gt.category_ids, matrix, dt_cell, gt_cell)


@dataclass
class ScoreCurve:
    """Precision, recall and F1 if detections below each score were dropped."""

    score: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    n_gt: int


def score_curve(v: Verdicts, dt: Detections, gt: GroundTruth,
                category_id: int | None = None) -> ScoreCurve:
    """The curve at the verdicts' setting, over one category or all of them pooled."""
    sel = v.status <= FP
    gsel = v.gt_status <= 1
    if category_id is not None:
        sel &= dt.category_id == category_id
        gsel &= gt.category_id == category_id
    rows = dt.by_score[sel[dt.by_score]]  # by score descending, ties in file order
    tp = np.cumsum(v.status[rows] == TP)
    fp = np.cumsum(v.status[rows] == FP)
    n_gt = int(gsel.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = tp / np.maximum(tp + fp, 1)
        recall = tp / n_gt if n_gt else np.zeros(len(rows))
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return ScoreCurve(dt.score[rows], precision, recall, f1, n_gt)
