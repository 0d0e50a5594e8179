"""Every real set opens, and every mask equals pycocotools' ``annToMask`` pixel for pixel.

Runs over ``tests/data/real`` always and over ``../shared/data/real`` when present.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

import cocoview
from cocoview.model.loader import SEG_PANOPTIC, SEG_POLYGON, SEG_RLE, SEG_RLE_RAW
from tests.conftest import real_sets, set_id

SETS = real_sets()


def _open(root: Path, s: dict) -> cocoview.Dataset:
    path = root / s["annotation"]
    gt = s.get("ground_truth")
    images = root / s["images"] if s.get("images") else None
    if s["kind"] == "results" and gt:
        return cocoview.open(root / gt, images=images, results=path)
    return cocoview.open(path, images=images)


@pytest.mark.parametrize("item", SETS, ids=[set_id(x) for x in SETS])
def test_set_opens(item: tuple[Path, dict]) -> None:
    root, s = item
    ds = _open(root, s)
    assert len(ds.image_ids) >= 1 or s["kind"] == "results"
    for p in ds.problems():
        assert p.message and p.severity is not None


def _coco_quiet(path: Path) -> COCO:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def _reference_mask(coco: COCO, ann: dict) -> np.ndarray | None:
    """pycocotools' mask, or None where pycocotools cannot make one."""
    seg = ann.get("segmentation")
    if not seg:  # missing or []: annToMask raises
        return None
    return coco.annToMask(ann).astype(bool)


@pytest.mark.parametrize(
    "item",
    [x for x in SETS if x[1]["kind"] in ("instances", "keypoints", "stuff")],
    ids=[set_id(x) for x in SETS if x[1]["kind"] in ("instances", "keypoints", "stuff")],
)
def test_mask_parity_ground_truth(item: tuple[Path, dict]) -> None:
    root, s = item
    path = root / s["annotation"]
    ds = cocoview.open(path)
    coco = _coco_quiet(path)
    checked = 0
    for image_id in ds.image_ids.tolist():
        for row, ann in zip(ds.ann_rows(image_id).tolist(), ds.annotations(image_id),
                            strict=True):
            ref = _reference_mask(coco, ann)
            ours = ds.mask_of_row(row)
            if ref is None:
                assert not ours.any()
                assert ds.anns.seg_kind[row] != 1  # not a polygon
                continue
            assert ours.shape == ref.shape, (s["name"], ann["id"])
            assert np.array_equal(ours, ref), (s["name"], ann["id"])
            checked += 1
    if np.isin(ds.anns.seg_kind, [SEG_POLYGON, SEG_RLE, SEG_RLE_RAW]).any():
        assert checked > 0


@pytest.mark.parametrize(
    "item",
    [x for x in SETS if x[1]["kind"] == "results"],
    ids=[set_id(x) for x in SETS if x[1]["kind"] == "results"],
)
def test_mask_parity_results(item: tuple[Path, dict]) -> None:
    root, s = item
    ds = _open(root, s)
    if s.get("ground_truth"):
        res = ds.results
        assert res is not None
        for row in range(len(res)):
            seg = res.segmentation(row)
            if isinstance(seg, dict):
                ref = mask_utils.decode(seg).astype(bool)
                assert np.array_equal(res.mask(row), ref)
    else:
        # results alone: images implied by the results' image ids
        for row in range(len(ds.anns)):
            seg = ds.segmentation(row)
            if isinstance(seg, dict):
                ref = mask_utils.decode(seg).astype(bool)
                assert np.array_equal(ds.mask_of_row(row), ref)


@pytest.mark.parametrize(
    "item",
    [x for x in SETS if x[1]["kind"] == "panoptic"],
    ids=[set_id(x) for x in SETS if x[1]["kind"] == "panoptic"],
)
def test_panoptic_segments_match_png(item: tuple[Path, dict]) -> None:
    """Each segment's mask is its id's pixels in the PNG (R + 256 G + 256² B)."""
    from PIL import Image

    root, s = item
    ds = _open(root, s)
    pngs = root / s["panoptic_pngs"]
    assert (ds.anns.seg_kind == SEG_PANOPTIC).all()
    for row in range(len(ds.anns)):
        rec = ds.files[0].record(int(ds.anns.ordinal[row]))
        rgb = np.asarray(Image.open(pngs / rec["file_name"]).convert("RGB"), np.uint32)
        ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]
        ref = ids == int(ds.anns.id[row])
        h, w = ds.image_size(int(ds.ann_image_row[row]))
        ours = ds.mask_of_row(row)
        assert ours.shape == (h, w)
        hh, ww = min(h, ref.shape[0]), min(w, ref.shape[1])
        assert np.array_equal(ours[:hh, :ww], ref[:hh, :ww])


@pytest.mark.parametrize("item", SETS, ids=[set_id(x) for x in SETS])
def test_cli_on_every_set(item: tuple[Path, dict], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """stats, validate and render work on every set (exit 0/1, never 2)."""
    import json

    from cocoview.cli import main

    root, s = item
    args = [str(root / s["annotation"])]
    if s["kind"] == "results" and s.get("ground_truth"):
        args = [str(root / s["ground_truth"]), "--results", str(root / s["annotation"])]
    if s.get("images"):
        args += ["--images", str(root / s["images"])]
    assert main(["stats", *args, "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["images"] >= 0
    assert main(["validate", *args, "--json"]) in (0, 1)
    json.loads(capsys.readouterr().out)
    ds = _open(root, s)
    if len(ds.image_ids):
        # the image with the most annotations
        iid = int(ds.image_ids[int(np.argmax(ds.image_ann_count))])
        out = tmp_path / "r.png"
        assert main(["render", *args, "--image-id", str(iid), "--out", str(out)]) == 0
        assert out.stat().st_size > 0
