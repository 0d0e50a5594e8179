"""Masks equal pycocotools' where pycocotools is right, and are safe where it is not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mu

import cocoview
from cocoview.model.masks import clean_segmentation, geometry_area, geometry_mask
from cocoview.model.rle import check_rle, counts_to_string, string_to_counts
from tests.builders import doc, write


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_counts_string_roundtrip(h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = (rng.random((h, w)) < rng.random()).astype(np.uint8)
    rle = mu.encode(np.asfortranarray(m))
    counts = string_to_counts(rle["counts"])
    assert counts.sum() == h * w
    assert counts_to_string(counts) == rle["counts"].decode()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.floats(-5, 60, allow_nan=False), min_size=6, max_size=30)
                .filter(lambda p: len(p) % 2 == 0), min_size=1, max_size=3))
def test_polygon_mask_equals_pycocotools(polys: list[list[float]]) -> None:
    h, w = 37, 53
    ref = mu.decode(mu.merge(mu.frPyObjects(polys, h, w))).astype(bool)
    g = clean_segmentation(polys)
    assert np.array_equal(geometry_mask(g, h, w), ref)
    assert geometry_area(g, h, w) == ref.sum()


def test_uncompressed_and_compressed_rle_equal_pycocotools() -> None:
    rng = np.random.default_rng(1)
    m = np.asfortranarray((rng.random((30, 40)) > 0.6).astype(np.uint8))
    rle = mu.encode(m)
    counts = string_to_counts(rle["counts"]).tolist()
    for seg in ({"size": [30, 40], "counts": rle["counts"].decode()},
                {"size": [30, 40], "counts": counts}):
        g = clean_segmentation(seg)
        assert not g.problems
        assert np.array_equal(geometry_mask(g, 30, 40), m.astype(bool))


@pytest.mark.parametrize(
    ("seg", "needle"),
    [
        ([], "empty list"),
        ([[1, 2, 3, 4]], "2 point(s)"),  # pycocotools would read this as a box
        ([[1, 2, 3, 4, 5]], "odd number"),
        ([[1, 2]], "1 point(s)"),
        ([["a", 1, 2, 3, 4, 5]], "not a list of numbers"),
        ([1, 2, 3, 4, 5, 6], "flat list"),
        ({"size": [10, 10], "counts": [50, 60]}, "sum to 110"),
        ({"size": [10, 10], "counts": [50, 40]}, "sum to 90"),
        ({"size": [10, 10], "counts": [-5, 105]}, "negative"),
        ({"size": [10], "counts": [100]}, "'size'"),
        ({"size": [10, 10], "counts": "!!!"}, "corrupt"),
        ({"size": [10, 10], "counts": 5}, "string or a list"),
        ("polygon", "must be a list"),
    ],
)
def test_degenerate_input_is_reported_not_raised(seg: object, needle: str) -> None:
    g = clean_segmentation(seg)
    assert any(needle in p for p in g.problems), g.problems
    m = geometry_mask(g, 10, 10)
    assert m.shape == (10, 10) and m.dtype == bool


def test_overlong_counts_are_cut_not_overflowed() -> None:
    chk = check_rle({"size": [4, 4], "counts": [3, 10, 30]})
    assert chk.rle is not None
    m = mu.decode(chk.rle)
    assert m.shape == (4, 4) and m.sum() == 10  # 3 off, 10 on, the rest off


def test_mask_of_rle_with_other_size_than_image(tmp_path: Path) -> None:
    d = doc()
    # image 2 is 20×10; this RLE says 12×20
    d["annotations"][2]["segmentation"] = {"size": [12, 20], "counts": [0, 240]}
    ds = cocoview.open(write(tmp_path / "a.json", d))
    m = ds.mask(4294967297)
    assert m.shape == (10, 20) and m.all()
    assert any(p.code == "rle-size-mismatch" and "(id 4294967297)" in p.location
               for p in ds.problems())


def test_mask_api_matches_pycocotools_on_doc(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    p = write(tmp_path / "a.json", doc())
    ds = cocoview.open(p)
    coco = COCO(str(p))
    for aid, ann in coco.anns.items():
        assert np.array_equal(ds.mask(aid), coco.annToMask(ann).astype(bool))


def test_degenerate_polygons_in_file(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][0]["segmentation"] = [[1, 1, 5, 1]]
    d["annotations"][1]["segmentation"] = [[20, 5, 26, 5, 26, 11], [1, 1]]
    ds = cocoview.open(write(tmp_path / "a.json", d))
    assert not ds.mask(10).any()
    m = ds.mask(11)
    assert m.any()
    probs = [p for p in ds.problems() if p.code == "degenerate-polygon"]
    locs = {p.location for p in probs}
    assert "annotations[0] (id 10)" in locs and "annotations[1] (id 11)" in locs


def test_far_out_polygon_coordinates_are_refused() -> None:
    from cocoview.model.masks import MAX_COORD, clean_segmentation

    g = clean_segmentation([[0, 0, 10, 0, 1e30, 10], [1, 1, 5, 1, 5, 5]])
    assert len(g.polygons) == 1  # the sane part stays
    assert any(f"±{MAX_COORD:,}" in p for p in g.problems)


def test_huge_sizes_give_no_mask_instead_of_exhausting_memory(tmp_path: Path) -> None:
    import json

    from cocoview.model.masks import clean_segmentation, geometry_mask

    d = {"images": [{"id": 1, "file_name": "a.jpg", "width": 200_000, "height": 200_000}],
         "annotations": [
             {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 1.0,
              "segmentation": [[0, 0, 50, 0, 50, 50]]},
             {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 1.0,
              "iscrowd": 1, "segmentation": {"size": [200_000, 200_000], "counts": "0"}}],
         "categories": [{"id": 1, "name": "a"}]}
    p = tmp_path / "huge.json"
    p.write_text(json.dumps(d))
    ds = cocoview.open(p)
    ov = ds.overlays(1)
    assert [it.mask for it in ov.items] == [None, None]
    assert all(any("too large" in m for m in it.problems) for it in ov.items)
    with pytest.raises(ValueError, match="too large"):
        geometry_mask(clean_segmentation([[0, 0, 5, 0, 5, 5]]), 200_000, 200_000)


_RAW_POLYGONS = [
    b"[[1,2,30,4,5,60]]", b"[[1.5, 2e1, 3E+1, 4, 5.0e-1, 6], [0,0,10,0,10,10,0]]",
    b"[[1,2,3,4]]", b"[[1,2,3,4,5]]", b"[[]]", b"[[1,2],[3,4,5,6,7,8]]",
    b"[[1e999,2,3,4,5,6]]", b"[[-1e999,2,3,4,5,6]]", b"[[200000,2,3,4,5,6]]",
    b"[[-100000,2,3,4,5,6,7,8]]", b"[[100000.0001,0,1,1,2,2]]",
    b"[[true,2,3,4,5,6]]", b'[["1",2,3,4,5,6]]', b"[[1,2,3,4,5,6],null]",
    b"[1,2,3,4,5,6]", b"[]", b"[[[1,2,3,4,5,6]]]", b"[[1,2,3,4,5,6], {}]",
    b"[[123456789012345678901234567890,1,2,3,4,5]]", b"[[0.1,0.2,0.30000000000000004,1,2,3]]",
]


@pytest.mark.parametrize("raw", _RAW_POLYGONS)
def test_the_polygon_fast_path_equals_the_general_path(raw: bytes) -> None:
    """``polygon_geometry`` (msgspec's typed decode) gives what ``clean_segmentation``
    gives the value decoded as the loader decodes it, or leaves the value to it."""
    from cocoview.model.masks import polygon_geometry
    from cocoview.model.source import decode_value

    want = clean_segmentation(decode_value(raw))
    got = polygon_geometry(raw)
    if got is None:
        return
    assert got.problems == want.problems
    assert len(got.polygons) == len(want.polygons)
    for a, b in zip(got.polygons, want.polygons, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def test_the_fast_path_takes_the_common_cases() -> None:
    from cocoview.model.masks import polygon_geometry

    taken = [r for r in _RAW_POLYGONS if polygon_geometry(r) is not None]
    assert b"[[1.5, 2e1, 3E+1, 4, 5.0e-1, 6], [0,0,10,0,10,10,0]]" in taken
    assert b"[[1,2,3,4]]" in taken and b"[[200000,2,3,4,5,6]]" in taken
    for other in (b"[[true,2,3,4,5,6]]", b'[["1",2,3,4,5,6]]', b"[1,2,3,4,5,6]", b"[]"):
        assert polygon_geometry(other) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.one_of(st.integers(-200_000, 200_000),
                                   st.floats(allow_nan=False, allow_infinity=False,
                                             min_value=-2e5, max_value=2e5)),
                         max_size=12), min_size=1, max_size=4))
def test_the_fast_path_agrees_on_generated_polygons(parts: list[list[float]]) -> None:
    import json

    from cocoview.model.masks import polygon_geometry

    raw = json.dumps(parts).encode()
    got, want = polygon_geometry(raw), clean_segmentation(parts)
    assert got is not None and got.problems == want.problems
    assert [p.tolist() for p in got.polygons] == [p.tolist() for p in want.polygons]
