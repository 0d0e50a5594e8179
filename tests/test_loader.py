"""The loader: fast and slow paths agree, records come back as in the file, damage is reported."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import cocoview
from cocoview import CocoFormatError, Severity
from cocoview.model.loader import (
    SEG_EMPTY,
    SEG_NONE,
    SEG_POLYGON,
    SEG_RLE,
    SEG_RLE_RAW,
    load_file,
)
from tests.builders import BASE, doc, write


def test_opens_and_indexes(tmp_path: Path) -> None:
    ds = cocoview.open(write(tmp_path / "a.json", doc()))
    assert ds.image_ids.dtype == np.int64
    assert ds.image_ids.tolist() == [1, 2, 3]
    assert ds.annotation_ids(1).tolist() == [10, 11]
    assert ds.annotation_ids(2).tolist() == [4294967297]
    assert ds.annotation_ids(3).tolist() == []
    assert ds.anns.seg_kind.tolist() == [SEG_POLYGON, SEG_POLYGON, SEG_RLE_RAW]
    assert ds.category(2).name == "dog"


@pytest.mark.parametrize("indent", [None, 1, 4, "\t"])
def test_records_as_in_file(tmp_path: Path, indent: int | str | None) -> None:
    """annotations() gives the file's objects, unknown fields and all, at any layout."""
    d = doc()
    ds = cocoview.open(write(tmp_path / "a.json", d, indent=indent))
    got = ds.annotations(1) + ds.annotations(2)
    assert got == d["annotations"]
    assert ds.image_record(1) == d["images"][0]
    assert ds.annotation(4294967297) == d["annotations"][2]


def test_spans_with_hostile_strings(tmp_path: Path) -> None:
    """Braces and quotes inside strings do not confuse the on-demand record scan."""
    d = doc()
    d["annotations"][0]["note"] = {"s": 'x"}],{[\\"', "t": ["}", "{"]}
    d["annotations"][1]["z_last"] = "}\\\"}"
    text = json.dumps(d, ensure_ascii=False)
    p = tmp_path / "a.json"
    p.write_text(text)
    ds = cocoview.open(p)
    assert ds.annotations(1) == d["annotations"][:2]
    # every record, asked for in any order
    for ann in reversed(d["annotations"]):
        assert ds.annotation(ann["id"]) == ann


def test_gzip(tmp_path: Path) -> None:
    p = tmp_path / "a.json.gz"
    p.write_bytes(gzip.compress(json.dumps(doc()).encode()))
    ds = cocoview.open(p)
    assert len(ds.anns) == 3


def test_unknown_fields_kept(tmp_path: Path) -> None:
    f = load_file(write(tmp_path / "a.json", doc()))
    top = f.top()
    assert json.loads(bytes(top["top_extra"])) == {"kept": True}
    assert f.categories[1]["custom"] == [1, 2]


def _columns(ds: cocoview.Dataset) -> dict[str, list]:
    a = ds.anns
    return {k: np.asarray(getattr(a, k)).tolist() for k in (
        "id", "image_id", "category_id", "area", "iscrowd", "num_keypoints", "seg_kind")} | {
        "bbox": np.nan_to_num(a.bbox, nan=-1).tolist()}


def test_slow_path_matches_fast_path(tmp_path: Path) -> None:
    """A file that needs the record-by-record path indexes the same as the fast path."""
    good = doc()
    bad = doc()
    bad["annotations"].append({"id": 99, "image_id": 3, "category_id": 1, "bbox": "oops"})
    fast = cocoview.open(write(tmp_path / "good.json", good))
    slow = cocoview.open(write(tmp_path / "bad.json", bad))
    cols_fast = _columns(fast)
    cols_slow = _columns(slow)
    # the damaged record is kept (box dropped), the rest identical
    assert cols_slow["id"] == [*cols_fast["id"], 99]
    keep = [i for i, x in enumerate(cols_slow["id"]) if x != 99]
    for k in cols_fast:
        assert [cols_slow[k][i] for i in keep] == cols_fast[k], k
    assert slow.annotations(1) == good["annotations"][:2]
    errs = [p for p in slow.problems() if p.severity == Severity.ERROR]
    assert any("bbox" in p.message and "annotations[3] (id 99)" in p.location for p in errs)


def test_segmentation_kinds(tmp_path: Path) -> None:
    from pycocotools import mask as mu

    rle = mu.encode(np.asfortranarray(np.eye(10, 20, dtype=np.uint8)))
    d = doc()
    d["annotations"] = [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 5, 1, 5, 5]]},
        {"id": 2, "image_id": 1, "category_id": 1, "segmentation": []},
        {"id": 3, "image_id": 2, "category_id": 1,
         "segmentation": {"size": [10, 20], "counts": rle["counts"].decode()}},
        {"id": 4, "image_id": 2, "category_id": 1, "segmentation": {"counts": [200],
                                                                     "size": [10, 20]}},
        {"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]},
        {"id": 6, "image_id": 1, "category_id": 1, "segmentation": [ ]},
    ]
    ds = cocoview.open(write(tmp_path / "a.json", d, indent=2))
    kinds = dict(zip(ds.anns.id.tolist(), ds.anns.seg_kind.tolist(), strict=True))
    assert kinds == {1: SEG_POLYGON, 2: SEG_EMPTY, 3: SEG_RLE, 4: SEG_RLE_RAW, 5: SEG_NONE,
                     6: SEG_EMPTY}
    assert ds.annotation(5) == d["annotations"][4]


# ----- files that cannot be used at all -------------------------------------------
@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"hello", "not valid JSON"),
        (b'{"images": [', "ends too early"),
        (b"42", "top-level value is a number, expected"),
        (b'"text"', "top-level value is a string, expected"),
        (b"null", "top-level value is null, expected"),
        (b"true", "top-level value is a boolean, expected"),
        (b'{"images": {}, "annotations": []}', "'images' must be a list"),
        (b'{"images": [], "annotations": 5}', "'annotations' must be a list"),
        (b'{"images": [], "categories": "x"}', "'categories' must be a list"),
        (b'{"images": []} trailing', "trailing characters"),
    ],
)
def test_unusable_files_raise_one_clear_error(tmp_path: Path, content: bytes, cause: str) -> None:
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    with pytest.raises(CocoFormatError) as ei:
        cocoview.open(p)
    assert str(p) in str(ei.value)
    assert cause in str(ei.value)


def test_truncated_file_reports_position(tmp_path: Path) -> None:
    text = json.dumps(doc()).encode()
    for cut in (1, 10, len(text) // 3, len(text) // 2, len(text) - 1):
        p = tmp_path / f"t{cut}.json"
        p.write_bytes(text[:cut])
        with pytest.raises(CocoFormatError) as ei:
            cocoview.open(p)
        assert ei.value.position is not None
        assert ei.value.position <= cut


def test_corrupt_gzip(tmp_path: Path) -> None:
    data = gzip.compress(json.dumps(doc()).encode())
    p = tmp_path / "a.json.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CocoFormatError, match="gzip"):
        cocoview.open(p)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(CocoFormatError, match="not found"):
        cocoview.open(tmp_path / "nope.json")
    with pytest.raises(CocoFormatError, match="folder"):
        cocoview.open(tmp_path)


# ----- damage inside records --------------------------------------------------------
def _errors(ds: cocoview.Dataset) -> list[str]:
    return [f"{p.location}: {p.message}" for p in ds.problems() if p.severity == Severity.ERROR]


def test_string_bbox_and_string_ids(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][0]["bbox"] = "10,10,5,5"
    d["annotations"][1]["image_id"] = "1"
    d["images"][2]["id"] = "3"
    ds = cocoview.open(write(tmp_path / "a.json", d))
    errs = _errors(ds)
    assert any("annotations[0] (id 10)" in e and "bbox" in e for e in errs)
    assert any("annotations[1] (id 11)" in e and "image_id" in e for e in errs)
    assert any("images[2]" in e and "'id'" in e for e in errs)
    assert 10 in ds.anns.id.tolist()  # kept, without its box
    assert np.isnan(ds.anns.bbox[ds.ann_row(10)]).all()
    assert 11 not in ds.anns.id.tolist()  # cannot be placed on an image
    assert ds.image_ids.tolist() == [1, 2]


def test_missing_required_keys(tmp_path: Path) -> None:
    d = doc()
    del d["annotations"][0]["image_id"]
    del d["annotations"][1]["category_id"]
    del d["images"][0]["width"]
    ds = cocoview.open(write(tmp_path / "a.json", d))
    errs = _errors(ds)
    assert any("annotations[0] (id 10)" in e and "image_id" in e for e in errs)
    assert any("annotations[1] (id 11)" in e and "category_id" in e for e in errs)
    warns = [p for p in ds.problems() if p.code == "image-size-missing"]
    assert warns and "images[0] (id 1)" in warns[0].location


def test_nan_and_infinity_literals(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][0]["area"] = float("nan")
    d["annotations"][1]["bbox"] = [1, 2, float("inf"), 3]
    p = tmp_path / "a.json"
    p.write_text(json.dumps(d))  # Python writes NaN / Infinity
    assert "NaN" in p.read_text()
    ds = cocoview.open(p)
    errs = _errors(ds)
    assert any("annotations[0].area" in e for e in errs)
    assert any("annotations[1].bbox[2]" in e for e in errs)
    assert sorted(ds.anns.id.tolist()) == [10, 11, 4294967297]
    assert np.isnan(ds.anns.area[ds.ann_row(10)])


def test_ids_beyond_64_bits(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][0]["id"] = 2**64 + 5
    d["images"][1]["id"] = 2**63
    ds = cocoview.open(write(tmp_path / "a.json", d))
    errs = _errors(ds)
    assert any("64 bits" in e for e in errs)
    assert 2 not in ds.image_ids.tolist()


def test_non_object_records(tmp_path: Path) -> None:
    d = doc()
    d["annotations"].append([1, 2, 3])
    d["images"].append("x.jpg")
    d["categories"].append(None)
    ds = cocoview.open(write(tmp_path / "a.json", d))
    errs = _errors(ds)
    assert any("annotations[3]" in e and "object" in e for e in errs)
    assert any("images[3]" in e for e in errs)
    assert any("categories[2]" in e for e in errs)
    assert len(ds.anns) == 3


def test_image_info_and_no_categories(tmp_path: Path) -> None:
    d = doc()
    del d["annotations"]
    ds = cocoview.open(write(tmp_path / "info.json", d))
    assert ds.kinds == ["image_info"] and len(ds.anns) == 0 and len(ds.image_ids) == 3
    d = doc()
    del d["categories"]
    ds = cocoview.open(write(tmp_path / "nocat.json", d))
    assert {c.name for c in ds.categories} == {"category 1", "category 2"}
    assert any(p.code == "no-categories" for p in ds.problems())


def test_duplicate_ids_reported(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][1]["id"] = 10
    d["images"].append(dict(d["images"][0]))
    ds = cocoview.open(write(tmp_path / "a.json", d))
    codes = {p.code for p in ds.problems()}
    assert {"duplicate-annotation-id", "duplicate-image-id"} <= codes


def test_progress_and_cancel(tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", doc())
    seen: list[float] = []
    cocoview.open(p, progress=lambda f, _w: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    from cocoview.model.loader import Cancelled

    with pytest.raises(Cancelled):
        cocoview.open(p, cancelled=lambda: True)


def test_base_document_unchanged() -> None:
    assert BASE["annotations"][0]["id"] == 10  # builders hand out copies


@pytest.mark.parametrize("body", [
    "[" * 100_000 + "]" * 100_000,
    '{"images": ' + "[" * 5_000 + "]" * 5_000 + "}",
    '{"annotations": [' + "[" * 2_000 + "]" * 2_000 + "]}",
])
def test_deep_nesting_is_the_clear_error(tmp_path: Path, body: str) -> None:
    p = tmp_path / "deep.json"
    p.write_text(body)
    with pytest.raises(CocoFormatError, match="nested too deeply") as exc:
        load_file(p, cache=False)
    assert exc.value.position is not None and 900 <= exc.value.position < len(body)


def test_segmentation_kinds_through_white_space() -> None:
    """Pretty-printed and spaced lists: the first byte after "[" that is not white space
    decides empty or polygon (stepped for all values at once)."""
    from cocoview.model.chunks import seg_kinds

    values = [b"[ ]", b"[\n      ]", b"[\n    [\n      1.5,\n      2,\n      3, 4, 5, 6]\n  ]",
              b"[]", b"[[1,2,3,4,5,6]]", b'{"counts": "ab", "size": [1, 1]}',
              b'{ "size": [1, 1],\n "counts" : [1] }', b"null", b"[\t\r\n ]"]
    buf = b""
    off, lens = [], []
    for v in values:
        buf += b" , "
        off.append(len(buf))
        lens.append(len(v))
        buf += v
    got = seg_kinds(buf, np.asarray([*off, -1], np.int64), np.asarray([*lens, 0], np.int32))
    assert got.tolist() == [SEG_EMPTY, SEG_EMPTY, SEG_POLYGON, SEG_EMPTY, SEG_POLYGON,
                            SEG_RLE, SEG_RLE_RAW, SEG_NONE, SEG_EMPTY, SEG_NONE]
