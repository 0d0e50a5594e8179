"""The :class:`Evaluation` object: every table of one results file against the ground truth."""

from __future__ import annotations

import contextlib
import gc
import math
import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from cocoview.model.errors import CocoFormatError, Problem
from cocoview.model.evaluation import analysis, engine, inputs
from cocoview.model.evaluation.verdicts import (
    GT_STATUS_NAMES,
    STATUS_NAMES,
    Masks,
    Verdicts,
    seed_pairs,
    verdicts,
)


class Evaluation:
    """COCOeval's numbers plus every detection's verdict, TIDE errors and a confusion matrix.

    Made by :meth:`cocoview.Dataset.evaluate`. ``stats`` is ``COCOeval.stats``;
    ``precision`` / ``recall`` / ``scores`` are ``COCOeval.eval``'s arrays
    (T×R×K×A×M, T×K×A×M); the verdicts hold at ``iou_thr`` / ``area`` /
    ``max_dets``. TIDE and the confusion matrix are computed on first use.
    """

    def __init__(self, gt: inputs.GroundTruth, dt: inputs.Detections, iou_type: str,
                 iou_thr: float = 0.5, area: str = "all", max_dets: int | None = None) -> None:
        if area not in engine.AREA_RANGES:
            raise ValueError(f"area must be one of {', '.join(engine.AREA_RANGES)}")
        if not 0.0 <= iou_thr <= 1.0 or math.isnan(iou_thr):
            raise ValueError("the IoU threshold must lie in [0, 1]")
        self.gt, self.dt, self.iou_type = gt, dt, iou_type
        self.iou_thr, self.area = float(iou_thr), area
        self.max_dets = int(max_dets if max_dets is not None else engine.MAX_DETS[iou_type][-1])
        if self.max_dets < 1:
            raise ValueError("max_dets must be at least 1")
        self._gt_c = engine.gt_coco(gt, iou_type)
        self._dt_c = engine.dt_coco(self._gt_c, dt, iou_type)
        # hotcoco's evaluate + accumulate release the GIL: they run beside the verdicts
        # (and whatever the caller asks next); the first read of a number waits for them
        self._hot = _Background(engine.run, self._gt_c, self._dt_c, iou_type)
        #: the same-cell candidate pairs of the verdicts, by maxDets (any IoU / area)
        self._pairs: dict[int, tuple[np.ndarray, ...]] = {}
        self._overlaps  # noqa: B018 - TIDE and the confusion matrix need them; the verdicts'
        # pairs are taken from them (a copy without them, e.g. portable(), pairs afresh)
        self.verdicts = self._verdicts(self.iou_thr, engine.AREA_RANGES[area], self.max_dets)
        self.problems: list[Problem] = [*gt.problems, *dt.problems]

    def _verdicts(self, thr: float, area: list[float], max_dets: int) -> Verdicts:
        if thr > 0 and max_dets not in self._pairs and "_overlaps" in self.__dict__:
            # the same-cell pairs are a subset of the all-class overlaps TIDE and the
            # confusion matrix need anyway: taken from them, not computed a second time
            ov = self._overlaps
            seed_pairs(self._pairs, self.gt, self.dt, max_dets, ov.d, ov.g, ov.iou)
        return verdicts(self.gt, self.dt, self.iou_type, thr, area, max_dets, self._masks,
                        self._pairs)

    # ----- hotcoco's numbers (computed in the background) ----------------
    @cached_property
    def _main(self) -> Any:
        """hotcoco's evaluated and accumulated ``COCOeval``."""
        return self._hot.result()

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ev = self._main.eval  # a new dict at each read
        return (np.asarray(ev["precision"]), np.asarray(ev["recall"]),
                np.asarray(ev["scores"]))

    @property
    def precision(self) -> np.ndarray:
        """``COCOeval.eval["precision"]`` (T×R×K×A×M)."""
        return self._arrays[0]

    @property
    def recall(self) -> np.ndarray:
        """``COCOeval.eval["recall"]`` (T×K×A×M)."""
        return self._arrays[1]

    @property
    def scores(self) -> np.ndarray:
        """``COCOeval.eval["scores"]`` (T×R×K×A×M)."""
        return self._arrays[2]

    @cached_property
    def stats(self) -> np.ndarray:
        """``COCOeval.stats``: the 12 numbers (10 for keypoints)."""
        return engine.summary_stats(self.precision, self.recall, self.iou_type)

    # ----- summaries ----------------------------------------------------
    def summary_lines(self) -> list[str]:
        """pycocotools' printed summary (12 lines, 10 for keypoints)."""
        return engine.summary_lines(self.stats, self.iou_type)

    @cached_property
    def per_category(self) -> list[dict[str, Any]]:
        """Per category: AP, AP50, AP75, AR@maxDets (area all), GT and detection counts."""
        p, r = self.precision, self.recall
        m = p.shape[4] - 1
        out = []
        n_gt = np.bincount(np.searchsorted(self.gt.category_ids, self.gt.category_id[
            ~self.gt.iscrowd]), minlength=len(self.gt.category_ids))
        n_dt = np.bincount(np.searchsorted(self.gt.category_ids, self.dt.category_id),
                           minlength=len(self.gt.category_ids))
        t50 = np.where(engine.IOU_THRS == .5)[0]
        t75 = np.where(engine.IOU_THRS == .75)[0]

        def mean(s: np.ndarray) -> float:
            s = s[s > -1]
            return float(np.mean(s)) if len(s) else -1.0

        for k, (cid, name) in enumerate(zip(self.gt.category_ids.tolist(),
                                            self.gt.category_names, strict=True)):
            out.append({"category_id": cid, "name": name, "ap": mean(p[:, :, k, 0, m]),
                        "ap50": mean(p[t50, :, k, 0, m]), "ap75": mean(p[t75, :, k, 0, m]),
                        "ar100": mean(r[:, k, 0, m]), "gt": int(n_gt[k]),
                        "detections": int(n_dt[k])})
        return out

    def score_curve(self, category_id: int | None = None) -> analysis.ScoreCurve:
        """Precision / recall / F1 against the score threshold at the verdicts' setting."""
        return analysis.score_curve(self.verdicts, self.dt, self.gt, category_id)

    # ----- TIDE and confusion -------------------------------------------
    @cached_property
    def _masks(self) -> Masks | None:
        return Masks(self.gt, self.dt) if self.iou_type == "segm" else None

    @cached_property
    def _overlaps(self) -> analysis.Overlaps:
        return analysis.overlaps(self.gt, self.dt, self.iou_type, self._masks)

    @cached_property
    def tide(self) -> analysis.Tide:
        """TIDE error types (IoU — OKS for keypoints — 0.5 / 0.1, area all, default maxDets)."""
        md = engine.MAX_DETS[self.iou_type][-1]
        v = self.verdicts
        if (v.iou_thr, v.area, v.max_dets) != (0.5, engine.AREA_RANGES["all"], md):
            v = self._verdicts(0.5, engine.AREA_RANGES["all"], md)
        return analysis.tide(self.gt, self.dt, v, self.iou_type, self._overlaps)

    @cached_property
    def confusion(self) -> analysis.Confusion:
        """Class-agnostic confusion matrix at IoU (OKS for keypoints) 0.5 with background."""
        return analysis.confusion(self.gt, self.dt, self._overlaps,
                                  max_dets=engine.MAX_DETS[self.iou_type][-1])

    # ----- tables -------------------------------------------------------
    def detections_table(self) -> dict[str, np.ndarray]:
        """One row per result in the file (skipped ones too), by ``result_index``."""
        v, dt = self.verdicts, self.dt
        n = dt.n_results
        status = np.full(n, "skipped", "<U7")
        reason = np.full(n, "", "<U16")
        reason[dt.skipped_index] = dt.skipped_reason
        ri = dt.result_index
        status[ri] = np.array(STATUS_NAMES)[v.status]
        reason[ri] = v.reason
        image_id = np.full(n, -1, np.int64)
        category_id = np.full(n, -1, np.int64)
        score = np.full(n, np.nan)
        gt_id = np.full(n, -1, np.int64)
        iou = np.full(n, np.nan)
        error = np.full(n, "", "<U4")
        image_id[ri], category_id[ri], score[ri] = dt.image_id, dt.category_id, dt.score
        si = dt.skipped_index
        image_id[si], category_id[si], score[si] = (dt.skipped_image_id, dt.skipped_category_id,
                                                    dt.skipped_score)
        hit = v.gt_row >= 0
        gt_id[ri[hit]] = self.gt.ann_id[v.gt_row[hit]]
        iou[ri] = v.iou
        error[ri] = self.tide.error
        return {"result_index": np.arange(n), "image_id": image_id, "category_id": category_id,
                "score": score, "status": status, "reason": reason,
                "gt_id": gt_id, "iou": iou, "error": error}

    def ground_truth_table(self) -> dict[str, np.ndarray]:
        """One row per evaluated ground-truth annotation."""
        v, gt = self.verdicts, self.gt
        det = v.gt_det_row
        ri = np.where(det >= 0, self.dt.result_index[np.maximum(det, 0)], -1)
        miss = self.tide.miss
        return {"id": gt.ann_id, "image_id": gt.image_id, "category_id": gt.category_id,
                "status": np.array(GT_STATUS_NAMES)[v.gt_status],
                "result_index": ri,
                "error": np.where(miss, "Miss", "")}

    def per_image_table(self) -> dict[str, np.ndarray]:
        """Per image (file order): true and false positives, missed and ignored GT."""
        gt, dt, v = self.gt, self.dt, self.verdicts
        order = np.argsort(gt.image_ids, kind="stable")
        sorted_ids = gt.image_ids[order]
        n = len(sorted_ids)

        def count(ids: np.ndarray, sel: np.ndarray) -> np.ndarray:
            rows = order[np.searchsorted(sorted_ids, ids[sel])] if n else ids[sel]
            return np.bincount(rows, minlength=n)

        return {"image_id": gt.image_ids, "tp": count(dt.image_id, v.status == 0),
                "fp": count(dt.image_id, v.status == 1),
                "gt_missed": count(gt.image_id, v.gt_status == 1),
                "gt_matched": count(gt.image_id, v.gt_status == 0)}

    def to_json(self, per_category: bool = True) -> dict[str, Any]:
        t = self.tide
        out: dict[str, Any] = {
            "iou_type": self.iou_type,
            "stats": self.stats.tolist(),
            "results": {"total": self.dt.n_results, "evaluated": len(self.dt),
                        "skipped": len(self.dt.skipped_index)},
            "verdicts": {"iou_thr": self.iou_thr, "area": self.area,
                         "max_dets": self.max_dets, **self.verdict_counts()},
            "problems": [p.to_dict() for p in self.problems],
            "tide": {
                "counts": t.counts, "delta_ap": {k: 100 * v for k, v in t.delta_ap.items()},
                "ap50": 100 * t.ap_base},
        }
        if per_category:
            out["per_category"] = self.per_category
        return out

    def verdict_counts(self) -> dict[str, int]:
        v = self.verdicts
        return {"tp": int((v.status == 0).sum()), "fp": int((v.status == 1).sum()),
                "ignored": int((v.status == 2).sum()),
                "gt_matched": int((v.gt_status == 0).sum()),
                "gt_missed": int((v.gt_status == 1).sum()),
                "gt_ignored": int((v.gt_status == 2).sum())}


class _Background:
    """``fn(*args)`` in a daemon thread; :meth:`result` waits for it (and re-raises)."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self._out: list[Any] = []
        self._exc: list[BaseException] = []

        def run() -> None:
            try:
                self._out.append(fn(*args))
            except BaseException as exc:  # re-raised by result()
                self._exc.append(exc)

        self._thread = threading.Thread(target=run, name="hotcoco", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        if self._exc:
            raise self._exc[0]
        return self._out[0]


def load_records(ds: Any, results: Any, iou_type: str) -> tuple[list[Any], str]:
    """Decoded result records from ``results`` (None: the attached file; a path; a list;
    an already indexed results file, ``FileIndex``)."""
    geometry = iou_type != "bbox"
    if results is None:
        res = getattr(ds, "results", None)
        if res is None:
            raise ValueError("no results to evaluate: open the dataset with results=… or "
                             "pass results to evaluate()")
        return inputs.decode_records(res.file, geometry), str(res.file.path)
    from cocoview.model.file_index import FileIndex

    if isinstance(results, FileIndex):  # already indexed (the app's model B)
        return inputs.decode_records(results, geometry), str(results.path)
    if isinstance(results, (str, Path)):
        from cocoview.model.loader import load_file
        from cocoview.model.source import read_bytes

        data = read_bytes(results)
        if data[:1] == b"[" or data.lstrip()[:1] == b"[":  # the usual file: one decode
            recs = inputs.decode_array(bytes(data), geometry)
            if recs is not None:
                return recs, str(results)
        del data
        f = load_file(results)
        if not f.is_list and f.kind != "results":
            raise CocoFormatError(f.path, "not a results file (expected a JSON list of "
                                  "detections)", 0)
        return inputs.decode_records(f, geometry), str(f.path)
    if isinstance(results, (list, tuple)):
        return [inputs.from_object(r, geometry) for r in results], "results"
    raise TypeError("results must be None, a path or a list of result dicts")


def _same(gt: inputs.GroundTruth) -> inputs.GroundTruth:
    return gt


def evaluate(ds: Any, results: Any = None, iou_type: str = "bbox", iou_thr: float = 0.5,
             area: str = "all", max_dets: int | None = None) -> Evaluation:
    """Evaluate ``results`` against ``ds`` (see :meth:`cocoview.Dataset.evaluate`)."""
    if iou_type not in inputs.IOU_TYPES:
        raise ValueError(f"iou_type must be one of {', '.join(inputs.IOU_TYPES)}")
    with _gc_paused():  # millions of small records: the cyclic GC would double the time
        gt = inputs.ground_truth(ds, iou_type)
        gt = getattr(ds, "edited_ground_truth", _same)(gt)  # an edited view's (issue 17)
        records, source = load_records(ds, results, iou_type)
        dt = inputs.detections(records, gt, iou_type, source)
        del records
        return Evaluation(gt, dt, iou_type, iou_thr, area, max_dets)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
