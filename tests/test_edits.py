"""The edit layer and Save As (issue 17): every edit and its inverse; the saved file is
the input everywhere but the edits (parsed with key order, and untouched bytes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cocoview.model import dataset
from cocoview.model.edits import (
    DeleteAnnotation,
    DeleteCategory,
    DeleteImage,
    EditError,
    EditLayer,
    MergeCategory,
    Relabel,
    RenameCategory,
    SetCrowd,
    SetTags,
    save_as,
)
from cocoview.model.safe_write import WriteError
from tests.conftest import real_sets, set_id


def _doc(tmp_path: Path) -> Path:
    doc = {
        "info": {"v": 1.50},
        "images": [{"id": i, "file_name": f"{i}.jpg", "width": 10, "height": 10,
                    "extra": [i]} for i in (1, 2, 3)],
        "annotations": [{"zz": "first", "id": a, "image_id": 1 + a % 3,
                         "category_id": 1 + a % 2, "bbox": [1.0, 2.50, 3, 4],
                         "area": 12.0, "iscrowd": 0} for a in range(1, 10)],
        "categories": [{"id": 1, "name": "cat", "supercategory": "x", "u": 1},
                       {"id": 2, "name": "dog", "supercategory": "x"},
                       {"id": 3, "name": "cow"}],
    }
    p = tmp_path / "in.json"
    # odd spacing and number formatting: untouched objects must keep them
    p.write_text(json.dumps(doc, indent=1).replace("2.5,", "2.50,"))
    return p


def _layer(tmp_path: Path) -> EditLayer:
    return EditLayer(dataset.open(_doc(tmp_path), cache=False))


EDITS = [DeleteAnnotation(4), Relabel(4, 3), SetCrowd(5, 1), RenameCategory(1, "kitty"),
         MergeCategory(1, 2), DeleteCategory(3), DeleteImage(2), SetTags(1, ("bad", "dup"))]


@pytest.mark.parametrize("edit", EDITS, ids=lambda e: type(e).__name__)
def test_edit_and_inverse(tmp_path: Path, edit: object) -> None:
    layer = _layer(tmp_path)
    before = {k: (set(v) if isinstance(v, set) else dict(v)) for k, v in vars(layer).items()
              if isinstance(v, (set, dict))}
    inverse = layer.apply(edit)  # type: ignore[arg-type]
    after = {k: v for k, v in vars(layer).items() if isinstance(v, (set, dict))}
    assert after != before
    layer.apply(inverse)
    again = {k: v for k, v in vars(layer).items() if isinstance(v, (set, dict))}
    assert again == before


@pytest.mark.parametrize("edit,msg", [
    (DeleteAnnotation(999), "no annotation with id 999"),
    (Relabel(1, 77), "no category with id 77"),
    (MergeCategory(1, 1), "into itself"),
    (DeleteImage(42), "no image with id 42"),
    (SetCrowd(1, 5), "iscrowd must be 0 or 1"),
])
def test_bad_edits(tmp_path: Path, edit: object, msg: str) -> None:
    with pytest.raises(EditError, match=msg):
        _layer(tmp_path).apply(edit)  # type: ignore[arg-type]


def test_views_see_edits(tmp_path: Path) -> None:
    layer = _layer(tmp_path)
    layer.apply(MergeCategory(1, 2))
    assert layer.category_of(1) == 2 and layer.category_of(2) == 2
    layer.apply(DeleteImage(2))  # annotations 1, 4, 7
    assert layer.is_deleted(1) and not layer.is_deleted(2)
    assert int(layer.ann_keep_mask().sum()) == 6


def test_save_as_changes_only_the_edits(tmp_path: Path) -> None:
    src = _doc(tmp_path)
    layer = EditLayer(dataset.open(src, cache=False))
    for e in (DeleteAnnotation(3), Relabel(4, 3), SetCrowd(5, 1), RenameCategory(1, "kitty"),
              DeleteImage(2)):
        layer.apply(e)
    out = save_as(layer, tmp_path / "out.json")
    got, want = json.loads(out.read_text()), json.loads(src.read_text())
    assert list(got) == list(want)
    assert got["images"] == [im for im in want["images"] if im["id"] != 2]
    exp = []
    for a in want["annotations"]:
        if a["id"] == 3 or a["image_id"] == 2:
            continue
        if a["id"] == 4:
            a["category_id"] = 3
        if a["id"] == 5:
            a["iscrowd"] = 1
        exp.append(a)
    assert [list(a) for a in got["annotations"]] == [list(a) for a in exp]
    assert got["annotations"] == exp
    want["categories"][0]["name"] = "kitty"
    assert got["categories"] == want["categories"]
    assert got["info"] == want["info"]
    # untouched records are the input's bytes (number formatting kept)
    data, text = src.read_bytes(), out.read_bytes()
    f = layer.ds.files[0]
    row = layer.ds.ann_row(6)
    assert bytes(f.record_bytes(int(layer.ds.anns.ordinal[row]))) in text
    assert b"2.50" in text and data.count(b"2.50") > text.count(b"2.50") > 0


def test_save_as_never_over_input(tmp_path: Path) -> None:
    layer = _layer(tmp_path)
    layer.apply(DeleteAnnotation(1))
    src = layer.ds.files[0].path
    with pytest.raises(WriteError, match="input"):
        save_as(layer, src)
    before = src.read_bytes()
    save_as(layer, src, overwrite_input=True)
    assert src.with_name("in.json.bak").read_bytes() == before
    assert len(json.loads(src.read_text())["annotations"]) == 8


REAL = [s for s in real_sets() if s[1]["kind"] in ("instances", "keypoints")]


@pytest.mark.parametrize("item", REAL, ids=[set_id(s) for s in REAL])
def test_save_as_on_real_sets(item: tuple[Path, dict], tmp_path: Path) -> None:
    root, s = item
    src = root / s["annotation"]
    ds = dataset.open(src)
    if len(ds.anns.id) < 2:
        pytest.skip("fewer than two annotations: nothing to delete and relabel")
    layer = EditLayer(ds)
    gone, moved = int(ds.anns.id[0]), int(ds.anns.id[1])
    if np.unique(ds.anns.id).size < ds.anns.id.size:  # mmdet's duplicate-id sample
        with pytest.raises(EditError, match="not unique"):
            layer.apply(DeleteAnnotation(gone))
        return
    others = [c.id for c in ds.categories if c.id != int(ds.anns.category_id[1])]
    # one category (mmpose, sahi): the relabel keeps the category, still a written edit
    new_cat = others[0] if others else int(ds.anns.category_id[1])
    layer.apply(DeleteAnnotation(gone))
    layer.apply(Relabel(moved, new_cat))
    out = save_as(layer, tmp_path / "edited.json")
    want = json.loads(src.read_text())
    got = json.loads(out.read_text())
    assert list(got) == list(want)
    exp = []
    for a in want["annotations"]:
        if isinstance(a, dict) and a.get("id") == gone:
            continue
        if isinstance(a, dict) and a.get("id") == moved:
            a["category_id"] = new_cat
        exp.append(a)
    assert got["annotations"] == exp
    assert [list(a) for a in got["annotations"] if isinstance(a, dict)] == \
        [list(a) for a in exp if isinstance(a, dict)]
    assert {k: v for k, v in got.items() if k != "annotations"} == \
        {k: v for k, v in want.items() if k != "annotations"}
    text = out.read_bytes()
    f = ds.files[0]
    edited = {int(ds.anns.ordinal[ds.ann_row(i)]) for i in (gone, moved)}
    untouched = [o for o in range(f.n_records) if o not in edited]
    for o in untouched[:50]:
        assert bytes(f.record_bytes(o)) in text
