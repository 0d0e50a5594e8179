"""The statistics plots' arrays and the box-range filter against direct Python counts."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.model.distributions import PLOTS, distribution, distributions
from cocoview.model.filters import ImageFilter, filter_images
from cocoview.testing.synth import generate_coco


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, dict[str, Any]]:
    p = tmp_path_factory.mktemp("dist") / "gen.json"
    generate_coco(p, n_images=700, n_annotations=5000, seed=11)
    return cocoview.open(p), json.loads(p.read_text())


@pytest.fixture(scope="module")
def kps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, dict[str, Any]]:
    p = tmp_path_factory.mktemp("kp") / "kp.json"
    generate_coco(p, n_images=200, n_annotations=900, seed=5, keypoints=True)
    return cocoview.open(p), json.loads(p.read_text())


def _subset(doc: dict[str, Any], ds: Dataset) -> tuple[np.ndarray, set[int]]:
    rows = np.arange(0, len(ds.image_ids), 3)
    return rows, {int(i) for i in ds.image_ids[rows]}


@pytest.mark.parametrize("subset", [False, True])
def test_category_counts(gen: tuple[Dataset, dict[str, Any]], subset: bool) -> None:
    ds, doc = gen
    rows, ids = _subset(doc, ds) if subset else (None, {im["id"] for im in doc["images"]})
    anns = [a for a in doc["annotations"] if a["image_id"] in ids]
    inst = Counter(a["category_id"] for a in anns)
    imgs = Counter(c for _i, c in {(a["image_id"], a["category_id"]) for a in anns})
    for name, want in (("instances", inst), ("images", imgs)):
        d = distribution(ds, name, rows)
        got = dict(zip(d.keys, d.counts.tolist(), strict=True))
        assert got == {c["id"]: want.get(c["id"], 0) for c in doc["categories"]}
        assert list(d.counts) == sorted(d.counts, reverse=True)  # most first
        names = {c["id"]: c["name"] for c in doc["categories"]}
        assert d.labels == tuple(names[k] for k in d.keys)


@pytest.mark.parametrize("subset", [False, True])
def test_histograms(gen: tuple[Dataset, dict[str, Any]], subset: bool) -> None:
    ds, doc = gen
    rows, ids = _subset(doc, ds) if subset else (None, {im["id"] for im in doc["images"]})
    anns = [a for a in doc["annotations"] if a["image_id"] in ids]
    f32 = np.float32
    values = {
        "box_width": [float(f32(a["bbox"][2])) for a in anns],
        "box_height": [float(f32(a["bbox"][3])) for a in anns],
        "box_aspect": [math.log2(float(f32(a["bbox"][2])) / float(f32(a["bbox"][3])))
                       for a in anns if a["bbox"][2] > 0 and a["bbox"][3] > 0],
    }
    per_image = Counter(a["image_id"] for a in anns)
    values["annotations"] = [per_image.get(i, 0) for i in ids]
    values["image_width"] = [im["width"] for im in doc["images"] if im["id"] in ids]
    values["image_height"] = [im["height"] for im in doc["images"] if im["id"] in ids]
    for name, vals in values.items():
        d = distribution(ds, name, rows)
        assert d.total == len(vals), name
        e = d.edges
        for k in (0, len(d.counts) // 2, len(d.counts) - 1):  # a few bins counted directly
            last = k == len(d.counts) - 1
            n = sum(1 for v in vals if e[k] <= v < e[k + 1] or (last and v == e[k + 1]))
            assert d.counts[k] == n, (name, k)


def test_annotations_histogram_has_integer_bins(gen: tuple[Dataset, dict[str, Any]]) -> None:
    ds, doc = gen
    d = distribution(ds, "annotations")
    per_image = Counter(a["image_id"] for a in doc["annotations"])
    want = Counter(per_image.get(im["id"], 0) for im in doc["images"])
    if np.all(np.diff(d.edges) == 1):  # one bin per count
        centres = (d.edges[:-1] + 0.5).astype(int)
        assert dict(zip(centres.tolist(), d.counts.tolist(), strict=True)) == {
            c: want.get(c, 0) for c in centres.tolist()}


def test_size_buckets(gen: tuple[Dataset, dict[str, Any]]) -> None:
    ds, doc = gen
    area = [float(np.float32(a["area"])) for a in doc["annotations"] if not a["iscrowd"]]
    d = distribution(ds, "sizes")
    assert d.counts.tolist() == [sum(a < 1024 for a in area),
                                 sum(1024 <= a < 9216 for a in area),
                                 sum(a >= 9216 for a in area)]


def test_keypoints(kps: tuple[Dataset, dict[str, Any]]) -> None:
    ds, doc = kps
    d = distribution(ds, "keypoints")
    want = Counter(a["num_keypoints"] for a in doc["annotations"] if "keypoints" in a)
    centres = (d.edges[:-1] + 0.5).round().astype(int)
    assert d.total == sum(want.values())
    assert dict(zip(centres.tolist(), d.counts.tolist(), strict=True)) == {
        c: want.get(c, 0) for c in centres.tolist()}


def test_every_plot_and_tables(gen: tuple[Dataset, dict[str, Any]]) -> None:
    ds, _doc = gen
    every = distributions(ds)
    assert tuple(every) == PLOTS
    for d in every.values():
        assert d.title
        assert sum(n for _l, n in d.table()) == d.total
    assert distribution(ds, "keypoints").total == 0  # no keypoints here: an empty plot
    with pytest.raises(KeyError, match="unknown plot"):
        distribution(ds, "nope")


@pytest.mark.parametrize("flt_kw", [
    {"min_box_aspect": 4.0},
    {"max_box_aspect": 0.25},
    {"min_box_width": 100.0, "max_box_width": 200.0},
    {"min_box_height": 300.0},
    {"min_box_width": 50.0, "min_box_aspect": 2.0},
])
def test_box_filter(gen: tuple[Dataset, dict[str, Any]], flt_kw: dict[str, float]) -> None:
    ds, doc = gen
    f32 = np.float32

    def ok(a: dict[str, Any]) -> bool:
        w, h = float(f32(a["bbox"][2])), float(f32(a["bbox"][3]))
        lo_w, hi_w = flt_kw.get("min_box_width"), flt_kw.get("max_box_width")
        lo_h = flt_kw.get("min_box_height")
        lo_a, hi_a = flt_kw.get("min_box_aspect"), flt_kw.get("max_box_aspect")
        return ((lo_w is None or w >= lo_w) and (hi_w is None or w <= hi_w)
                and (lo_h is None or h >= lo_h)
                and ((lo_a is None and hi_a is None) or (w > 0 and h > 0 and (
                    (lo_a is None or w / h >= lo_a) and (hi_a is None or w / h <= hi_a)))))

    want = {a["image_id"] for a in doc["annotations"] if ok(a)}
    flt = ImageFilter(**flt_kw)  # type: ignore[arg-type]
    got = set(filter_images(ds, flt).tolist())
    assert got == want and got
    assert "has a box with" in flt.describe(ds)
    assert ImageFilter.from_dict(flt.to_dict()) == flt


def test_box_filter_cli_flag(gen: tuple[Dataset, dict[str, Any]], tmp_path: Path) -> None:
    from cocoview.cli import main

    ds, doc = gen
    src = tmp_path / "in.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "out.json"
    assert main(["export", str(src), "--min-box-aspect", "4", "--out", str(out),
                 "--format", "coco"]) == 0
    got = {im["id"] for im in json.loads(out.read_text())["images"]}
    assert got == set(filter_images(ds, ImageFilter(min_box_aspect=4.0)).tolist())


def test_stats_plots_and_html(gen: tuple[Dataset, dict[str, Any]], tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from PIL import Image

    _ds, doc = gen
    src = tmp_path / "in.json"
    src.write_text(json.dumps(doc))
    out, report = tmp_path / "plots", tmp_path / "r.html"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run([sys.executable, "-m", "cocoview", "stats", str(src), "--plots",
                          str(out), "--html", str(report)], capture_output=True, text=True,
                         env=env, timeout=240)
    assert run.returncode == 0, run.stderr
    for name in PLOTS:
        with Image.open(out / f"{name}.png") as im:
            assert im.width >= 600 and im.height >= 200
            assert len(np.unique(np.asarray(im.convert("L")))) > 2  # something is drawn
    page = report.read_text()
    assert page.count("<img ") == len(PLOTS) and page.count("data:image/png;base64,") == len(PLOTS)
    assert "<table>" in page and "src='http" not in page


def test_stats_without_plots_imports_no_qt(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys, cocoview.cli as c; c.main(['stats', '--demo']); "
            "assert 'PySide6' not in sys.modules")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
