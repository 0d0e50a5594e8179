"""The verdict of every drawn item, at the operating point (min score), without Qt.

An :class:`Evaluation` holds one verdict per evaluated detection and ground truth
(COCOeval's matching at one IoU threshold). The viewer draws detections by their
row in ``ds.results`` and ground truth by annotation row; :class:`Review` maps
both onto the evaluation's rows and applies the min score.

The min score is exact, not an approximation: COCOeval matches greedily in score
order, so dropping the detections under a threshold changes no match of those
above it (nor their maxDets rank). A detection under the min score is not drawn;
a ground truth whose match scores under it is *missed* at that operating point.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cocoview.model.columns import SEG_POLYGON, SEG_RLE, SEG_RLE_RAW
from cocoview.model.evaluation.analysis import ScoreCurve
from cocoview.model.evaluation.engine import AREA_RANGES
from cocoview.model.evaluation.verdicts import FP, GT_IGNORED, IGNORED, MATCHED, MISSED, TP

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset
    from cocoview.model.evaluation import Evaluation

#: verdict names of a detection and of a ground truth ("" : not evaluated)
DET_VERDICTS = ("tp", "fp", "ignored")
GT_VERDICTS = ("matched", "missed", "ignored")


@dataclass(frozen=True)
class Style:
    """How a verdict is drawn: not by colour alone (a line style and a badge too)."""

    pen: str  # "solid" | "dash" | "dot"
    badge: str  # a short mark drawn at the box's corner ("" none)
    color: tuple[int, int, int]  # the outline's colour (the category colour fills)
    legend: str


#: one entry per verdict; the canvas, the legend and the tests read these
STYLES: dict[str, Style] = {
    "tp": Style("solid", "✓", (60, 200, 90), "true positive (detection matched a GT)"),
    "fp": Style("dash", "✗", (240, 60, 50), "false positive (no GT at the IoU threshold)"),
    "ignored": Style("dot", "–", (170, 170, 170),
                     "ignored detection (crowd, area range or maxDets)"),
    "matched": Style("solid", "", (60, 200, 90), "ground truth found"),
    "missed": Style("dash", "!", (255, 170, 0), "missed ground truth (no detection)"),
    "gt_ignored": Style("dot", "", (170, 170, 170), "ignored ground truth (crowd / area)"),
}

#: the view modes (what is drawn), in the order the shortcut cycles them
VIEW_MODES = ("both", "gt", "predictions", "errors")


class Review:
    """Verdicts of one evaluation by the viewer's rows (result row, annotation row)."""

    def __init__(self, ds: Dataset, ev: Evaluation) -> None:
        self.evaluation = ev
        v, dt, gt = ev.verdicts, ev.dt, ev.gt
        n_res = len(ds.results) if ds.results is not None else 0
        # result row (ds.results) → evaluated detection row (-1: skipped)
        by_index = np.full(max(dt.n_results, 1), -1, np.int64)
        by_index[dt.result_index] = np.arange(len(dt))
        if n_res:
            ordinal = np.asarray(ds.results.anns.ordinal, np.int64)  # type: ignore[union-attr]
            ok = (ordinal >= 0) & (ordinal < len(by_index))
            self.det_row = np.where(ok, by_index[np.clip(ordinal, 0, len(by_index) - 1)], -1)
        else:
            self.det_row = np.empty(0, np.int64)
        # annotation row → ground-truth row (-1: not evaluated)
        self.gt_row = np.full(len(ds.anns), -1, np.int64)
        self.gt_row[gt.row] = np.arange(len(gt))
        self.status = v.status
        self.score = dt.score
        self.match = v.gt_row  # detection row → ground-truth row
        self.iou = v.iou
        self.reason = v.reason
        self.gt_status = v.gt_status
        self.gt_det = v.gt_det_row  # ground-truth row → detection row
        self.gt_ann_row = np.asarray(gt.row, np.int64)
        self.gt_ann_id = gt.ann_id
        self._curves: dict[int, ScoreCurve] = {}

    # ----- one item -------------------------------------------------------
    def detection(self, result_row: int) -> str:
        """"tp" / "fp" / "ignored", or "" (not evaluated: a skipped result)."""
        d = int(self.det_row[result_row]) if 0 <= result_row < len(self.det_row) else -1
        return DET_VERDICTS[int(self.status[d])] if d >= 0 else ""

    def ground_truth(self, ann_row: int, min_score: float = 0.0) -> str:
        """"matched" / "missed" / "ignored" at ``min_score`` ("" : not evaluated)."""
        g = int(self.gt_row[ann_row]) if 0 <= ann_row < len(self.gt_row) else -1
        if g < 0:
            return ""
        s = int(self.gt_status[g])
        if s == MATCHED and not self.score[self.gt_det[g]] >= min_score:
            s = MISSED
        return GT_VERDICTS[s]

    def match_of(self, result_row: int) -> tuple[int, int, float]:
        """(annotation row, annotation id, IoU) the detection matched; (-1, -1, nan)."""
        d = int(self.det_row[result_row]) if 0 <= result_row < len(self.det_row) else -1
        if d < 0 or self.match[d] < 0:
            return -1, -1, float("nan")
        g = int(self.match[d])
        return int(self.gt_ann_row[g]), int(self.gt_ann_id[g]), float(self.iou[d])

    def style(self, result_row: int = -1, ann_row: int = -1, min_score: float = 0.0) -> \
            Style | None:
        """The style of a detection (``result_row``) or a ground truth (``ann_row``)."""
        if result_row >= 0:
            name = self.detection(result_row)
        else:
            name = self.ground_truth(ann_row, min_score)
            name = "gt_ignored" if name == "ignored" else name
        return STYLES.get(name) if name else None

    def is_error(self, result_row: int = -1, ann_row: int = -1,
                 min_score: float = 0.0) -> bool:
        """A false positive or a missed ground truth (the "errors only" view)."""
        if result_row >= 0:
            return self.detection(result_row) == "fp"
        return self.ground_truth(ann_row, min_score) == "missed"

    # ----- counts -----------------------------------------------------------
    def counts(self, min_score: float = 0.0) -> dict[str, int]:
        """TP / FP / ignored detections and matched / missed GT at ``min_score``."""
        on = self.score >= min_score
        matched = self.gt_status == MATCHED
        det = np.maximum(self.gt_det, 0)
        still = matched & (self.score[det] >= min_score) if len(det) else matched
        return {"tp": int((on & (self.status == TP)).sum()),
                "fp": int((on & (self.status == FP)).sum()),
                "ignored": int((on & (self.status == IGNORED)).sum()),
                "gt_matched": int(still.sum()),
                "gt_missed": int((self.gt_status == MISSED).sum() + (matched & ~still).sum()),
                "gt_ignored": int((self.gt_status == GT_IGNORED).sum())}

    # ----- the evaluation dock's ways in ------------------------------------
    def _gt_missed(self, min_score: float) -> np.ndarray:
        """Per ground-truth row: missed at ``min_score`` (its match scores under it)."""
        matched = self.gt_status == MATCHED
        det = np.maximum(self.gt_det, 0)
        low = matched & ~(self.score[det] >= min_score) if len(det) else matched
        return (self.gt_status == MISSED) | low

    def category_table(self, min_score: float = 0.0) -> dict[str, np.ndarray]:
        """Per category (the evaluation's order): AP, AP50, AP75, AR@maxDets (-1: no GT),
        GT and detection counts, and the false positives and missed GT at ``min_score``."""
        ev = self.evaluation
        pc = ev.per_category
        cats = ev.gt.category_ids
        k = len(cats)
        on = self.score >= min_score
        d_slot = np.searchsorted(cats, ev.dt.category_id)
        g_slot = np.searchsorted(cats, ev.gt.category_id)
        fp = np.bincount(d_slot[on & (self.status == FP)], minlength=k)
        missed = np.bincount(g_slot[self._gt_missed(min_score)], minlength=k)
        out: dict[str, np.ndarray] = {
            "category_id": np.asarray(cats, np.int64),
            "name": np.array([str(r["name"]) for r in pc], dtype=object),
        }
        for key in ("ap", "ap50", "ap75", "ar100"):
            out[key] = np.array([r[key] for r in pc], np.float64)
        out["gt"] = np.array([r["gt"] for r in pc], np.int64)
        out["detections"] = np.array([r["detections"] for r in pc], np.int64)
        out["fp"], out["missed"] = fp[:k].astype(np.int64), missed[:k].astype(np.int64)
        return out

    def images_with_category_errors(self, category_id: int, min_score: float = 0.0) -> \
            np.ndarray:
        """Image ids (sorted) with a false positive or a missed ground truth of one
        category at ``min_score``."""
        ev = self.evaluation
        fp = (self.status == FP) & (self.score >= min_score) & (ev.dt.category_id == category_id)
        miss = self._gt_missed(min_score) & (ev.gt.category_id == category_id)
        return np.union1d(ev.dt.image_id[fp], ev.gt.image_id[miss]).astype(np.int64)

    def images_of_cell(self, row: int, col: int) -> np.ndarray:
        """Image ids (sorted) of the detections — and, in the background column, the
        missed ground truth — counted in one confusion-matrix cell (row = GT class,
        column = detected class, background last)."""
        ev = self.evaluation
        c = ev.confusion
        d = c.detections(row, col)
        g = np.flatnonzero((c.gt_cell[:, 0] == row) & (c.gt_cell[:, 1] == col))
        return np.union1d(ev.dt.image_id[d], ev.gt.image_id[g]).astype(np.int64)

    def confusion_view(self) -> tuple[np.ndarray, np.ndarray]:
        """The confusion matrix without the classes that have neither ground truth nor
        detections in it: (the kept row/column indices of the full matrix, background
        last and always kept; the matrix at those rows and columns)."""
        m = self.evaluation.confusion.matrix
        used = (m.sum(axis=0) + m.sum(axis=1)) > 0
        used[-1] = True
        keep = np.flatnonzero(used)
        return keep, m[np.ix_(keep, keep)]

    def images_with_error(self, kind: str) -> np.ndarray:
        """Image ids (sorted) with a TIDE error of ``kind`` (Loc, Cls, Dupe, Bkg, Both,
        Miss; FP: any of the first five; FN: Miss)."""
        ev = self.evaluation
        t = ev.tide
        if kind in ("Miss", "FN"):
            return np.unique(ev.gt.image_id[t.miss]).astype(np.int64)
        sel = t.error != "" if kind == "FP" else t.error == kind
        return np.unique(ev.dt.image_id[sel]).astype(np.int64)

    def curve(self, category_id: int | None = None) -> ScoreCurve:
        """Precision / recall / F1 against the score (pooled over all categories: None)."""
        key = -1 if category_id is None else int(category_id)
        got = self._curves.get(key)
        if got is None:
            got = self._curves[key] = self.evaluation.score_curve(category_id)
        return got

    def prepare(self) -> Review:
        """Compute what the dock draws (TIDE, the confusion matrix, the pooled curve) —
        in the worker, so that the GUI thread only reads."""
        ev = self.evaluation
        _ = ev.tide, ev.confusion, ev.per_category
        self.curve(None)
        return self


def operating_point(curve: ScoreCurve, min_score: float) -> tuple[float, float, float, int]:
    """(precision, recall, F1, index in the curve) when detections under ``min_score``
    are dropped; index -1 (and precision NaN) when none is left."""
    n = int(np.searchsorted(-curve.score, -min_score, side="right"))  # score >= min_score
    if n == 0:
        return float("nan"), 0.0, 0.0, -1
    i = n - 1
    return float(curve.precision[i]), float(curve.recall[i]), float(curve.f1[i]), i


def score_near(curve: ScoreCurve, recall: float, precision: float) -> float | None:
    """The score threshold of the curve's point nearest to (recall, precision)."""
    if not len(curve.score):
        return None
    d = (curve.recall - recall) ** 2 + (curve.precision - precision) ** 2
    return float(curve.score[int(np.argmin(d))])


def iou_types(ds: Dataset) -> tuple[str, ...]:
    """The IoU types the open results support: bbox (boxes), segm (masks), keypoints."""
    res = ds.results
    if res is None or not len(res):
        return ()
    a = res.anns
    out = []
    if np.isfinite(np.asarray(a.bbox, np.float64)).all(axis=1).any():
        out.append("bbox")
    if np.isin(a.seg_kind, (SEG_POLYGON, SEG_RLE, SEG_RLE_RAW)).any():
        out.append("segm")
    if (np.asarray(a.kp_len) > 0).any():
        out.append("keypoints")
    return tuple(out)


def at_setting(ev: Evaluation, iou_thr: float, area: str) -> Evaluation:
    """The same evaluation with its verdicts at another IoU threshold / area range (the
    stats, TIDE and the confusion matrix do not depend on them and are shared)."""
    if area not in AREA_RANGES:
        raise ValueError(f"area must be one of {', '.join(AREA_RANGES)}")
    if not 0.0 <= iou_thr <= 1.0:
        raise ValueError("the IoU threshold must lie in [0, 1]")
    if (float(iou_thr), area) == (ev.iou_thr, ev.area):
        return ev
    out = copy.copy(ev)
    out.iou_thr, out.area = float(iou_thr), area
    out.verdicts = ev._verdicts(float(iou_thr), AREA_RANGES[area], ev.max_dets)
    return out
