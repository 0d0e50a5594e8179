"""Every detection's and every ground truth's verdict, as pycocotools' ``evalImgs`` has it.

Computed here, not taken from hotcoco: the similarities of the detection /
ground-truth pairs of each (image, category) cell, vectorised, then
COCOeval's greedy assignment in its two passes (regular ground truth first,
then the ignored ones: crowds any number of times, out-of-range ones once),
detections in stable score order, cut at maxDets. (hotcoco's ``eval_imgs``
costs 0.9 s of conversion on val2017 and its ``image_diagnostics`` 4–7 s on
train2017; this costs a fraction of either.) The tests compare every verdict
with pycocotools'.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from cocoview.model.evaluation.inputs import Detections, GroundTruth

TP, FP, IGNORED, SKIPPED = 0, 1, 2, 3
STATUS_NAMES = ("tp", "fp", "ignored", "skipped")
MATCHED, MISSED, GT_IGNORED = 0, 1, 2
GT_STATUS_NAMES = ("matched", "missed", "ignored")
#: why a detection is ignored (or not a false positive): codes into REASON_NAMES
NO_REASON, CROWD, AREA, MAXDETS, NO_KEYPOINTS = 0, 1, 2, 3, 4
REASON_NAMES = ("", "crowd", "area", "maxdets", "no-keypoints")


@dataclass
class Verdicts:
    """Per-detection and per-ground-truth outcomes at one (IoU, area, maxDets) setting."""

    iou_thr: float
    area: list[float]
    max_dets: int
    status: np.ndarray  # per detection row: TP / FP / IGNORED
    #: per detection row: a code of REASON_NAMES (int8: a new setting's verdicts cross
    #: from the evaluation process in a sixth of the bytes of the strings)
    reason_code: np.ndarray
    gt_row: np.ndarray  # matched ground-truth row, -1
    iou: np.ndarray  # IoU (OKS) with gt_row, NaN
    gt_status: np.ndarray  # per ground-truth row: MATCHED / MISSED / GT_IGNORED
    gt_det_row: np.ndarray  # detection row that matched it, -1

    @property
    def reason(self) -> np.ndarray:
        """'' | crowd | area | maxdets | no-keypoints per detection row (made on use)."""
        got = self.__dict__.get("_reason")
        if got is None:
            got = self.__dict__["_reason"] = np.array(REASON_NAMES, "<U12")[self.reason_code]
        return got

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_reason"}


def image_index(gt: GroundTruth, ids: np.ndarray) -> np.ndarray:
    """Positions in ``gt.image_ids`` of image ids (all known)."""
    return _index_of(gt.image_ids, gt.image_order, ids)


def _index_of(keys: np.ndarray, order: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions in ``keys`` (unique; ``order`` sorts them) of ``ids`` (all present): by a
    lookup table when the keys are dense enough, else by binary search."""
    if not len(keys):
        return np.zeros(len(ids), np.int64)
    lo, hi = int(keys[order[0]]), int(keys[order[-1]])
    if hi - lo <= 8 * len(keys) + 4096:
        table = np.zeros(hi - lo + 1, np.int64)
        table[keys - lo] = np.arange(len(keys))
        return table[ids - lo]
    return order[np.searchsorted(keys[order], ids)]


def unique_order(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """The order by (major, minor) of non-negative integer pairs that are all distinct:
    one unstable sort of a combined key (faster than stable sorts), else lexsort."""
    n = len(major)
    if not n:
        return np.zeros(0, np.int64)
    span = int(minor.max()) + 1
    if int(major.max()) < (1 << 62) // span:
        return np.argsort(major.astype(np.int64) * span + minor)
    return np.lexsort((minor, major))


def cell_pairs(d_key: np.ndarray, g_key: np.ndarray, d_sel: np.ndarray, g_sel: np.ndarray,
               chunk: int = 1 << 22) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every (detection, ground truth) pair of ``d_sel`` × ``g_sel`` with equal keys
    (``d_key[d] == g_key[g]``), in chunks of about ``chunk`` pairs; the ground truth
    of one key in row order."""
    if not len(d_sel) or not len(g_sel):
        return
    gk = g_key[g_sel]
    order = np.argsort(gk, kind="stable")
    g_sorted = g_sel[order]
    uniq, start, cnt = np.unique(gk[order], return_index=True, return_counts=True)
    dk = d_key[d_sel]
    pos = np.minimum(np.searchsorted(uniq, dk), len(uniq) - 1)
    found = uniq[pos] == dk
    d_sel, pos = d_sel[found], pos[found]
    per = cnt[pos]
    if not len(per):
        return
    ends = np.cumsum(per)
    bounds = np.searchsorted(ends, np.arange(chunk, int(ends[-1]) + chunk, chunk))
    lo = 0
    for hi in [*np.unique(bounds).tolist(), len(d_sel)]:
        hi = min(int(hi) + 1, len(d_sel))
        if hi <= lo:
            continue
        c = per[lo:hi]
        total = int(c.sum())
        if total:
            pd = np.repeat(d_sel[lo:hi], c)
            first = np.repeat(start[pos[lo:hi]], c)
            offs = np.arange(total) - np.repeat(np.cumsum(c) - c, c)
            yield pd, g_sorted[first + offs]
        lo = hi


def cell_keys(gt: GroundTruth, dt: Detections) -> tuple[np.ndarray, np.ndarray]:
    """(image, category) cell numbers of detections and ground truth."""
    k = max(len(gt.category_ids), 1)
    cats = gt.category_ids  # sorted
    d = image_index(gt, dt.image_id) * k + _index_of(cats, np.arange(len(cats)), dt.category_id)
    g = image_index(gt, gt.image_id) * k + _index_of(cats, np.arange(len(cats)), gt.category_id)
    return d, g


def stable_order(*keys: np.ndarray) -> np.ndarray:
    """``np.lexsort(keys)`` (last key primary, ties in row order), as successive stable
    sorts of gathered keys: several times faster than lexsort on millions of rows."""
    n = len(keys[0])
    o = np.arange(n)
    for k in keys:
        o = o[np.argsort(k[o], kind="stable")]
    return o


def ordered_by(keys: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """``stable_order`` of non-negative integer keys given as (values, bound), first key
    primary, ties in row order: one stable sort of a combined key when it fits."""
    total = 1
    for _, bound in keys:
        total *= max(int(bound), 1)
    if total < 1 << 62:
        combined = np.zeros(len(keys[0][0]), np.int64)
        for values, bound in keys:
            combined = combined * max(int(bound), 1) + values
        return np.argsort(combined, kind="stable")
    return stable_order(*[values for values, _ in reversed(keys)])


def cell_order(d_cell: np.ndarray, by_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Detections by (cell, score descending, file order) — pycocotools' stable sort per
    (image, category) — and each one's rank within its cell (the maxDets cut keeps
    ranks below maxDets); ``by_score``: the detections by score descending, stably."""
    n = len(d_cell)
    score_rank = np.empty(n, np.int64)
    score_rank[by_score] = np.arange(n)
    order = unique_order(d_cell, score_rank)
    cell_sorted = d_cell[order]
    first = np.ones(n, bool)
    first[1:] = cell_sorted[1:] != cell_sorted[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else first
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - start
    return order, rank


def gt_ignored(gt: GroundTruth, iou_type: str, area: list[float]) -> np.ndarray:
    """pycocotools' ``gtIgnore``: crowds, outside the area range, keypoints without any."""
    g_ig = gt.iscrowd | (gt.area < area[0]) | (gt.area > area[1])
    if iou_type == "keypoints":
        g_ig = g_ig | (gt.num_keypoints == 0)
    return g_ig


def verdicts(gt: GroundTruth, dt: Detections, iou_type: str, iou_thr: float,
             area: list[float], max_dets: int, masks: Masks | None = None,
             cache: dict[int, tuple[np.ndarray, ...]] | None = None
             ) -> Verdicts:
    """Verdicts at one IoU threshold, area range and maxDets, as COCOeval's ``evaluateImg``.

    Per (image, category): detections by stable score sort, the first maxDets
    kept; each takes the regular ground truth of highest similarity (at least
    the threshold, ties to the later one) not yet taken; failing that, an
    ignored one the same way (a crowd is never used up). A detection matched
    to an ignored ground truth is ignored; an unmatched one outside the area
    range too; the other unmatched ones are false positives.

    ``cache`` (by maxDets) keeps the candidate pairs of similarity > 0, which do
    not depend on the threshold or the area range: another setting then costs
    only the matching.
    """
    n, n_gt = len(dt), len(gt)
    floor = min(iou_thr, 1 - 1e-10)
    reuse = cache is not None and floor > 0
    got = cache.get(max_dets) if reuse and cache is not None else None
    if got is None:
        d_cell, g_cell = cell_keys(gt, dt)
        order, rank = cell_order(d_cell, dt.by_score)
        # cells are independent: detections by (cell, score rank)
        key = np.empty(n, np.int64)
        key[order] = np.arange(n)
        d, g, s = _candidates(gt, dt, iou_type, d_cell, g_cell, rank < max_dets, floor, masks)
        o = unique_order(key[d], g)  # the matching's order: every subset keeps it
        got = (d_cell, rank, key, d[o], g[o], s[o])
        if reuse and cache is not None:
            cache[max_dets] = got
    d_cell, rank, key, d, g, s = got
    if floor > 0:  # the candidates hold every pair above 0
        ok = s >= floor
        d, g, s = d[ok], g[ok], s[ok]
    kept = rank < max_dets
    g_ig = gt_ignored(gt, iou_type, area)
    gt_row = np.full(n, -1, np.int64)
    iou = np.full(n, np.nan)
    gt_det = np.full(n_gt, -1, np.int64)
    first = ~g_ig[g]
    md, mg, ms = greedy_match(d[first], g[first], s[first], key[d[first]], g[first],
                              np.zeros(n_gt, bool), d_cell, presorted=True)
    gt_row[md], iou[md], gt_det[mg] = mg, ms, md
    status = np.full(n, IGNORED, np.int8)
    status[md] = TP
    second = ~first & (gt_row[d] < 0)
    md2, mg2, ms2 = greedy_match(d[second], g[second], s[second], key[d[second]],
                                 g[second], gt.iscrowd, d_cell, presorted=True)
    gt_row[md2], iou[md2] = mg2, ms2
    last = np.argsort(key[md2], kind="stable")  # a crowd keeps the last detection it took
    gt_det[mg2[last]] = md2[last]
    reason = np.zeros(n, np.int8)
    reason[~kept] = MAXDETS
    why = np.where(gt.iscrowd[mg2], CROWD, AREA).astype(np.int8)
    if iou_type == "keypoints":
        why[(gt.num_keypoints[mg2] == 0) & ~gt.iscrowd[mg2]] = NO_KEYPOINTS
    reason[md2] = why
    free = kept & (gt_row < 0)
    d_area = detection_area(dt, iou_type, masks, area)
    out = free & ((d_area < area[0]) | (d_area > area[1]))
    reason[out] = AREA
    status[free & ~out] = FP
    gt_status = np.full(n_gt, MISSED, np.int8)
    gt_status[gt_det >= 0] = MATCHED
    gt_status[g_ig] = GT_IGNORED
    return Verdicts(iou_thr, list(area), max_dets, status, reason, gt_row, iou,
                    gt_status, gt_det)


def seed_pairs(cache: dict[int, tuple[np.ndarray, ...]], gt: GroundTruth, dt: Detections,
               max_dets: int, d: np.ndarray, g: np.ndarray, s: np.ndarray) -> None:
    """Fill ``cache[max_dets]`` (see :func:`verdicts`) from pairs already computed: every
    pair on an image with similarity > 0, by the same similarity function
    (``analysis.overlaps``). Its same-cell pairs among each cell's first maxDets are
    exactly the candidates :func:`verdicts` would compute: one pair pass, not two."""
    n = len(dt)
    d_cell, g_cell = cell_keys(gt, dt)
    order, rank = cell_order(d_cell, dt.by_score)
    key = np.empty(n, np.int64)
    key[order] = np.arange(n)
    sel = np.flatnonzero(d_cell[d] == g_cell[g])
    sel = sel[rank[d[sel]] < max_dets]
    d, g, s = d[sel], g[sel], s[sel]
    o = unique_order(key[d], g)
    cache[max_dets] = (d_cell, rank, key, d[o], g[o], s[o])


def _candidates(gt: GroundTruth, dt: Detections, iou_type: str, d_cell: np.ndarray,
                g_cell: np.ndarray, kept: np.ndarray, floor: float, masks: Masks | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (detection, ground truth, similarity) pairs of each cell at or above ``floor``
    (above 0 when ``floor`` is: what the cache holds)."""
    cd, cg, cs = [], [], []
    for pd, pg in cell_pairs(d_cell, g_cell, np.flatnonzero(kept), np.arange(len(gt))):
        if iou_type == "bbox" and floor > 0:  # boxes that do not meet have IoU 0
            meet = boxes_meet(dt.box_cols, gt.box_cols, pd, pg)
            pd, pg = pd[meet], pg[meet]
        sim = pair_similarity(gt, dt, iou_type, pd, pg, masks)
        ok = (sim > 0) if floor > 0 else (sim >= floor)
        cd.append(pd[ok])
        cg.append(pg[ok])
        cs.append(sim[ok])
    d = np.concatenate(cd) if cd else np.zeros(0, np.int64)
    g = np.concatenate(cg) if cg else np.zeros(0, np.int64)
    s = np.concatenate(cs) if cs else np.zeros(0)
    return d, g, s


def detection_area(dt: Detections, iou_type: str, masks: Masks | None,
                   area: list[float]) -> np.ndarray:
    """The area ``loadRes`` gives each result: w·h if the first result has a box, else the
    mask's area (segm) or the keypoints' extent (keypoints)."""
    if iou_type == "bbox" or dt.first_has_bbox:
        return dt.bbox[:, 2] * dt.bbox[:, 3]
    if iou_type == "keypoints":
        k = dt.kp_array
        x, y = k[:, 0::3], k[:, 1::3]
        return (x.max(axis=1) - x.min(axis=1)) * (y.max(axis=1) - y.min(axis=1))
    if area == [0.0, 1e5 ** 2] or not len(dt):  # no mask is larger than 1e10 pixels
        return np.zeros(len(dt))
    assert masks is not None
    return masks.dt_areas()


def greedy_match(d: np.ndarray, g: np.ndarray, s: np.ndarray, det_key: np.ndarray,
                 gt_key: np.ndarray, rematchable: np.ndarray, group: np.ndarray,
                 presorted: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pycocotools' greedy assignment over candidate pairs (all at or above the floor).

    Detections in ``det_key`` order each take their best candidate ground truth
    not yet taken (a ``rematchable`` one — a crowd — never counts as taken);
    equal similarities go to the later one in ``gt_key`` order. ``group`` (per
    detection row: its cell or image) parts the pairs into independent sets,
    each contiguous in ``det_key`` order. A detection whose candidates nobody
    else wants is decided at once; the contested rest step by step. Returns
    (detections, their GT, the similarities). ``presorted``: the pairs are already
    in (``det_key``, ``gt_key``) order.
    """
    if not len(d):
        return d, g, s
    if not presorted:
        o = unique_order(det_key, gt_key)  # a (detection, ground truth) pair occurs once
        d, g, s = d[o], g[o], s[o]
    contested = ~rematchable[g]
    shared = contested & (np.bincount(g[contested], minlength=int(g.max()) + 1)[g] > 1)
    det_shared = np.bincount(d, weights=shared, minlength=int(d.max()) + 1) > 0
    free = ~det_shared[d]
    out_d: list[np.ndarray] = []
    out_g: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    if free.any():  # best similarity, ties to the later GT: each detection's pairs are
        # together, in GT order, so the last of its best
        fd, fg, fs = d[free], g[free], s[free]
        seg = np.flatnonzero(np.r_[True, fd[1:] != fd[:-1]])
        best = np.maximum.reduceat(fs, seg)
        at = np.where(fs == np.repeat(best, np.diff(np.r_[seg, len(fd)])),
                      np.arange(len(fd)), -1)
        pick = np.maximum.reduceat(at, seg)
        out_d.append(fd[pick])
        out_g.append(fg[pick])
        out_s.append(fs[pick])
    if det_shared.any():
        rest = ~free
        md, mg, ms = _greedy_steps(d[rest], g[rest], s[rest], rematchable, group)
        out_d.append(md)
        out_g.append(mg)
        out_s.append(ms)
    return np.concatenate(out_d), np.concatenate(out_g), np.concatenate(out_s)


def _greedy_steps(d: np.ndarray, g: np.ndarray, s: np.ndarray, rematchable: np.ndarray,
                  group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sequential rule over pairs sorted by (detection order, GT order), run for all
    groups at once: step r decides every group's r-th detection. Groups (cells or
    images) share no ground truth, and the detection order keeps each group together."""
    starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
    dets = d[starts]
    counts = np.diff(np.r_[starts, len(d)])
    grp = group[dets]
    first = np.r_[True, grp[1:] != grp[:-1]]
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(dets)), 0))
    rank = np.arange(len(dets)) - run_start
    taken = np.zeros(len(rematchable), bool)
    out_d: list[np.ndarray] = []
    out_g: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    by_rank = np.argsort(rank, kind="stable")
    edges = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2))
    for r in range(len(edges) - 1):
        sel = by_rank[edges[r]:edges[r + 1]]  # one detection per group, in detection order
        c = counts[sel]
        idx = np.repeat(starts[sel] - np.cumsum(c) + c, c) + np.arange(int(c.sum()))
        gg = g[idx]
        idx = idx[~taken[gg] | rematchable[gg]]
        if not len(idx):
            continue
        pd, pg, ps = d[idx], g[idx], s[idx]
        seg = np.flatnonzero(np.r_[True, pd[1:] != pd[:-1]])
        best = np.maximum.reduceat(ps, seg)
        at = np.where(ps == np.repeat(best, np.diff(np.r_[seg, len(pd)])),
                      np.arange(len(pd)), -1)
        pick = np.maximum.reduceat(at, seg)  # the last of the best: ties to the later GT
        taken[pg[pick]] = True
        out_d.append(pd[pick])
        out_g.append(pg[pick])
        out_s.append(ps[pick])
    if not out_d:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_d), np.concatenate(out_g), np.concatenate(out_s)


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


def boxes_meet(dc: np.ndarray, gc: np.ndarray, pd: np.ndarray, pg: np.ndarray) -> np.ndarray:
    """Which pairs' boxes overlap with positive width and height (the IoU's own test)."""
    sel = np.flatnonzero(np.minimum(dc[2][pd], gc[2][pg]) > np.maximum(dc[0][pd], gc[0][pg]))
    d2, g2 = pd[sel], pg[sel]
    return sel[np.minimum(dc[3][d2], gc[3][g2]) > np.maximum(dc[1][d2], gc[1][g2])]


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
    """pycocotools' computeOks for pairs, vectorised with its operations in its order
    (each pair's sum over its visible keypoints, or all 17 if none is visible)."""
    out = np.empty(len(d_rows))
    if not len(d_rows):
        return out
    gk, dk = gt.kp_array[g_rows], dt.kp_array[d_rows]
    xg, yg, vg = gk[:, 0::3], gk[:, 1::3], gk[:, 2::3]
    xd, yd = dk[:, 0::3], dk[:, 1::3]
    vis = vg > 0
    k1 = np.count_nonzero(vis, axis=1)
    bb = gt.bbox[g_rows]
    x0, x1 = (bb[:, 0] - bb[:, 2])[:, None], (bb[:, 0] + bb[:, 2] * 2)[:, None]
    y0, y1 = (bb[:, 1] - bb[:, 3])[:, None], (bb[:, 1] + bb[:, 3] * 2)[:, None]
    z = np.zeros_like(xd)
    dx = np.where(k1[:, None] > 0, xd - xg, np.maximum(z, x0 - xd) + np.maximum(z, xd - x1))
    dy = np.where(k1[:, None] > 0, yd - yg, np.maximum(z, y0 - yd) + np.maximum(z, yd - y1))
    var = (SIGMAS * 2) ** 2
    e = (dx ** 2 + dy ** 2) / var / (gt.area[g_rows] + np.spacing(1))[:, None] / 2
    ex = np.exp(-e)
    none = k1 == 0
    out[none] = np.sum(ex[none], axis=1) / ex.shape[1]
    for k in np.unique(k1[~none]).tolist():  # equal lengths: numpy sums each row as alone
        rows = np.flatnonzero(k1 == k)
        out[rows] = np.sum(ex[rows][vis[rows]].reshape(len(rows), k), axis=1) / k
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

    def dt_areas(self) -> np.ndarray:
        """Every detection's mask area (``loadRes`` without boxes)."""
        return np.asarray(self._m.area([self.dt_rle(d) for d in range(len(self.dt))]),
                          np.float64).reshape(len(self.dt))

    def iou(self, d_rows: list[int], g_rows: list[int], crowd: bool | None = None) -> np.ndarray:
        """(len(d_rows), len(g_rows)) mask IoU; crowd columns use the detection's area."""
        if not d_rows or not g_rows:
            return np.zeros((len(d_rows), len(g_rows)))
        flags = [bool(self.gt.iscrowd[g]) if crowd is None else crowd for g in g_rows]
        out = self._m.iou([self.dt_rle(d) for d in d_rows], [self.gt_rle(g) for g in g_rows],
                          flags)
        return np.asarray(out, np.float64).reshape(len(d_rows), len(g_rows))
