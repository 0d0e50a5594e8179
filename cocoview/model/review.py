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
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cocoview.model.columns import SEG_POLYGON, SEG_RLE, SEG_RLE_RAW
from cocoview.model.evaluation.analysis import ScoreCurve
from cocoview.model.evaluation.engine import AREA_RANGES
from cocoview.model.evaluation.verdicts import (
    FP,
    GT_IGNORED,
    IGNORED,
    MATCHED,
    MISSED,
    REASON_NAMES,
    TP,
)

if TYPE_CHECKING:
    from cocoview.model.compare import Comparison
    from cocoview.model.dataset import Dataset, Results
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
    "matched": Style("solid", "", (80, 160, 255), "ground truth found (no badge)"),
    "missed": Style("dash", "!", (255, 170, 0), "missed ground truth (no detection)"),
    "gt_ignored": Style("dot", "", (170, 170, 170), "ignored ground truth (crowd / area)"),
}

#: what a verdict is called in tooltips and the inspector
VERDICT_TEXT = {"tp": "true positive", "fp": "false positive", "ignored": "ignored",
                "below min score": "under the min score (not drawn)", "": "not evaluated"}

#: the view modes (what is drawn), in the order the shortcut cycles them
VIEW_MODES = ("both", "gt", "predictions", "errors")


class Review:
    """Verdicts of one evaluation by the viewer's rows (result row, annotation row)."""

    def __init__(self, ds: Dataset, ev: Evaluation, results: Results | None = None) -> None:
        """``results``: the drawn detections ``ev`` evaluated (default ``ds.results``; model
        B's when two results files are compared)."""
        self.evaluation = ev
        #: model A vs model B, when two results files are open (the app sets it)
        self.comparison: Comparison | None = None
        v, dt, gt = ev.verdicts, ev.dt, ev.gt
        m = _row_maps(ds, ev, results if results is not None else ds.results)
        self.det_row = m["det_row"]  # result row (of the results) → detection row (-1: skipped)
        self.gt_row = m["gt_row"]  # annotation row → ground-truth row (-1: not evaluated)
        self.status = v.status
        self.score = dt.score
        self.match = v.gt_row  # detection row → ground-truth row
        self.iou = v.iou
        self.reason_code = v.reason_code  # codes of verdicts.REASON_NAMES
        self.gt_status = v.gt_status
        self.gt_det = v.gt_det_row  # ground-truth row → detection row
        self.gt_ann_row = np.asarray(gt.row, np.int64)
        self.gt_ann_id = gt.ann_id
        # per detection / ground truth: the dataset's image row and the category
        self.n_images = len(ds.image_ids)
        self.det_image, self.gt_image = m["det_image"], m["gt_image"]
        self.det_category = np.asarray(dt.category_id, np.int64)
        self.result_row = m["result_row"]  # detection row → result row of ds.results (-1)
        self.gt_category = np.asarray(gt.category_id, np.int64)
        self._slots = m["d_slot"], m["g_slot"]  # category positions in the evaluation's order
        self._ds = ds
        self._maps: dict[str, Any] = m  # shared by every setting's Review of this evaluation
        self._curves: dict[int, ScoreCurve] = {}
        self._points: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        #: the last answer of each per-min-score question: kind → (min score, answer);
        #: the views ask the same at one operating point (and the worker asks first)
        self._memo: dict[str, tuple[float, object]] = {}

    def _memoised(self, kind: str, min_score: float, make: Callable[[], object]) -> object:
        got = self._memo.get(kind)
        if got is not None and got[0] == min_score:
            return got[1]
        value = make()
        self._memo[kind] = (min_score, value)
        return value

    @property
    def reason(self) -> np.ndarray:
        """Why each detection row is ignored ('' | crowd | area | maxdets | no-keypoints)."""
        return self.evaluation.verdicts.reason

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

    def verdict_at(self, result_row: int, min_score: float = 0.0) -> str:
        """The detection's verdict, "below min score" when it is not drawn there."""
        name = self.detection(result_row)
        d = int(self.det_row[result_row]) if 0 <= result_row < len(self.det_row) else -1
        if d >= 0 and not self.score[d] >= min_score:
            return "below min score"
        return name

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
    def counts(self, min_score: float = 0.0, image_row: int | None = None) -> dict[str, int]:
        """TP / FP / ignored detections and matched / missed GT at ``min_score`` (of the
        image of dataset row ``image_row`` only, if given: that image's rows alone)."""
        if image_row is None:
            got = self._memoised("counts", min_score, lambda: self._counts(min_score))
            return dict(got)  # type: ignore[call-overload]
        d, g = self.rows_of_image(image_row)
        return self._counts(min_score, d, g)

    def _counts(self, min_score: float, d: np.ndarray | None = None,
                g: np.ndarray | None = None) -> dict[str, int]:
        """The counts over detection rows ``d`` and ground-truth rows ``g`` (None: all)."""
        score = self.score if d is None else self.score[d]
        status = self.status if d is None else self.status[d]
        gs = self.gt_status if g is None else self.gt_status[g]
        gd = self.gt_det if g is None else self.gt_det[g]
        on = score >= min_score
        matched = gs == MATCHED
        ms = self._match_score() if g is None else \
            self.score[np.maximum(gd, 0)] if len(gd) and len(self.score) else np.zeros(len(gd))
        still = matched & (ms >= min_score)
        nz = np.count_nonzero
        return {"tp": int(nz(on & (status == TP))), "fp": int(nz(on & (status == FP))),
                "ignored": int(nz(on & (status == IGNORED))),
                "gt_matched": int(nz(still)),
                "gt_missed": int(nz(gs == MISSED) + nz(matched & ~still)),
                "gt_ignored": int(nz(gs == GT_IGNORED))}

    def rows_of_image(self, image_row: int) -> tuple[np.ndarray, np.ndarray]:
        """The evaluation's detection and ground-truth rows on the image of dataset row
        ``image_row``: from a grouping by image made once per evaluation (by
        :meth:`prepare`, in the worker), so one image costs two binary searches."""
        got = self._maps.get("by_image")
        if got is None:
            d_o = np.argsort(self.det_image, kind="stable")
            g_o = np.argsort(self.gt_image, kind="stable")
            got = self._maps["by_image"] = (d_o, self.det_image[d_o], g_o, self.gt_image[g_o])
        d_order, d_sorted, g_order, g_sorted = got
        d = d_order[np.searchsorted(d_sorted, image_row):
                    np.searchsorted(d_sorted, image_row, side="right")]
        g = g_order[np.searchsorted(g_sorted, image_row):
                    np.searchsorted(g_sorted, image_row, side="right")]
        return d, g

    # ----- per image (filters, sorting, thumbnails) -------------------------
    def false_positives(self, min_score: float = 0.0,
                        category_id: int | None = None) -> np.ndarray:
        """Bool per evaluated detection: a false positive at ``min_score`` (of the category).
        Of all categories: the memoised array, read-only (several views ask at once)."""
        def make() -> np.ndarray:
            sel = (self.status == FP) & (self.score >= min_score)
            sel.flags.writeable = False
            return sel

        base = self._memoised("fp_mask", min_score, make)
        assert isinstance(base, np.ndarray)
        return base if category_id is None else base & (self.det_category == category_id)

    def missed(self, min_score: float = 0.0, category_id: int | None = None) -> np.ndarray:
        """Bool per evaluated ground truth: missed at ``min_score`` (its match scores under
        it, or it has none), of the category if given (all: memoised, read-only)."""
        def make() -> np.ndarray:
            sel = (self.gt_status == MISSED) | (
                (self.gt_status == MATCHED) & (self._match_score() < min_score))
            sel.flags.writeable = False
            return sel

        base = self._memoised("missed_mask", min_score, make)
        assert isinstance(base, np.ndarray)
        return base if category_id is None else base & (self.gt_category == category_id)

    def _match_score(self) -> np.ndarray:
        """Per ground truth: the score of the detection that matched it (0: none)."""
        got = self.__dict__.get("_gt_match_score")
        if got is None:
            got = self.score[np.maximum(self.gt_det, 0)] if len(self.score) else \
                np.zeros(len(self.gt_det))
            self.__dict__["_gt_match_score"] = got
        return got

    def _per_image(self, rows: np.ndarray, sel: np.ndarray,
                   weights: np.ndarray | None = None) -> np.ndarray:
        ok = sel & (rows >= 0)
        w = None if weights is None else weights[ok]
        out = np.bincount(rows[ok], weights=w, minlength=self.n_images)
        return out if weights is not None else out.astype(np.int64)

    def per_image(self, min_score: float = 0.0) -> dict[str, np.ndarray]:
        """Per image row of the dataset: ``tp``, ``fp``, ``missed`` counts at ``min_score``
        and the ``errors`` score (the sum of its false positives' scores plus one per
        missed ground truth: a confident mistake weighs more than a doubtful one)."""
        got = self._memoised("per_image", min_score, lambda: self._per_image_all(min_score))
        return dict(got)  # type: ignore[call-overload]

    def _per_image_all(self, min_score: float) -> dict[str, np.ndarray]:
        fp = self.false_positives(min_score)
        tp = (self.status == TP) & (self.score >= min_score)
        missed = self.missed(min_score)
        k = self.n_images
        di = self.det_image
        ok = (tp | fp) & (di >= 0)  # TP and FP counted in one pass: 2·image + is FP
        both = np.bincount(di[ok] * 2 + fp[ok], minlength=2 * k).reshape(k, 2)
        n_missed = self._per_image(self.gt_image, missed)
        err = self._per_image(di, fp, np.asarray(self.score, np.float64)) + n_missed
        return {"tp": both[:, 0].astype(np.int64), "fp": both[:, 1].astype(np.int64),
                "missed": n_missed, "errors": err}

    def images_with(self, kind: str, category_id: int | None = None,
                    min_score: float = 0.0) -> np.ndarray:
        """Bool per image row: has a false positive (``kind`` "fp") or a missed ground
        truth ("missed") at ``min_score``, of ``category_id`` (None: any category)."""
        if kind == "fp":
            return self._per_image(self.det_image,
                                   self.false_positives(min_score, category_id)) > 0
        if kind == "missed":
            return self._per_image(self.gt_image, self.missed(min_score, category_id)) > 0
        raise ValueError(f"unknown error kind {kind!r} (fp or missed)")

    # ----- the evaluation dock's ways in ------------------------------------
    def category_table(self, min_score: float = 0.0) -> dict[str, np.ndarray]:
        """Per category (the evaluation's order): AP, AP50, AP75, AR@maxDets (-1: no GT),
        GT and detection counts, and the false positives and missed GT at ``min_score``."""
        got = self._memoised("table", min_score, lambda: self._category_table(min_score))
        return dict(got)  # type: ignore[call-overload]

    def _category_table(self, min_score: float) -> dict[str, np.ndarray]:
        ev = self.evaluation
        pc = ev.per_category
        cats = ev.gt.category_ids
        k = len(cats)
        d_slot, g_slot = self._slots
        fp = np.bincount(d_slot[self.false_positives(min_score)], minlength=k)
        missed = np.bincount(g_slot[self.missed(min_score)], minlength=k)
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
        fp = self.false_positives(min_score, category_id)
        miss = self.missed(min_score, category_id)
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

    def curve_points(self, category_id: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(recall, precision) of :meth:`curve` to draw: at most :data:`DRAWN_POINTS`
        points, each stretch's first, last, lowest and highest kept (recall never
        decreases, so the line looks the same at any plot size); made in the worker for
        the pooled curve (train2017's has 2.2 M points: drawing them took ~60 ms)."""
        key = -1 if category_id is None else int(category_id)
        got = self._points.get(key)
        if got is None:
            c = self.curve(category_id)
            got = self._points[key] = drawn_points(c.recall, c.precision)
        return got

    def prepare(self, min_score: float | None = None) -> Review:
        """Compute what the dock draws (TIDE, the confusion matrix, the pooled curve) —
        in the worker, so that the GUI thread only reads; with ``min_score`` (the
        operating point when the job started) also what the views ask at it: the counts,
        the per-image and per-category tables, the grouping by image."""
        ev = self.evaluation
        _ = ev.tide, ev.confusion, ev.per_category
        self.curve_points(None)
        if min_score is not None:
            self.counts(min_score)
            self.per_image(min_score)
            self.category_table(min_score)
            self.rows_of_image(0)
        return self

    # ----- one detection's candidates -----------------------------------------
    def candidates(self, result_row: int, min_iou: float = 1e-9) -> list[Candidate]:
        """The ground truth of the detection's image that its box overlaps, best IoU
        first (COCOeval's box IoU: a crowd's is intersection over the detection's area);
        the match is marked. Empty for a skipped result."""
        d = int(self.det_row[result_row]) if 0 <= result_row < len(self.det_row) else -1
        if d < 0:
            return []
        ev = self.evaluation
        gt, dt = ev.gt, ev.dt
        on = np.flatnonzero(gt.image_id == dt.image_id[d])
        if not len(on):
            return []
        box = dt.bbox[d]
        g = gt.bbox[on]
        iw = np.minimum(box[0] + box[2], g[:, 0] + g[:, 2]) - np.maximum(box[0], g[:, 0])
        ih = np.minimum(box[1] + box[3], g[:, 1] + g[:, 3]) - np.maximum(box[1], g[:, 1])
        inter = np.maximum(iw, 0) * np.maximum(ih, 0)
        crowd = np.asarray(gt.iscrowd[on], bool)
        union = np.where(crowd, box[2] * box[3], box[2] * box[3] + g[:, 2] * g[:, 3] - inter)
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = np.where(union > 0, inter / union, 0.0)
        match = int(self.match[d])
        out = []
        for k in np.argsort(-iou, kind="stable"):
            gi = int(on[k])
            if not (iou[k] >= min_iou or gi == match):
                continue
            out.append(Candidate(int(self.gt_ann_row[gi]), int(self.gt_ann_id[gi]),
                                 int(gt.category_id[gi]), float(iou[k]), bool(crowd[k]),
                                 GT_VERDICTS[int(self.gt_status[gi])], gi == match))
        return out


#: the most points a drawn PR curve has (:meth:`Review.curve_points`)
DRAWN_POINTS = 4000


def drawn_points(x: np.ndarray, y: np.ndarray, most: int = DRAWN_POINTS
                 ) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` of the points (``x`` not decreasing): in ``most // 4`` equal
    stretches, each one's first, last, lowest and highest point, in order."""
    n = len(x)
    if n <= most:
        return np.asarray(x, np.float64), np.asarray(y, np.float64)
    k = most // 4
    edges = np.linspace(0, n, k + 1).astype(np.int64)
    width = int(np.diff(edges).max())
    idx = np.minimum(edges[:-1, None] + np.arange(width), edges[1:, None] - 1)
    vals = y[idx]  # each stretch padded with its own last point
    keep = np.concatenate([edges[:-1], edges[1:] - 1,
                           idx[np.arange(k), vals.argmin(axis=1)],
                           idx[np.arange(k), vals.argmax(axis=1)]])
    keep = np.unique(keep)
    return np.asarray(x[keep], np.float64), np.asarray(y[keep], np.float64)


def _ref(x: object) -> Callable[[], object]:
    """A weak reference to ``x`` (None: one that gives None)."""
    return weakref.ref(x) if x is not None else lambda: None


def _row_maps(ds: Dataset, ev: Evaluation, res: Results | None) -> dict[str, np.ndarray]:
    """The evaluation's rows against the dataset's (result rows of ``res``, the drawn
    detections ``ev`` evaluated; annotation rows, image rows, category positions): the
    same at every IoU threshold and area range, so kept with the evaluation's
    detections, which :func:`at_setting` shares."""
    dt, gt = ev.dt, ev.gt
    got = dt.__dict__.get("_review_maps")
    if got is not None and got[0]() is ds and got[1]() is res:
        return got[2]
    n_res = len(res) if res is not None else 0
    by_index = np.full(max(dt.n_results, 1), -1, np.int64)
    by_index[dt.result_index] = np.arange(len(dt))
    if n_res:
        ordinal = np.asarray(res.anns.ordinal, np.int64)  # type: ignore[union-attr]
        ok = (ordinal >= 0) & (ordinal < len(by_index))
        det_row = np.where(ok, by_index[np.clip(ordinal, 0, len(by_index) - 1)], -1)
    else:
        det_row = np.empty(0, np.int64)
    gt_row = np.full(len(ds.anns), -1, np.int64)
    gt_row[gt.row] = np.arange(len(gt))
    result_row = np.full(len(dt), -1, np.int64)
    drawn = np.flatnonzero(det_row >= 0)
    result_row[det_row[drawn]] = drawn
    cats = gt.category_ids
    out = {"det_row": det_row, "gt_row": gt_row, "result_row": result_row,
           "det_image": ds.image_rows(dt.image_id) if len(dt) else np.empty(0, np.int64),
           "gt_image": ds.image_rows(gt.image_id) if len(gt) else np.empty(0, np.int64),
           "d_slot": np.searchsorted(cats, dt.category_id),
           "g_slot": np.searchsorted(cats, gt.category_id)}
    dt.__dict__["_review_maps"] = (weakref.ref(ds), _ref(res), out)
    return out


@dataclass(frozen=True)
class Candidate:
    """A ground truth a detection overlaps (``Review.candidates``)."""

    ann_row: int
    ann_id: int
    category_id: int
    iou: float  # box IoU (for a crowd: intersection over the detection's area)
    crowd: bool
    verdict: str  # the ground truth's own: matched / missed / ignored (at min score 0)
    is_match: bool  # the one COCOeval gave the detection to


#: TIDE's error types in words ({o}: the overlap, IoU or OKS)
TIDE_TEXT = {
    "Loc": "localisation error: the right class, {o} 0.1–0.5 with a GT",
    "Cls": "classification error: {o} ≥ 0.5 with a GT of another class",
    "Dupe": "duplicate: its GT was already found by a higher score",
    "Bkg": "background: {o} ≤ 0.1 with every GT",
    "Both": "localisation and classification error: another class, {o} 0.1–0.5",
    "Miss": "miss: no detection targets it, not even a mislocalised or misclassified one",
}


def tide_line(rv: Review, result_row: int = -1, ann_row: int = -1) -> str:
    """``TIDE: …`` for a false positive's error type or a missed GT ("" : none). TIDE
    types hold at IoU 0.5 (area all), whatever the verdicts' threshold."""
    ev = rv.evaluation
    if result_row >= 0:
        d = int(rv.det_row[result_row]) if result_row < len(rv.det_row) else -1
        kind = str(ev.tide.error[d]) if d >= 0 else ""
    else:
        g = int(rv.gt_row[ann_row]) if 0 <= ann_row < len(rv.gt_row) else -1
        kind = "Miss" if g >= 0 and bool(ev.tide.miss[g]) else ""
    if not kind:
        return ""
    o = "OKS" if ev.iou_type == "keypoints" else "IoU"
    at = "" if (ev.iou_thr, ev.area) == (0.5, "all") else f" (TIDE is at {o} 0.5, area all)"
    return f"TIDE {kind} — {TIDE_TEXT[kind].format(o=o)}{at}"


def ground_truth_tooltip(rv: Review, ann_row: int, min_score: float = 0.0) -> str:
    """The review's lines of a ground truth's hover text: its verdict and TIDE type."""
    v = rv.ground_truth(ann_row, min_score)
    if not v:
        return ""
    tide = tide_line(rv, ann_row=ann_row)
    return f"ground truth: {v}" + (f"\n{tide}" if tide else "")


def detection_tooltip(rv: Review, result_row: int, label: str, score: float,
                      min_score: float = 0.0) -> str:
    """Hover text of a detection: its score, verdict (and TIDE type), matched GT and IoU."""
    verdict = rv.verdict_at(result_row, min_score)
    lines = [f"{label}  (detection)", f"score {score:.3f}",
             VERDICT_TEXT.get(verdict, verdict) + _reason(rv, result_row)]
    tide = tide_line(rv, result_row)
    if tide:
        lines.append(tide)
    _row, gt_id, iou = rv.match_of(result_row)
    if gt_id >= 0:
        lines.append(f"matched GT #{gt_id}, IoU {iou:.2f}")
    elif verdict == "fp":
        best = next((c for c in rv.candidates(result_row)), None)
        lines.append(f"best overlap GT #{best.ann_id}, IoU {best.iou:.2f}"
                     + _why_not(rv, result_row, best) if best else "overlaps no ground truth")
    return "\n".join(lines)


def detection_list_text(rv: Review | None, result_row: int, min_score: float = 0.0) -> str:
    """A detection's verdict as the inspector's list shows it, after its name and score:
    "✓ TP → GT #12", "✗ FP · Bkg", "– ignored (crowd)" ("" : no evaluation)."""
    if rv is None:
        return ""
    verdict = rv.verdict_at(result_row, min_score)
    style = STYLES.get(verdict)
    if style is None:
        return VERDICT_TEXT.get(verdict, verdict)
    text = f"{style.badge} {verdict.upper() if verdict != 'ignored' else verdict}"
    _row, gt_id, _iou = rv.match_of(result_row)
    if verdict == "tp" and gt_id >= 0:
        return f"{text} → GT #{gt_id}"
    if verdict == "fp":
        d = int(rv.det_row[result_row])
        kind = str(rv.evaluation.tide.error[d]) if d >= 0 else ""
        return f"{text} · {kind}" if kind else text
    return text + _reason(rv, result_row)


def _why_not(rv: Review, result_row: int, c: Candidate) -> str:
    """Why a detection did not get the candidate: another class, too little overlap, or
    taken by a higher-scoring detection (a duplicate)."""
    d = int(rv.det_row[result_row])
    if c.is_match:
        return ""
    if c.category_id != int(rv.det_category[d]):
        return " — another category"
    if c.iou < rv.evaluation.iou_thr:
        return " — under the IoU threshold"
    g = int(rv.gt_row[c.ann_row]) if 0 <= c.ann_row < len(rv.gt_row) else -1
    if g >= 0 and int(rv.gt_det[g]) >= 0:
        return " — already matched by a higher score (duplicate)"
    return ""


def _reason(rv: Review, result_row: int) -> str:
    d = int(rv.det_row[result_row]) if 0 <= result_row < len(rv.det_row) else -1
    why = REASON_NAMES[int(rv.reason_code[d])] if d >= 0 else ""
    return f" ({why})" if why else ""


def detection_props(ds: Dataset, rv: Review | None, result_row: int,
                    min_score: float = 0.0) -> list[tuple[str, str, str]]:
    """The inspector's rows for a detection: key, value, tooltip (Qt-free)."""
    res = ds.results
    if res is None or not 0 <= result_row < len(res):
        return []
    a = res.anns
    cid = int(a.category_id[result_row])
    try:
        cname = ds.category(cid).name
    except KeyError:
        cname = "unknown"
    out = [("category", f"{cname} ({cid})", ""),
           ("score", f"{float(a.score[result_row]):.4f}", "")]
    x, y, w, h = (float(v) for v in a.bbox[result_row])
    out.append(("bbox", f"[{x:g}, {y:g}, {w:g}, {h:g}]", "x, y, width, height"))
    if rv is None:
        out.append(("verdict", "no evaluation (yet)", ""))
        return out
    verdict = rv.verdict_at(result_row, min_score)
    out.append(("verdict", VERDICT_TEXT.get(verdict, verdict) + _reason(rv, result_row),
                f"bbox evaluation at IoU {rv.evaluation.iou_thr:.2f}"))
    tide = tide_line(rv, result_row)
    if tide:
        out.append(("TIDE error", tide.removeprefix("TIDE "), "TIDE's error type (IoU 0.5)"))
    _row, gt_id, iou = rv.match_of(result_row)
    out.append(("match", f"GT #{gt_id}, IoU {iou:.3f}" if gt_id >= 0 else "none", ""))
    for c in rv.candidates(result_row):
        if c.is_match:
            continue
        try:
            name = ds.category(c.category_id).name
        except KeyError:
            name = str(c.category_id)
        out.append(("candidate", f"GT #{c.ann_id} {name}, IoU {c.iou:.3f}"
                    + (" (crowd)" if c.crowd else "") + _why_not(rv, result_row, c),
                    f"that ground truth is {c.verdict}"))
    return out


def ground_truth_props(rv: Review, ann_row: int,
                       min_score: float = 0.0) -> list[tuple[str, str, str]]:
    """The inspector's review rows for a ground truth: its verdict at the min score and
    the detection that found it (key, value, tooltip)."""
    verdict = rv.ground_truth(ann_row, min_score)
    if not verdict:
        return [("verdict", "not evaluated", "not in the evaluation (e.g. another image)")]
    out = [("verdict", {"matched": "found", "missed": "missed",
                        "ignored": "ignored (crowd / area)"}[verdict],
            f"bbox evaluation at IoU {rv.evaluation.iou_thr:.2f}, min score {min_score:.2f}")]
    tide = tide_line(rv, ann_row=ann_row)
    if tide:
        out.append(("TIDE error", tide.removeprefix("TIDE "), "TIDE's error type (IoU 0.5)"))
    g = int(rv.gt_row[ann_row])
    d = int(rv.gt_det[g])
    if d >= 0:
        under = "" if rv.score[d] >= min_score else " — under the min score"
        out.append(("found by", f"detection, score {float(rv.score[d]):.3f}, "
                                f"IoU {float(rv.iou[d]):.3f}{under}",
                    "double-click to select that detection"))
    return out


def found_by(rv: Review, ann_row: int) -> int:
    """The result row of the detection that matched the ground truth (-1: none)."""
    g = int(rv.gt_row[ann_row]) if 0 <= ann_row < len(rv.gt_row) else -1
    d = int(rv.gt_det[g]) if g >= 0 else -1
    return int(rv.result_row[d]) if d >= 0 else -1


def gt_id_in(text: str) -> int | None:
    """The annotation id an inspector value names ("GT #id …"), for a double-click."""
    import re

    m = re.match(r"GT #(-?\d+)", text)
    return int(m.group(1)) if m else None

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
