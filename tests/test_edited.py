"""The edited view (issue 17): incremental counts equal a recount of the edited data,
edit by edit and after undo; filters and overlays see the edits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cocoview.model import dataset, edited
from cocoview.model import edits as E
from cocoview.model.edited import EditedView
from cocoview.model.filters import ImageFilter
from cocoview.testing.synth import generate_coco


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("edited") / "s.json"
    generate_coco(p, n_images=60, n_annotations=400, n_categories=6, seed=3)
    return p


def _recount(view: EditedView) -> tuple[np.ndarray, ...]:
    """Counts of the edited data from scratch (the oracle)."""
    ds, lay = view.base, view.layer
    keep = lay.ann_keep_mask()
    cats = lay.category_column()
    cidx = view.cat_index(cats)
    n_cat = len(ds.categories)
    ok = keep & (cidx >= 0)
    inst = np.bincount(cidx[ok], minlength=n_cat)
    img = ds.ann_image_row
    placed = ok & (img >= 0)
    pairs = np.unique(img[placed] * n_cat + cidx[placed])
    imgs = np.bincount(pairs % n_cat, minlength=n_cat)
    per_image = np.bincount(img[keep & (img >= 0)], minlength=len(ds.image_ids))
    return inst, imgs, per_image


def _check(view: EditedView) -> None:
    for got, want in zip((view.instances, view.images, view.super_instances,
                          view.super_images, view.image_count), view.recount(), strict=True):
        assert got.tolist() == want.tolist()  # supercategories too
    inst, imgs, per_image = _recount(view)
    assert view.instances.tolist() == inst.tolist()
    assert view.images.tolist() == imgs.tolist()
    live = ~view.image_deleted
    assert view.image_count[live].tolist() == per_image[live].tolist()
    v = view.dataset()
    # the adapter's own (cached) counts agree with a fresh count over its columns
    fresh = dataset.Dataset.category_counts.__get__(v)
    assert fresh()[0].tolist() == inst.tolist()
    assert sum(n for n, _ in v.supercategory_counts().values()) == int(inst.sum())


def test_counts_follow_every_edit_and_undo(synth: Path) -> None:
    ds = dataset.open(synth, cache=False)
    view = EditedView(ds)
    ids = ds.anns.id.tolist()
    cats = [c.id for c in ds.categories]
    img_ids = ds.image_ids.tolist()
    edits: list[E.Edit] = [
        E.DeleteAnnotation(ids[0]), E.Relabel(ids[1], cats[2]), E.SetCrowd(ids[2], 1),
        E.Relabel(ids[3], cats[0]), E.DeleteImage(img_ids[4]), E.MergeCategory(cats[1], cats[2]),
        E.DeleteCategory(cats[3]), E.RenameCategory(cats[0], "renamed"),
        E.Relabel(ids[5], cats[4]), E.MergeCategory(cats[2], cats[4]),
    ]
    inverses = []
    for e in edits:
        inverses.append(view.apply(e))
        _check(view)
    for inv in reversed(inverses):
        view.apply(inv)
        _check(view)
    before = ds.category_counts()
    assert view.instances.tolist() == before[0].tolist()
    assert view.images.tolist() == before[1].tolist()
    assert view.image_count.tolist() == ds.image_ann_count.tolist()


def test_bad_edit_changes_no_count(synth: Path) -> None:
    ds = dataset.open(synth, cache=False)
    view = EditedView(ds)
    c = ds.categories[0].id
    with pytest.raises(E.EditError, match="into itself"):
        view.apply(E.MergeCategory(c, c))
    with pytest.raises(E.EditError, match="no annotation"):
        view.apply(E.DeleteAnnotation(10**12))
    with pytest.raises(E.EditError, match="no image"):
        view.apply(E.DeleteImage(10**12))
    assert view.instances.tolist() == ds.category_counts()[0].tolist()
    assert view.version == 0 and not view.layer.dirty


def test_filters_and_overlays_see_the_edits(synth: Path) -> None:
    ds = dataset.open(synth, cache=False)
    view = EditedView(ds)
    cats = [c.id for c in ds.categories]
    row = int(ds.ann_order[0])
    img_id = int(ds.image_ids[ds.ann_image_row[row]])
    ann = int(ds.anns.id[row])
    view.apply(E.Relabel(ann, cats[5]))
    v = view.dataset()
    items = {it.ann_id: it for it in v.overlays(img_id).items}
    assert items[ann].category_id == cats[5]
    assert img_id in view.filter(ImageFilter(categories=(cats[5],))).tolist()
    view.apply(E.DeleteAnnotation(ann))
    assert ann not in {it.ann_id for it in view.dataset().overlays(img_id).items}
    view.apply(E.DeleteImage(img_id))
    assert img_id not in view.filter(ImageFilter()).tolist()
    view.apply(E.RenameCategory(cats[0], "kitty"))
    assert view.dataset().category(cats[0]).name == "kitty"
    assert ds.category(cats[0]).name != "kitty"  # the opened dataset is untouched


def test_images_folder_followed(synth: Path, tmp_path: Path) -> None:
    ds = dataset.open(synth, cache=False)
    view = EditedView(ds)
    view.apply(E.DeleteAnnotation(int(ds.anns.id[0])))
    v = view.dataset()
    ds.set_images_dir(tmp_path)
    assert v.image_root == tmp_path


def test_viewer_model_edits(synth: Path) -> None:
    from cocoview.model.viewer import ViewerModel

    m = ViewerModel()
    ds = dataset.open(synth, cache=False)
    m.set_dataset(ds)
    seen: list[object] = []
    m.edited.connect(seen.append)
    first, second = int(ds.image_ids[0]), int(ds.image_ids[1])
    inv = m.apply_edit(E.DeleteImage(first))
    assert first not in m.image_list.tolist() and m.current_image == second
    m.apply_edit(inv)
    assert m.image_list.tolist()[0] == first and m.current_image == first
    assert len(seen) == 2 and m.view is not ds


def test_added_rows_one_image_and_whole_columns_agree(synth: Path) -> None:
    """A frame reads one image's rows without the whole-dataset columns; a filter reads
    those columns (made on first use). With added annotations, edited and deleted ones,
    both give the same rows, and the view finds an added annotation by its id."""
    ds = dataset.open(synth, cache=False)
    view = EditedView(ds)
    cats = [c.id for c in ds.categories]
    img_ids = ds.image_ids.tolist()
    base = view.layer.fresh_ann_id()
    for k, iid in enumerate([img_ids[3], img_ids[0], img_ids[3], img_ids[-1]]):
        view.apply(E.AddAnnotation(base + k, int(iid), cats[k % len(cats)],
                                   (1.0, 2.0, 3.0 + k, 4.0)))
    view.apply(E.DeleteAnnotation(int(ds.anns.id[ds.ann_rows(int(img_ids[3]))[0]])))
    view.apply(E.Relabel(int(ds.anns.id[ds.ann_rows(int(img_ids[0]))[0]]), cats[1]))
    v = view.dataset()
    fast = [v.ann_rows_of_image_row(r).tolist() for r in range(len(img_ids))]
    v2 = view.dataset()
    assert v2 is v
    v = type(v).__new__(type(v))  # a fresh copy of the view, its lazy columns made here
    v.__dict__.update(v2.__dict__)
    v._edited_lazy = {}
    _ = v.ann_order  # the whole-dataset path from now on
    slow = [v.ann_rows_of_image_row(r).tolist() for r in range(len(img_ids))]
    assert fast == slow
    assert len(fast[3]) == len(ds.ann_rows(int(img_ids[3]))) - 1 + 2
    n = len(ds.anns)
    assert fast[3][-2:] == [r for r, a in v._added_rows.items() if a.image_id == img_ids[3]]
    assert v.image_ann_count.tolist() == [len(r) for r in slow]
    assert v.ann_image_row[n:].tolist() == [ds.image_row(int(a.image_id))
                                           for a in v._added_rows.values()]
    assert (v.ann_category_index[n:] >= 0).all()
    for k in range(4):
        row = v2.ann_row(base + k)
        assert row >= n and int(v2.anns.id[row]) == base + k
    assert v2.ann_row(int(ds.anns.id[5])) == 5


@pytest.mark.parametrize("side", ["cheaper", "group", "images"])
def test_category_edits_over_many_images(tmp_path: Path, side: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Category edits count the changed categories from their own rows: equal to a
    recount (the supercategories' too) edit by edit, and an undo gives back the state
    before its edit, through chained merges; whichever side the unmoved rows are read
    from (the group's rows or its images' rows)."""
    if side != "cheaper":
        monkeypatch.setattr(edited, "_group_side", lambda _g, _i: side == "group")
    p = tmp_path / "many.json"
    generate_coco(p, n_images=300, n_annotations=2500, n_categories=5, seed=8)
    ds = dataset.open(p, cache=False)
    view = EditedView(ds)
    n_img = ds.category_counts()[1]
    cats = [ds.categories[k].id for k in np.argsort(-n_img, kind="stable")]
    assert sorted(n_img.tolist())[-2] > 64  # the two biggest: the wide path
    rows = ds.ann_rows_of_image_row(int(np.flatnonzero(ds.image_ann_count >= 2)[0]))
    edits: list[E.Edit] = [E.Relabel(int(ds.anns.id[rows[0]]), cats[3]),
                           E.MergeCategory(cats[3], cats[0]), E.DeleteCategory(cats[1]),
                           E.DeleteImage(int(ds.image_ids[7])),
                           E.Relabel(int(ds.anns.id[rows[1]]), cats[4]),
                           E.MergeCategory(cats[4], cats[0]),
                           E.MergeCategory(cats[0], cats[2]),  # a chain: 3, 4 → 0 → 2
                           E.DeleteCategory(cats[2])]

    def state() -> tuple[object, ...]:
        return (view.instances.tolist(), view.images.tolist(), view.super_images.tolist(),
                view.cat.tolist(), view.alive.tolist(), dict(view.layer.merged))

    inverses, states = [], [state()]
    for e in edits:
        inverses.append(view.apply(e))
        _check(view)
        states.append(state())
    assert view.layer.merged == {cats[3]: cats[2], cats[4]: cats[2], cats[0]: cats[2]}
    for k, inv in enumerate(reversed(inverses)):
        view.apply(inv)
        _check(view)
        assert state() == states[-2 - k]  # an undo gives back the state before the edit
    assert view.images.tolist() == ds.category_counts()[1].tolist()


def test_added_rows_grow_in_place_and_old_views_keep_theirs(synth: Path) -> None:
    """Additions write their rows into arrays with room (no copy of every column); a
    view made earlier keeps its rows through later additions, undos and additions after
    an undo (which must not write over a row a view holds), and a merge that changes an
    added annotation's category."""
    ds = dataset.open(synth, cache=False)
    view = EditedView(ds)
    n = len(ds.anns)
    cats = [c.id for c in ds.categories]
    img_ids = ds.image_ids.tolist()
    fresh = view.layer.fresh_ann_id()
    kept: list[tuple[object, list[int], list[int]]] = []

    def snap() -> None:
        v = view.dataset()
        kept.append((v, v.anns.id[n:].tolist(), v.anns.category_id[n:].tolist()))

    adds = []
    for k in range(300):  # past the first room (256 rows): the arrays are made again once
        adds.append(view.apply(E.AddAnnotation(fresh + k, int(img_ids[k % len(img_ids)]),
                                               cats[k % 2], (1.0, 1.0, 2.0 + k, 3.0))))
        if k % 37 == 0:
            snap()
    snap()
    v_all = view.dataset()
    arr = v_all.anns.id
    view.apply(adds.pop())  # undo the last addition: the rows before are a prefix
    snap()
    assert kept[-1][0].anns.id.base is not None and np.shares_memory(
        kept[-1][0].anns.id, arr)  # no copy for an undo of the last addition
    view.apply(E.AddAnnotation(fresh + 1000, int(img_ids[0]), cats[0], (5.0, 5.0, 1.0, 1.0)))
    snap()  # row n + 299 was held by v_all: written anew elsewhere
    view.apply(E.AddAnnotation(fresh + 1001, int(img_ids[1]), cats[0], (5.0, 5.0, 1.0, 1.0)))
    snap()
    view.apply(E.MergeCategory(cats[1], cats[0]))  # the added rows of cats[1] change
    snap()
    for v, ids, cat in kept:  # every view still shows what it showed when it was made
        assert v.anns.id[n:].tolist() == ids  # type: ignore[attr-defined]
        assert v.anns.category_id[n:].tolist() == cat  # type: ignore[attr-defined]
    last = view.dataset()
    live = sorted(view.added_live(), key=lambda t: t[0].ann_id)
    assert last.anns.id[n:].tolist() == [a.ann_id for a, _r, _c in live]
    assert last.anns.category_id[n:].tolist() == [cats[0]] * len(live)
    assert last.anns.bbox[n:].tolist() == [list(a.bbox) for a, _r, _c in live]
    assert last.anns.id[:n].tolist() == ds.anns.id.tolist()
    assert len(last.ann_src) == len(last.anns) == n + len(live)


def test_an_addition_uses_the_columns_made_ready(synth: Path) -> None:
    """``prepare_addition`` (a worker's, before a first addition) makes the columns the
    addition's row is written into: the addition copies no column, and its view equals
    one made without the preparation."""
    ds = dataset.open(synth, cache=False)
    cats = [c.id for c in ds.categories]
    edit = E.AddAnnotation(10**7, int(ds.image_ids[3]), cats[1], (1.0, 2.0, 3.0, 4.0))
    plain = EditedView(ds)
    plain.apply(edit)
    view = EditedView(ds)
    view.apply(E.Relabel(int(ds.anns.id[0]), cats[2]))  # an edit before: its columns
    view.apply(E.Relabel(int(ds.anns.id[0]), int(ds.anns.category_id[0])))
    view.prepare_addition()
    ready = {name: arr for name, arr in view._grown._static.items()}
    joined = {name: hit[1] for name, hit in view._grown._joined.items()}
    assert set(joined) == {"category_id", "iscrowd", "bbox", "area"}
    view.apply(edit)
    v, p = view.dataset(), plain.dataset()
    for name, arr in ready.items():  # written in place, not made again
        assert view._grown._static[name] is arr
    for name, arr in joined.items():
        assert np.shares_memory(getattr(v.anns, name), arr), name
    for name in ("id", "image_id", "category_id", "iscrowd", "bbox", "area", "seg_kind"):
        assert np.array_equal(getattr(v.anns, name), getattr(p.anns, name)), name
    assert np.array_equal(v.ann_src, p.ann_src)
    view.prepare_addition()  # with an addition live: nothing to make
    assert view._grown._static["id"] is ready["id"]
