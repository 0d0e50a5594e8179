"""One look: the same visibility rule, the same crowd stripes and the same blend in
the app's frames, thumbnails and ``cocoview render``."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

import cocoview
from cocoview.model.look import Look, blend_masks, hatch
from cocoview.model.overlays import AnnOverlay
from cocoview.model.render import render
from cocoview.model.thumbnail import render_thumbnail
from tests.builders import doc, write


@pytest.mark.parametrize(("cid", "is_result", "score", "shown"), [
    (1, False, math.nan, True), (2, False, math.nan, False),  # category 2 hidden
    (1, True, 0.5, True), (1, True, 0.29, False), (1, True, 0.3, True),  # at the min score
    (1, True, math.nan, False), (2, True, 0.9, False),
])
def test_one_visibility_rule(cid: int, is_result: bool, score: float, shown: bool) -> None:
    look = Look(hidden=frozenset({2}), min_score=0.3)
    it = AnnOverlay(0, 1, cid, (1, 2, 3), "x", is_result=is_result, score=score)
    assert look.shows(it) is shown
    assert Look(hidden=frozenset({2}), results=False).shows(it) is (shown and not is_result)


def _crowd_only(tmp_path: Path) -> Path:
    d = doc(images=[{"id": 1, "file_name": "none.jpg", "width": 64, "height": 48}],
            annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 64, 48],
                          "area": 3072, "iscrowd": 1,
                          "segmentation": {"size": [48, 64], "counts": [0, 3072]}}])
    return write(tmp_path / "crowd.json", d)


def test_crowds_are_striped_in_thumbnails_as_in_render(tmp_path: Path) -> None:
    ds = cocoview.open(_crowd_only(tmp_path))
    plain = render_thumbnail(ds, 1, 64, overlays=False)
    thumb = render_thumbnail(ds, 1, 64)
    painted = (thumb != plain).any(axis=2)
    inner = (slice(2, -2), slice(2, -2))  # the box outline runs along the border
    assert np.array_equal(painted[inner], hatch(48, 64)[inner])
    ov = ds.overlays(1)
    full = render(ov, None, ["masks"])
    base = render(ov, None, [])
    assert np.array_equal((full != base).any(axis=2)[inner], hatch(48, 64)[inner])


def test_render_blends_as_the_app(tmp_path: Path) -> None:
    ds = cocoview.open(write(tmp_path / "d.json", doc()))
    ov = ds.overlays(1)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    drawn = render(ov, rgb, ["masks"], opacity=0.4)
    layer = ov.mask_layer(opacity=1.0)
    bgrx = np.dstack([rgb[..., ::-1], np.full((30, 40), 255, np.uint8)])
    app = blend_masks(bgrx, layer, 0.4)  # what qt/frames.composite shows
    outlines = render(ov, rgb, ["outlines"], opacity=0.4) != rgb  # render adds outlines
    inside = ~outlines.any(axis=2)
    assert np.array_equal(drawn[inside], app[..., 2::-1][inside])
    assert (layer[..., 3] > 0).any()


def test_instance_colours_are_stable_and_differ_between_neighbours() -> None:
    from cocoview.model.look import instance_color

    colours = [instance_color(k) for k in range(40)]
    assert colours == [instance_color(k) for k in range(40)]  # the same on every run
    for a, b in itertools.pairwise(colours):
        assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) > 120


def test_colour_by_instance_in_render_and_thumbnails(tmp_path: Path) -> None:
    from cocoview.model.look import instance_color
    from cocoview.model.render import render_image

    d = doc()
    d["annotations"][1]["category_id"] = 1  # two cats on image 1: one category colour
    from PIL import Image

    Image.new("RGB", (40, 30), (90, 90, 90)).save(tmp_path / "a.jpg")
    ds = cocoview.open(write(tmp_path / "two.json", d), images=tmp_path)
    ov = ds.overlays(1)
    assert ov.items[0].color == ov.items[1].color
    by_cat, _ = render_image(ds, 1, ["masks"], opacity=1.0)
    by_obj, _ = render_image(ds, 1, ["masks"], opacity=1.0, by_instance=True)
    inside = (5, 5)  # in annotation 10's square, away from its outline
    assert tuple(by_obj[inside]) == instance_color(0)
    assert tuple(by_cat[inside]) == ds.category(1).color
    t_cat = render_thumbnail(ds, 1, 40, opacity=1.0)
    t_obj = render_thumbnail(ds, 1, 40, opacity=1.0, by_instance=True)
    assert (t_cat != t_obj).any()


def test_limbs_take_their_side_colour() -> None:
    from cocoview.model.look import LEFT, MIDDLE, RIGHT, limb_colors

    names = ["nose", "left_eye", "right_eye", "left_ear", "r_wrist", "RightElbow"]
    assert limb_colors(names, [[1, 3], [4, 5], [1, 2], [0, 1], [0, 9]]) == [
        LEFT, RIGHT, MIDDLE, LEFT, MIDDLE]


def test_panoptic_stuff_has_its_own_box_layer_off_by_default() -> None:
    from cocoview.model.render import render_image
    from cocoview.model.viewer import DEFAULT_LAYERS

    p = Path(__file__).parent / "data" / "real" / "panopticapi" / "sample_data" / \
        "panoptic_examples.json"
    ds = cocoview.open(p)
    iid = int(ds.image_ids[0])
    ov = ds.overlays(iid)
    assert any(it.is_stuff for it in ov.items) and any(not it.is_stuff for it in ov.items)
    none, _ = render_image(ds, iid, [])
    things, _ = render_image(ds, iid, ["boxes"])
    both, _ = render_image(ds, iid, ["boxes", "stuff_boxes"])
    stuff, _ = render_image(ds, iid, ["stuff_boxes"])
    assert (things != none).any() and (stuff != none).any()
    assert (both != things).any()  # the stuff boxes were not in "boxes"
    assert DEFAULT_LAYERS["stuff_boxes"] is False and DEFAULT_LAYERS["boxes"] is True


@pytest.mark.parametrize("channels,order", [(4, "BGR"), (4, "RGB"), (3, "BGR"), (3, "RGB")])
def test_blend_masks_equals_the_per_pixel_formula(channels: int, order: str) -> None:
    """The blend (whole-image OpenCV calls) equals the plain formula, pixel for pixel:
    base·(1-a) + ink·a where the layer is painted, the base elsewhere."""
    import cv2

    rng = np.random.default_rng(channels)
    base = rng.integers(0, 256, (37, 53, channels), dtype=np.uint8)
    layer = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    layer[..., 3] = np.where(rng.random((37, 53)) < 0.4, 255, 0)
    got = blend_masks(base, layer, 0.45, order)
    ink = layer[..., :3] if order == "BGR" else layer[..., 2::-1]
    under = np.ascontiguousarray(base[..., :3])
    mixed = cv2.addWeighted(under, 0.55, np.ascontiguousarray(ink), 0.45, 0.0)
    want = base.copy()
    painted = layer[..., 3] > 0
    want[..., :3][painted] = mixed[painted]
    if channels == 4:
        want[..., 3] = 255
    assert np.array_equal(got, want)
    assert not np.array_equal(got, base)
    empty = layer.copy()
    empty[..., 3] = 0
    assert np.array_equal(blend_masks(base, empty, 0.45, order), base)
