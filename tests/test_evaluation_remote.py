"""The evaluation in a child process (issue 14, "Fluid"): the same numbers as in-process,
another setting moved there, and every way it can fail leading back to in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cocoview
from cocoview.model.evaluation.remote import EvalProcess, Unavailable, portable
from cocoview.model.review import Review, at_setting
from tests.test_evaluation import _as_segm, _random_case
from tests.test_evaluation_speed import _same_verdicts


def _open(tmp_path: Path, seed: int = 1, segm: bool = False) -> tuple[Any, list[Any]]:
    gt, res = _random_case(seed)
    if segm:
        res = _as_segm(res)
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "res.json").write_text(json.dumps(res))
    return cocoview.open(tmp_path / "gt.json", results=tmp_path / "res.json", cache=False), res


def _same_evaluation(a: Any, b: Any) -> None:
    assert np.array_equal(a.stats, b.stats)
    assert np.array_equal(a.precision, b.precision)
    assert a.per_category == b.per_category
    _same_verdicts(a.verdicts, b.verdicts)
    assert np.array_equal(a.tide.error, b.tide.error)
    assert a.tide.counts == b.tide.counts and a.tide.delta_ap == b.tide.delta_ap
    assert np.array_equal(a.confusion.matrix, b.confusion.matrix)
    assert np.array_equal(a.confusion.dt_cell, b.confusion.dt_cell)
    for name in ("detections_table", "ground_truth_table", "per_image_table"):
        ta, tb = getattr(a, name)(), getattr(b, name)()
        assert ta.keys() == tb.keys()
        for k in ta:
            assert np.array_equal(ta[k], tb[k], equal_nan=ta[k].dtype.kind == "f"), (name, k)
    assert a.to_json() == b.to_json()


@pytest.mark.parametrize("segm", [False, True])
def test_the_child_gives_the_in_process_numbers(tmp_path: Path, segm: bool) -> None:
    ds, _ = _open(tmp_path, segm=segm)
    iou_type = "segm" if segm else "bbox"
    proc = EvalProcess()
    try:
        ev = proc.evaluate(ds, iou_type=iou_type)
        here = ds.evaluate(iou_type=iou_type)
        _same_evaluation(ev, here)
        assert proc.holds(ev)
        r = Review(ds, ev).prepare()
        assert r.counts(0.3) == Review(ds, here).counts(0.3)
        for thr, area in [(0.75, "all"), (0.5, "small"), (0.3, "large"), (0.5, "all")]:
            moved = proc.at_setting(ev, thr, area)
            _same_verdicts(moved.verdicts, at_setting(here, thr, area).verdicts)
            assert (moved.iou_thr, moved.area) == (thr, area)
            assert moved.stats is ev.stats  # shared, as at_setting shares them
        # the copy the child sent also moves in-process (no hotcoco handles needed)
        _same_verdicts(at_setting(ev, 0.75, "medium").verdicts,
                       at_setting(here, 0.75, "medium").verdicts)
    finally:
        proc.close()
    assert not proc.holds(ev)
    with pytest.raises(Unavailable):
        proc.at_setting(ev, 0.6, "all")  # the process that held it is gone


def test_errors_in_the_child_are_the_in_process_errors(tmp_path: Path) -> None:
    ds, _ = _open(tmp_path)
    proc = EvalProcess()
    try:
        with pytest.raises(ValueError, match="segm evaluation needs results"):
            proc.evaluate(ds, iou_type="segm")
        assert np.array_equal(proc.evaluate(ds).stats, ds.evaluate().stats)  # still serving
    finally:
        proc.close()


def test_a_changed_file_is_left_to_the_caller(tmp_path: Path) -> None:
    ds, _ = _open(tmp_path)
    with open(tmp_path / "res.json", "a") as fh:  # the file grew after it was opened
        fh.write("   ")
    proc = EvalProcess()
    try:
        with pytest.raises(Unavailable, match="changed"):
            proc.evaluate(ds)
    finally:
        proc.close()
    os.remove(tmp_path / "gt.json")
    with pytest.raises(Unavailable):
        proc.evaluate(ds)


def test_giving_up_ends_the_child_and_the_next_request_starts_another(tmp_path: Path) -> None:
    ds, _ = _open(tmp_path)
    proc = EvalProcess()

    class Stop(Exception):
        pass

    def poll() -> None:
        raise Stop

    try:
        with pytest.raises(Stop):
            proc.evaluate(ds, poll=poll)  # the import alone outlasts one poll interval
        assert proc._proc is None
        assert np.array_equal(proc.evaluate(ds).stats, ds.evaluate().stats)
    finally:
        proc.close()


def test_the_portable_copy_has_no_hotcoco_objects(tmp_path: Path) -> None:
    ds, _ = _open(tmp_path)
    ev = ds.evaluate()
    out = portable(ev)
    assert not {"_gt_c", "_dt_c", "_hot", "_main"} & set(out.__dict__)
    assert ev._main is not None  # the original keeps them


def test_the_bundles_switch_starts_the_same_child(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen build has no ``python -c``: ``cocoview --eval-worker`` is the child."""
    import sys

    from cocoview.model.evaluation import remote

    monkeypatch.setattr(remote, "command",
                        lambda: [sys.executable, "-m", "cocoview", remote.FROZEN_FLAG])
    ds, _ = _open(tmp_path)
    proc = EvalProcess()
    try:
        assert np.array_equal(proc.evaluate(ds).stats, ds.evaluate().stats)
    finally:
        proc.close()
