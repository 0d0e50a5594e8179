"""The edited view (issue 17): incremental counts equal a recount of the edited data,
edit by edit and after undo; filters and overlays see the edits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cocoview.model import dataset
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
