"""Drawing crowded images: only the layers asked for are decoded, masks cropped to their
boxes (and still pycocotools' pixels), the work per image bounded and said."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mu

import cocoview
from cocoview.model import look
from cocoview.model import overlays as ovl
from cocoview.model.overlays import polygon_region
from cocoview.model.render import render_image
from cocoview.model.rle import _short_string_to_counts, crop_counts, string_to_counts
from tests.builders import write


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_counts_decoders_agree_on_long_and_short_strings(h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = np.asfortranarray((rng.random((h, w)) < rng.random()).astype(np.uint8))
    s = mu.encode(m)["counts"]
    fast = string_to_counts(s)
    assert fast.tolist() == _short_string_to_counts(s)
    x0, x1 = sorted(rng.integers(0, w + 1, 2).tolist())
    y0, y1 = sorted(rng.integers(0, h + 1, 2).tolist())
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    x1, y1 = min(x1, w), min(y1, h)
    x0, y0 = min(x0, x1 - 1), min(y0, y1 - 1)
    assert np.array_equal(crop_counts(fast, h, (x0, y0, x1, y1)),
                          m[y0:y1, x0:x1].astype(bool))


@pytest.mark.parametrize(("text", "needle"), [
    ("0" * 300 + "!", "invalid character"),  # long: the vectorised path
    ("0" * 300 + "P", "ends inside a number"),
    ("0" * 300 + "P" * 20 + "0", "too long"),
    ("!", "invalid character"),  # short: the loop
    ("P", "ends inside a number"),
    ("P" * 20 + "0", "too long"),
])
def test_corrupt_counts_strings_are_refused(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        string_to_counts(text)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 9)), min_size=3, max_size=12),
       st.integers(50, 700), st.integers(50, 700))
def test_cropped_polygon_mask_is_pycocotools_mask(pts: list[tuple[int, int]], h: int,
                                                  w: int) -> None:
    # tenths, as COCO writes them: 5·x + 0.5 lands on pycocotools' rounding edge
    poly = [float(f"{(a % w)}.{b}") for a, b in pts] + [float(f"{(a % h)}.{b}")
                                                        for a, b in pts[::-1]]
    flat = [v for pair in zip(poly[: len(pts)], poly[len(pts):], strict=True) for v in pair]
    ref = mu.decode(mu.merge(mu.frPyObjects([flat], h, w))).astype(bool)
    mask, (x0, y0, x1, y1) = polygon_region([np.asarray(flat).reshape(-1, 2)], h, w)
    assert mask is not None
    full = np.zeros((h, w), bool)
    full[y0:y1, x0:x1] = mask
    assert np.array_equal(full, ref)


def _crowded(tmp_path: Path, n: int, name: str = "thing") -> Path:
    anns = [{"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [i % 90, i % 70, 8, 6],
             "area": 48, "iscrowd": 0,
             "segmentation": [[i % 90, i % 70, i % 90 + 8, i % 70, i % 90 + 8, i % 70 + 6]]}
            for i in range(n)]
    return write(tmp_path / "crowded.json", {
        "images": [{"id": 1, "file_name": "none.jpg", "width": 100, "height": 80}],
        "annotations": anns, "categories": [{"id": 1, "name": name}]})


def test_boxes_alone_decode_no_segmentation(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ds = cocoview.open(_crowded(tmp_path, 50))

    def refuse(row: int) -> None:
        raise AssertionError("a segmentation was decoded for the boxes layer")

    monkeypatch.setattr(ds, "segmentation", refuse)
    ov = ds.overlays(1, layers=["boxes", "labels"])
    assert len(ov.items) == 50 and not any(it.has_mask for it in ov.items)
    assert ov.note == ""
    rgb, warning = render_image(ds, 1, ["boxes"])
    assert rgb.shape == (80, 100, 3) and "placeholder" in warning
    assert (rgb != rgb[0, 0]).any()  # the boxes are there


def test_masks_over_the_limit_are_counted_and_said(tmp_path: Path) -> None:
    ds = cocoview.open(_crowded(tmp_path, 9))
    ov = ds.overlays(1, max_shapes=4)
    assert sum(it.has_mask for it in ov.items) == 4 and ov.omitted_shapes == 5
    assert ov.note == "4 of 9 masks drawn (the limit per image)"
    full = ds.overlays(1)
    assert full.omitted_shapes == 0 and all(it.has_mask for it in full.items)
    for it in full.items:  # each cropped mask is pycocotools' full mask, sliced
        ref = ds.mask_of_row(it.row)
        x0, y0, x1, y1 = it.mask_box
        assert it.mask is not None and np.array_equal(it.mask, ref[y0:y1, x0:x1])
        assert ref.sum() == it.mask.sum()


def test_render_says_what_it_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = cocoview.open(_crowded(tmp_path, 9))
    monkeypatch.setattr(ovl, "MAX_SHAPES", 3)
    monkeypatch.setattr(look, "MAX_LABELS", 2)
    monkeypatch.setattr(ovl.build_overlays, "__defaults__", (True, None, 3))
    _, warning = render_image(ds, 1, ["masks", "labels"])
    assert "3 of 9 masks drawn" in warning
    assert "labels of the 2 largest of 9 objects drawn" in warning


def test_a_huge_category_name_is_cut_in_labels(tmp_path: Path) -> None:
    ds = cocoview.open(_crowded(tmp_path, 3, name="n" * 1_000_000))
    ov = ds.overlays(1, layers=["labels"])
    assert all(len(it.label) == ovl.MAX_LABEL and it.label.endswith("…") for it in ov.items)
    rgb, _ = render_image(ds, 1)
    assert rgb.shape == (80, 100, 3)
