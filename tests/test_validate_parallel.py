"""``validate`` with a helper process decoding polygon batches finds exactly what one
process finds (issue 18): the same problems, in the same order, with the same words.

The thresholds are lowered so that small files use the helper, and the validator
waits for the helper's first finished batch (a message, not a time) so that the
helper really does part of the work.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cocoview
from cocoview.model import chunk_worker, loader, polygon_worker, validate
from cocoview.model.errors import Problem
from cocoview.testing.synth import generate_coco
from tests.conftest import real_sets, set_id


class _Count:
    theirs = 0


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> type[_Count]:
    monkeypatch.setattr(validate, "_BATCH", 16)
    monkeypatch.setattr(validate, "HELPER_MIN_BATCHES", 2)
    monkeypatch.delenv(loader.WORKERS_ENV, raising=False)
    real = polygon_worker.PolygonHelper.result
    count = type("Count", (_Count,), {"theirs": 0})

    def result(self: polygon_worker.PolygonHelper, index: int) -> tuple[bool, object]:
        deadline = time.monotonic() + 30
        while not self._results and not self.helper.done and self._ok \
                and time.monotonic() < deadline:
            self._collect(0.01)  # until the helper's first batch (or its end) is here
        theirs, got = real(self, index)
        count.theirs += theirs
        return theirs, got

    monkeypatch.setattr(polygon_worker.PolygonHelper, "result", result)
    return count


def _damaged(tmp_path: Path) -> Path:
    """A generated file with something to say about many of its segmentations."""
    src = tmp_path / "gen.json"
    generate_coco(src, n_images=40, n_annotations=400, seed=5, crowd_fraction=0.05)
    d = json.loads(src.read_text())
    anns = d["annotations"]
    for i, a in enumerate(anns):
        seg = a.get("segmentation")
        if not isinstance(seg, list) or not seg:
            continue
        if i % 13 == 0:
            a["area"] = float(a["area"]) * 3 + 50  # area-mismatch
        elif i % 17 == 0:
            a["segmentation"] = [seg[0][:4]]  # too few points
        elif i % 19 == 0:
            a["segmentation"] = [seg[0] + [1.0]]  # odd count
        elif i % 23 == 0:
            a["segmentation"] = [seg[0], [1e9, 2, 3, 4, 5, 6]]  # beyond ±MAX_COORD
        elif i % 29 == 0:
            a["segmentation"] = {"size": [3, 3], "counts": [1, 2, 3]}  # wrong sum and size
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(d))
    return path


def _alone(ds: cocoview.Dataset, monkeypatch: pytest.MonkeyPatch) -> list[Problem]:
    with monkeypatch.context() as m:
        m.setenv(loader.WORKERS_ENV, "0")
        return validate.validate(ds)


def test_the_helpers_batches_give_the_same_problems(
        parallel: type[_Count], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = cocoview.open(_damaged(tmp_path), cache=False)
    got = validate.validate(ds)
    assert parallel.theirs > 0  # the helper really decoded some batches
    alone = _alone(ds, monkeypatch)
    assert got == alone
    codes = {p.code for p in got}
    assert {"area-mismatch", "degenerate-polygon", "bad-rle"} <= codes


def test_the_areas_are_the_same(parallel: type[_Count], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The mask areas behind the area checks, bit for bit."""
    ds = cocoview.open(_damaged(tmp_path), cache=False)
    rows = np.arange(len(ds.anns))

    def areas() -> np.ndarray:
        out = np.full(len(rows), np.nan)
        list(validate._geometry(ds, rows, mask_area=out))
        return out

    with_helper = areas()
    assert parallel.theirs > 0
    with monkeypatch.context() as m:
        m.setenv(loader.WORKERS_ENV, "0")
        alone = areas()
    assert np.array_equal(with_helper, alone, equal_nan=True)
    assert np.isfinite(alone).sum() > 100


@pytest.mark.parametrize("script", [
    "import sys; sys.exit(1)",  # dies at once
    "print('garbage')",  # speaks nonsense
    # claims the first batch, then leaves without a result
    "import sys; sys.stdin.readline(); sys.stdout.write('{\"index\": 0, \"claim\": true}\\n')",
])
def test_a_failing_helper_costs_only_time(parallel: type[_Count], tmp_path: Path, script: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunk_worker, "command", lambda: [sys.executable, "-c", script])
    ds = cocoview.open(_damaged(tmp_path), cache=False)
    got = validate.validate(ds)
    assert parallel.theirs == 0
    assert got == _alone(ds, monkeypatch)


def test_no_helper_for_a_gzip_file(parallel: type[_Count], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Its bytes are not the file on disk: nothing to hand over by offset."""
    import gzip

    path = _damaged(tmp_path)
    gz = tmp_path / "damaged.json.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    ds = cocoview.open(gz, cache=False)
    got = validate.validate(ds)
    assert parallel.theirs == 0
    assert got == _alone(ds, monkeypatch)


def test_the_frozen_apps_dispatch(parallel: type[_Count], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundle runs the helper through the app's hidden flag (the loader's own)."""
    monkeypatch.setattr(chunk_worker, "command",
                        lambda: [sys.executable, "-m", "cocoview", chunk_worker.FROZEN_FLAG])
    ds = cocoview.open(_damaged(tmp_path), cache=False)
    got = validate.validate(ds)
    assert parallel.theirs > 0
    assert got == _alone(ds, monkeypatch)


SETS = [x for x in real_sets() if x[1]["kind"] not in ("image_info", "captions")]


@pytest.mark.parametrize("item", SETS, ids=[set_id(x) for x in SETS])
def test_every_real_set(parallel: type[_Count], item: tuple[Path, dict],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    root, s = item
    ds = cocoview.open(root / s["annotation"], cache=False)
    assert validate.validate(ds) == _alone(ds, monkeypatch)
