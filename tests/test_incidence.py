"""One image × category incidence: the tree, stats, filters and the split agree,
also on annotations whose image is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import cocoview
from cocoview.model.filters import ImageFilter, filter_images
from cocoview.model.split import category_table
from tests.builders import doc, write


def _orphans(tmp_path: Path) -> Path:
    d = doc()
    d["categories"].append({"id": 3, "name": "bird", "supercategory": "animal"})
    d["annotations"] += [
        # image 99 is not in 'images': orphans of cat (1) and bird (3)
        {"id": 50, "image_id": 99, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4},
        {"id": 51, "image_id": 99, "category_id": 3, "bbox": [0, 0, 2, 2], "area": 4},
        {"id": 52, "image_id": 98, "category_id": 3, "bbox": [0, 0, 2, 2], "area": 4},
        # a second cat on image 1 (one image, two instances) and one on image 3
        {"id": 53, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "area": 4},
        {"id": 54, "image_id": 3, "category_id": 1, "bbox": [1, 1, 2, 2], "area": 4},
        # a category the list lacks, on image 2
        {"id": 55, "image_id": 2, "category_id": 7, "bbox": [1, 1, 2, 2], "area": 4},
    ]
    return write(tmp_path / "orphans.json", d)


def test_every_view_counts_the_same_images_per_category(tmp_path: Path) -> None:
    ds = cocoview.open(_orphans(tmp_path))
    instances, images = ds.category_counts()
    by_id = {c.id: (int(n), int(m)) for c, n, m in zip(ds.categories, instances, images,
                                                      strict=True)}
    # cat: ids 10, 50 (orphan), 53, 54 → 4 instances on images 1 and 3
    assert by_id[1] == (4, 2)
    assert by_id[2] == (2, 2)  # dog: images 1 and 2
    assert by_id[3] == (2, 0)  # bird: only orphans, in no image
    assert by_id[7] == (1, 1)  # undefined category: counted like the others
    stats = {c["id"]: (c["instances"], c["images"]) for c in ds.stats()["per_category"]}
    assert stats == by_id
    for cid, (_n, m) in by_id.items():
        assert len(filter_images(ds, ImageFilter(categories=(cid,)))) == m
    table = {r["id"]: r["total"] for r in category_table(ds, {"all": ds.image_ids})
             if r["id"] is not None}
    assert table == {cid: m for cid, (_n, m) in by_id.items() if m}
    sup = ds.supercategory_counts()
    assert sup["animal"] == (8, 3)  # cat, dog and bird: 8 instances on images 1, 2, 3
    assert sup[""] == (1, 1)


def test_incidence_pairs_are_distinct_and_sorted(tmp_path: Path) -> None:
    ds = cocoview.open(_orphans(tmp_path))
    inc = ds.incidence
    key = inc.image_row * inc.n_categories + inc.category
    assert np.all(np.diff(key) > 0)  # sorted by image, then category; no repeats
    assert inc.count.sum() == int(((ds.ann_image_row >= 0)
                                   & (ds.ann_category_index >= 0)).sum())
    assert inc.restricted(np.asarray([0])).image_row.tolist() == [0, 0]
