"""Thumbnails: reduced JPEG decode, aspect, overlays, placeholders, the pixel cap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

import cocoview
from cocoview.model import thumbnail
from cocoview.model.thumbnail import (
    decode_reduced,
    placeholder_thumbnail,
    render_thumbnail,
    thumbnail_size,
)
from cocoview.resources import demo_files
from tests.builders import doc, write


@pytest.fixture(scope="module")
def demo() -> cocoview.Dataset:
    return cocoview.open(demo_files())


def _is_grey(rgb: np.ndarray) -> bool:
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


@pytest.mark.parametrize("size", [64, 160, 256])
def test_size_and_aspect_on_demo(demo: cocoview.Dataset, size: int) -> None:
    for image_id in demo.image_ids.tolist():
        info = demo.image(image_id)
        out = render_thumbnail(demo, image_id, size)
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
        h, w = out.shape[:2]
        assert max(h, w) == size
        assert (w, h) == thumbnail_size(info.width, info.height, size)
        assert abs(w / h - info.width / info.height) < 2 / min(w, h)


def test_overlays_change_pixels_and_follow_categories(demo: cocoview.Dataset) -> None:
    image_id = 139  # 20 annotations of several categories
    plain = render_thumbnail(demo, image_id, overlays=False)
    full = render_thumbnail(demo, image_id)
    assert plain.shape == full.shape
    changed = (plain != full).any(axis=2).mean()
    assert changed > 0.02
    none = render_thumbnail(demo, image_id, categories=set())
    assert np.array_equal(none, plain)  # every category hidden: just the picture
    cats = {int(c) for c in demo.anns.category_id[demo.ann_rows(image_id)]}
    one = render_thumbnail(demo, image_id, categories={min(cats)})
    assert 0 < (plain != one).any(axis=2).mean() < changed


def test_mask_colour_is_the_category_colour(tmp_path: Path) -> None:
    d = doc(images=[{"id": 1, "file_name": "a.png", "width": 100, "height": 50}],
            annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 100, 50],
                          "area": 5000, "iscrowd": 0,
                          "segmentation": [[0, 0, 100, 0, 100, 50, 0, 50]]}])
    Image.new("RGB", (100, 50), (0, 0, 0)).save(tmp_path / "a.png")
    ds = cocoview.open(write(tmp_path / "t.json", d), images=tmp_path)
    out = render_thumbnail(ds, 1, 40, opacity=1.0)
    assert out.shape == (20, 40, 3)
    centre = tuple(int(v) for v in out[10, 20])
    assert centre == ds.category(1).color


def test_missing_and_unreadable_images_give_placeholders(tmp_path: Path) -> None:
    d = doc(images=[{"id": 1, "file_name": "missing.jpg", "width": 300, "height": 100},
                    {"id": 2, "file_name": "broken.jpg", "width": 100, "height": 200}],
            annotations=[])
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    ds = cocoview.open(write(tmp_path / "t.json", d), images=tmp_path)
    a = render_thumbnail(ds, 1, 90)
    b = render_thumbnail(ds, 2, 90)
    assert a.shape == (30, 90, 3) and _is_grey(a)
    assert b.shape == (90, 45, 3) and _is_grey(b)
    assert len(np.unique(a)) == 2  # the checker of the main view's placeholder


def test_placeholder_keeps_overlays(tmp_path: Path) -> None:
    d = doc(images=[{"id": 1, "file_name": "missing.jpg", "width": 40, "height": 30}])
    ds = cocoview.open(write(tmp_path / "t.json", d), images=tmp_path)
    out = render_thumbnail(ds, 1, 80)
    assert out.shape == (60, 80, 3) and not _is_grey(out)


def test_other_formats_and_modes(tmp_path: Path) -> None:
    Image.new("L", (64, 32), 200).save(tmp_path / "g.jpg")
    Image.new("RGBA", (32, 64), (10, 20, 30, 0)).save(tmp_path / "a.png")
    Image.new("P", (50, 50)).save(tmp_path / "p.gif")
    assert decode_reduced(tmp_path / "g.jpg", 16).shape == (8, 16, 3)  # type: ignore[union-attr]
    assert decode_reduced(tmp_path / "a.png", 16).shape == (16, 8, 3)  # type: ignore[union-attr]
    assert decode_reduced(tmp_path / "p.gif", 10).shape == (10, 10, 3)  # type: ignore[union-attr]
    assert decode_reduced(None, 16) is None
    assert decode_reduced(tmp_path / "nope.jpg", 16) is None


def test_pixel_cap_uses_the_dct_scaled_size(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (2000, 1500), (200, 30, 30)).save(tmp_path / "big.jpg", quality=50)
    Image.new("RGB", (2000, 1500), (200, 30, 30)).save(tmp_path / "big.png")
    # a JPEG is decoded at 1/8 scale (250 × 188 ≈ 47,000 pixels), so it passes a tight cap
    out = decode_reduced(tmp_path / "big.jpg", 160, max_pixels=60_000)
    assert out is not None and out.shape == (120, 160, 3)
    # a PNG cannot be DCT-scaled: over the cap it is never decoded
    assert decode_reduced(tmp_path / "big.png", 160, max_pixels=60_000) is None
    monkeypatch.setattr(thumbnail, "THUMB_MAX_PIXELS", 60_000)
    assert decode_reduced(tmp_path / "big.png", 160) is None


def test_draft_decodes_at_reduced_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (1280, 960), (0, 90, 0)).save(tmp_path / "x.jpg")
    seen: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        seen.append(self.size)  # the size the pixels are decoded at
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    assert decode_reduced(tmp_path / "x.jpg", 160) is not None
    assert seen and seen[0] == (160, 120)  # 1/8 DCT scale, never the full 1280 × 960


def test_placeholder_aspect_and_unknown_size() -> None:
    assert placeholder_thumbnail(640, 480, 160).shape == (120, 160, 3)
    assert placeholder_thumbnail(-1, -1, 160).shape == (120, 160, 3)
    assert thumbnail_size(1, 1000, 160) == (1, 160)
