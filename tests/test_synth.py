"""Tests of the synthetic COCO generator (cocoview.testing.synth).

Every generated file is loaded by pycocotools and every annotation decoded with
``annToMask``, so the generator is checked against the reference reader, not
only against itself.
"""

from __future__ import annotations

import gzip
import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from cocoview.testing.synth import (
    COCO_CATEGORIES,
    KEYPOINT_NAMES,
    PRESETS,
    SKELETON,
    STYLES,
    generate_coco,
    generate_preset,
    main,
)

# pycocotools' mask decoding warns under numpy 2; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

IMAGE_KEYS = ["license", "file_name", "coco_url", "height", "width", "date_captured",
              "flickr_url", "id"]  # fmt: skip
ANN_KEYS = ["segmentation", "area", "iscrowd", "image_id", "bbox", "category_id", "id"]


def _load(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        return json.load(f)


def _shoelace(flat: list[float]) -> float:
    xy = np.asarray(flat, dtype=float).reshape(-1, 2)
    x, y = xy[:, 0], xy[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))) / 2.0


def _check_with_pycocotools(path: Path) -> COCO:
    """Decode every annotation with pycocotools and check geometry against the mask."""
    coco = COCO(str(path))
    for ann in coco.dataset["annotations"]:
        img = coco.imgs[ann["image_id"]]
        h, w = img["height"], img["width"]
        mask = coco.annToMask(ann)
        assert mask.shape == (h, w)
        assert mask.any(), ann["id"]
        rle = coco.annToRLE(ann)
        raster_area = float(mask_utils.area(rle))
        rx, ry, rw, rh = (float(v) for v in mask_utils.toBbox(rle))
        x, y, bw, bh = ann["bbox"]
        if ann["iscrowd"]:
            # The RLE is the ground truth: area and bbox are exact.
            assert sum(ann["segmentation"]["counts"]) == h * w
            assert ann["segmentation"]["size"] == [h, w]
            assert raster_area == ann["area"]
            assert [rx, ry, rw, rh] == ann["bbox"]
        else:
            # The rasterised polygon lies in its bbox (± 1 px) and matches its area.
            assert rx >= x - 1 and ry >= y - 1
            assert rx + rw <= x + bw + 1 and ry + rh <= y + bh + 1
            if ann["area"] >= 1000:
                assert abs(raster_area - ann["area"]) / ann["area"] < 0.05
    return coco


def _check_polygons(data: dict[str, Any]) -> None:
    """bbox = polygon extent, area = shoelace area, points in the image, 2 decimals."""
    sizes = {im["id"]: (im["width"], im["height"]) for im in data["images"]}
    for ann in data["annotations"]:
        if ann.get("iscrowd"):
            continue
        w, h = sizes[ann["image_id"]]
        parts = ann["segmentation"]
        assert isinstance(parts, list) and parts
        assert all(len(p) >= 6 and len(p) % 2 == 0 for p in parts)
        assert all(round(v, 2) == v for p in parts for v in p)
        xs = [v for p in parts for v in p[0::2]]
        ys = [v for p in parts for v in p[1::2]]
        assert min(xs) >= 0 and min(ys) >= 0 and max(xs) <= w and max(ys) <= h
        x, y, bw, bh = ann["bbox"]
        assert (x, y) == (min(xs), min(ys))
        assert abs(bw - (max(xs) - min(xs))) < 0.006 and abs(bh - (max(ys) - min(ys))) < 0.006
        assert abs(ann["area"] - sum(_shoelace(p) for p in parts)) < 1e-4
        assert ann["area"] > 0


def test_tiny_preset_is_valid_coco(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    summary = generate_preset("tiny", path)
    data = _load(path)
    assert list(data) == ["info", "licenses", "images", "annotations", "categories"]
    assert len(data["images"]) == PRESETS["tiny"]["n_images"] == summary["images"]
    assert len(data["annotations"]) == PRESETS["tiny"]["n_annotations"]
    assert summary["bytes"] == summary["json_bytes"] == path.stat().st_size
    assert [list(im) for im in data["images"]] == [IMAGE_KEYS] * len(data["images"])
    assert all(list(a) == ANN_KEYS for a in data["annotations"])
    assert [(c["id"], c["name"], c["supercategory"]) for c in data["categories"]] == [
        (i, n, s) for i, n, s in COCO_CATEGORIES
    ]
    assert len(data["categories"]) == 80 and data["categories"][-1]["name"] == "toothbrush"
    for im in data["images"]:
        assert 0 < im["id"] < 600_000
        assert im["file_name"] == f"{im['id']:012d}.jpg"
    _check_polygons(data)
    _check_with_pycocotools(path)


def test_custom_size_statistics_and_masks(tmp_path: Path) -> None:
    path = tmp_path / "custom.json"
    n_img, n_ann = 2_000, 12_000  # more than one 10,000-annotation chunk
    generate_coco(path, n_images=n_img, n_annotations=n_ann, seed=7)
    data = _load(path)
    images, anns = data["images"], data["annotations"]
    assert len(images) == n_img and len(anns) == n_ann

    image_ids = [im["id"] for im in images]
    assert len(set(image_ids)) == n_img and max(image_ids) < 600_000
    ann_ids = [a["id"] for a in anns]
    assert len(set(ann_ids)) == n_ann
    assert set(a["image_id"] for a in anns) <= set(image_ids)
    assert set(a["category_id"] for a in anns) <= {c[0] for c in COCO_CATEGORIES}

    per_image = Counter(a["image_id"] for a in anns)
    empty = n_img - len(per_image)
    assert 5 <= empty <= 40  # ≈ 1 %
    assert max(per_image.values()) <= 100

    cats = Counter(a["category_id"] for a in anns)
    assert 0.24 < cats[1] / n_ann < 0.37  # person ≈ 30 %
    assert cats.most_common(1)[0][0] == 1

    crowd = [a for a in anns if a["iscrowd"]]
    assert 0.004 * n_ann < len(crowd) < 0.02 * n_ann
    for a in crowd:
        assert a["id"] > 2**32
        assert a["id"] == 900_000_000_000 + a["category_id"] * 100_000_000 + a["image_id"]
        assert isinstance(a["segmentation"]["counts"], list)
    poly = [a for a in anns if not a["iscrowd"]]
    assert all(a["id"] < 2**31 for a in poly)
    multi = sum(len(a["segmentation"]) > 1 for a in poly) / len(poly)
    assert 0.02 < multi < 0.08
    floats = sum(len(p) for a in poly for p in a["segmentation"]) / len(poly)
    assert 35 < floats < 70  # COCO: ≈ 50 polygon numbers per annotation

    widths = Counter(im["width"] for im in images)
    assert widths[640] > 0.6 * n_img
    assert any(im["height"] > im["width"] for im in images)  # some portrait

    # Annotations are not grouped by image: few neighbours share an image.
    same = sum(a["image_id"] == b["image_id"] for a, b in itertools.pairwise(anns))
    assert same < 0.05 * n_ann

    _check_polygons(data)
    _check_with_pycocotools(path)


def test_deterministic_and_gzip(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    gz = tmp_path / "a.json.gz"
    for p in (a, b):
        generate_coco(p, n_images=30, n_annotations=200, seed=3)
    generate_coco(c, n_images=30, n_annotations=200, seed=4)
    summary = generate_coco(gz, n_images=30, n_annotations=200, seed=3)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert gzip.decompress(gz.read_bytes()) == a.read_bytes()
    assert summary["json_bytes"] == a.stat().st_size > summary["bytes"]


def test_image_order_option_groups_annotations(tmp_path: Path) -> None:
    path = tmp_path / "ordered.json"
    generate_coco(path, n_images=50, n_annotations=400, shuffle=False)
    anns = _load(path)["annotations"]
    changes = sum(a["image_id"] != b["image_id"] for a, b in itertools.pairwise(anns))
    assert changes == len({a["image_id"] for a in anns}) - 1


def test_keypoints(tmp_path: Path) -> None:
    path = tmp_path / "kp.json"
    generate_coco(path, n_images=200, n_annotations=800, keypoints=True, crowd_fraction=0.02)
    data = _load(path)
    (cat,) = data["categories"]
    assert (cat["id"], cat["name"]) == (1, "person")
    assert cat["keypoints"] == list(KEYPOINT_NAMES) and len(cat["keypoints"]) == 17
    assert cat["skeleton"] == [list(e) for e in SKELETON] and len(cat["skeleton"]) == 19
    labelled = 0
    for a in data["annotations"]:
        assert a["category_id"] == 1
        kp = np.asarray(a["keypoints"]).reshape(17, 3)
        v = kp[:, 2]
        assert set(v.tolist()) <= {0, 1, 2}
        assert (kp[v == 0] == 0).all()
        assert a["num_keypoints"] == int((v > 0).sum())
        x, y, w, h = a["bbox"]
        on = kp[v > 0]
        assert (on[:, 0] >= np.floor(x)).all() and (on[:, 0] <= x + w).all()
        assert (on[:, 1] >= np.floor(y)).all() and (on[:, 1] <= y + h).all()
        if a["iscrowd"]:
            assert a["num_keypoints"] == 0
        labelled += a["num_keypoints"] > 0
    assert 0.2 < labelled / len(data["annotations"]) < 0.95
    _check_polygons(data)
    _check_with_pycocotools(path)


def test_boxes_only(tmp_path: Path) -> None:
    path = tmp_path / "boxes.json"
    generate_coco(path, n_images=100, n_annotations=1_000, n_categories=365, boxes_only=True)
    data = _load(path)
    assert len(data["categories"]) == 365
    assert len({c["id"] for c in data["categories"]}) == 365
    sizes = {im["id"]: (im["width"], im["height"]) for im in data["images"]}
    for a in data["annotations"]:
        assert a["segmentation"] == []
        x, y, w, h = a["bbox"]
        iw, ih = sizes[a["image_id"]]
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= iw + 0.01 and y + h <= ih + 0.01
        assert a["area"] == pytest.approx(w * h, abs=1e-3)


def test_lvis_extras(tmp_path: Path) -> None:
    path = tmp_path / "lvis.json"
    generate_coco(path, n_images=300, n_annotations=4_000, n_categories=1_203, lvis=True)
    data = _load(path)
    cats = data["categories"]
    assert [c["id"] for c in cats] == list(range(1, 1204))
    by_id = {c["id"]: c for c in cats}
    anns = data["annotations"]
    assert all("iscrowd" not in a for a in anns)
    inst = Counter(a["category_id"] for a in anns)
    imgs_of: dict[int, set[int]] = {}
    for a in anns:
        imgs_of.setdefault(a["category_id"], set()).add(a["image_id"])
    for c in cats:
        assert c["instance_count"] == inst.get(c["id"], 0)
        assert c["image_count"] == len(imgs_of.get(c["id"], ()))
        n = c["image_count"]
        assert c["frequency"] == ("r" if n <= 10 else "c" if n <= 100 else "f")
        assert c["synset"].endswith(".n.01")
    present: dict[int, set[int]] = {}
    for a in anns:
        present.setdefault(a["image_id"], set()).add(a["category_id"])
    negatives = 0
    for im in data["images"]:
        here = present.get(im["id"], set())
        assert set(im["neg_category_ids"]) <= set(by_id) - here
        assert set(im["not_exhaustive_category_ids"]) <= here
        negatives += len(im["neg_category_ids"])
    assert negatives > 0
    _check_polygons(data)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.json"
    assert main([str(out), "--images", "20", "--annotations", "60", "--categories", "10",
                 "--seed", "5", "--quiet"]) == 0  # fmt: skip
    data = _load(out)
    assert len(data["images"]) == 20 and len(data["annotations"]) == 60
    assert [c["id"] for c in data["categories"]] == [c[0] for c in COCO_CATEGORIES[:10]]
    assert "20 images" in capsys.readouterr().out
    out2 = tmp_path / "tiny.json"
    assert main(["tiny", str(out2), "--quiet"]) == 0
    assert len(_load(out2)["images"]) == PRESETS["tiny"]["n_images"]
    with pytest.raises(SystemExit):
        main(["nosuchpreset", str(out2)])


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_coco(tmp_path / "x.json", n_images=0, n_annotations=5)
    with pytest.raises(ValueError):
        generate_preset("nope", tmp_path / "x.json")
    empty = tmp_path / "empty.json"
    generate_coco(empty, n_images=0, n_annotations=0)
    assert _load(empty)["images"] == [] and _load(empty)["annotations"] == []


@pytest.mark.parametrize("style", sorted(STYLES))
def test_writing_styles_change_the_writing_not_the_reading(tmp_path: Path, style: str) -> None:
    """Each style is valid COCO that pycocotools and cocoview read alike; it writes
    what real exporters vary (key order, whitespace, number forms, polygon density)."""
    import cocoview

    path = tmp_path / f"{style}.json"
    generate_coco(path, n_images=300, n_annotations=2_500, seed=3, style=style)
    st = STYLES[style]
    raw = path.read_bytes()
    data = _load(path)
    anns = data["annotations"]
    if st.key_order is not None:
        assert list(anns[0])[: len(st.key_order)] == [k for k in st.key_order
                                                      if k in anns[0]]
    for key, value in st.extra:
        assert all(a[key] == value for a in anns)
    if st.indent == 2:
        assert b'\n    "' in raw
    if st.indent == 0:
        assert b'", "' in raw or b'": ' in raw
    if st.exponent_area:
        assert b"e+0" in raw
    if st.decimals is None:
        assert any(round(v, 2) != v for a in anns if not a["iscrowd"]
                   for p in a["segmentation"] for v in p)
    coco = _check_with_pycocotools(path)
    ds = cocoview.open(path)
    by_id = {a["id"]: a for a in coco.dataset["annotations"]}
    assert sorted(ds.anns.id.tolist()) == sorted(by_id)
    for row in range(0, len(ds.anns.id), 97):
        a = by_id[int(ds.anns.id[row])]
        assert ds.anns.area[row] == np.float32(a["area"])  # the same float from either number form
        assert ds.anns.bbox[row].tolist() == np.float32(a["bbox"]).tolist()


def test_styles_vary_the_polygon_density(tmp_path: Path) -> None:
    medians = {}
    for style in ("coco", "cvat"):
        path = tmp_path / f"{style}.json"
        generate_coco(path, n_images=200, n_annotations=3_000, seed=1, style=style)
        lengths = [len(p) for a in _load(path)["annotations"] if not a["iscrowd"]
                   for p in a["segmentation"]]
        medians[style] = float(np.median(lengths))
    assert medians["cvat"] >= 1.2 * medians["coco"]
    with pytest.raises(ValueError, match="unknown style"):
        generate_coco(tmp_path / "x.json", n_images=1, n_annotations=1, style="nope")
