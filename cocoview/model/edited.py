"""The dataset as the edits make it, kept up to date edit by edit (issue 17).

:class:`EditedView` wraps an :class:`~cocoview.model.edits.EditLayer`. It keeps the
per-annotation columns an edit changes (category, alive, iscrowd) and the counts the
views show (annotations per image, instances and images per category and
supercategory) and updates them *incrementally*: an edit recounts only the
annotations of the images it touches (a relabel: one image's), never the whole
dataset. :meth:`EditedView.dataset` is the smallest adapter for everything else:
a shallow copy of the :class:`Dataset` whose columns are the edited ones, so the
overlays, filters, statistics and the evaluation read the edited data unchanged.
Annotation and image rows keep their numbers (the selection and the views' rows stay
valid); a deleted annotation is in no image (its image row is -1, its category index
-1); a deleted or merged category stays in the category list with no annotations.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from cocoview.model import edits as E
from cocoview.model.dataset import Dataset
from cocoview.model.filters import FilterExtras, ImageFilter, filter_images


def _delegated(name: str) -> property:
    def get(self: _EditedDataset) -> object:
        return getattr(self._edited_base, name)

    def put(self: _EditedDataset, value: object) -> None:
        setattr(self._edited_base, name, value)

    return property(get, put)


def _lazy(name: str) -> property:
    """A column of the edited dataset computed on first use (from the edit state the
    view was made of: thread-safe, as that state is never mutated)."""
    def get(self: _EditedDataset) -> np.ndarray:
        lazy = self._edited_lazy
        value = lazy.get(name)
        if value is None:
            value = lazy[name] = _make_lazy(self, name)
        return value

    def put(self: _EditedDataset, value: np.ndarray) -> None:
        self._edited_lazy[name] = value

    return property(get, put)


def _cat_index(ids: np.ndarray, cats: np.ndarray) -> np.ndarray:
    """Category ids ``cats`` → indexes in ``ids`` (the categories' ids; -1: unknown)."""
    if not len(ids):
        return np.full(len(cats), -1, np.int64)
    order = np.argsort(ids)
    pos = np.minimum(np.searchsorted(ids, cats, sorter=order), len(ids) - 1)
    idx = order[pos]
    return np.where(ids[idx] == cats, idx, -1)


class _EditedDataset(Dataset):
    """A :class:`Dataset` whose columns are the edited ones. Where the images are (and
    the validation made of the file) stay the opened dataset's: another images folder
    chosen later is seen here too."""

    _edited_base: Dataset
    _edited_alive: np.ndarray  # per annotation row: kept after the edits (never mutated)
    _edited_lazy: dict[str, np.ndarray]  # the whole-dataset columns, made on first use
    _edited_cat_index: np.ndarray  # EditedView.cat_index's lookup (category ids, sorted)
    _edited_tags: dict[int, tuple[str, ...]]  # image id → its edited tags (model/tags.py)
    _root = _delegated("_root")
    _root_hits = _delegated("_root_hits")
    _real_root = _delegated("_real_root")
    images_dir = _delegated("images_dir")
    _problems = _delegated("_problems")
    # Whole-dataset columns cost ~80 ms at train2017 size: made only when asked (a
    # filter, a statistic), never for a frame, which reads one image's rows.
    ann_image_row = _lazy("ann_image_row")
    ann_order = _lazy("ann_order")
    image_ann_start = _lazy("image_ann_start")
    _ann_cat_index = _lazy("_ann_cat_index")

    def ann_rows_of_image_row(self, image_row: int) -> np.ndarray:
        """The image's rows still alive (O(its annotations): what a frame asks for)."""
        if "ann_order" in self._edited_lazy:
            return Dataset.ann_rows_of_image_row(self, image_row)
        rows = self._edited_base.ann_rows_of_image_row(image_row)
        return rows[self._edited_alive[rows]]


def _make_lazy(v: _EditedDataset, name: str) -> np.ndarray:
    base, alive = v._edited_base, v._edited_alive
    if name == "ann_image_row":
        return np.where(alive, base.ann_image_row, -1)
    if name == "ann_order":
        return base.ann_order[alive[base.ann_order]]
    if name == "image_ann_start":
        count = v.image_ann_count
        return np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64) if len(count) \
            else np.empty(0, np.int64)
    idx = _cat_index(v._edited_cat_index, v.anns.category_id)
    return np.where(alive, idx, -1).astype(np.int32)


class EditedView:
    """The edit layer of ``ds`` with its edited columns and counts."""

    def __init__(self, ds: Dataset) -> None:
        self.base = ds
        self.layer = E.EditLayer(ds)
        # plain-array views of the (often memory-mapped) columns: indexing a memmap makes
        # a memmap each time, which costs more than the lookup at train2017 size
        self._img_of = np.asarray(ds.ann_image_row)
        self._base_cat = np.asarray(ds.anns.category_id)
        self._base_crowd = np.asarray(ds.anns.iscrowd)
        self.version = 0
        self.cat = ds.anns.category_id.astype(np.int64)  # a copy
        self.alive = np.ones(len(ds.anns), bool)
        self.crowd = ds.anns.iscrowd.copy()
        self.image_count = ds.image_ann_count.copy()
        self.image_deleted = np.zeros(len(ds.image_ids), bool)
        ids = np.asarray([c.id for c in ds.categories], np.int64)
        self._cat_ids = ids
        self._cat_index = {int(c): k for k, c in enumerate(ids.tolist())}
        inst, imgs = ds.category_counts()
        self.instances, self.images = inst.copy(), imgs.copy()
        self._supers = sorted({c.supercategory for c in ds.categories})
        sup_index = {n: i for i, n in enumerate(self._supers)}
        self._sup_of = np.array([sup_index[c.supercategory] for c in ds.categories] + [-1],
                                np.int64)
        sc = ds.supercategory_counts()
        self.super_instances = np.array([sc[n][0] for n in self._supers], np.int64)
        self.super_images = np.array([sc[n][1] for n in self._supers], np.int64)
        self._view: Dataset | None = None
        self._tags: dict[int, tuple[str, ...]] | None = None  # layer.tags, copied

    # ----- per row ----------------------------------------------------------
    def cat_index(self, cats: np.ndarray) -> np.ndarray:
        """Category ids → indexes in ``ds.categories`` (-1 for an unknown id)."""
        return _cat_index(self._cat_ids, cats)

    def _state_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(category, alive, iscrowd) of annotation ``rows`` after the layer's edits."""
        ds, lay = self.base, self.layer
        cat = self._base_cat[rows].astype(np.int64)
        crowd = self._base_crowd[rows]
        pos = {int(r): k for k, r in enumerate(rows.tolist())} if len(rows) < 4096 else None

        def where(ann_ids: object) -> list[tuple[int, int]]:
            out = []
            for a in ann_ids:  # type: ignore[attr-defined]
                r = ds.ann_row(int(a))
                k = pos.get(r) if pos is not None else None
                if pos is None:
                    hit = np.flatnonzero(rows == r)
                    k = int(hit[0]) if len(hit) else None
                if k is not None:
                    out.append((int(a), k))
            return out

        for a, k in where(lay.ann_category):
            cat[k] = lay.ann_category[a]
        for a, k in where(lay.ann_crowd):
            crowd[k] = lay.ann_crowd[a]
        for src, into in lay.merged.items():
            cat[cat == src] = into
        alive = np.ones(len(rows), bool)
        for _a, k in where(lay.deleted_anns):
            alive[k] = False
        if lay.deleted_cats:
            alive &= ~np.isin(cat, np.fromiter(lay.deleted_cats, np.int64))
        img = self._img_of[rows]
        alive &= ~((img >= 0) & self.image_deleted[np.maximum(img, 0)])
        return cat, alive, crowd

    def _touched_rows(self, e: E.Edit) -> np.ndarray:
        ds, lay = self.base, self.layer
        if isinstance(e, (E.DeleteAnnotation, E.Relabel, E.SetCrowd)):
            return np.asarray([ds.ann_row(int(e.ann_id))], np.int64)
        if isinstance(e, E.DeleteImage):
            return ds.ann_rows(int(e.image_id)).astype(np.int64)
        if isinstance(e, (E.MergeCategory, E.DeleteCategory)):
            src = e.source if isinstance(e, E.MergeCategory) else e.category_id
            cats = {src, lay.merged.get(src)} | {k for k, v in lay.merged.items() if v == src}
            if isinstance(e, E.MergeCategory) and e.into is not None:
                cats.add(e.into)
            wanted = np.fromiter((c for c in cats if c is not None), np.int64)
            return np.flatnonzero(np.isin(self.cat, wanted)
                                  | np.isin(ds.anns.category_id, wanted)).astype(np.int64)
        return np.zeros(0, np.int64)

    # ----- applying -----------------------------------------------------------
    def apply(self, e: E.Edit) -> E.Edit:
        """Apply ``e`` to the layer (EditError: nothing changed) and update the counts
        of the images it touches; returns the inverse."""
        ds = self.base
        lay = self.layer
        if isinstance(e, (E.DeleteAnnotation, E.Relabel, E.SetCrowd)):
            lay._ann(e.ann_id)  # a clear error before anything is counted
        if isinstance(e, E.DeleteImage):
            try:
                ds.image_row(int(e.image_id))
            except KeyError:
                raise E.EditError(f"no image with id {e.image_id}") from None
        touched = self._touched_rows(e)
        img_rows = np.unique(self._img_of[touched])
        img_rows = img_rows[img_rows >= 0]
        if isinstance(e, E.DeleteImage):
            img_rows = np.asarray([ds.image_row(int(e.image_id))], np.int64)
        region = self._region(img_rows, touched)
        self._count(region, -1)
        try:
            inverse = lay.apply(e)
        except E.EditError:
            self._count(region, +1)
            raise
        if isinstance(e, E.DeleteImage):
            self.image_deleted = self.image_deleted.copy()
            self.image_deleted[img_rows] = not e.restore
        if len(touched):  # copy on write (a view made before keeps its arrays), only the
            cat, alive, crowd = self._state_of(touched)  # columns this edit changes
            if not np.array_equal(self.cat[touched], cat):
                self.cat = self.cat.copy()
                self.cat[touched] = cat
            if not np.array_equal(self.alive[touched], alive):
                self.alive = self.alive.copy()
                self.alive[touched] = alive
            if not np.array_equal(self.crowd[touched], crowd):
                self.crowd = self.crowd.copy()
                self.crowd[touched] = crowd
        self._count(region, +1)
        if len(img_rows):
            count = self.image_count.copy()
            on = np.zeros(len(ds.image_ids), bool)
            on[img_rows] = True
            img = self._img_of[region]
            sel = region[on[np.maximum(img, 0)] & (img >= 0) & self.alive[region]]
            count[img_rows] = 0
            np.add.at(count, self._img_of[sel], 1)
            self.image_count = count
        self.version += 1
        self._view = None
        if isinstance(e, E.SetTags):
            self._tags = None
        return inverse

    def _region(self, img_rows: np.ndarray, touched: np.ndarray) -> np.ndarray:
        """Every annotation row of ``img_rows``, plus the touched rows in no image."""
        ds = self.base
        if len(img_rows) <= 64:
            parts = [ds.ann_rows_of_image_row(int(r)) for r in img_rows.tolist()]
        else:
            on = np.zeros(len(ds.image_ids), bool)
            on[img_rows] = True
            img = ds.ann_image_row
            parts = [np.flatnonzero((img >= 0) & on[np.maximum(img, 0)])]
        orphans = touched[self._img_of[touched] < 0]
        return np.concatenate([*(p.astype(np.int64) for p in parts), orphans]) if parts \
            else orphans

    def _count(self, rows: np.ndarray, sign: int) -> None:
        """Add (``sign`` 1) or remove (-1) the contribution of ``rows`` to the counts."""
        if not len(rows):
            return
        rows = rows[self.alive[rows]]
        cidx = self.cat_index(self.cat[rows])
        ok = cidx >= 0
        n_cat = len(self._cat_ids)
        self.instances = self.instances + sign * np.bincount(cidx[ok], minlength=n_cat)
        sup = self._sup_of[cidx]
        n_sup = len(self._supers)
        self.super_instances = self.super_instances + sign * np.bincount(
            sup[sup >= 0], minlength=n_sup)
        img = self._img_of[rows]
        placed = ok & (img >= 0)
        key = np.unique(img[placed] * max(n_cat, 1) + cidx[placed])
        self.images = self.images + sign * np.bincount(key % max(n_cat, 1), minlength=n_cat)
        sp = placed & (sup >= 0)
        skey = np.unique(img[sp] * max(n_sup, 1) + sup[sp])
        self.super_images = self.super_images + sign * np.bincount(
            skey % max(n_sup, 1), minlength=n_sup)

    # ----- the edited dataset -------------------------------------------------
    def category_name(self, cid: int) -> str:
        return self.layer.cat_names.get(cid) or self.base.category(cid).name

    def gone_categories(self) -> set[int]:
        """Deleted or merged categories (still in the list, with no annotations)."""
        return set(self.layer.deleted_cats) | set(self.layer.merged)

    def dataset(self) -> Dataset:
        """The dataset with the edits applied (made once per edit; shares the files).

        Cheap (O(categories)): it holds the edit state's arrays, which an edit replaces
        and never mutates, so it is a snapshot that a worker may read while the GUI
        thread goes on editing; its whole-dataset columns are made on first use."""
        if self._view is not None:
            return self._view
        ds = self.base
        v = copy.copy(ds)
        for name in ("_root", "_root_hits", "_real_root", "images_dir", "_problems",
                     "ann_image_row", "ann_order", "image_ann_start", "_ann_cat_index"):
            v.__dict__.pop(name, None)
        v.__class__ = _EditedDataset
        assert isinstance(v, _EditedDataset)
        v._edited_base = ds
        v._edited_alive = self.alive
        v._edited_lazy = {}
        v._edited_cat_index = self._cat_ids
        v.anns = replace(ds.anns, category_id=self.cat, iscrowd=self.crowd)
        v.image_ann_count = self.image_count
        names = self.layer.cat_names
        v.categories = [replace(c, name=names[c.id]) if c.id in names else c
                        for c in ds.categories]
        v._cat_by_id = {c.id: c for c in v.categories}
        v._cat_counts = (self.instances, self.images)
        if self._tags is None:  # made again only after a tag edit (a new dict: a snapshot)
            self._tags = dict(self.layer.tags)
        v._edited_tags = self._tags
        v._incidence = None
        v._super_counts = {n: (int(self.super_instances[i]), int(self.super_images[i]))
                           for i, n in enumerate(self._supers)}
        self._view = v
        return v

    def filter(self, flt: ImageFilter, extras: FilterExtras | None = None) -> np.ndarray:
        """The ids of the images that pass ``flt`` in the edited dataset (deleted images
        are in none)."""
        return edited_filter(self.dataset(), flt, extras, self.image_deleted)


def edited_filter(view: Dataset, flt: ImageFilter, extras: FilterExtras | None,
                  image_deleted: np.ndarray) -> np.ndarray:
    """:func:`filter_images` over an edited dataset, without its deleted images."""
    ids = filter_images(view, flt, extras)
    if image_deleted.any():
        ids = ids[~np.isin(ids, view.image_ids[image_deleted])]
    return ids
