"""Two results files against one ground truth (model A vs model B), without Qt.

One definition of "which verdicts differ", shared by ``cocoview eval`` (its
``differences``), the image filter (``ImageFilter.compare``, ``cocoview export
--compare``) and the evaluation dock:

- a ground truth is **found only by A** when A's evaluation matched it (with a
  detection scoring at least the min score) and B's missed it (no match, or a match
  under the min score) — ignored ground truth (crowd, area) counts for neither;
- an image **differs** when its true-positive or false-positive counts differ.

"A right, B wrong" is an image with a ground truth found only by A. Both evaluations
must be of the same ground truth at the same IoU type and setting (their ground-truth
tables then list the same annotations in the same order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cocoview.model.evaluation.verdicts import FP, MATCHED, MISSED, TP

if TYPE_CHECKING:
    from cocoview.model.evaluation import Evaluation

#: ``ImageFilter.compare`` values: A found GT that B missed, the reverse, other counts
COMPARE_KINDS = ("a", "b", "differ")
#: no operating point: every detection counts (what ``cocoview eval`` compares)
NO_MIN = float("-inf")


class Comparison:
    """Model A's and model B's evaluations of one ground truth, side by side."""

    def __init__(self, a: Evaluation, b: Evaluation, names: tuple[str, str] = ("A", "B")) \
            -> None:
        if len(a.gt) != len(b.gt) or not np.array_equal(a.gt.ann_id, b.gt.ann_id):
            raise ValueError("the two evaluations are not of the same ground truth")
        if a.iou_type != b.iou_type:
            raise ValueError(f"the two evaluations compare different things "
                             f"({a.iou_type} and {b.iou_type})")
        self.a, self.b, self.names = a, b, names

    def _pair(self, which: str) -> tuple[Evaluation, Evaluation]:
        if which == "a":
            return self.a, self.b
        if which == "b":
            return self.b, self.a
        raise ValueError(f"which must be 'a' or 'b', not {which!r}")

    @staticmethod
    def found(ev: Evaluation, min_score: float = NO_MIN) -> np.ndarray:
        """Per ground-truth row: matched by a detection scoring ≥ ``min_score``."""
        v = ev.verdicts
        det = np.maximum(v.gt_det_row, 0)
        score = ev.dt.score[det] if len(ev.dt) else np.zeros(len(det))
        return (v.gt_status == MATCHED) & (score >= min_score)

    @staticmethod
    def missed(ev: Evaluation, min_score: float = NO_MIN) -> np.ndarray:
        """Per ground-truth row: not ignored and not found at ``min_score``."""
        st = ev.verdicts.gt_status
        return ((st == MISSED) | (st == MATCHED)) & ~Comparison.found(ev, min_score)

    def gt_only(self, which: str, min_score: float = NO_MIN) -> np.ndarray:
        """Per ground-truth row: found by model ``which`` ("a" / "b"), missed by the other."""
        one, other = self._pair(which)
        return self.found(one, min_score) & self.missed(other, min_score)

    def per_image(self, min_score: float = NO_MIN) -> dict[str, np.ndarray]:
        """Per image of the ground truth (``image_id``, file order): each model's TP and FP
        counts at ``min_score``."""
        gt = self.a.gt
        order = np.argsort(gt.image_ids, kind="stable")
        sorted_ids = gt.image_ids[order]
        n = len(sorted_ids)

        def count(ev: Evaluation, status: int) -> np.ndarray:
            sel = (ev.verdicts.status == status) & (ev.dt.score >= min_score)
            ids = ev.dt.image_id[sel]
            pos = np.searchsorted(sorted_ids, ids)
            ok = pos < n
            ok[ok] = sorted_ids[pos[ok]] == ids[ok]
            return np.bincount(order[pos[ok]], minlength=n)

        return {"image_id": gt.image_ids, "tp_a": count(self.a, TP), "tp_b": count(self.b, TP),
                "fp_a": count(self.a, FP), "fp_b": count(self.b, FP)}

    def image_ids(self, kind: str, min_score: float = NO_MIN) -> np.ndarray:
        """Image ids (sorted, unique) of one kind of difference: ``"a"`` (a ground truth
        found only by A), ``"b"`` (only by B), ``"differ"`` (other TP or FP counts)."""
        if kind == "differ":
            p = self.per_image(min_score)
            sel = (p["tp_a"] != p["tp_b"]) | (p["fp_a"] != p["fp_b"])
            return np.unique(p["image_id"][sel]).astype(np.int64)
        if kind not in ("a", "b"):
            raise ValueError(f"unknown comparison {kind!r} (one of {', '.join(COMPARE_KINDS)})")
        return np.unique(self.a.gt.image_id[self.gt_only(kind, min_score)]).astype(np.int64)

    def differences(self, a_name: str = "", b_name: str = "", min_score: float = NO_MIN) -> \
            dict[str, Any]:
        """What ``cocoview eval --json`` prints for two results files."""
        gt = self.a.gt
        p = self.per_image(min_score)
        sel = (p["tp_a"] != p["tp_b"]) | (p["fp_a"] != p["fp_b"])
        return {"a": a_name or self.names[0], "b": b_name or self.names[1],
                "gt_matched_only_by_a": gt.ann_id[self.gt_only("a", min_score)].tolist(),
                "gt_matched_only_by_b": gt.ann_id[self.gt_only("b", min_score)].tolist(),
                "images_with_other_counts": [
                    {"image_id": int(i), "tp": [int(x), int(y)], "fp": [int(f), int(g)]}
                    for i, x, y, f, g in zip(p["image_id"][sel], p["tp_a"][sel],
                                             p["tp_b"][sel], p["fp_a"][sel], p["fp_b"][sel],
                                             strict=True)]}

    def per_category(self) -> dict[str, np.ndarray]:
        """Per category (the evaluations' order, ``category_id``): AP and AP50 of A and B
        and B − A (``ap_a``, ``ap_b``, ``ap_delta``, ``ap50_a``, …; -1 / NaN: no GT)."""
        out: dict[str, np.ndarray] = {
            "category_id": np.asarray(self.a.gt.category_ids, np.int64)}
        for key in ("ap", "ap50"):
            x = np.array([r[key] for r in self.a.per_category], np.float64)
            y = np.array([r[key] for r in self.b.per_category], np.float64)
            out[f"{key}_a"], out[f"{key}_b"] = x, y
            out[f"{key}_delta"] = np.where((x > -1) & (y > -1), y - x, np.nan)
        return out

    def stats_rows(self) -> list[tuple[str, float, float]]:
        """The summary's numbers side by side: (short name, A, B), in ``stats`` order."""
        names = KEYPOINT_STATS if self.a.iou_type == "keypoints" else BOX_STATS
        return [(n, float(x), float(y))
                for n, x, y in zip(names, self.a.stats, self.b.stats, strict=True)]

    def summary_lines(self) -> list[str]:
        """The 12 (10) numbers of both models and B − A, one line each, then which file
        is A and which B."""
        rows = self.stats_rows()
        width = max(len(r[0]) for r in rows)

        def f(v: float) -> str:
            return f"{v:7.3f}" if v > -1 else f"{'-':>7}"

        out = [f"{'':<{width}}  {'A':>7} {'B':>7} {'Δ (B−A)':>8}"]
        for label, x, y in rows:
            d = f"{y - x:+8.3f}" if x > -1 and y > -1 else f"{'-':>8}"
            out.append(f"{label:<{width}}  {f(x)} {f(y)} {d}")
        return [*out, "", f"A: {self.names[0]}", f"B: {self.names[1]}"]


def short_summary(ev: Evaluation) -> list[str]:
    """The 12 (10) numbers, one short line each ("AP50      0.817"): what a narrow pane
    can show (pycocotools' own lines are ~85 characters wide)."""
    names = KEYPOINT_STATS if ev.iou_type == "keypoints" else BOX_STATS
    width = max(len(n) for n in names)
    return [f"{n:<{width}}  " + (f"{v:.3f}" if v > -1 else "-")
            for n, v in zip(names, ev.stats.tolist(), strict=True)]


#: short names of ``COCOeval.stats`` (pycocotools' summary lines, in order)
BOX_STATS = ("AP", "AP50", "AP75", "AP small", "AP medium", "AP large", "AR@1", "AR@10",
             "AR@100", "AR small", "AR medium", "AR large")
KEYPOINT_STATS = ("AP", "AP50", "AP75", "AP medium", "AP large", "AR", "AR50", "AR75",
                  "AR medium", "AR large")
