"""The evaluation's speed machinery changes no number (issue 13): verdicts at another
setting from the cached candidate pairs, hotcoco in a background thread."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from cocoview.model.review import at_setting
from tests.test_evaluation import SETTINGS, _as_segm, _open, _random_case


def _same_verdicts(a: object, b: object) -> None:
    for f in fields(a):  # type: ignore[arg-type]
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f.name
        else:
            assert x == y, f.name


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
@pytest.mark.parametrize("seed", range(3))
def test_another_setting_from_cached_pairs_equals_a_fresh_evaluation(
        tmp_path: Path, seed: int, iou_type: str) -> None:
    gt, res = _random_case(seed)
    if iou_type == "segm":
        res = _as_segm(res)
    ds = _open(tmp_path, gt)
    base = ds.evaluate(res, iou_type=iou_type)
    for thr, area, _md in [*SETTINGS, (0.95, "large", None), (0.0, "all", None),
                           (1.0, "all", None), (0.5, "all", None)]:
        moved = at_setting(base, thr, area)
        fresh = ds.evaluate(res, iou_type=iou_type, iou_thr=thr, area=area)
        _same_verdicts(moved.verdicts, fresh.verdicts)
        assert np.array_equal(moved.stats, fresh.stats)
