"""Tests of cocoview.model.split: parsing, partition guarantees, reproducibility,
stratification quality, the category table and the edge cases."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.model.split import (
    SplitError,
    _water_fill,
    category_table,
    parse_split,
    part_sizes,
    split_images,
)
from cocoview.resources import demo_files
from cocoview.testing.synth import generate_coco

TWO = [("train", 0.8), ("val", 0.2)]
THREE = [("train", 0.7), ("val", 0.15), ("test", 0.15)]


# ----- data -------------------------------------------------------------------------


def _coco(labels: dict[int, list[int]], n_categories: int = 4) -> dict[str, Any]:
    """A COCO document: image id → category ids of its annotations (in that order)."""
    images = [{"id": iid, "file_name": f"{iid}.jpg", "width": 32, "height": 32}
              for iid in labels]
    anns: list[dict[str, Any]] = []
    for iid, cids in labels.items():
        for cid in cids:
            anns.append({"id": len(anns) + 1, "image_id": iid, "category_id": cid,
                         "bbox": [1, 1, 4, 4], "area": 16, "iscrowd": 0,
                         "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]]})
    categories = [{"id": c, "name": f"c{c}", "supercategory": "s"}
                  for c in range(1, n_categories + 1)]
    return {"images": images, "annotations": anns, "categories": categories}


def _open(tmp_path: Path, doc: dict[str, Any], name: str = "a.json") -> Dataset:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return cocoview.open(path)


def _golden_labels() -> dict[int, list[int]]:
    """300 images, ids 100, 103, …: a common (150 images), a medium (100), a rare (43)
    and a one-image category, repeated annotations of one category, and 86 images
    without annotations."""
    out: dict[int, list[int]] = {}
    for i in range(300):
        cats = []
        if i % 2 == 0:
            cats += [1, 1] if i % 4 == 0 else [1]
        if i % 3 == 0:
            cats.append(2)
        if i % 7 == 0:
            cats.append(3)
        if i == 5:
            cats.append(4)
        out[100 + 3 * i] = cats
    return out


@pytest.fixture(scope="module")
def golden_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return _open(tmp_path_factory.mktemp("golden"), _coco(_golden_labels()))


@pytest.fixture(scope="module")
def drift_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """300 images, each with a category of its own (and some with a shared one): each
    one-image category goes to the part with the largest ratio, so the stratified
    parts come out far from their sizes and the repair moves many images."""
    labels = {i: [100 + i] + [1] * (i % 3 == 0) + [2] * (i % 5 == 0) for i in range(1, 301)}
    return _open(tmp_path_factory.mktemp("drift"), _coco(labels, n_categories=400))


@pytest.fixture(scope="module")
def synth_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A long-tailed synthetic set (COCO's 80 categories and weights), 3,000 images."""
    path = tmp_path_factory.mktemp("synth") / "synth.json"
    generate_coco(path, n_images=3000, n_annotations=21_800, seed=11)
    return path


@pytest.fixture(scope="module")
def synth_ds(synth_path: Path) -> Dataset:
    return cocoview.open(synth_path)


@pytest.fixture(scope="module")
def demo_ds() -> Dataset:
    return cocoview.open(demo_files())


def _check_partition(ds: Dataset, ids: np.ndarray, parts: list[tuple[str, float]],
                     out: dict[str, np.ndarray]) -> None:
    """Disjoint, covering, largest-remainder sizes, input order, int64, parts in order."""
    assert list(out) == [name for name, _ in parts]
    assert all(a.dtype == np.int64 and a.ndim == 1 for a in out.values())
    joined = np.concatenate(list(out.values()))
    assert len(joined) == len(ids)
    assert len(np.unique(joined)) == len(joined)  # disjoint
    assert set(joined.tolist()) == set(np.asarray(ids).tolist())  # covering
    sizes = [len(a) for a in out.values()]
    assert sizes == part_sizes(len(ids), [r for _, r in parts]).tolist()
    for (_, r), size in zip(parts, sizes, strict=True):
        assert abs(size - len(ids) * r) < 1
    position = {int(i): k for k, i in enumerate(np.asarray(ids).tolist())}
    for a in out.values():
        pos = [position[int(i)] for i in a]
        assert pos == sorted(pos)  # each part in the input order


def _worst_share_deviation(table: list[dict], parts: list[tuple[str, float]],
                           min_images: int = 20) -> float:
    return max(abs(row[f"{name}_share"] - r)
               for row in table[:-1] if row["total"] >= min_images for name, r in parts)


# ----- parse_split ------------------------------------------------------------------


def test_parse_split_two_and_three_parts() -> None:
    assert parse_split("train=0.8,val=0.2") == [("train", 0.8), ("val", 0.2)]
    assert parse_split("train=0.7,val=0.15,test=0.15") == THREE
    assert parse_split(" a.1 = 0.5 , B_2-x=0.5 ") == [("a.1", 0.5), ("B_2-x", 0.5)]
    assert parse_split("a=0.3333333,b=0.3333333,c=0.3333334")[2] == ("c", 0.3333334)
    assert parse_split("a=1e-1,b=9e-1") == [("a", 0.1), ("b", 0.9)]


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty split"),
    ("   ", "empty split"),
    ("train", "not NAME=RATIO"),
    ("train=1.0", "two or three parts"),
    ("a=0.25,b=0.25,c=0.25,d=0.25", "two or three parts"),
    ("train=0.8;val=0.2", "not a number"),
    ("train=0.8,val=0.3", "sum to 1.1"),
    ("train=0.8,val=0.1999", "sum to 0.9999"),
    ("train=0.8,train=0.2", "used twice"),
    ("train=0.8,Train=0.2", "more than case"),
    ("=0.8,val=0.2", "needs a name"),
    ("tr ain=0.8,val=0.2", "may only use"),
    ("tr/ain=0.8,val=0.2", "may only use"),
    ("train=abc,val=1", "not a number"),
    ("train=,val=1", "not a number"),
    ("train=-0.2,val=1.2", "must be a number > 0"),
    ("train=0,val=1", "must be a number > 0"),
    ("train=nan,val=1", "must be a number > 0"),
    ("train=inf,val=0.5", "must be a number > 0"),
    ("total=0.5,val=0.5", "reserved"),
    ("Name=0.5,val=0.5", "reserved"),
    ("val=0.5,val_share=0.5", "share column"),
])
def test_parse_split_rejects(text: str, message: str) -> None:
    with pytest.raises(SplitError, match=message) as info:
        parse_split(text)
    assert isinstance(info.value, ValueError)


# ----- target sizes -----------------------------------------------------------------


def test_part_sizes_largest_remainder() -> None:
    assert part_sizes(10, [0.8, 0.2]).tolist() == [8, 2]
    assert part_sizes(10, [0.15, 0.15, 0.7]).tolist() == [2, 1, 7]  # tie: earlier part
    assert part_sizes(10, [0.7, 0.15, 0.15]).tolist() == [7, 2, 1]
    assert part_sizes(7, [0.5, 0.3, 0.2]).tolist() == [4, 2, 1]  # 3.5 2.1 1.4
    assert part_sizes(100, [0.29, 0.71]).tolist() == [29, 71]  # 0.29·100 = 28.999…
    assert part_sizes(100, [0.999, 0.001]).tolist() == [100, 0]
    assert part_sizes(2, [0.7, 0.15, 0.15]).tolist() == [2, 0, 0]
    assert part_sizes(0, [0.5, 0.5]).tolist() == [0, 0]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**7), st.lists(st.integers(1, 1000), min_size=1, max_size=5))
def test_part_sizes_properties(n: int, weights: list[int]) -> None:
    ratios = [w / sum(weights) for w in weights]
    sizes = part_sizes(n, ratios)
    assert int(sizes.sum()) == n
    assert all(abs(s - n * r) < 1 for s, r in zip(sizes.tolist(), ratios, strict=True))
    floors = [math.floor(n * r) for r in ratios]
    assert all(s - f in (0, 1) for s, f in zip(sizes.tolist(), floors, strict=True))


# ----- the bulk greedy --------------------------------------------------------------


def _greedy(demand: list[float], overall: list[int], m: int) -> list[int]:
    """The paper's one-image-at-a-time rule (inputs without ties)."""
    d, c, counts = list(demand), list(overall), [0] * len(demand)
    for _ in range(m):
        j = max(range(len(d)), key=lambda j: (d[j], c[j]))
        d[j] -= 1
        c[j] -= 1
        counts[j] += 1
    return counts


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-50, 400, allow_nan=False), min_size=1, max_size=4),
       st.integers(0, 600))
def test_water_fill_equals_sequential_greedy(demand: list[float], m: int) -> None:
    # quarter-steps plus a distinct small offset per part: no exact ties anywhere
    demand = [round(x * 4) / 4 + 0.001 * (j + 1) for j, x in enumerate(demand)]
    overall = [100] * len(demand)
    rng = np.random.Generator(np.random.PCG64(0))
    got = _water_fill(np.array(demand), np.array(overall), m, rng).tolist()
    assert got == _greedy(demand, overall, m)


def test_water_fill_ties() -> None:
    def fill(demand: list[float], overall: list[int], m: int, seed: int = 0) -> list[int]:
        rng = np.random.Generator(np.random.PCG64(seed))
        return _water_fill(np.array(demand), np.array(overall), m, rng).tolist()

    # equal label demand: the larger overall demand wins
    assert fill([1.5, 1.5], [10, 30], 1) == [0, 1]
    assert fill([1.5, 1.5], [30, 10], 1) == [1, 0]
    # both equal: a seeded random choice, reproducible, and either part can win
    outcomes = {tuple(fill([0.5, 0.5, 0.0], [5, 5, 5], 1, seed)) for seed in range(40)}
    assert outcomes == {(1, 0, 0), (0, 1, 0)}
    assert fill([0.5, 0.5, 0.0], [5, 5, 5], 1, 7) == fill([0.5, 0.5, 0.0], [5, 5, 5], 1, 7)
    # negative demands still take images (every image goes somewhere)
    assert fill([-3.0, -1.0], [0, 0], 4) == [1, 3]
    assert fill([2.0, 1.0], [0, 0], 0) == [0, 0]


# ----- partition guarantees ---------------------------------------------------------


@pytest.mark.parametrize("stratify", [False, True])
@pytest.mark.parametrize("parts", [TWO, THREE], ids=["2", "3"])
def test_partition_synthetic(synth_ds: Dataset, parts: list[tuple[str, float]],
                             stratify: bool) -> None:
    for seed in (0, 1, 12345678901234):
        out = split_images(synth_ds, synth_ds.image_ids, parts, seed, stratify)
        _check_partition(synth_ds, synth_ds.image_ids, parts, out)


@pytest.mark.parametrize("stratify", [False, True])
@pytest.mark.parametrize("parts", [TWO, THREE, [("a", 0.5), ("b", 0.3), ("c", 0.2)]])
def test_partition_small_sets(demo_ds: Dataset, golden_ds: Dataset, drift_ds: Dataset,
                              parts: list[tuple[str, float]], stratify: bool) -> None:
    for ds in (demo_ds, golden_ds, drift_ds):
        for seed in range(5):
            out = split_images(ds, ds.image_ids, parts, seed, stratify)
            _check_partition(ds, ds.image_ids, parts, out)


@pytest.mark.parametrize("stratify", [False, True])
def test_same_seed_same_parts_other_seed_other_parts(synth_ds: Dataset, stratify: bool) -> None:
    a = split_images(synth_ds, synth_ds.image_ids, THREE, 5, stratify)
    b = split_images(synth_ds, synth_ds.image_ids, THREE, 5, stratify)
    c = split_images(synth_ds, synth_ds.image_ids, THREE, 6, stratify)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["val"], c["val"])


@pytest.mark.parametrize("stratify", [False, True])
def test_input_order_only_orders_the_output(synth_ds: Dataset, stratify: bool) -> None:
    ids = synth_ds.image_ids
    shuffled = ids[np.random.default_rng(3).permutation(len(ids))]
    a = split_images(synth_ds, ids, TWO, 9, stratify)
    b = split_images(synth_ds, shuffled, TWO, 9, stratify)
    for k in a:
        assert set(a[k].tolist()) == set(b[k].tolist())
    _check_partition(synth_ds, shuffled, TWO, b)


@pytest.fixture(scope="module")
def reordered_synth_ds(synth_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The synthetic set with its annotation rows shuffled and its images reversed."""
    doc = json.loads(synth_path.read_text())
    rng = np.random.default_rng(1)
    doc["annotations"] = [doc["annotations"][i]
                          for i in rng.permutation(len(doc["annotations"]))]
    doc["images"] = doc["images"][::-1]
    return _open(tmp_path_factory.mktemp("reordered"), doc)


@pytest.mark.parametrize("stratify", [False, True])
def test_file_order_does_not_matter(synth_ds: Dataset, reordered_synth_ds: Dataset,
                                    stratify: bool) -> None:
    """Annotation rows (and images) in another order: the same parts."""
    other = reordered_synth_ds
    assert not np.array_equal(other.anns.id, synth_ds.anns.id)
    assert not np.array_equal(other.image_ids, synth_ds.image_ids)
    for parts in (TWO, THREE):
        a = split_images(synth_ds, synth_ds.image_ids, parts, 4, stratify)
        b = split_images(other, other.image_ids, parts, 4, stratify)
        for k in a:
            assert np.array_equal(np.sort(a[k]), np.sort(b[k]))


# A change of algorithm (or of numpy's PCG64 streams) changes these: on purpose.
# Per part: the first eight ids, the size and the sum of all ids. "drift" exercises
# the size repair in batches.
GOLDEN = {
    ("golden", False, 2): {
        "train": ([100, 106, 112, 115, 118, 121, 133, 139], 240, 134490),
        "val": ([103, 109, 124, 127, 130, 136, 172, 202], 60, 30060),
    },
    ("golden", False, 3): {
        "train": ([100, 106, 112, 115, 118, 121, 133, 145], 210, 116568),
        "val": ([103, 109, 136, 139, 142, 166, 214, 217], 45, 24504),
        "test": ([124, 127, 130, 172, 202, 220, 232, 238], 45, 23478),
    },
    ("golden", True, 2): {
        "train": ([100, 103, 106, 109, 112, 115, 118, 121], 240, 130026),
        "val": ([127, 166, 178, 187, 196, 214, 268, 274], 60, 34524),
    },
    ("golden", True, 3): {
        "train": ([100, 103, 112, 115, 118, 121, 124, 130], 210, 115629),
        "val": ([106, 127, 151, 184, 211, 217, 226, 229], 45, 22185),
        "test": ([109, 190, 193, 223, 283, 313, 316, 364], 45, 26736),
    },
    ("drift", True, 2): {
        "train": ([1, 2, 3, 4, 5, 6, 9, 10], 240, 35943),
        "val": ([7, 8, 13, 15, 30, 45, 59, 60], 60, 9207),
    },
    ("drift", True, 3): {
        "train": ([2, 3, 4, 5, 8, 9, 10, 11], 210, 31681),
        "val": ([6, 14, 15, 29, 30, 39, 49, 64], 45, 6595),
        "test": ([1, 7, 12, 22, 28, 31, 41, 45], 45, 6874),
    },
}


@pytest.mark.parametrize(("name", "stratify", "n_parts"), list(GOLDEN))
def test_golden(golden_ds: Dataset, drift_ds: Dataset, name: str, stratify: bool,
                n_parts: int) -> None:
    ds = golden_ds if name == "golden" else drift_ds
    parts = TWO if n_parts == 2 else THREE
    out = split_images(ds, ds.image_ids, parts, 2024, stratify)
    got = {k: (v[:8].tolist(), len(v), int(v.sum())) for k, v in out.items()}
    assert got == GOLDEN[name, stratify, n_parts]


# ----- stratification quality -------------------------------------------------------


@pytest.mark.parametrize("parts", [TWO, THREE], ids=["2", "3"])
def test_stratified_shares_on_long_tail(synth_ds: Dataset, parts: list[tuple[str, float]]) -> None:
    counted = [row for row in category_table(synth_ds, {"all": synth_ds.image_ids})[:-1]
               if row["total"] >= 20]
    assert len(counted) >= 60  # most of the 80 categories, from ~20 to ~1,500 images
    assert min(row["total"] for row in counted) < 40
    for seed in range(3):
        strat = category_table(synth_ds, split_images(synth_ds, synth_ds.image_ids, parts,
                                                      seed, stratify=True))
        rand = category_table(synth_ds, split_images(synth_ds, synth_ds.image_ids, parts,
                                                     seed, stratify=False))
        worst = _worst_share_deviation(strat, parts)
        worst_random = _worst_share_deviation(rand, parts)
        assert worst <= 0.05
        assert worst <= 0.5 * worst_random


def test_rarest_category_split_exactly(golden_ds: Dataset) -> None:
    """Category 3 (43 images) goes first after the one-image category 4, with fresh
    demands: 34.4/8.6 → 34/9."""
    for seed in range(10):
        table = category_table(golden_ds, split_images(golden_ds, golden_ds.image_ids, TWO,
                                                       seed, stratify=True))
        row = next(r for r in table if r["id"] == 3)
        assert (row["total"], row["train"], row["val"]) == (43, 34, 9)


@pytest.mark.parametrize("parts", [TWO, THREE], ids=["2", "3"])
def test_stratified_on_demo(demo_ds: Dataset, parts: list[tuple[str, float]]) -> None:
    """19 images: no category has 20, so compare image-count errors with random splits."""
    ratio = dict(parts)

    def errors(stratify: bool, seed: int) -> tuple[float, float]:
        table = category_table(demo_ds, split_images(demo_ds, demo_ds.image_ids, parts,
                                                     seed, stratify))
        devs = [row[p] - row["total"] * ratio[p] for row in table[:-1] for p in ratio]
        return sum(d * d for d in devs), max(abs(d) for d in devs)

    random_sq = np.mean([errors(False, s)[0] for s in range(20)])
    for seed in range(5):
        sq, worst = errors(True, seed)
        assert sq <= 0.75 * random_sq
        if len(parts) == 2:
            assert worst < 1  # every category within one image of its ratio


# ----- category_table ---------------------------------------------------------------


def test_category_table(tmp_path: Path) -> None:
    labels = {1: [1, 1, 2], 2: [2], 3: [], 4: [1], 5: [3], 6: [2, 4]}
    ds = _open(tmp_path, _coco(labels, n_categories=5))
    parts = {"train": np.array([1, 2, 3, 4]), "val": np.array([5])}
    table = category_table(ds, parts)
    assert table == [
        {"id": 1, "name": "c1", "total": 2, "train": 2, "train_share": 1.0,
         "val": 0, "val_share": 0.0},
        {"id": 2, "name": "c2", "total": 2, "train": 2, "train_share": 1.0,
         "val": 0, "val_share": 0.0},
        {"id": 3, "name": "c3", "total": 1, "train": 0, "train_share": 0.0,
         "val": 1, "val_share": 1.0},
        # c4 is only in image 6, outside both parts; c5 is in no image
        {"id": None, "name": "(all images)", "total": 5, "train": 4, "train_share": 0.8,
         "val": 1, "val_share": 0.2},
    ]
    empty = category_table(ds, {"train": np.array([], np.int64), "val": np.array([3])})
    assert empty == [{"id": None, "name": "(all images)", "total": 1, "train": 0,
                      "train_share": 0.0, "val": 1, "val_share": 1.0}]
    nothing = category_table(ds, {"a": np.array([], np.int64), "b": np.array([], np.int64)})
    assert nothing == [{"id": None, "name": "(all images)", "total": 0, "a": 0,
                        "a_share": 0.0, "b": 0, "b_share": 0.0}]


def test_category_table_follows_dataset_category_order(tmp_path: Path) -> None:
    doc = _coco({1: [2, 1], 2: [1]}, n_categories=2)
    doc["categories"].reverse()
    ds = _open(tmp_path, doc)
    table = category_table(ds, {"a": np.array([1]), "b": np.array([2])})
    assert [row["id"] for row in table] == [2, 1, None]
    assert table[1] == {"id": 1, "name": "c1", "total": 2, "a": 1, "a_share": 0.5,
                        "b": 1, "b_share": 0.5}


def test_category_table_rejects(golden_ds: Dataset) -> None:
    with pytest.raises(SplitError, match="not in the dataset"):
        category_table(golden_ds, {"a": np.array([100, 101])})
    with pytest.raises(SplitError, match="reserved"):
        category_table(golden_ds, {"total": np.array([100])})
    with pytest.raises(SplitError, match="share column"):
        category_table(golden_ds, {"a": np.array([100]), "a_share": np.array([103])})


def test_category_table_matches_dataset_counts(synth_ds: Dataset) -> None:
    out = split_images(synth_ds, synth_ds.image_ids, THREE, 0, stratify=True)
    table = category_table(synth_ds, out)
    _, images = synth_ds.category_counts()
    expected = {c.id: int(n) for c, n in zip(synth_ds.categories, images, strict=True) if n}
    assert {row["id"]: row["total"] for row in table[:-1]} == expected
    for row in table[:-1]:
        assert row["train"] + row["val"] + row["test"] == row["total"]
        assert math.isclose(row["train_share"] + row["val_share"] + row["test_share"], 1.0)
    assert table[-1]["total"] == len(synth_ds.image_ids)
    assert [table[-1][k] for k in out] == [len(v) for v in out.values()]


# ----- edge cases -------------------------------------------------------------------


@pytest.mark.parametrize("stratify", [False, True])
def test_empty_image_ids(golden_ds: Dataset, stratify: bool) -> None:
    for ids in (np.array([], np.int64), np.array([])):
        out = split_images(golden_ds, ids, THREE, 0, stratify)
        assert list(out) == ["train", "val", "test"]
        assert all(len(v) == 0 and v.dtype == np.int64 for v in out.values())


@pytest.mark.parametrize("stratify", [False, True])
def test_fewer_images_than_parts(golden_ds: Dataset, stratify: bool) -> None:
    for ids in ([121], [121, 100]):
        out = split_images(golden_ds, np.array(ids), THREE, 0, stratify)
        _check_partition(golden_ds, np.array(ids), THREE, out)
        assert len(out["train"]) == len(ids)  # 0.7·1 → 1; 0.7·2 = 1.4 → 1 + the .4 → 2


@pytest.mark.parametrize("stratify", [False, True])
def test_tiny_ratio_gets_no_images(golden_ds: Dataset, stratify: bool) -> None:
    parts = [("train", 0.998), ("val", 0.001), ("test", 0.001)]
    out = split_images(golden_ds, golden_ds.image_ids, parts, 1, stratify)
    assert [len(v) for v in out.values()] == [300, 0, 0]  # 299.4 + 0.3 + 0.3
    _check_partition(golden_ds, golden_ds.image_ids, parts, out)


def test_images_without_annotations(tmp_path: Path) -> None:
    """Half the images have no annotations; a label-only pass would fill the parts wrong."""
    labels = {i: ([1] if i % 10 == 0 else [2] if i % 10 == 1 else []) for i in range(1, 201)}
    ds = _open(tmp_path, _coco(labels))
    for seed in range(3):
        out = split_images(ds, ds.image_ids, TWO, seed, stratify=True)
        _check_partition(ds, ds.image_ids, TWO, out)
        table = category_table(ds, out)
        assert [(r["id"], r["total"], r["train"], r["val"]) for r in table[:-1]] == [
            (1, 20, 16, 4), (2, 20, 16, 4)]
    only_empty = np.array([i for i in range(1, 201) if not labels[i]])
    out = split_images(ds, only_empty, THREE, 0, stratify=True)
    _check_partition(ds, only_empty, THREE, out)


def test_category_in_one_image(golden_ds: Dataset) -> None:
    for seed in range(10):
        out = split_images(golden_ds, golden_ds.image_ids, THREE, seed, stratify=True)
        row = next(r for r in category_table(golden_ds, out) if r["id"] == 4)
        assert row["total"] == 1
        assert sorted(row[p] for p in ("train", "val", "test")) == [0, 0, 1]
        holder = next(p for p in ("train", "val", "test") if row[p])
        assert 115 in out[holder].tolist()  # image index 5 → id 115


def test_subset_of_images(golden_ds: Dataset) -> None:
    """Only the given images take part; the others' labels are ignored."""
    ids = golden_ds.image_ids[::2]
    out = split_images(golden_ds, ids, TWO, 0, stratify=True)
    _check_partition(golden_ds, ids, TWO, out)
    table = category_table(golden_ds, out)
    assert table[-1]["total"] == 150
    assert [(r["id"], r["total"]) for r in table[:-1]] == [(1, 150), (2, 50), (3, 22)]
    # (115, the image of category 4, is not in it)


def test_split_images_rejects(golden_ds: Dataset) -> None:
    ids = golden_ds.image_ids
    with pytest.raises(SplitError, match="listed twice"):
        split_images(golden_ds, np.array([100, 103, 100]), TWO, 0)
    with pytest.raises(SplitError, match="101 is not in the dataset"):
        split_images(golden_ds, np.array([100, 101]), TWO, 0, stratify=True)
    with pytest.raises(SplitError, match="seed"):
        split_images(golden_ds, ids, TWO, -1)
    with pytest.raises(SplitError, match="1-D"):
        split_images(golden_ds, ids.astype(float), TWO, 0)
    with pytest.raises(SplitError, match="sum to"):
        split_images(golden_ds, ids, [("a", 0.5), ("b", 0.4)], 0)
    with pytest.raises(SplitError, match="used twice"):
        split_images(golden_ds, ids, [("a", 0.5), ("a", 0.5)], 0)
    with pytest.raises(TypeError):
        split_images(golden_ds, ids, TWO, 1.5)  # type: ignore[arg-type]


def test_annotations_without_image_or_category_are_ignored(tmp_path: Path) -> None:
    doc = _coco({1: [1], 2: [1], 3: [2]})
    doc["annotations"].append({"id": 99, "image_id": 77, "category_id": 3,
                               "bbox": [1, 1, 2, 2], "area": 4, "iscrowd": 0})
    ds = _open(tmp_path, doc)
    out = split_images(ds, ds.image_ids, [("a", 0.5), ("b", 0.5)], 0, stratify=True)
    _check_partition(ds, ds.image_ids, [("a", 0.5), ("b", 0.5)], out)
    assert [r["id"] for r in category_table(ds, out)] == [1, 2, None]
