"""The whole validation in a child process (issue 17: the app keeps its GIL while the
Problems dock checks a big file) finds exactly what the in-process check finds: the same
problems in the same order, batch by batch; a child that cannot do it says so before it
has found anything, and the caller then checks in-process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import cocoview
from cocoview.model import validate_process as vp
from cocoview.model.errors import Problem
from cocoview.model.health import HealthOptions
from cocoview.model.validate import validate_report
from tests.conftest import real_sets, set_id
from tests.test_validate_parallel import _damaged


def _here(ds: cocoview.Dataset, **kw: object) -> list[list[Problem]]:
    batches: list[list[Problem]] = []
    validate_report(ds, found=batches.append, **kw)  # type: ignore[arg-type]
    return batches


def _child(ds: cocoview.Dataset, **kw: object) -> tuple[list[list[Problem]], int]:
    batches: list[list[Problem]] = []
    req = vp.request_for(ds, bool(kw.pop("check_files", False)),
                         bool(kw.pop("allow_outside", False)), **kw)  # type: ignore[arg-type]
    n = vp.validate_in_child(req, batches.append)
    return batches, n


def test_the_childs_problems_are_the_same(tmp_path: Path) -> None:
    ds = cocoview.open(_damaged(tmp_path), cache=False)
    got, n = _child(ds)
    want = _here(ds)
    assert got == want and n == sum(map(len, want))
    assert {"area-mismatch", "degenerate-polygon", "bad-rle"} <= {p.code for b in got for p in b}


def test_with_image_files_results_and_thresholds(tmp_path: Path) -> None:
    """The image files checked (none is there), a results file whose detections name
    images the dataset lacks, and other quality thresholds: the child opens and checks
    them the same way."""
    path = _damaged(tmp_path)
    d = json.loads(path.read_text())
    res = tmp_path / "res.json"
    res.write_text(json.dumps([{"image_id": 10**8, "category_id": d["categories"][0]["id"],
                                "bbox": [1, 2, 3, 4], "score": 0.5}] + [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"],
         "score": 0.9} for a in d["annotations"][:20]]))
    ds = cocoview.open(path, results=res, cache=False)
    opts = HealthOptions(tiny_side=40.0)
    got, _n = _child(ds, check_files=True, options=opts)
    want = _here(ds, check_files=True, options=opts)
    assert got == want
    codes = {p.code for b in got for p in b}
    assert "result-unknown-image" in codes and "tiny-box" in codes
    assert any("image" in c and "missing" in c for c in codes), codes


def test_the_frozen_apps_dispatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vp, "command",
                        lambda: [sys.executable, "-m", "cocoview", vp.FROZEN_FLAG])
    ds = cocoview.open(_damaged(tmp_path), cache=False)
    assert _child(ds)[0] == _here(ds)


def test_a_changed_file_is_not_checked_by_the_child(tmp_path: Path) -> None:
    path = _damaged(tmp_path)
    ds = cocoview.open(path, cache=False)
    req = vp.request_for(ds, False, False)
    d = json.loads(path.read_text())
    d["annotations"] = d["annotations"][:10]
    path.with_suffix(".new").write_text(json.dumps(d))
    path.with_suffix(".new").replace(path)  # the open dataset keeps its own map
    with pytest.raises(vp.Unavailable, match="changed"):
        vp.validate_in_child(req, lambda _p: None)


@pytest.mark.parametrize("script", ["import sys; sys.exit(1)", "print('garbage')"])
def test_a_failing_child_is_unavailable(tmp_path: Path, script: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vp, "command", lambda: [sys.executable, "-c", script])
    ds = cocoview.open(_damaged(tmp_path), cache=False)
    with pytest.raises(vp.Unavailable):
        vp.validate_in_child(vp.request_for(ds, False, False), lambda _p: None)


def test_giving_up_ends_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    procs: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*a: object, **k: object) -> subprocess.Popen[bytes]:
        procs.append(real(*a, **k))  # type: ignore[call-overload]
        return procs[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    ds = cocoview.open(_damaged(tmp_path), cache=False)

    class Stop(Exception):
        pass

    def poll() -> None:
        raise Stop

    with pytest.raises(Stop):
        vp.validate_in_child(vp.request_for(ds, False, False), lambda _p: None, poll=poll)
    assert procs and procs[0].poll() is not None  # ended, not left running


SETS = [x for x in real_sets() if x[1]["kind"] not in ("image_info", "captions")]


@pytest.mark.parametrize("item", SETS, ids=[set_id(x) for x in SETS])
def test_every_real_set(item: tuple[Path, dict]) -> None:
    root, s = item
    ds = cocoview.open(root / s["annotation"], cache=False)
    assert _child(ds)[0] == _here(ds)


def test_the_cache_turned_off_is_not_written(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With the index cache off the child parses the file and writes no cache entry."""
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("COCOVIEW_CACHE_DIR", str(cache_dir))
    ds = cocoview.open(_damaged(tmp_path), cache=False)
    batches: list[list[Problem]] = []
    vp.validate_in_child(vp.request_for(ds, False, False, cache=False), batches.append)
    assert batches == _here(ds)
    assert not cache_dir.exists() or not any(cache_dir.rglob("*"))
    vp.validate_in_child(vp.request_for(ds, False, False), lambda _p: None)
    assert any(p.is_file() for p in cache_dir.rglob("*"))  # on: the child's open stores it
