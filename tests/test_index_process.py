"""``load_file(isolate=True)``: a big file is indexed in a child process and opened from the cache.

The size threshold is lowered so that small files take that path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cocoview.model import index_process, loader
from cocoview.model.cache import FileBytes
from cocoview.model.errors import CocoFormatError
from cocoview.testing.synth import generate_coco
from tests.test_parallel_load import assert_same


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lower the threshold; count parses in this process."""
    monkeypatch.setattr(loader, "ISOLATE_MIN_BYTES", 0)
    parses: list[int] = []
    real = loader._Builder.build

    def build(self: loader._Builder) -> loader.FileIndex:
        parses.append(1)
        return real(self)

    monkeypatch.setattr(loader._Builder, "build", build)
    return parses


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    path = tmp_path / "gen.json"
    generate_coco(path, n_images=30, n_annotations=200, seed=5)
    return path


def test_child_builds_the_index_and_this_process_parses_nothing(
        isolated: list[int], generated: Path) -> None:
    steps: list[tuple[float, str]] = []
    fi = loader.load_file(generated, progress=lambda f, w: steps.append((f, w)), isolate=True)
    assert isolated == []  # not parsed here
    assert fi.cached
    assert isinstance(fi.data, FileBytes)  # read by offset from the file
    fracs = [f for f, _ in steps]
    assert fracs == sorted(fracs) and fracs[-1] == 1.0
    assert any(w.startswith("indexing annotations") for _, w in steps)  # the child's steps
    reference = loader.load_file(generated, cache=False)
    assert_same(fi, reference)
    assert fi.record(3) == reference.record(3)


def test_a_format_error_comes_back_as_is(isolated: list[int], tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps({"images": [], "annotations": [{"id": 1}] * 50})[:-20])
    with pytest.raises(CocoFormatError) as here:
        loader.load_file(path, cache=False)
    isolated.clear()
    with pytest.raises(CocoFormatError) as there:
        loader.load_file(path, isolate=True)
    assert isolated == []
    assert str(there.value) == str(here.value)
    assert there.value.position == here.value.position is not None


def test_cancel_kills_the_child(isolated: list[int], generated: Path,
                                index_children: list[subprocess.Popen[bytes]]) -> None:
    procs = index_children
    seen: list[str] = []
    with pytest.raises(loader.Cancelled):
        loader.load_file(generated, progress=lambda f, w: seen.append(w),
                         cancelled=lambda: "parsing gen.json" in seen, isolate=True)
    assert len(procs) == 1
    assert procs[0].returncode is not None
    assert isolated == []


@pytest.mark.parametrize("script", ["import sys; sys.exit(3)", "print('[0.5, 1')"])
def test_a_failed_child_means_a_parse_here(isolated: list[int], generated: Path, script: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_process, "command", lambda p: [sys.executable, "-c", script])
    fi = loader.load_file(generated, isolate=True)
    assert isolated == [1]
    assert_same(fi, loader.load_file(generated, cache=False))


def test_no_cache_no_child(isolated: list[int], generated: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_process, "command", lambda p: pytest.fail("child started"))
    loader.load_file(generated, cache=False, isolate=True)
    assert isolated == [1]


def test_unwritable_cache_falls_back(isolated: list[int], generated: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("COCOVIEW_CACHE_DIR", str(blocker / "cache"))
    fi = loader.load_file(generated, isolate=True)
    assert isolated == [1]  # the child could not store the index: parsed here
    assert not fi.cached
    assert len(fi.anns) == 200


def test_not_strict_json_is_parsed_here(isolated: list[int], tmp_path: Path) -> None:
    """NaN files are not cached (their records are re-encoded): the child cannot help."""
    path = tmp_path / "nan.json"
    d = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                          "area": 1.0}], "categories": [{"id": 1, "name": "a"}]}
    path.write_text(json.dumps(d).replace('"area": 1.0', '"area": NaN'))
    fi = loader.load_file(path, isolate=True)
    assert isolated  # parsed here (twice: strict, then through Python's json)
    assert np.isnan(fi.anns.area[0])
    assert any(p.code == "non-finite-number" for p in fi.problems)


def test_frozen_dispatch(isolated: list[int], generated: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_process, "command", lambda p: [
        sys.executable, "-m", "cocoview", index_process.FROZEN_FLAG, str(p)])
    fi = loader.load_file(generated, isolate=True)
    assert isolated == [] and fi.cached
