"""Edits: a layer of small, immutable operations over the read-only dataset (issue 17).

Each operation validates against the dataset and the layer (:class:`EditError`
names what is wrong), and :meth:`EditLayer.apply` returns its inverse, so undo is
applying the inverse. The layer holds only what changed (dicts keyed by id), so an
edit costs O(1); :func:`save_as` writes a COCO file where every untouched object
is the input's bytes and an edited one changes only in the edited fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import msgspec
import numpy as np

from cocoview.model.safe_write import WriteError, atomic_write
from cocoview.model.tags import check_tag, file_tags

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset


class EditError(ValueError):
    """An edit that does not fit the dataset (unknown id, merge into itself, ...)."""


@dataclass(frozen=True)
class DeleteAnnotation:
    ann_id: int
    restore: bool = False  # the inverse: bring it back


@dataclass(frozen=True)
class Relabel:
    ann_id: int
    category_id: int | None  # None: back to the file's category


@dataclass(frozen=True)
class SetCrowd:
    ann_id: int
    iscrowd: int | None  # None: back to the file's value


@dataclass(frozen=True)
class RenameCategory:
    category_id: int
    name: str | None  # None: back to the file's name


@dataclass(frozen=True)
class MergeCategory:
    source: int
    into: int | None  # None: undo the merge
    #: an undo's: the categories that were merged into ``source`` before (a merge of
    #: ``source`` moved them along to ``into``; undoing it moves them back)
    chained: tuple[int, ...] = ()


@dataclass(frozen=True)
class DeleteCategory:
    category_id: int
    restore: bool = False


@dataclass(frozen=True)
class DeleteImage:
    image_id: int
    restore: bool = False


@dataclass(frozen=True)
class SetTags:
    image_id: int
    tags: tuple[str, ...]


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class SetBox:
    """Move or resize an annotation's box (issue 17). Its segmentation is left as it is;
    its ``area`` follows the box only when it has no segmentation (``area`` is the
    mask's)."""

    ann_id: int
    bbox: Box | None  # x, y, w, h; None: back to the file's box


@dataclass(frozen=True)
class AddAnnotation:
    """A new annotation (accepted from a detection, issue 17), with an id no record of
    the file has; ``remove`` is the inverse (take it away again)."""

    ann_id: int
    image_id: int
    category_id: int
    bbox: Box
    segmentation: Any = None  # JSON (polygons or RLE); None: written without one
    area: float = 0.0
    remove: bool = False


Edit = (DeleteAnnotation | Relabel | SetCrowd | RenameCategory | MergeCategory
        | DeleteCategory | DeleteImage | SetTags
        | SetBox | AddAnnotation)


@dataclass
class EditLayer:
    """What changed over ``ds``; views ask it (``category_of``, ``is_deleted``...)."""

    ds: Dataset
    deleted_anns: set[int] = field(default_factory=set)
    ann_category: dict[int, int] = field(default_factory=dict)
    ann_crowd: dict[int, int] = field(default_factory=dict)
    cat_names: dict[int, str] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)
    deleted_cats: set[int] = field(default_factory=set)
    deleted_images: set[int] = field(default_factory=set)
    tags: dict[int, tuple[str, ...]] = field(default_factory=dict)
    done: list[Edit] = field(default_factory=list)
    _repeated: frozenset[int] | None = field(default=None, repr=False, compare=False)
    ann_bbox: dict[int, Box] = field(default_factory=dict)  # SetBox
    added: dict[int, AddAnnotation] = field(default_factory=dict)  # AddAnnotation

    # ----- lookups --------------------------------------------------------
    def _ann(self, ann_id: int) -> int:
        try:
            row = self.ds.ann_row(int(ann_id))
        except KeyError:
            if int(ann_id) in self.added:
                raise EditError(f"annotation {ann_id} was added by an edit: undo that to "
                                "take it back") from None
            raise EditError(f"no annotation with id {ann_id}") from None
        if int(ann_id) not in self._repeated_ids():
            return row
        n = int(np.count_nonzero(self.ds.anns.id == int(ann_id)))
        if n > 1:  # an edit by id would be applied to one record of several, unseen
            raise EditError(f"annotation id {ann_id} is not unique ({n} records have it): "
                            "an edit cannot say which one it means")
        return row

    def _repeated_ids(self) -> frozenset[int]:
        """The annotation ids several records share (found once: no scan per edit)."""
        if self._repeated is None:
            ids = np.sort(self.ds.anns.id)
            self._repeated = frozenset(np.unique(ids[1:][ids[1:] == ids[:-1]]).tolist())
        return self._repeated

    def _cat(self, cat_id: int) -> None:
        try:
            self.ds.category(int(cat_id))
        except KeyError:
            raise EditError(f"no category with id {cat_id}") from None
        if cat_id in self.deleted_cats or cat_id in self.merged:
            raise EditError(f"category {cat_id} was deleted or merged")

    def category_id(self, name_or_id: str | int) -> int:
        """A category id from an id or a (current) name; EditError when unknown."""
        if isinstance(name_or_id, int) or str(name_or_id).lstrip("-").isdigit():
            cid = int(name_or_id)
            self._cat(cid)
            return cid
        for c in self.ds.categories:
            if self.cat_names.get(c.id, c.name) == name_or_id and c.id not in self.merged \
                    and c.id not in self.deleted_cats:
                return c.id
        raise EditError(f"no category named {name_or_id!r}")

    def category_of(self, ann_id: int) -> int:
        row = self._ann(ann_id)
        cid = self.ann_category.get(ann_id, int(self.ds.anns.category_id[row]))
        return self.merged.get(cid, cid)

    def is_deleted(self, ann_id: int) -> bool:
        row = self._ann(ann_id)
        img = int(self.ds.image_ids[self.ds.ann_image_row[row]]) \
            if self.ds.ann_image_row[row] >= 0 else None
        return ann_id in self.deleted_anns or img in self.deleted_images \
            or self.category_of(ann_id) in self.deleted_cats

    def tags_of(self, image_id: int) -> tuple[str, ...]:
        """The image's tags after the edits (the file's ``"tags"`` unless edited)."""
        if image_id in self.tags:
            return self.tags[image_id]
        return file_tags(self.ds).get(image_id, ())

    @property
    def dirty(self) -> bool:
        return bool(self.done)

    def ann_keep_mask(self) -> np.ndarray:
        """Per annotation row: kept after the edits (vectorised, for views and Save As)."""
        ds = self.ds
        keep = np.ones(len(ds.anns.id), bool)
        if self.deleted_anns:
            keep &= ~np.isin(ds.anns.id, np.fromiter(self.deleted_anns, np.int64))
        if self.deleted_images:
            rows = ds.ann_image_row
            gone = np.isin(ds.image_ids, np.fromiter(self.deleted_images, np.int64))
            keep &= ~((rows >= 0) & gone[np.maximum(rows, 0)])
        if self.deleted_cats:
            cats = self.category_column()
            keep &= ~np.isin(cats, np.fromiter(self.deleted_cats, np.int64))
        return keep

    def category_column(self) -> np.ndarray:
        """Per annotation row: the category id after the edits."""
        cats = self.ds.anns.category_id.astype(np.int64).copy()
        if self.ann_category:
            ids = np.fromiter(self.ann_category, np.int64)
            cats[[self.ds.ann_row(int(i)) for i in ids]] = list(self.ann_category.values())
        for src, into in self.merged.items():
            cats[cats == src] = into
        return cats

    # ----- apply / undo ---------------------------------------------------
    def apply(self, edit: Edit) -> Edit:
        """Validate and apply ``edit``; return its inverse (apply that to undo)."""
        inverse = self._apply(edit)
        self.done.append(edit)
        return inverse

    def _apply(self, e: Edit) -> Edit:
        if isinstance(e, DeleteAnnotation):
            self._ann(e.ann_id)
            if e.restore:
                self.deleted_anns.discard(e.ann_id)
                return DeleteAnnotation(e.ann_id)
            if e.ann_id in self.deleted_anns:
                raise EditError(f"annotation {e.ann_id} is already deleted")
            self.deleted_anns.add(e.ann_id)
            return DeleteAnnotation(e.ann_id, restore=True)
        if isinstance(e, Relabel):
            row = self._ann(e.ann_id)
            before = self.ann_category.get(e.ann_id)
            if e.category_id is None:
                self.ann_category.pop(e.ann_id, None)
            else:
                self._cat(e.category_id)
                if e.category_id == int(self.ds.anns.category_id[row]):
                    self.ann_category.pop(e.ann_id, None)
                else:
                    self.ann_category[e.ann_id] = e.category_id
            return Relabel(e.ann_id, before)
        if isinstance(e, SetCrowd):
            self._ann(e.ann_id)
            before_c = self.ann_crowd.get(e.ann_id)
            if e.iscrowd is None:
                self.ann_crowd.pop(e.ann_id, None)
            else:
                if e.iscrowd not in (0, 1):
                    raise EditError(f"iscrowd must be 0 or 1, not {e.iscrowd}")
                self.ann_crowd[e.ann_id] = e.iscrowd
            return SetCrowd(e.ann_id, before_c)
        if isinstance(e, RenameCategory):
            before_n = self.cat_names.get(e.category_id)
            if e.name is None:
                self.cat_names.pop(e.category_id, None)
            else:
                self._cat(e.category_id)
                if not e.name.strip():
                    raise EditError("a category name cannot be empty")
                self.cat_names[e.category_id] = e.name
            return RenameCategory(e.category_id, before_n)
        if isinstance(e, MergeCategory):
            if e.into is None:
                into = self.merged.pop(e.source, None)
                for k in e.chained:
                    self.merged[k] = e.source
                return MergeCategory(e.source, into, ())
            self._cat(e.source)
            self._cat(e.into)
            if e.source == e.into:
                raise EditError(f"cannot merge category {e.source} into itself")
            chained = tuple(k for k, v in self.merged.items() if v == e.source)
            self.merged[e.source] = e.into
            for k in chained:  # chains: A→B then B→C gives A→C
                self.merged[k] = e.into
            return MergeCategory(e.source, None, chained)
        if isinstance(e, DeleteCategory):
            if e.restore:
                self.deleted_cats.discard(e.category_id)
                return DeleteCategory(e.category_id)
            self._cat(e.category_id)
            self.deleted_cats.add(e.category_id)
            return DeleteCategory(e.category_id, restore=True)
        if isinstance(e, DeleteImage):
            try:
                self.ds.image_row(int(e.image_id))
            except KeyError:
                raise EditError(f"no image with id {e.image_id}") from None
            if e.restore:
                self.deleted_images.discard(e.image_id)
                return DeleteImage(e.image_id)
            if e.image_id in self.deleted_images:
                raise EditError(f"image {e.image_id} is already deleted")
            self.deleted_images.add(e.image_id)
            return DeleteImage(e.image_id, restore=True)
        if isinstance(e, SetTags):
            try:
                self.ds.image_row(int(e.image_id))
            except KeyError:
                raise EditError(f"no image with id {e.image_id}") from None
            for t in e.tags:
                why = check_tag(t)
                if why is not None:
                    raise EditError(f"image {e.image_id}: {why}")
            before_t = self.tags_of(e.image_id)
            new_t = tuple(dict.fromkeys(e.tags))
            if new_t == file_tags(self.ds).get(e.image_id, ()):
                self.tags.pop(e.image_id, None)  # as in the file: not an edit of it
            else:
                self.tags[e.image_id] = new_t  # () too: the file's tags removed
            return SetTags(e.image_id, before_t)
        if isinstance(e, SetBox):
            return self._set_box(e)
        if isinstance(e, AddAnnotation):
            return self._add(e)
        raise EditError(f"not an edit: {e!r}")

    # ----- boxes and new annotations (issue 17) ---------------------------
    def box_of(self, ann_id: int) -> np.ndarray:
        """The annotation's box after the edits (x, y, w, h; NaN when it has none)."""
        if ann_id in self.added:
            return np.asarray(self.added[ann_id].bbox, np.float64)
        if ann_id in self.ann_bbox:
            return np.asarray(self.ann_bbox[ann_id], np.float64)
        return self.ds.anns.bbox[self._ann(ann_id)].astype(np.float64)

    def box_sets_area(self, row: int) -> bool:
        """Whether a new box of annotation ``row`` also sets its ``area``: only when it
        has no segmentation (otherwise ``area`` is the mask's)."""
        from cocoview.model.columns import SEG_EMPTY, SEG_NONE

        return int(self.ds.anns.seg_kind[row]) in (SEG_NONE, SEG_EMPTY)

    def _set_box(self, e: SetBox) -> Edit:
        from cocoview.model.columns import SEG_PANOPTIC

        row = self._ann(e.ann_id)
        if int(self.ds.anns.seg_kind[row]) == SEG_PANOPTIC:
            raise EditError(f"segment {e.ann_id} is a panoptic segment: its box is not "
                            "edited (the PNG is its mask)")
        before = self.ann_bbox.get(e.ann_id)
        if e.bbox is None:
            self.ann_bbox.pop(e.ann_id, None)
            return SetBox(e.ann_id, before)
        box = check_box(e.bbox, f"annotation {e.ann_id}")
        if np.array_equal(np.asarray(box, np.float32), self.ds.anns.bbox[row]):
            self.ann_bbox.pop(e.ann_id, None)
        else:
            self.ann_bbox[e.ann_id] = box
        return SetBox(e.ann_id, before)

    def fresh_ann_id(self) -> int:
        """An id above every annotation id of the file and of those added."""
        ids = self.ds.anns.id
        top = int(ids.max()) if len(ids) else 0
        return max([top, *self.added]) + 1

    def _add(self, e: AddAnnotation) -> Edit:
        if e.remove:
            if e.ann_id not in self.added:
                raise EditError(f"annotation {e.ann_id} was not added")
            del self.added[e.ann_id]
            return replace(e, remove=False)
        if e.ann_id in self.added or np.any(self.ds.anns.id == int(e.ann_id)):
            raise EditError(f"annotation id {e.ann_id} is taken: a new annotation needs "
                            "a fresh id")
        try:
            self.ds.image_row(int(e.image_id))
        except KeyError:
            raise EditError(f"no image with id {e.image_id}") from None
        if e.image_id in self.deleted_images:
            raise EditError(f"image {e.image_id} is deleted")
        self._cat(e.category_id)
        box = check_box(e.bbox, f"the new annotation {e.ann_id}")
        area = float(e.area) if e.segmentation is not None and e.area > 0 \
            else box[2] * box[3]
        self.added[e.ann_id] = replace(e, bbox=box, area=area)
        return replace(e, remove=True)


def check_box(bbox: object, what: str) -> Box:
    """``bbox`` as four finite floats with a positive width and height (EditError)."""
    try:
        vals = [float(v) for v in bbox]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise EditError(f"{what}: a box is four numbers x, y, w, h, not {bbox!r}") from None
    if len(vals) != 4 or not all(np.isfinite(vals)):
        raise EditError(f"{what}: a box is four finite numbers x, y, w, h, not {bbox!r}")
    if vals[2] <= 0 or vals[3] <= 0:
        raise EditError(f"{what}: a box needs a positive width and height "
                        f"(got {vals[2]:g} × {vals[3]:g})")
    return vals[0], vals[1], vals[2], vals[3]


def mask_bounds(ds: Dataset, row: int) -> Box | None:
    """The box of annotation ``row``'s segmentation (None: it has no usable one): a
    polygon's extent, as COCO's own boxes are; an RLE's pixel extent (pycocotools'
    ``toBbox``)."""
    from cocoview.model.masks import clean_segmentation, mask_utils

    g = clean_segmentation(ds.segmentation(row))
    if g.polygons:
        pts = np.concatenate([p.reshape(-1, 2) for p in g.polygons]).astype(np.float64)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        box = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
    elif g.rle is not None:
        b = mask_utils.toBbox(g.rle)
        box = tuple(float(v) for v in np.asarray(b).ravel()[:4])  # type: ignore[assignment]
    else:
        return None
    return box if box[2] > 0 and box[3] > 0 else None


# ----- Save As ------------------------------------------------------------
_RAW_OBJ = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


def _patch(raw: bytes, fields: dict[str, object], drop: tuple[str, ...] = ()) -> bytes:
    """The object ``raw`` with ``fields`` replaced (or appended) and the keys ``drop``
    removed, other keys' bytes kept."""
    obj = _RAW_OBJ.decode(raw)
    out = {k: (msgspec.Raw(msgspec.json.encode(fields[k])) if k in fields else v)
           for k, v in obj.items() if k not in drop}
    for k, val in fields.items():
        if k not in out:
            out[k] = msgspec.Raw(msgspec.json.encode(val))
    parts = [msgspec.json.encode(k) + b":" + bytes(v) for k, v in out.items()]
    return b"{" + b",".join(parts) + b"}"


#: Save As reports its progress every this many records
_REPORT_EVERY = 1 << 14


def write_edited(layer: EditLayer, fh: BinaryIO,
                 report: Callable[[float], None] | None = None) -> None:
    """Write the edited dataset to ``fh``; ``report(fraction)`` is called as records are
    written (it may raise to stop: the caller's temp file is then removed)."""
    ds = layer.ds
    total = max(len(ds.image_ids) + ds.files[0].n_records, 1) if len(ds.files) == 1 else 1
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if report is not None:
            report(min(done[0] / total, 1.0))
    if len(ds.files) != 1:
        raise WriteError("Save As with edits needs a dataset of one file")
    f = ds.files[0]
    top = f.top()
    keys = list(top) if top else ["images", "annotations", "categories"]
    fh.write(b"{")
    for k, key in enumerate(keys):
        fh.write((b", " if k else b"") + msgspec.json.encode(key) + b": ")
        if key == "images":
            _images(layer, fh, step)
        elif key == "annotations":
            _annotations(layer, fh, step)
        elif key == "categories":
            _categories(layer, bytes(top[key]), fh)
        else:
            fh.write(bytes(top[key]))
    fh.write(b"}")


def _images(layer: EditLayer, fh: BinaryIO, step: Callable[[int], None]) -> None:
    ds, f = layer.ds, layer.ds.files[0]
    fh.write(b"[")
    first = True
    gone = layer.deleted_images
    for row in range(len(ds.image_ids)):
        if row % _REPORT_EVERY == 0:
            step(_REPORT_EVERY if row else 0)
        if int(ds.image_src[row]) < 0 or (gone and int(ds.image_ids[row]) in gone):
            continue
        r = int(ds.image_src_row[row])
        off, n = int(f.images.rec_off[r]), int(f.images.rec_len[r])
        raw = f.data[off : off + n]
        tags = layer.tags.get(int(ds.image_ids[row])) if layer.tags else None
        if tags is not None:  # an image edited only in its "tags" (none: the key dropped)
            raw = _patch(bytes(raw), {"tags": list(tags)} if tags else {},
                         () if tags else ("tags",))
        fh.write((b"" if first else b", ") + raw)
        first = False
    fh.write(b"]")


def _annotations(layer: EditLayer, fh: BinaryIO, step: Callable[[int], None]) -> None:
    ds, f = layer.ds, layer.ds.files[0]
    keep = layer.ann_keep_mask()
    cats = layer.category_column()
    changed = np.zeros(len(keep), bool)
    changed[cats != ds.anns.category_id] = True
    crowd_rows = {ds.ann_row(i): v for i, v in layer.ann_crowd.items()}
    changed[list(crowd_rows)] = True
    box_rows = {ds.ann_row(i): v for i, v in layer.ann_bbox.items()}
    changed[list(box_rows)] = True
    # one record per ordinal; rows not in the dataset (no image) are kept as they were
    n = f.n_records
    rec_keep = np.ones(n, bool)
    rec_keep[ds.anns.ordinal[~keep]] = False
    patch: dict[int, dict[str, object]] = {}
    for row in np.flatnonzero(changed & keep).tolist():
        fields: dict[str, object] = {}
        if cats[row] != ds.anns.category_id[row]:
            fields["category_id"] = int(cats[row])
        if row in crowd_rows:
            fields["iscrowd"] = crowd_rows[row]
        if row in box_rows:
            fields.update(box_fields(layer, row, box_rows[row]))
        patch[int(ds.anns.ordinal[row])] = fields
    fh.write(b"[")
    first = True
    step(len(ds.image_ids) % _REPORT_EVERY)  # the images' last part
    for k, o in enumerate(np.flatnonzero(rec_keep).tolist()):
        if k % _REPORT_EVERY == 0 and k:
            step(_REPORT_EVERY)
        raw = f.record_bytes(o)
        if o in patch:
            raw = _patch(bytes(raw), patch[o])
        fh.write((b"" if first else b", ") + raw)
        first = False
    for raw in _added_records(layer):
        fh.write((b"" if first else b", ") + raw)
        first = False
    fh.write(b"]")


def box_fields(layer: EditLayer, row: int, box: Box) -> dict[str, object]:
    """What a new box changes in the record: ``bbox``, and ``area`` when the annotation
    has no segmentation (a mask's area is the mask's, whatever its box)."""
    out: dict[str, object] = {"bbox": [_num(v) for v in box]}
    if layer.box_sets_area(row):
        out["area"] = _num(box[2] * box[3])
    return out


def _num(v: float) -> float | int:
    """A coordinate as written: rounded to 1/100 pixel (COCO's own precision), an
    integer value without a fraction."""
    r = round(float(v), 2)
    return int(r) if r.is_integer() and abs(r) < 2**53 else r


def added_record(layer: EditLayer, a: AddAnnotation) -> dict[str, object]:
    """The COCO object Save As writes for an added annotation (category after merges)."""
    cid = layer.merged.get(a.category_id, a.category_id)
    rec: dict[str, object] = {"id": a.ann_id, "image_id": a.image_id, "category_id": cid}
    if a.segmentation is not None:
        rec["segmentation"] = a.segmentation
    rec["area"] = _num(a.area)
    rec["bbox"] = [_num(v) for v in a.bbox]
    rec["iscrowd"] = 0
    return rec


def _added_records(layer: EditLayer) -> list[bytes]:
    """The added annotations still there (their image and category not deleted), by id."""
    out = []
    for ann_id in sorted(layer.added):
        a = layer.added[ann_id]
        cid = layer.merged.get(a.category_id, a.category_id)
        if a.image_id in layer.deleted_images or cid in layer.deleted_cats:
            continue
        out.append(msgspec.json.encode(added_record(layer, a)))
    return out


def _categories(layer: EditLayer, raw: bytes, fh: BinaryIO) -> None:
    gone = layer.deleted_cats | set(layer.merged)
    if not gone and not layer.cat_names:
        fh.write(raw)
        return
    out = []
    for rec in _RAW_LIST.decode(raw):
        obj = _RAW_OBJ.decode(bytes(rec))
        cid = msgspec.json.decode(bytes(obj["id"])) if "id" in obj else None
        if cid in gone:
            continue
        if cid in layer.cat_names:
            rec = msgspec.Raw(_patch(bytes(rec), {"name": layer.cat_names[cid]}))
        out.append(bytes(rec))
    fh.write(b"[" + b", ".join(out) + b"]")


def save_as(layer: EditLayer, out: str | Path, overwrite_input: bool = False,
            report: Callable[[float], None] | None = None) -> Path:
    """Write the edited dataset atomically; over the input only with ``overwrite_input``
    (the input is then kept as ``NAME.bak``). ``report(fraction)`` follows the write; if
    it raises (a Cancel), nothing is written: no output, no backup, no temp file."""
    path = Path(out)
    src = layer.ds.files[0].path
    backup = fresh = None
    if path.resolve() == src.resolve():
        if not overwrite_input:
            raise WriteError(f"refusing to write over the input file {path}")
        backup = src.with_name(src.name + ".bak")
        fresh = src.with_name(src.name + ".bak.new")  # NAME.bak once the write is done
        fresh.write_bytes(src.read_bytes())
    try:
        atomic_write(path, lambda fh: write_edited(layer, fh, report))
    except BaseException:
        if fresh is not None:
            fresh.unlink(missing_ok=True)
        raise
    if fresh is not None and backup is not None:
        fresh.replace(backup)
    return path
