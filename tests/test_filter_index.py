"""The filter index (rows by category and box size) narrows, never decides: every filter
answers as the scan of every annotation does, at the edges of its ranges too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoview
from cocoview.model import filter_index
from cocoview.model.dataset import Dataset
from cocoview.model.filters import ImageFilter, image_mask
from cocoview.testing.synth import generate_coco

#: boxes at the edges: zero and negative sizes, exact range ends, values whose float32
#: rounding moves them across a bound, aspect exactly a bound (8/2, 1/3 · 3)
EDGE_BOXES = [[0, 0, 0, 5], [0, 0, 5, 0], [0, 0, -3, 4], [0, 0, 4, -2], [0, 0, 100, 50],
              [0, 0, 200, 50], [0, 0, 99.99999, 10], [0, 0, 200.00001, 10], [0, 0, 0.1, 0.1],
              [0, 0, 8, 2], [0, 0, 1, 3], [0, 0, 1e-30, 1], [0, 0, 3e38, 1e-30],
              [0, 0, 4.0000001, 1], [0, 0, 3.9999999, 1], [0, 0, 0.30000001, 1]]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fi")
    src = folder / "gen.json"
    generate_coco(src, n_images=800, n_annotations=9000, n_categories=30, seed=11)
    d = json.loads(src.read_text())
    for k, box in enumerate(EDGE_BOXES * 3):  # on several images, among other boxes
        d["annotations"][k * 7]["bbox"] = box
    d["annotations"][5]["category_id"] = 9999  # a category the list lacks
    d["annotations"][6]["image_id"] = 10**9  # an image the list lacks
    out = folder / "edges.json"
    out.write_text(json.dumps(d))
    return out


@pytest.fixture(scope="module")
def indexed(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dataset]:
    with pytest.MonkeyPatch.context() as m:  # module-wide: its own cache folder
        m.setenv("COCOVIEW_CACHE_DIR", str(tmp_path_factory.mktemp("fi-cache")))
        m.setattr(filter_index, "MIN_ANNOTATIONS", 0)
        ds = cocoview.open(data)
        for name in ds.filter_index.missing():
            ds.filter_index.build(name)
        yield ds
        from cocoview.model.cache import wait_pending

        wait_pending()


def _both(ds: Dataset, flt: ImageFilter, monkeypatch: pytest.MonkeyPatch
          ) -> tuple[np.ndarray, np.ndarray]:
    with_index = image_mask(ds, flt)
    with monkeypatch.context() as m:
        m.setattr(filter_index, "index_of", lambda _ds: None)
        scanned = image_mask(ds, flt)
    return with_index, scanned


BOUNDS = st.one_of(st.none(), st.sampled_from([0.0, 0.1, 0.3, 1.0, 3.0, 4.0, 4.0000001, 10.0,
                                                99.99999, 100.0, 200.0, 1e-30, -1.0]),
                   st.floats(0.0, 700.0, allow_nan=False, width=32))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # (settings, qt: unused)
@given(w=st.tuples(BOUNDS, BOUNDS), h=st.tuples(BOUNDS, BOUNDS), a=st.tuples(BOUNDS, BOUNDS),
       fields=st.sets(st.sampled_from(["w", "h", "a"]), min_size=1),
       cats=st.lists(st.integers(0, 31), max_size=3), match=st.sampled_from(
           ["any", "all", "none"]))
def test_box_filters_answer_as_the_scan(indexed: Dataset, w: tuple, h: tuple, a: tuple,
                                        fields: set[str], cats: list[int], match: str) -> None:
    mp = pytest.MonkeyPatch()
    try:
        ids = [c.id for c in indexed.categories]
        chosen = tuple(dict.fromkeys(ids[k] if k < len(ids) else 9999 for k in cats))
        flt = ImageFilter(
            categories=chosen, match=match,  # type: ignore[arg-type]
            min_box_width=w[0] if "w" in fields else None,
            max_box_width=w[1] if "w" in fields else None,
            min_box_height=h[0] if "h" in fields else None,
            max_box_height=h[1] if "h" in fields else None,
            min_box_aspect=a[0] if "a" in fields else None,
            max_box_aspect=a[1] if "a" in fields else None)
        got, want = _both(indexed, flt, mp)
        assert np.array_equal(got, want), flt
    finally:
        mp.undo()


@pytest.mark.parametrize("flt", [
    ImageFilter(min_box_width=100.0, max_box_width=200.0),
    ImageFilter(min_box_aspect=4.0),
    ImageFilter(max_box_aspect=1 / 3),
    ImageFilter(min_box_width=0.1, max_box_width=0.1),
    ImageFilter(min_box_height=0.0, max_box_height=0.0),
    ImageFilter(max_box_width=-1.0),
])
def test_edge_ranges_answer_as_the_scan(indexed: Dataset, flt: ImageFilter,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    got, want = _both(indexed, flt, monkeypatch)
    assert np.array_equal(got, want)
    assert want.any()  # each range keeps some image: the case is not vacuous


def test_category_filters_answer_as_the_scan(indexed: Dataset,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [c.id for c in indexed.categories]
    for cats in [(ids[0],), (ids[0], ids[3]), tuple(ids[:8]), (9999,), (ids[2], 9999)]:
        for match in ("any", "all", "none"):
            flt = ImageFilter(categories=cats, match=match)  # type: ignore[arg-type]
            got, want = _both(indexed, flt, monkeypatch)
            assert np.array_equal(got, want), flt


def test_candidates_are_used_and_narrow(indexed: Dataset,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The index really answers (not a silent fallback to the scan)."""
    from cocoview.model import filters

    seen: list[int] = []
    real = filters._Context.images_with

    def spy(self, select, candidates=None, sure=None):  # type: ignore[no-untyped-def]
        seen.append(-1 if candidates is None else len(candidates) + len(
            () if sure is None else sure))
        return real(self, select, candidates, sure)

    monkeypatch.setattr(filters._Context, "images_with", spy)
    image_mask(indexed, ImageFilter(min_box_aspect=4.0))
    image_mask(indexed, ImageFilter(categories=(indexed.categories[0].id,)))
    assert len(seen) == 2 and all(0 <= n < len(indexed.anns) for n in seen)


def test_orders_are_kept_in_the_index_cache(data: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filter_index, "MIN_ANNOTATIONS", 0)
    first = cocoview.open(data)
    from cocoview.model.cache import wait_pending

    wait_pending()
    again = cocoview.open(data)  # from the index cache now
    for name in again.filter_index.missing():
        again.filter_index.build(name)
    third = cocoview.open(data)
    assert third.filter_index.missing() == []
    assert np.array_equal(third.filter_index.get("width").order,  # type: ignore[union-attr]
                          again.filter_index.get("width").order)  # type: ignore[union-attr]
    assert len(first.anns) == len(third.anns)


def test_an_order_of_another_length_is_not_used() -> None:
    ko = filter_index.build_category(np.array([0, 1, -1, 0], np.int32), 2)
    arrays = ko.to_arrays("category")
    assert filter_index.KeyOrder.from_arrays("category", arrays, 4) is not None
    assert filter_index.KeyOrder.from_arrays("category", arrays, 5) is None
    box = filter_index.build_field(np.array([[0, 0, 1, 2]] * 4, np.float32), "width")
    arrays = box.to_arrays("width")
    arrays["fi_width_starts"] = arrays["fi_width_starts"][:100]  # an older format
    assert filter_index.KeyOrder.from_arrays("width", arrays, 4) is None


def test_small_files_and_edited_views_have_no_index(indexed: Dataset,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from cocoview.model import edits as E
    from cocoview.model.edited import EditedView

    view = EditedView(indexed)  # its rows change under an index built before an edit
    view.apply(E.Relabel(int(indexed.anns.id[0]), int(indexed.categories[1].id)))
    assert filter_index.index_of(view.dataset) is None
    monkeypatch.setattr(filter_index, "MIN_ANNOTATIONS", 2_000_000)
    assert filter_index.index_of(indexed) is None  # a scan is as fast below 2 M rows


def test_sortable_key_keeps_the_number_order() -> None:
    v = np.array([-np.inf, -3e38, -1.0, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1.0, 1.0078125, 4.0,
                  3e38, np.inf], np.float32)
    keys = filter_index.sortable_key(v).astype(int)
    assert (np.diff(keys) >= 0).all()
    nan = int(filter_index.sortable_key(np.array([np.nan], np.float32))[0])
    assert nan > keys[-1] or nan < keys[0]
