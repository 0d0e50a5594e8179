"""``load_file(preview=...)``: a big file's images and categories before its annotations
(issue 18), in this process and from the child that indexes for the GUI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cocoview.model import index_process, loader
from cocoview.model.cache import FileBytes
from cocoview.model.dataset import Dataset
from cocoview.model.errors import CocoFormatError
from cocoview.testing.synth import generate_coco


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    path = tmp_path / "gen.json"
    generate_coco(path, n_images=30, n_annotations=200, seed=4)
    return path


@pytest.fixture
def small_is_big(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "PREVIEW_MIN_BYTES", 0)
    monkeypatch.setattr(loader, "ISOLATE_MIN_BYTES", 0)


def _same_images(a: loader.ImageColumns, b: loader.ImageColumns) -> None:
    for k in ("id", "width", "height", "rec_off", "rec_len", "ordinal"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    assert a.file_name == b.file_name


@pytest.mark.parametrize("isolate", [False, True], ids=["here", "child"])
def test_the_images_come_first(small_is_big: None, generated: Path, isolate: bool) -> None:
    seen: list[tuple[float, loader.FileIndex]] = []
    steps: list[float] = []
    fi = loader.load_file(generated, progress=lambda f, _w: steps.append(f), isolate=isolate,
                          preview=lambda p: seen.append((steps[-1], p)))
    assert len(seen) == 1
    at, pv = seen[0]
    assert at < 0.9  # before the annotations were indexed
    assert len(pv.anns) == 0 and len(fi.anns) == 200
    _same_images(pv.images, fi.images)
    assert pv.categories == fi.categories
    assert pv.image_record(0) == fi.image_record(0)  # read by offset from the file
    # the GUI asks for licenses and info at once: read from their spans, never the whole file
    assert pv.top_spans == fi.top_spans and "licenses" in pv.top_spans
    pv.all_bytes = None  # type: ignore[method-assign]  # would fail if called
    assert pv.top_value("licenses") == fi.top_value("licenses")
    assert pv.top_value("not-there") is None
    # not a cache entry: a dataset over it derives (and keeps) nothing beside one
    assert not isinstance(pv.data, FileBytes)
    ds = Dataset([pv])
    assert len(ds.image_ids) == 30 and len(ds.anns) == 0


def test_only_big_files_have_a_preview(generated: Path) -> None:
    seen: list[loader.FileIndex] = []
    loader.load_file(generated, cache=False, preview=seen.append)
    assert seen == []  # below PREVIEW_MIN_BYTES the whole open is quicker than a preview


def test_no_preview_of_a_results_file_or_of_no_images(small_is_big: None,
                                                      tmp_path: Path) -> None:
    seen: list[loader.FileIndex] = []
    res = tmp_path / "res.json"
    res.write_text(json.dumps([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4],
                                "score": 0.5}]))
    loader.load_file(res, cache=False, preview=seen.append)
    gt = tmp_path / "noimages.json"
    gt.write_text(json.dumps({"images": [], "annotations": [], "categories": [{"id": 1}]}))
    loader.load_file(gt, cache=False, preview=seen.append)
    assert seen == []


def test_a_format_error_after_the_preview_still_comes(small_is_big: None,
                                                      tmp_path: Path) -> None:
    d = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
         "annotations": "nope", "categories": []}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(CocoFormatError):
        loader.load_file(path, isolate=True, preview=lambda p: None)


def test_a_malformed_images_message_is_ignored() -> None:
    assert index_process._images({"images": {"id": [1]}, "categories": []}) is None
    assert index_process._images({"images": {"id": [1, 2], "width": [1], "height": [1, 2],
                                             "file_name": ["a", "b"], "rec_off": [0, 1],
                                             "rec_len": [1, 1], "ordinal": [0, 1]},
                                  "categories": []}) is None
    assert index_process._images({"images": {"id": ["x"]}, "categories": []}) is None
    ok = index_process._images({"images": {"id": [1], "width": [1], "height": [2],
                                           "file_name": ["a"], "rec_off": [0], "rec_len": [1],
                                           "ordinal": [0]}, "categories": [{"id": 3}, 7]})
    assert ok is not None and ok[1] == [{"id": 3}] and int(ok[0].height[0]) == 2
