"""The summaries ``Dataset.warm`` computes, kept in the index cache (issue 18): a cached
open reads them instead of computing them, and they equal the computed ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cocoview
from cocoview.model import cache
from cocoview.model.cache import _decode_names
from cocoview.model.edited import EditedView
from cocoview.model.edits import DeleteAnnotation, RenameCategory
from cocoview.model.incidence import Incidence
from tests.builders import doc, write


def _doc() -> dict[str, Any]:
    """Images out of id order, one repeated; an orphan annotation, an undefined category,
    three supercategories (one empty)."""
    d = doc()
    d["images"] = [d["images"][2], d["images"][0], d["images"][1], dict(d["images"][0]),
                   {"id": 7, "file_name": "héllo wörld.jpg", "width": 9, "height": 9},
                   {"id": 5, "file_name": "", "width": 9, "height": 9}]
    d["categories"].append({"id": 3, "name": "car", "supercategory": "vehicle"})
    d["categories"].append({"id": 4, "name": "thing"})
    extra = [(20, 7, 3), (21, 7, 3), (22, 7, 1), (23, 99, 2), (24, 5, 42), (25, 3, 4)]
    for aid, iid, cid in extra:
        d["annotations"].append({"id": aid, "image_id": iid, "category_id": cid,
                                 "bbox": [1, 1, 3, 2], "area": 6, "iscrowd": 0})
    return d


def _open(path: Path, **kw: Any) -> cocoview.Dataset:
    ds = cocoview.open(path, **kw)
    cache.wait_pending()
    return ds


def _summaries(ds: cocoview.Dataset) -> dict[str, Any]:
    inst, imgs = ds.category_counts()
    return {"cidx": ds.ann_category_index.tolist(), "inst": inst.tolist(),
            "imgs": imgs.tolist(), "super": ds.supercategory_counts(),
            "per_image": ds.image_ann_count.tolist(), "sort": ds._img_sort.tolist(),
            "cats": [(c.id, c.name, c.supercategory, c.defined) for c in ds.categories],
            "rows": ds.image_rows(np.array([7, 1, 3, 99, 5])).tolist(),
            "names": ds.image_file_names, "id_order": ds.ann_id_order.tolist()}


def test_cached_summaries_equal_the_computed(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path / "a.json", _doc())
    eager = _open(p, cache=False)
    want = _summaries(eager)
    first = _open(p)  # writes the entry
    first.warm()
    second = _open(p)  # the index and its derived arrays from the cache
    second.warm()  # stores the summaries (the first open's entry was still being written)
    keep = {k for k in cache.SUMMARIES if k in cocoview.open(p)._derived}
    assert keep == set(cache.SUMMARIES) - {"ann_id_order"}  # kept once it is first made
    assert cocoview.open(p).ann_row(22) == eager.ann_row(22)
    assert "ann_id_order" in cocoview.open(p)._derived

    def no_counting(*_a: Any, **_k: Any) -> Incidence:
        raise AssertionError("a cached open counted again")

    monkeypatch.setattr(Incidence, "build", no_counting)
    cached = _open(p)
    assert cached.files[0].cached
    cached.warm()  # nothing to count: everything is in the cache
    assert _summaries(cached) == want
    monkeypatch.undo()
    assert cached.supercategory_counts() == {"": (2, 2), "animal": (5, 3), "vehicle": (2, 1)}
    assert np.array_equal(cached.incidence.image_row, eager.incidence.image_row)


def test_summaries_that_do_not_fit_are_computed(tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", _doc())
    eager = _open(p, cache=False)
    _open(p).warm()
    _open(p).warm()
    entry = cache.entry_dir(p)
    np.save(entry / "ds_category_images.npy", np.zeros(1, np.int64))  # wrong length
    np.save(entry / "ds_ann_category_index.npy", np.zeros(len(eager.anns), np.int64))  # type
    (entry / "ds_image_sort.npy").write_bytes(b"not an array")
    ds = _open(p)
    assert "category_images" not in ds._derived or len(ds._derived["category_images"]) == 1
    assert _summaries(ds) == _summaries(eager)


def test_edits_are_seen_over_cached_summaries(tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", _doc())
    for _ in range(3):
        ds = _open(p)
        ds.warm()
    assert "category_images" in ds._derived
    view = EditedView(ds)
    k = next(i for i, c in enumerate(ds.categories) if c.id == 3)
    assert ds.category_counts()[0][k] == 2
    row = ds.ann_row(20)
    view.apply(DeleteAnnotation(20))
    view.apply(RenameCategory(3, "lorry"))
    v = view.dataset()
    assert v.category_counts()[0][k] == 1
    assert v.categories[k].name == "lorry"
    assert v.ann_category_index[row] == -1
    assert ds.category_counts()[0][k] == 2  # the opened dataset is unchanged
    assert ds.categories[k].name == "car"


@pytest.mark.parametrize("names", [
    [], [""], ["", "", ""], ["a.jpg", "", "b/c.png"], ["héllo", "wörld", "日本.jpg"],
    ["nul\x00inside", "x"], ["\ud800lone", "surrogate\udc00"],
])
def test_names_decode_as_name_by_name(names: list[str]) -> None:
    parts = [n.encode("utf-8", "surrogatepass") for n in names]
    blob = np.frombuffer(b"".join(parts), np.uint8)
    ends = np.cumsum([len(b) for b in parts]).astype(np.int64)
    assert _decode_names(blob, ends) == names


def test_names_with_bad_offsets_are_refused() -> None:
    blob = np.frombuffer(b"abcdef", np.uint8)
    with pytest.raises(ValueError):
        _decode_names(blob, np.array([4, 2, 6]))
    with pytest.raises(ValueError):
        _decode_names(blob, np.array([2, 5]))
