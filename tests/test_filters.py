"""Every filter against an independent computation (pycocotools or plain Python)."""

from __future__ import annotations

import contextlib
import fnmatch
import io
import itertools
import json
from pathlib import Path

import pytest
from pycocotools.coco import COCO

import cocoview
from cocoview.model.filters import (
    FilterError,
    FilterExtras,
    ImageFilter,
    filter_images,
    resolve_categories,
)
from cocoview.testing.synth import generate_coco
from tests.builders import doc, write
from tests.conftest import DEMO, REAL

INST = DEMO / "annotations" / "instances_demo.json"
RIKAI = REAL / "rikai" / "coco.json"


def _coco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("gen") / "gen.json"
    generate_coco(p, n_images=1500, n_annotations=11000, seed=3)
    return p


def _reference(path: Path) -> dict[str, object]:
    """Plain-Python per-image facts straight from the JSON."""
    d = json.loads(path.read_text())
    per: dict[int, list[dict]] = {im["id"]: [] for im in d["images"]}
    for a in d.get("annotations", []):
        per.setdefault(a["image_id"], []).append(a)
    return {"order": [im["id"] for im in d["images"]], "anns": per,
            "names": {im["id"]: im["file_name"] for im in d["images"]}}


def _expect(ref: dict, pred) -> list[int]:  # type: ignore[no-untyped-def]
    return [i for i in ref["order"] if pred(i, ref["anns"][i])]


SOURCES = [INST, RIKAI]


@pytest.mark.parametrize("source", [*SOURCES, "generated"])
def test_category_modes_match_reference(source: object, generated: Path) -> None:
    path = generated if source == "generated" else source
    assert isinstance(path, Path)
    ds = cocoview.open(path)
    ref = _reference(path)
    coco = _coco(path)
    counts = {}
    for a in coco.anns.values():
        counts[a["category_id"]] = counts.get(a["category_id"], 0) + 1
    common = sorted(counts, key=lambda c: -counts[c])[:4]
    rare = sorted(counts, key=lambda c: counts[c])[:2]
    have = {i: {a["category_id"] for a in anns} for i, anns in ref["anns"].items()}
    for cats in ([common[0]], common[:2], common[1:4], [common[0], rare[0]], rare):
        for match in ("any", "all", "none"):
            got = filter_images(ds, ImageFilter(categories=tuple(cats), match=match)).tolist()
            if match == "any":
                want = _expect(ref, lambda i, _a, c=cats: bool(have[i] & set(c)))
            elif match == "all":
                want = _expect(ref, lambda i, _a, c=cats: set(c) <= have[i])
                # pycocotools' getImgIds(catIds=…) means "all of them" (it indexes
                # categories only when the file has a 'categories' list)
                if coco.dataset.get("categories"):
                    assert sorted(coco.getImgIds(catIds=list(cats))) == sorted(want)
            else:
                want = _expect(ref, lambda i, _a, c=cats: not (have[i] & set(c)))
            assert got == want, (path.name, cats, match)


@pytest.mark.parametrize("source", [*SOURCES, "generated"])
def test_crowd_size_count_keypoint_filters(source: object, generated: Path) -> None:
    path = generated if source == "generated" else source
    assert isinstance(path, Path)
    ds = cocoview.open(path)
    ref = _reference(path)
    for crowd in ("with", "without"):
        want = _expect(ref, lambda _i, a, c=crowd: any(x.get("iscrowd", 0) for x in a) == (
            c == "with"))
        assert filter_images(ds, ImageFilter(crowd=crowd)).tolist() == want
    lims = {"small": (0, 32**2), "medium": (32**2, 96**2), "large": (96**2, float("inf"))}
    first_cat = next(iter(next(a for a in ref["anns"].values() if a)))["category_id"]
    for size, (lo, hi) in lims.items():
        want = _expect(ref, lambda _i, a, lo=lo, hi=hi: any(
            not x.get("iscrowd", 0) and lo <= x["area"] < hi for x in a))
        assert filter_images(ds, ImageFilter(size=size)).tolist() == want, size
        want = _expect(ref, lambda _i, a, lo=lo, hi=hi: any(
            not x.get("iscrowd", 0) and lo <= x["area"] < hi and x["category_id"] == first_cat
            for x in a))
        got = filter_images(ds, ImageFilter(size=size, categories=(first_cat,))).tolist()
        assert got == want, ("size within category", size)
    for lo, hi in ((None, 0), (1, 3), (5, None), (0, 10**6), (40, 2)):
        want = _expect(ref, lambda _i, a, lo=lo, hi=hi: (lo is None or len(a) >= lo) and (
            hi is None or len(a) <= hi))
        got = filter_images(ds, ImageFilter(min_annotations=lo, max_annotations=hi)).tolist()
        assert got == want, (lo, hi)
    for has in (True, False):
        want = _expect(ref, lambda _i, a, h=has: any(
            x.get("num_keypoints", 0) > 0 for x in a) == h)
        assert filter_images(ds, ImageFilter(has_keypoints=has)).tolist() == want


def test_name_and_id_filters() -> None:
    ds = cocoview.open(INST)
    ref = _reference(INST)
    for pattern in ("*139.jpg", "0000000*", "*4*.jpg", "[0]*1?9.jpg", "2382", "nothing"):
        if any(ch in pattern for ch in "*?["):
            want = _expect(ref, lambda i, _a, p=pattern: fnmatch.fnmatchcase(ref["names"][i], p))
        else:
            want = _expect(ref, lambda i, _a, p=pattern: p in ref["names"][i])
        assert filter_images(ds, ImageFilter(name=pattern)).tolist() == want, pattern
    ids = (785, 139, 123456)
    assert filter_images(ds, ImageFilter(image_ids=ids)).tolist() == [
        i for i in ref["order"] if i in ids]


def test_filters_combine_with_and(generated: Path) -> None:
    ds = cocoview.open(generated)
    f1 = ImageFilter(categories=(1,), match="any")
    f2 = ImageFilter(min_annotations=8)
    f3 = ImageFilter(crowd="without", name="*1*")
    both = set(filter_images(ds, f1).tolist()) & set(filter_images(ds, f2).tolist()) & set(
        filter_images(ds, f3).tolist())
    combined = f1.with_(min_annotations=8, crowd="without", name="*1*")
    assert set(filter_images(ds, combined).tolist()) == both


def test_empty_results_and_images_without_annotations(tmp_path: Path) -> None:
    d = doc()
    ds = cocoview.open(write(tmp_path / "a.json", d))
    # image 3 has no annotations: "none" keeps it, "any"/"all" do not
    assert filter_images(ds, ImageFilter(categories=(1, 2), match="none")).tolist() == [3]
    assert filter_images(ds, ImageFilter(categories=(1, 2), match="all")).tolist() == [1]
    assert filter_images(ds, ImageFilter(categories=(1,), match="any")).tolist() == [1]
    assert filter_images(ds, ImageFilter(max_annotations=0)).tolist() == [3]
    assert filter_images(ds, ImageFilter(name="zzz")).tolist() == []
    assert filter_images(ds, ImageFilter()).tolist() == [1, 2, 3]


def test_missing_files_and_problems(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][2]["bbox"] = [15, 0, 10, 4]  # sticks out of image 2
    (tmp_path / "a.jpg").write_bytes(b"x")
    ds = cocoview.open(write(tmp_path / "x.json", d), images=tmp_path)
    extras = FilterExtras()
    assert filter_images(ds, ImageFilter(file_missing=True), extras).tolist() == [2, 3]
    assert filter_images(ds, ImageFilter(file_missing=False), extras).tolist() == [1]
    assert filter_images(ds, ImageFilter(has_problems=True), extras).tolist() == [2]


def test_resolve_categories() -> None:
    ds = cocoview.open(INST)
    assert resolve_categories(ds, ["person", "Bicycle", "3"]) == (1, 2, 3)
    with pytest.raises(FilterError, match="unicorn"):
        resolve_categories(ds, ["unicorn"])


def test_describe_names_the_mode() -> None:
    ds = cocoview.open(INST)
    text = ImageFilter(categories=(1, 2), match="all", crowd="without").describe(ds)
    assert text == "all of {person, bicycle} · without crowd"
    assert ImageFilter().describe(ds) == "all images"
    f = ImageFilter(categories=(1,), match="none", name="*.jpg", has_keypoints=True)
    assert ImageFilter.from_dict(json.loads(json.dumps(f.to_dict()))) == f


def test_every_combination_is_consistent(generated: Path) -> None:
    """A filter's result never contains an image that one of its parts excludes."""
    ds = cocoview.open(generated)
    parts = [ImageFilter(categories=(1, 3), match="all"), ImageFilter(crowd="with"),
             ImageFilter(size="small"), ImageFilter(max_annotations=5)]
    for a, b in itertools.combinations(parts, 2):
        merged = ImageFilter(**{**{k: v for k, v in a.__dict__.items()},
                                **{k: v for k, v in b.__dict__.items()
                                   if v != ImageFilter().__dict__[k]}})
        got = set(filter_images(ds, merged).tolist())
        assert got <= set(filter_images(ds, a).tolist())
        assert got <= set(filter_images(ds, b).tolist())


def test_all_mode_with_many_categories(generated: Path) -> None:
    """More than 64 categories takes the sort-based path; same answer as plain Python."""
    ds = cocoview.open(generated)
    ref = _reference(generated)
    have = {i: {a["category_id"] for a in anns} for i, anns in ref["anns"].items()}
    cats = sorted({c for s in have.values() for c in s})
    for chosen in (cats[:70], cats[:3] * 1):
        got = filter_images(ds, ImageFilter(categories=tuple(chosen), match="all")).tolist()
        assert got == _expect(ref, lambda i, _a, c=chosen: set(c) <= have[i])
    # a category the dataset has never heard of: nothing has "all" of them
    assert filter_images(ds, ImageFilter(categories=(cats[0], 99999), match="all")).size == 0


def test_every_filter_field_belongs_to_one_criterion() -> None:
    from dataclasses import fields

    from cocoview.model.filters import CRITERIA

    owned = [f for c in CRITERIA for f in c.fields]
    names = {f.name for f in fields(ImageFilter)} - {"match"}  # match qualifies categories
    assert sorted(owned) == sorted(names) and len(owned) == len(set(owned))
    assert ImageFilter().describe() == "all images"
    assert not any(c.active(ImageFilter()) for c in CRITERIA)
    only_ids = ImageFilter(image_ids=())  # an empty id list keeps nothing: it is set
    assert [c.name for c in CRITERIA if c.active(only_ids)] == ["ids"]
    slow = ImageFilter(file_missing=False, has_problems=True, crowd="with")
    assert slow.slow() == ["missing", "problems"]
