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
import threading
from dataclasses import replace
from typing import Any

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
    _edited_base_layer: E.EditLayer
    _edited_image_deleted: np.ndarray  # per image row: deleted by an edit
    _root = _delegated("_root")
    _root_hits = _delegated("_root_hits")
    _real_root = _delegated("_real_root")
    images_dir = _delegated("images_dir")
    _problems = _delegated("_problems")
    #: the detections drawn (model A / B, switched on the opened dataset after the view
    #: was made)
    results = _delegated("results")
    # Whole-dataset columns cost ~80 ms at train2017 size: made only when asked (a
    # filter, a statistic), never for a frame, which reads one image's rows.
    ann_image_row = _lazy("ann_image_row")
    ann_order = _lazy("ann_order")
    image_ann_start = _lazy("image_ann_start")
    _ann_cat_index = _lazy("_ann_cat_index")

    def ann_rows_of_image_row(self, image_row: int) -> np.ndarray:
        """The image's rows still alive (O(its annotations): what a frame asks for),
        its added annotations' rows last."""
        if "ann_order" in self._edited_lazy:
            return Dataset.ann_rows_of_image_row(self, image_row)
        rows = self._edited_base.ann_rows_of_image_row(image_row)
        rows = rows[self._edited_alive[rows]]
        added = self._added_by_image.get(int(image_row))
        return np.concatenate([rows, np.asarray(added, rows.dtype)]) if added else rows

    @property
    def ann_id_order(self) -> np.ndarray:
        """The opened dataset's order, the added ids merged in (on first use)."""
        if not self._added_rows:
            return self._edited_base.ann_id_order
        order = self._edited_lazy.get("ann_id_order")
        if order is None:
            base = self._edited_base
            bo = base.ann_id_order
            n = len(base.anns)
            new = np.asarray(sorted(self._added_rows, key=lambda r: self._added_rows[r].ann_id),
                             bo.dtype)
            new_ids = self.anns.id[new]
            at = np.searchsorted(base.anns.id[bo], new_ids, side="right")
            order = self._edited_lazy["ann_id_order"] = np.insert(bo, at, new)
            assert len(order) == n + len(new)
        return order

    def edited_ground_truth(self, gt: Any) -> Any:
        """The evaluated ground truth (``evaluation.inputs.GroundTruth``, read from the
        file's records) with the edits the records do not hold: moved boxes, crowd
        flags, added annotations, each as Save As writes it (so the evaluation equals
        pycocotools' on the saved file)."""
        layer, base = self._edited_base_layer, self._edited_base
        n = len(base.anns)
        deleted = self._edited_image_deleted
        if deleted.any():  # gone from the saved file: a detection there is on no image
            keep = ~deleted
            gt.image_ids, gt.image_width, gt.image_height = (
                gt.image_ids[keep], gt.image_width[keep], gt.image_height[keep])
            assert not np.isin(gt.image_id, base.image_ids[deleted]).any()
        # copies: a worker evaluates while the GUI thread may go on editing the layer
        boxes, crowds = dict(layer.ann_bbox), dict(layer.ann_crowd)
        if not (boxes or crowds or self._added_rows):
            return gt
        gt.bbox, gt.area, gt.iscrowd = gt.bbox.copy(), gt.area.copy(), gt.iscrowd.copy()
        gt.num_keypoints = gt.num_keypoints.copy()
        want = np.asarray(sorted({base.ann_row(a) for a in (*boxes, *crowds)}
                                 | set(self._added_rows)), np.int64)
        pos = np.minimum(np.searchsorted(gt.row, want), max(len(gt.row) - 1, 0))
        hit = gt.row[pos] == want if len(gt.row) else np.zeros(len(want), bool)
        crowd: int | None
        for r, k in zip(want[hit].tolist(), pos[hit].tolist(), strict=True):
            if r >= n:
                rec = E.added_record(layer, self._added_rows[r])
                box, area, crowd = rec["bbox"], rec["area"], 0
                if gt.segmentation is not None:
                    gt.segmentation[k] = rec.get("segmentation")
                if gt.keypoints is not None:
                    gt.keypoints[k] = None
                gt.num_keypoints[k] = 0
            else:
                a = int(base.anns.id[r])
                fields = E.box_fields(layer, r, boxes[a]) if a in boxes else {}
                box, area = fields.get("bbox"), fields.get("area")
                crowd = crowds.get(a)
            if box is not None:
                gt.bbox[k] = box
            if area is not None:
                gt.area[k] = area
            if crowd is not None:
                gt.iscrowd[k] = bool(crowd)
        return gt

    #: rows of the added annotations per image row (issue 17)
    _added_by_image: dict[int, list[int]]

    #: added annotations (issue 17): their row after the file's rows → the edit
    _added_rows: dict[int, E.AddAnnotation]

    def segmentation(self, row: int) -> Any:
        a = self._added_rows.get(int(row))
        return a.segmentation if a is not None else super().segmentation(row)

    def _ann_record(self, row: int) -> dict[str, Any]:
        a = self._added_rows.get(int(row))
        if a is None:
            return super()._ann_record(row)
        return E.added_record(self._edited_base_layer, a)


def _make_lazy(v: _EditedDataset, name: str) -> np.ndarray:
    """A whole-dataset column of the edited view; the added annotations are rows after
    the file's (``len(base.anns) + k``), placed last in their images' runs."""
    base, alive = v._edited_base, v._edited_alive
    added = v._added_rows
    k = len(added)
    img = np.asarray([base.image_row(int(a.image_id)) for a in added.values()], np.int64)
    if name == "ann_image_row":
        rows = np.where(alive, base.ann_image_row, -1)
        return np.concatenate([rows, img]) if k else rows
    if name == "ann_order":
        order = base.ann_order[alive[base.ann_order]]
        if not k:
            return order
        keys = base.ann_image_row[order]
        keys = np.where(keys < 0, len(base.image_ids), keys)
        new = np.asarray(list(added), order.dtype)
        sort = np.argsort(img, kind="stable")
        return np.insert(order, np.searchsorted(keys, img[sort], side="right"), new[sort])
    if name == "image_ann_start":
        count = v.image_ann_count
        return np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64) if len(count) \
            else np.empty(0, np.int64)
    idx = _cat_index(v._edited_cat_index, v.anns.category_id)
    keep = np.concatenate([alive, np.ones(k, bool)]) if k else alive
    return np.where(keep, idx, -1).astype(np.int32)


class EditedView:
    """The edit layer of ``ds`` with its edited columns and counts."""

    def __init__(self, ds: Dataset) -> None:
        self.base = ds
        self.layer = E.EditLayer(ds)
        # plain-array views of the (often memory-mapped) columns: indexing a memmap makes
        # a memmap each time, which costs more than the lookup at train2017 size
        self._img_of = np.asarray(ds.ann_image_row)
        self._base_cat = np.asarray(ds.anns.category_id, np.int64)
        self._base_crowd = np.asarray(ds.anns.iscrowd)
        self.version = 0
        # plain copies: a memmap's copy is a memmap, whose every fancy index costs
        # ~0.6 ms more at person size (260 k rows)
        self.cat = np.array(ds.anns.category_id, np.int64)
        self.alive = np.ones(len(ds.anns), bool)
        self.crowd = np.array(ds.anns.iscrowd)
        self.image_count = np.array(ds.image_ann_count)
        self.image_deleted = np.zeros(len(ds.image_ids), bool)
        ids = np.asarray([c.id for c in ds.categories], np.int64)
        self._cat_ids = ids
        self._cat_index = {int(c): k for k, c in enumerate(ids.tolist())}
        #: category id → index, when the ids are small non-negative numbers (as COCO's)
        self._lut: np.ndarray | None = None
        if len(ids) and ids.min() >= 0 and ids.max() < 1 << 20:
            self._lut = np.full(int(ids.max()) + 1, -1, np.int32)  # half the bytes to move
            self._lut[ids[::-1]] = np.arange(len(ids))[::-1]  # the first of a repeated id
        inst, imgs = ds.category_counts()
        self.instances, self.images = inst.copy(), imgs.copy()
        self._supers = sorted({c.supercategory for c in ds.categories})
        sup_index = {n: i for i, n in enumerate(self._supers)}
        self._sup_of = np.array([sup_index[c.supercategory] for c in ds.categories] + [-1],
                                np.int32)
        sc = ds.supercategory_counts()
        self.super_instances = np.array([sc[n][0] for n in self._supers], np.int64)
        self.super_images = np.array([sc[n][1] for n in self._supers], np.int64)
        self._view: Dataset | None = None
        self._tags: dict[int, tuple[str, ...]] | None = None  # layer.tags, copied
        # moved / resized boxes (SetBox): the file's columns until a box is edited
        self.bbox: np.ndarray = ds.anns.bbox
        self.area: np.ndarray = ds.anns.area
        self._bare = False  # applying an edit to the rows' counts only (added taken out)
        #: the columns joined with the added annotations' rows (dataset())
        self._grown = _GrownColumns()
        self._by_cat: tuple[np.ndarray, np.ndarray] | None = None  # rows by file category

    def warm(self) -> EditedView:
        """Make the lookups a first edit would otherwise make on the GUI thread: the
        repeated ids (~45 ms at train2017 size), the rows by category (~17 ms), the rows
        by id."""
        self.layer._repeated_ids()
        self._base_rows_by_category()
        _ = self.base.ann_id_order
        return self

    # ----- per row ----------------------------------------------------------
    def cat_index(self, cats: np.ndarray) -> np.ndarray:
        """Category ids → indexes in ``ds.categories`` (-1 for an unknown id)."""
        lut = self._lut
        if lut is None or not len(cats):
            return _cat_index(self._cat_ids, cats)
        # a table lookup (a category edit counts every row of its images: a sorted
        # search costs ~5× more at train2017 size)
        if cats.min() >= 0 and cats.max() < len(lut):
            return lut[cats]
        ok = (cats >= 0) & (cats < len(lut))
        return np.where(ok, lut[np.where(ok, cats, 0)], -1)

    def _state_of(self, rows: np.ndarray, img: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(category, alive, iscrowd) of annotation ``rows`` (on image rows ``img``)
        after the layer's edits."""
        ds, lay = self.base, self.layer
        cat = self._base_cat[rows]  # a copy (a gather)
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
        if self.image_deleted.any():
            img = self._img_of[rows] if img is None else img
            alive &= ~((img >= 0) & self.image_deleted[np.maximum(img, 0)])
        return cat, alive, crowd

    def _touched_rows(self, e: E.Edit) -> np.ndarray:
        ds = self.base
        if isinstance(e, (E.DeleteAnnotation, E.Relabel, E.SetCrowd)):
            return np.asarray([ds.ann_row(int(e.ann_id))], np.int64)
        if isinstance(e, E.DeleteImage):
            return ds.ann_rows(int(e.image_id)).astype(np.int64)
        if isinstance(e, (E.MergeCategory, E.DeleteCategory)):
            # the rows of the category (and of those merged into it): the rows of the
            # category merged into keep theirs, and the images counted again are those
            # of the moved rows only (not every image of COCO's person)
            if isinstance(e, E.MergeCategory):  # an undo moves the chained ones back
                return self._rows_of_categories({e.source, *e.chained})
            return self._rows_of_categories({e.category_id})
        return np.zeros(0, np.int64)

    # ----- applying -----------------------------------------------------------
    def apply(self, e: E.Edit) -> E.Edit:
        """Apply ``e`` to the layer (EditError: nothing changed) and update the counts
        of the images it touches; returns the inverse."""
        ds = self.base
        lay = self.layer
        if isinstance(e, (E.SetBox, E.AddAnnotation)) or (lay.added and not self._bare):
            return self._apply_box_or_add(e)
        if isinstance(e, (E.MergeCategory, E.DeleteCategory)):
            return self._apply_category_edit(e)
        if isinstance(e, (E.DeleteAnnotation, E.Relabel, E.SetCrowd)):
            lay._ann(e.ann_id)  # a clear error before anything is counted
        if isinstance(e, E.DeleteImage):
            try:
                ds.image_row(int(e.image_id))
            except KeyError:
                raise E.EditError(f"no image with id {e.image_id}") from None
        touched = self._touched_rows(e)
        img_rows = _distinct(self._img_of[touched])
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
        if len(touched):
            cat, alive, crowd = self._state_of(touched)
            self._write_state(touched, {"cat": (None, cat), "alive": (None, alive),
                                        "crowd": (None, crowd)})
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

    # ----- category edits: the rows they move ------------------------------------
    def _apply_category_edit(self, e: E.MergeCategory | E.DeleteCategory) -> E.Edit:
        """A merge or a deletion of a category: only the categories whose rows it moves
        (and their supercategories) have new counts, made from their own rows (found by
        the rows-by-category order). Counting every image the moved rows are on instead,
        as the other edits do, cost up to 12x more at train2017 size (124 ms to delete
        COCO's person, whose images hold 500 k rows; 2.4 vs 8 ms for a small one)."""
        touched = self._touched_rows(e)
        # the categories whose file rows are all in ``touched``
        skip = self._sources({e.source, *e.chained} if isinstance(e, E.MergeCategory)
                             else {e.category_id})
        old_cat, old_alive = self.cat[touched], self.alive[touched]
        img = self._img_of[touched]
        inverse = self.layer.apply(e)  # EditError: nothing was changed
        cat, alive, _ = self._state_of(touched, img)  # a category edit sets no crowd flag
        self._write_state(touched, {"cat": (old_cat, cat), "alive": (old_alive, alive)})
        n_cat = len(self._cat_ids)
        was, now = self.cat_index(old_cat), self.cat_index(cat)
        was_ok, now_ok = old_alive & (was >= 0), alive & (now >= 0)
        b_now = np.bincount(now[now_ok], minlength=n_cat)
        b_was = np.bincount(was[was_ok], minlength=n_cat)
        delta = b_now - b_was
        self.instances = self.instances + delta
        sw, sn = self._sup_of[was], self._sup_of[now]
        same_sup = np.array_equal(old_alive, alive) and np.array_equal(sw, sn)
        if not same_sup:
            sup_of = self._sup_of[:n_cat]
            self.super_instances = self.super_instances + np.bincount(
                sup_of[sup_of >= 0], delta[sup_of >= 0], len(self._supers)).astype(np.int64)
        gone, back = old_alive & ~alive & (img >= 0), alive & ~old_alive & (img >= 0)
        if gone.any() or back.any():
            n_img = len(self.image_count)
            self.image_count = (self.image_count + np.bincount(img[back], minlength=n_img)
                                - np.bincount(img[gone], minlength=n_img))
        changed = np.flatnonzero((b_now > 0) | (b_was > 0))
        if len(changed):  # only the images the moved rows are on can change
            in_touched = np.zeros(len(self.alive), bool)
            in_touched[touched] = True
            moved = (in_touched, img, skip)
            self.images = self._images_after(moved, changed, was, now, was_ok, now_ok,
                                             self.images, self.instances, sup=False)
            if not same_sup:
                sups = np.asarray(sorted({int(self._sup_of[k]) for k in changed} - {-1}),
                                  np.int64)
                self.super_images = self._images_after(
                    moved, sups, sw, sn, was_ok, now_ok, self.super_images,
                    self.super_instances, sup=True)
        self.version += 1
        self._view = None
        return inverse

    def _write_state(self, rows: np.ndarray,
                     cols: dict[str, tuple[np.ndarray | None, np.ndarray]]) -> None:
        """The state of ``rows`` into the columns: ``cols`` maps a column's name to the
        rows' values in it now (None: read them) and theirs to write; copy on write (a
        view made before keeps its arrays), only the columns it changes."""
        for name, (was, value) in cols.items():
            col = getattr(self, name)
            if not np.array_equal(col[rows] if was is None else was, value):
                col = col.copy()
                col[rows] = value
                setattr(self, name, col)

    def _base_rows_by_category(self) -> tuple[np.ndarray, np.ndarray]:
        """The annotation rows ordered by their file category (index; unknown ids
        last) and where each category's run starts (made once, ~10 ms at train2017)."""
        if self._by_cat is None:
            n_cat = len(self._cat_ids)
            cidx = self.cat_index(self._base_cat)
            key = np.where(cidx < 0, n_cat, cidx)
            key = key.astype(np.uint16 if n_cat < (1 << 16) - 1 else np.int64)
            order = np.argsort(key, kind="stable")  # a radix sort for 16-bit keys
            starts = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=n_cat + 1))])
            self._by_cat = (order, starts.astype(np.int64))
        return self._by_cat

    def _sources(self, cat_ids: set[int]) -> set[int]:
        """``cat_ids`` and the categories merged into them."""
        return set(cat_ids) | {k for k, v in self.layer.merged.items() if v in cat_ids}

    def _rows_of_categories(self, cat_ids: set[int],
                            skip: set[int] | frozenset[int] = frozenset()) -> np.ndarray:
        """Every row whose category is one of ``cat_ids`` in the file, or may be after
        the edits: the file's rows of those categories and of the categories merged
        into them (but those of ``skip``), and every relabelled row."""
        lay = self.layer
        sources = self._sources(cat_ids)
        order, starts = self._base_rows_by_category()
        parts = []
        for c in sources - set(skip):
            k = self._cat_index.get(int(c))
            if k is not None:
                parts.append(order[starts[k]:starts[k + 1]])
        if lay.ann_category:  # those not already in the runs above
            rel = self._rows_of_ids(np.fromiter(lay.ann_category, np.int64))
            parts.append(rel[~np.isin(self._base_cat[rel], np.fromiter(sources, np.int64))])
        return np.concatenate(parts).astype(np.int64, copy=False) if parts \
            else np.zeros(0, np.int64)

    def _rows_size(self, cat_ids: set[int], skip: set[int]) -> int:
        """How many rows ``_rows_of_categories(cat_ids, skip)`` gathers."""
        _, starts = self._base_rows_by_category()
        ks = [self._cat_index.get(int(c)) for c in self._sources(cat_ids) - skip]
        return sum(int(starts[k + 1] - starts[k]) for k in ks if k is not None) \
            + len(self.layer.ann_category)

    def _rows_of_ids(self, ann_ids: np.ndarray) -> np.ndarray:
        """The rows of annotation ids of the file (vectorised ``ann_row``)."""
        ds = self.base
        order = ds.ann_id_order
        pos = np.minimum(np.searchsorted(ds.anns.id, ann_ids, sorter=order), len(order) - 1)
        return order[pos].astype(np.int64)

    def _images_after(self, moved: tuple[np.ndarray, np.ndarray, set[int]],
                      groups: np.ndarray, g_was: np.ndarray, g_now: np.ndarray,
                      was_ok: np.ndarray, now_ok: np.ndarray, images: np.ndarray,
                      instances: np.ndarray, sup: bool) -> np.ndarray:
        """The image counts of ``groups`` (category or, with ``sup``, supercategory
        indexes) after an edit moved the rows ``moved[0]`` marks (on images ``moved[1]``;
        the file rows of categories ``moved[2]`` are all among them) from groups ``g_was`` to
        ``g_now``. With B / A the images a moved row of the group is on before / after,
        and U those an unmoved row of the group is on, the count changes by |A - U| -
        |B - U|; U is read only on the images of A and B, from whichever is smaller:
        the group's unmoved rows or those images' rows. Counting every row of the group
        instead read COCO's person's 260 k rows for a merge into a small category."""
        in_touched, img, skip = moved
        n_img, n_cat = len(self.image_count), len(self._cat_ids)
        ds = self.base
        placed = img >= 0
        b_sel, a_sel = placed & was_ok, placed & now_ok
        out = images.copy()
        for g in groups.tolist():
            if not instances[g]:
                out[g] = 0  # a group with no instance is on no image
                continue
            b = np.zeros(n_img, bool)
            b[img[b_sel & (g_was == g)]] = True
            a = np.zeros(n_img, bool)
            a[img[a_sel & (g_now == g)]] = True
            cand = np.flatnonzero(a | b)
            cats = set(self._cat_ids[self._sup_of[:n_cat] == g].tolist() if sup
                       else [int(self._cat_ids[g])])
            counts = ds.image_ann_count[cand]
            if _group_side(self._rows_size(cats, skip), int(counts.sum())):
                rows = self._rows_of_categories(cats, skip)
            else:  # the rows of the candidate images
                starts = ds.image_ann_start[cand]
                at = np.repeat(starts - np.cumsum(counts) + counts, counts)
                rows = np.asarray(ds.ann_order)[at + np.arange(len(at))].astype(np.int64)
            rows = rows[~in_touched[rows] & self.alive[rows]]
            gi = self.cat_index(self.cat[rows])
            if sup:
                gi = self._sup_of[gi]
            u_img = self._img_of[rows[gi == g]]
            has = np.zeros(n_img + 1, bool)  # the last: rows on no image
            has[u_img] = True
            has = has[:-1]
            out[g] = images[g] + np.count_nonzero(a & ~has) - np.count_nonzero(b & ~has)
        return out

    def _region(self, img_rows: np.ndarray, touched: np.ndarray) -> np.ndarray:
        """Every annotation row of ``img_rows`` (an edit's one image), plus the touched
        rows in no image."""
        ds = self.base
        parts = [ds.ann_rows_of_image_row(int(r)).astype(np.int64) for r in img_rows.tolist()]
        orphans = touched[self._img_of[touched] < 0]
        return np.concatenate([*parts, orphans]) if parts else orphans

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
        key = _distinct(img[placed] * max(n_cat, 1) + cidx[placed])
        self.images = self.images + sign * np.bincount(key % max(n_cat, 1), minlength=n_cat)
        sp = placed & (sup >= 0)
        skey = _distinct(img[sp] * max(n_sup, 1) + sup[sp])
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
        v._edited_base_layer = self.layer
        v._edited_image_deleted = self.image_deleted
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
        self._boxes_and_added(v)
        self._view = v
        return v

    # ----- moved boxes and added annotations (issue 17, i17canvas) ------------
    def _apply_box_or_add(self, e: E.Edit) -> E.Edit:
        """A box edit changes the box (and a box-only annotation's area) column. The
        added annotations are taken out of the counts around any other edit (which then
        counts rows as before) and an addition, and counted in again after it: the cost
        is the added annotations' images', not the dataset's."""
        ds, lay = self.base, self.layer
        if not isinstance(e, (E.SetBox, E.AddAnnotation)):
            self._added_counts(-1)
            self._bare = True
            try:
                return self.apply(e)
            finally:
                self._bare = False
                self._added_counts(+1)
        if isinstance(e, E.AddAnnotation):
            self._added_counts(-1)
            try:
                inverse = lay.apply(e)
            finally:
                self._added_counts(+1)
        else:
            inverse = lay.apply(e)
        if isinstance(e, E.SetBox):
            row = ds.ann_row(int(e.ann_id))
            box = lay.ann_bbox.get(int(e.ann_id))
            bbox, area = np.array(self.bbox), np.array(self.area)  # frames read the old
            if box is None:
                bbox[row] = ds.anns.bbox[row]
                area[row] = ds.anns.area[row]
            else:
                bbox[row] = box
                if lay.box_sets_area(row):
                    area[row] = box[2] * box[3]
            self.bbox, self.area = bbox, area
        self.version += 1
        self._view = None
        return inverse

    def added_live(self) -> list[tuple[E.AddAnnotation, int, int]]:
        """The added annotations still there: (edit, image row, category id after merges),
        by image row and id."""
        ds, lay = self.base, self.layer
        out = []
        for a in lay.added.values():
            cid = lay.merged.get(a.category_id, a.category_id)
            if a.image_id in lay.deleted_images or cid in lay.deleted_cats:
                continue
            out.append((a, ds.image_row(int(a.image_id)), cid))
        out.sort(key=lambda t: (t[1], t[0].ann_id))
        return out

    def _added_counts(self, sign: int) -> None:
        """Add (``sign`` 1) or take out (-1) the added annotations' part of the counts:
        per image, an added annotation's category counts an image only if none of the
        image's rows has it."""
        live = self.added_live()
        if not live:
            return
        ds = self.base
        inst, sinst = self.instances.copy(), self.super_instances.copy()
        imgs, simgs, count = self.images.copy(), self.super_images.copy(), \
            self.image_count.copy()
        by_image: dict[int, list[int]] = {}
        for _a, r, c in live:
            by_image.setdefault(r, []).append(c)
        for r, cats in by_image.items():
            rows = ds.ann_rows_of_image_row(r)
            rows = rows[self.alive[rows]]
            have = self.cat_index(self.cat[rows])
            have_sup = set(self._sup_of[have[have >= 0]].tolist())
            have_cat = set(have.tolist())
            cidx = self.cat_index(np.asarray(cats, np.int64))
            sup = self._sup_of[cidx]
            np.add.at(inst, cidx[cidx >= 0], sign)
            np.add.at(sinst, sup[sup >= 0], sign)
            for c in set(cidx.tolist()) - have_cat - {-1}:
                imgs[c] += sign
            for sp in set(sup.tolist()) - have_sup - {-1}:
                simgs[sp] += sign
            count[r] += sign * len(cats)
        self.instances, self.super_instances = inst, sinst
        self.images, self.super_images, self.image_count = imgs, simgs, count

    def recount(self) -> tuple[np.ndarray, ...]:
        """Every count from scratch (the edited columns and the added annotations), for
        checking the incremental ones: instances, images, super instances, super
        images, annotations per image."""
        saved = (self.instances, self.images, self.super_instances, self.super_images,
                 self.image_count)
        try:
            self._recount()
            return (self.instances, self.images, self.super_instances, self.super_images,
                    self.image_count)
        finally:
            (self.instances, self.images, self.super_instances, self.super_images,
             self.image_count) = saved

    def _recount(self) -> None:
        """Every count from the edited columns and the added annotations."""
        ds = self.base
        live = self.added_live()
        rows = np.flatnonzero(self.alive)
        cats = np.concatenate([self.cat[rows], np.asarray([c for _a, _r, c in live], np.int64)])
        imgs = np.concatenate([ds.ann_image_row[rows].astype(np.int64),
                               np.asarray([r for _a, r, _c in live], np.int64)])
        n_cat, n_sup = len(self._cat_ids), len(self._supers)
        cidx = self.cat_index(cats)
        ok = cidx >= 0
        sup = self._sup_of[cidx]
        self.instances = np.bincount(cidx[ok], minlength=n_cat).astype(np.int64)
        self.super_instances = np.bincount(sup[sup >= 0], minlength=n_sup).astype(np.int64)
        placed = ok & (imgs >= 0)
        key = _distinct(imgs[placed] * max(n_cat, 1) + cidx[placed])
        self.images = np.bincount(key % max(n_cat, 1), minlength=n_cat).astype(np.int64)
        sp = placed & (sup >= 0)
        skey = _distinct(imgs[sp] * max(n_sup, 1) + sup[sp])
        self.super_images = np.bincount(skey % max(n_sup, 1), minlength=n_sup).astype(np.int64)
        self.image_count = np.bincount(imgs[imgs >= 0], minlength=len(ds.image_ids)).astype(
            np.int64)

    def _boxes_and_added(self, v: Dataset) -> None:
        """The edited boxes into ``v``; the added annotations as rows after the file's
        (row ``len(base.anns) + k``), placed in their images' runs of ``ann_order``."""
        from cocoview.model.columns import SEG_NONE, SEG_POLYGON, SEG_RLE, AnnColumns

        ds = self.base
        if self.bbox is not ds.anns.bbox or self.area is not ds.anns.area:
            v.anns = replace(v.anns, bbox=self.bbox, area=self.area)
        # rows in the order of the ids (fresh ids grow: an addition is a row appended)
        live = sorted(self.added_live(), key=lambda t: t[0].ann_id)
        v.__dict__["_added_rows"] = {}
        v.__dict__["_added_by_image"] = {}
        if not live:
            return
        n, k = len(ds.anns), len(live)
        new = AnnColumns.empty(k)
        new.id[:] = [a.ann_id for a, _r, _c in live]
        new.image_id[:] = [a.image_id for a, _r, _c in live]
        new.category_id[:] = [c for _a, _r, c in live]
        new.bbox[:] = [a.bbox for a, _r, _c in live]
        new.area[:] = [a.area for a, _r, _c in live]
        new.num_keypoints[:] = -1
        new.score[:] = np.nan
        new.seg_kind[:] = [SEG_NONE if a.segmentation is None else
                           SEG_POLYGON if isinstance(a.segmentation, list) else SEG_RLE
                           for a, _r, _c in live]
        new.seg_off[:] = -1
        new.kp_off[:] = -1
        new.ordinal[:] = -1
        adds = [a for a, _r, _c in live]
        with self._grown.lock:  # a worker may be making them ready (prepare_addition)
            static = self._grown.static(ds, adds, new)
            joined = {name: self._grown.joined(name, getattr(v.anns, name),
                                               getattr(new, name))
                      for name in ("category_id", "iscrowd", "bbox", "area")}
        v.anns = AnnColumns(**{name: static[name] for name in _STATIC}, **joined)
        v.ann_src = static["ann_src"]
        v._ann_sort = None
        v.__dict__["_added_rows"] = rows = {n + j: a for j, (a, _r, _c) in enumerate(live)}
        by_image: dict[int, list[int]] = {}
        for row, (_a, r, _c) in zip(rows, live, strict=True):
            by_image.setdefault(r, []).append(row)
        v.__dict__["_added_by_image"] = by_image

    def prepare_addition(self) -> None:
        """Make the columns an addition joins its row to (a worker's, before a first
        addition: ~30 ms of copies at train2017 size that the GUI thread would make)."""
        from cocoview.model.columns import AnnColumns

        if self.added_live():
            return  # made by the first addition already
        with self._grown.lock:
            self._grown.static(self.base, [], AnnColumns.empty(0), reserve=1)
            for name, col in (("category_id", self.cat), ("iscrowd", self.crowd),
                              ("bbox", self.bbox), ("area", self.area)):
                self._grown.joined(name, col, col[:0])

    def filter(self, flt: ImageFilter, extras: FilterExtras | None = None) -> np.ndarray:
        """The ids of the images that pass ``flt`` in the edited dataset (deleted images
        are in none)."""
        return edited_filter(self.dataset(), flt, extras, self.image_deleted)


#: the annotation columns an edit never changes (joined once for the added annotations)
_STATIC = ("id", "image_id", "num_keypoints", "score", "seg_kind", "seg_off", "seg_len",
           "kp_off", "kp_len", "ordinal")


class _GrownColumns:
    """The file's columns followed by the added annotations' rows, in arrays with room
    to grow: an addition writes its row in place instead of copying every column
    (~90 ms at train2017 size). A view holds slices ``[:n + k]``; a row once written is
    never written again (a view may hold it): what would change one makes new arrays.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._adds: list[E.AddAnnotation] = []  # the added rows written, in row order
        self._static: dict[str, np.ndarray] = {}
        self._gen = 0  # counts the static arrays made: joined ones follow their rows
        #: column name → (the edited column it extends, the array, rows written, gen)
        self._joined: dict[str, tuple[np.ndarray, np.ndarray, int, int]] = {}

    def static(self, ds: Dataset, adds: list[E.AddAnnotation],
               new: Any, reserve: int = 0) -> dict[str, np.ndarray]:
        """The unchanging columns for the added rows ``adds`` (their values in ``new``),
        with room for ``reserve`` rows more at least."""
        n, k, done = len(ds.anns), len(adds), self._adds
        same = all(x is y for x, y in zip(done, adds, strict=False))
        room = len(self._static["id"]) - n if self._static else 0
        if not (same and k + reserve <= room):
            cols = {name: getattr(ds.anns, name) for name in _STATIC}
            cols["ann_src"] = ds.ann_src
            self._static = {name: _with_room(col, max(2 * k, 256))
                            for name, col in cols.items()}
            self._gen, done = self._gen + 1, []  # self._adds follows below
        if k > len(done):  # rows never written before: no view holds them
            for name in _STATIC:
                self._static[name][n + len(done):n + k] = getattr(new, name)[len(done):]
            self._static["ann_src"][n + len(done):n + k] = 0
            done.extend(adds[len(done):])
        self._adds = done
        return {name: col[:n + k] for name, col in self._static.items()}

    def joined(self, name: str, col: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``col`` (an edited column of the file's rows) followed by ``values``."""
        n, k = len(col), len(values)
        hit = self._joined.get(name)
        if hit is not None:
            base, arr, written, gen = hit
            m = min(k, written)
            if base is col and gen == self._gen and n + k <= len(arr) and \
                    np.array_equal(arr[n:n + m], values[:m], equal_nan=True):
                if k > written:
                    arr[n + written:n + k] = values[written:]
                    self._joined[name] = (base, arr, k, gen)
                return arr[:n + k]
        arr = _with_room(col, max(2 * k, 256))
        arr[n:n + k] = values
        self._joined[name] = (col, arr, k, self._gen)
        return arr[:n + k]


def _with_room(col: np.ndarray, room: int) -> np.ndarray:
    """A copy of ``col`` with ``room`` more rows (unset)."""
    out = np.empty((len(col) + room, *col.shape[1:]), col.dtype)
    out[:len(col)] = col
    return out


def _group_side(n_group_rows: int, n_image_rows: int) -> bool:
    """Whether a category edit reads a group's unmoved rows (else its images' rows)."""
    return n_group_rows <= n_image_rows


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys`` (sorted; np.unique's hash path is ~20× slower on
    860k keys with NumPy 2.3)."""
    k = np.sort(keys)
    return k[np.concatenate([[True], k[1:] != k[:-1]])] if len(k) else k


def edited_filter(view: Dataset, flt: ImageFilter, extras: FilterExtras | None,
                  image_deleted: np.ndarray) -> np.ndarray:
    """:func:`filter_images` over an edited dataset, without its deleted images."""
    ids = filter_images(view, flt, extras)
    if image_deleted.any():
        ids = ids[~np.isin(ids, view.image_ids[image_deleted])]
    return ids
