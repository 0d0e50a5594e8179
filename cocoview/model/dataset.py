"""A dataset: one or more COCO files over the same images, indexed for browsing.

The instances, person_keypoints and captions files of one split (and a results
file) open together and are matched by image id; the same annotation id in two
files (COCO ships each person in both instances and person_keypoints) is one
annotation, taken from the file that carries keypoints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from cocoview.model import cache as index_cache
from cocoview.model.categories import Category, build_categories
from cocoview.model.columns import SEG_KIND_NAMES, SEG_PANOPTIC, SEG_POLYGON, AnnColumns
from cocoview.model.errors import CocoFormatError, Problem, Severity
from cocoview.model.file_index import FileIndex
from cocoview.model.filter_index import FilterIndex
from cocoview.model.incidence import Incidence
from cocoview.model.loader import Cancelled, Progress, load_file
from cocoview.model.masks import Geometry, clean_segmentation, geometry_mask, polygon_geometry
from cocoview.model.paths import ImagePath, find_root, resolve_image_path
from cocoview.model.source import UndecodableValue, decode_value

PathLike = str | Path


@dataclass(frozen=True)
class ImageInfo:
    id: int
    file_name: str
    width: int
    height: int
    path: Path | None
    index: int  # row in the dataset's image table


class Dataset:
    """The model behind the GUI and the CLI. Immutable after opening."""

    def __init__(self, files: list[FileIndex], images_dir: PathLike | None = None,
                 results: FileIndex | None = None) -> None:
        if not files:
            raise ValueError("a dataset needs at least one file")
        self.files = files
        self.problems_at_load: list[Problem] = [p for f in files for p in f.problems]
        # a dataset of one file opened from the index cache reuses what it derived before
        self._derived = index_cache.load_derived(files[0]) if len(files) == 1 else {}
        fresh = not self._derived
        self._build_images()
        self._build_annotations()
        used = self._summary("used_category_ids", -1)
        if used is None:
            used = _distinct(self.anns.category_id)
        self._used_cat_ids = used
        if fresh and len(files) == 1:
            index_cache.store_derived(files[0], {
                "image_keep": self._image_keep, "ann_image_row": self.ann_image_row,
                "ann_order": self.ann_order, "image_sort": self._img_sort,
                "image_ann_count": self.image_ann_count, "used_category_ids": used})
        cat_records = [c for f in files for c in f.categories]
        self.categories, notes = build_categories(cat_records, used)
        self._cat_by_id = {c.id: c for c in self.categories}
        self._load_summaries()
        for note in notes:
            self.problems_at_load.append(Problem(Severity.WARNING, "skeleton", note))
        self.captions_by_image: dict[int, list[str]] = {}
        for f in files:
            for iid, caps in f.captions.items():
                self.captions_by_image.setdefault(iid, []).extend(caps)
        self.images_dir = Path(images_dir) if images_dir is not None else None
        self._root, self._root_hits = (self.images_dir, -1) if self.images_dir is not None \
            else find_root(files[0].path, self.image_file_names)
        self._real_root: Path | None = None  # image_root.resolve(), on first use
        self.results: Results | None = None
        if results is not None:
            self.results = Results(self, results)
        self._problems: Any = None  # the cached validate.Report (image files not checked)

    # ----- construction -------------------------------------------------
    def _build_images(self) -> None:
        ids, w, h, src, row = [], [], [], [], []
        names: list[str] = []
        for k, f in enumerate(self.files):
            ids.append(f.images.id)
            w.append(f.images.width)
            h.append(f.images.height)
            src.append(np.full(len(f.images), k, np.int16))
            row.append(np.arange(len(f.images), dtype=np.int64))
            names.extend(f.images.file_name)
        all_ids = np.concatenate(ids) if ids else np.empty(0, np.int64)
        keep = self._derived.get("image_keep")
        if keep is None or len(keep) > len(all_ids):
            keep = _first_occurrences(all_ids)  # first file listing an image wins
        self._image_keep = np.asarray(keep)
        # keep is sorted and distinct: as long as the table, it is every row in order
        every = len(keep) == len(all_ids) and (not len(keep) or int(keep[-1]) == len(keep) - 1)
        if not len(all_ids) and any(len(f.anns) for f in self.files):
            # results-only or images-less file: images implied by annotations
            implied = np.unique(np.concatenate([f.anns.image_id for f in self.files]))
            self.image_ids = implied.astype(np.int64)
            self.image_width = np.full(len(implied), -1, np.int32)
            self.image_height = np.full(len(implied), -1, np.int32)
            self.image_file_names = ["" for _ in implied]
            self.image_src = np.full(len(implied), -1, np.int16)
            self.image_src_row = np.full(len(implied), -1, np.int64)
            self.images_implied = True
        elif every:  # no repeated image: no copy of the names (2 M of them: ~0.2 s)
            self.image_ids = all_ids
            self.image_width = np.concatenate(w)
            self.image_height = np.concatenate(h)
            self.image_file_names = names
            self.image_src = np.concatenate(src)
            self.image_src_row = np.concatenate(row)
            self.images_implied = False
        else:
            self.image_ids = all_ids[keep]
            self.image_width = np.concatenate(w)[keep]
            self.image_height = np.concatenate(h)[keep]
            self.image_file_names = [names[i] for i in keep.tolist()]
            self.image_src = np.concatenate(src)[keep]
            self.image_src_row = np.concatenate(row)[keep]
            self.images_implied = False
        srt = self._summary("image_sort", len(self.image_ids))
        if srt is None:
            srt = _stable_argsort(self.image_ids)
        self._img_sort = srt
        self._img_sorted_ids = self.image_ids[self._img_sort]
        # ids → rows by table when the ids are not too sparse (COCO's: < 600 k for 118 k
        # images); the first row of a repeated id wins, as in the search
        self._img_lut: np.ndarray | None = None
        if len(self.image_ids):
            lo, hi = int(self._img_sorted_ids[0]), int(self._img_sorted_ids[-1])
            if hi - lo < max(16 * len(self.image_ids), 1 << 20):
                lut = np.full(hi - lo + 1, -1, np.int32)
                lut[(self.image_ids - lo)[::-1]] = np.arange(len(self.image_ids) - 1, -1, -1,
                                                             dtype=np.int32)
                self._img_lut = lut

    def _build_annotations(self) -> None:
        parts: list[AnnColumns] = []
        srcs: list[np.ndarray] = []
        for k, f in enumerate(self.files):
            parts.append(f.anns)
            srcs.append(np.full(len(f.anns), k, np.int16))
        anns = parts[0] if len(parts) == 1 else AnnColumns.concat(parts)
        src = np.concatenate(srcs) if srcs else np.empty(0, np.int16)
        if len(self.files) > 1 and len(anns):
            anns, src = _drop_cross_file_duplicates(anns, src)
        derived = self._derived
        if "ann_image_row" in derived and len(derived["ann_image_row"]) == len(anns):
            img_row = np.asarray(derived["ann_image_row"])
            order = np.asarray(derived["ann_order"])
        else:
            img_row = self.image_rows(anns.image_id)
            # Rows stay in file order (permuting every column costs ~0.4 s on
            # train2017); ``ann_order`` lists them image by image, file order kept
            # within an image.
            key = np.where(img_row < 0, len(self.image_ids), img_row)
            order = np.argsort(key, kind="stable")
        self.anns = anns
        self.ann_src = src
        self.ann_image_row = img_row
        self.ann_order = order
        n_img = len(self.image_ids)
        counts = self._summary("image_ann_count", n_img)
        if counts is None:
            counts = np.bincount(img_row[img_row >= 0], minlength=n_img)
        self.image_ann_count = np.asarray(counts, np.int64)
        self.image_ann_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) \
            if n_img else np.empty(0, np.int64)
        self._ann_sort: np.ndarray | None = None
        self._ann_cat_index: np.ndarray | None = None
        self._cat_counts: tuple[np.ndarray, np.ndarray] | None = None
        self._incidence: Incidence | None = None
        self._filter_index: FilterIndex | None = None
        self._super_counts: dict[str, tuple[int, int]] | None = None

    # ----- the summaries kept in the index cache ------------------------
    def _summary(self, name: str, length: int) -> np.ndarray | None:
        """The cached derived array ``name`` if there is one of ``length`` (-1: any)."""
        arr = self._derived.get(name)
        if arr is None or (length >= 0 and len(arr) != length):
            return None
        return np.asarray(arr)

    def cached_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The derived arrays of the index cache whose names start with ``prefix``."""
        return {k: np.asarray(v) for k, v in self._derived.items() if k.startswith(prefix)}

    def keep_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Keep derived arrays beside the index (a one-file dataset only, never an edited
        view; best effort)."""
        if len(self.files) == 1 and type(self) is Dataset:
            index_cache.store_derived(self.files[0], arrays)

    @property
    def filter_index(self) -> FilterIndex:
        """Annotation rows by category and box size, for filters at 20 M annotations
        (:mod:`cocoview.model.filter_index`; its orders are built on request)."""
        if self._filter_index is None:
            self._filter_index = FilterIndex(self)
        return self._filter_index

    def _super_names(self) -> list[str]:
        return sorted({c.supercategory for c in self.categories})

    def _load_summaries(self) -> None:
        """What :meth:`warm` computes, from the index cache when it holds it (else it
        stays to be computed on first use)."""
        n_cat = len(self.categories)
        cidx = self._summary("ann_category_index", len(self.anns))
        if cidx is not None and cidx.dtype == np.int32:
            self._ann_cat_index = cidx
        inst = self._summary("category_instances", n_cat)
        imgs = self._summary("category_images", n_cat)
        if inst is not None and imgs is not None:
            self._cat_counts = (inst.astype(np.int64), imgs.astype(np.int64))
        names = self._super_names()
        s_inst = self._summary("super_instances", len(names))
        s_imgs = self._summary("super_images", len(names))
        if s_inst is not None and s_imgs is not None:
            self._super_counts = {n: (int(s_inst[i]), int(s_imgs[i]))
                                  for i, n in enumerate(names)}

    def _store_summaries(self) -> None:
        """Keep what :meth:`warm` computed beside the index (see :meth:`keep_arrays`)."""
        if len(self.files) != 1 or type(self) is not Dataset:  # nothing would be kept
            return
        names = self._super_names()
        inst, imgs = self.category_counts()
        sup = self.supercategory_counts()
        arrays = {"image_sort": self._img_sort, "image_ann_count": self.image_ann_count,
                  "used_category_ids": self._used_cat_ids,
                  "ann_category_index": self.ann_category_index, "category_instances": inst,
                  "category_images": imgs,
                  "super_instances": np.array([sup[n][0] for n in names], np.int64),
                  "super_images": np.array([sup[n][1] for n in names], np.int64)}
        self.keep_arrays({k: v for k, v in arrays.items() if k not in self._derived})

    # ----- lookups ------------------------------------------------------
    def image_rows(self, image_ids: np.ndarray | Sequence[int]) -> np.ndarray:
        """Rows of ``image_ids`` in the image table (-1 where unknown)."""
        ids = np.asarray(image_ids, np.int64)
        if not len(self._img_sorted_ids):
            return np.full(len(ids), -1, np.int64)
        if len(ids) > 100_000 and self._img_lut is not None:  # bulk: a table beats a search
            lo = int(self._img_sorted_ids[0])
            rel = ids - lo
            if rel.min() >= 0 and rel.max() < len(self._img_lut):
                return self._img_lut[rel].astype(np.int64)
            inside = (rel >= 0) & (rel < len(self._img_lut))
            out = np.full(len(ids), -1, np.int64)
            out[inside] = self._img_lut[rel[inside]]
            return out
        pos = np.searchsorted(self._img_sorted_ids, ids)
        pos = np.minimum(pos, len(self._img_sorted_ids) - 1)
        hit = self._img_sorted_ids[pos] == ids
        return np.where(hit, self._img_sort[pos], -1).astype(np.int64)

    def image_row(self, image_id: int) -> int:
        row = int(self.image_rows(np.asarray([image_id]))[0])
        if row < 0:
            raise KeyError(f"no image with id {image_id}")
        return row

    @property
    def ann_id_order(self) -> np.ndarray:
        """Annotation rows in the order of their ids (a stable sort: a repeated id's first
        row first). Built on first use (20 M ids: ~2 s), kept in the index cache."""
        if self._ann_sort is None:
            order = self._summary("ann_id_order", len(self.anns))
            if order is None:
                order = _stable_argsort(self.anns.id)
                if len(self.files) == 1 and type(self) is Dataset:  # never an edited view's
                    index_cache.store_derived(self.files[0], {"ann_id_order": order})
            self._ann_sort = order
        return self._ann_sort

    def ann_row(self, annotation_id: int) -> int:
        """The row of an annotation id (the first one if a file repeats the id)."""
        order = self.ann_id_order
        ids = self.anns.id
        pos = int(np.searchsorted(ids, annotation_id, sorter=order))
        if pos >= len(ids) or ids[order[pos]] != annotation_id:
            raise KeyError(f"no annotation with id {annotation_id}")
        return int(order[pos])

    def ann_rows(self, image_id: int) -> np.ndarray:
        """The image's annotation rows, in file order."""
        return self.ann_rows_of_image_row(self.image_row(image_id))

    def ann_rows_of_image_row(self, image_row: int) -> np.ndarray:
        s = int(self.image_ann_start[image_row])
        return self.ann_order[s : s + int(self.image_ann_count[image_row])]

    # ----- public API ---------------------------------------------------
    @property
    def paths(self) -> list[Path]:
        return [f.path for f in self.files]

    @property
    def image_root(self) -> Path:
        return self._root

    def set_images_dir(self, folder: PathLike | None) -> None:
        """Point the dataset at another images folder (None: guess it again from where
        the JSON is). Validation made with the old folder is dropped."""
        self.images_dir = Path(folder) if folder is not None else None
        self._root, self._root_hits = (self.images_dir, -1) if self.images_dir is not None \
            else find_root(self.files[0].path, self.image_file_names)
        self._real_root = None
        self._problems = None

    @property
    def images_found(self) -> bool:
        """An images folder was given, or the guessed one holds some of the files."""
        return self._root_hits != 0

    @property
    def kinds(self) -> list[str]:
        return [f.kind for f in self.files]

    def __len__(self) -> int:
        return len(self.image_ids)

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.paths)
        return f"<Dataset {names}: {len(self.image_ids)} images, {len(self.anns)} annotations>"

    def image(self, image_id: int) -> ImageInfo:
        row = self.image_row(image_id)
        fn = self.image_file_names[row]
        return ImageInfo(int(image_id), fn, int(self.image_width[row]),
                         int(self.image_height[row]), self.image_path(image_id), row)

    def image_path(self, image_id: int) -> Path | None:
        """Where the image's ``file_name`` points (no disk access, no check).

        Open files through :meth:`image_file` (or
        :func:`cocoview.model.images.open_image`), which refuses names that lead
        outside the images folder.
        """
        fn = self.image_file_names[self.image_row(image_id)]
        return self._root / fn if fn else None

    def image_file(self, image_id: int, follow_links: bool = True) -> ImagePath:
        """The image's file, checked against leaving the images folder.

        An absolute name, a ``..`` part, or (with ``follow_links``, which touches
        the disk) a symbolic link to outside the folder, all count as outside.
        ``ImagePath.usable(allow_outside)`` gives the path to open.
        """
        fn = self.image_file_names[self.image_row(image_id)]
        real_root = None
        if follow_links and fn:
            if self._real_root is None:
                try:
                    self._real_root = self._root.resolve()
                except (OSError, RuntimeError):
                    self._real_root = self._root
            real_root = self._real_root
        return resolve_image_path(self._root, fn, follow_links=follow_links, real_root=real_root)

    def image_record(self, image_id: int) -> dict[str, Any]:
        """The image object as it is in the file (unknown fields kept)."""
        row = self.image_row(image_id)
        src = int(self.image_src[row])
        if src < 0:
            return {"id": int(image_id)}
        rec = self.files[src].image_record(int(self.image_src_row[row]))
        return rec if isinstance(rec, dict) else {"id": int(image_id)}

    def image_license(self, image_id: int) -> dict[str, Any] | None:
        """The ``licenses`` entry named by the image's ``license`` id, if any."""
        lic = self.image_record(image_id).get("license")
        row = self.image_row(image_id)
        src = int(self.image_src[row])
        if lic is None or src < 0:
            return None
        entries = self.files[src].top_value("licenses")
        if isinstance(entries, list):
            for e in entries:
                if isinstance(e, dict) and e.get("id") == lic:
                    return e
        return None

    def annotation_ids(self, image_id: int) -> np.ndarray:
        return self.anns.id[self.ann_rows(image_id)].copy()

    def annotation(self, annotation_id: int) -> dict[str, Any]:
        return self._ann_record(self.ann_row(annotation_id))

    def annotations(self, image_id: int) -> list[dict[str, Any]]:
        """The image's annotation objects as they are in the file(s)."""
        return [self._ann_record(int(r)) for r in self.ann_rows(image_id)]

    def _ann_record(self, row: int) -> dict[str, Any]:
        f = self.files[int(self.ann_src[row])]
        ordinal = int(self.anns.ordinal[row])
        rec = f.record(ordinal)
        if int(self.anns.seg_kind[row]) == SEG_PANOPTIC:
            seg = rec["segments_info"][int(self.anns.seg_off[row])]
            return {**seg, "image_id": rec.get("image_id")}
        return rec

    def category(self, category_id: int) -> Category:
        cat = self._cat_by_id.get(int(category_id))
        if cat is None:
            raise KeyError(f"no category with id {category_id}")
        return cat

    def captions(self, image_id: int) -> list[str]:
        return list(self.captions_by_image.get(int(image_id), []))

    # ----- geometry -----------------------------------------------------
    def segmentation(self, row: int) -> Any:
        """The raw ``segmentation`` value of annotation row ``row`` (decoded now)."""
        f = self.files[int(self.ann_src[row])]
        off, n = int(self.anns.seg_off[row]), int(self.anns.seg_len[row])
        if int(self.anns.seg_kind[row]) == SEG_PANOPTIC or off < 0:
            return None
        return _segmentation_value(f.data[off : off + n])

    def keypoints_array(self, row: int) -> np.ndarray | None:
        """Keypoints of annotation row ``row`` as a (k, 3) float array, or None."""
        f = self.files[int(self.ann_src[row])]
        return _keypoints(f.data, int(self.anns.kp_off[row]), int(self.anns.kp_len[row]))

    def geometry(self, row: int) -> Geometry:
        """The safe geometry of annotation row ``row`` (polygons: the typed fast path)."""
        if int(self.anns.seg_kind[row]) == SEG_POLYGON:
            off, n = int(self.anns.seg_off[row]), int(self.anns.seg_len[row])
            if off >= 0:
                g = polygon_geometry(self.files[int(self.ann_src[row])].data[off : off + n])
                if g is not None:
                    return g
        return clean_segmentation(self.segmentation(row))

    def image_size(self, image_row: int) -> tuple[int, int]:
        return int(self.image_height[image_row]), int(self.image_width[image_row])

    def mask(self, annotation_id: int) -> np.ndarray:
        """Bool mask (image height × width) of an annotation, exact as pycocotools'."""
        row = self.ann_row(annotation_id)
        return self.mask_of_row(row)

    def mask_of_row(self, row: int) -> np.ndarray:
        img_row = int(self.ann_image_row[row])
        h, w = self.image_size(img_row) if img_row >= 0 else (-1, -1)
        if int(self.anns.seg_kind[row]) == SEG_PANOPTIC:
            from cocoview.model.panoptic import panoptic_mask

            return panoptic_mask(self, row, h, w)
        g = self.geometry(row)
        if h <= 0 or w <= 0:
            if g.rle_size is not None:
                h, w = g.rle_size
            else:
                raise ValueError(f"annotation {int(self.anns.id[row])}: image size unknown")
        return geometry_mask(g, h, w)

    def seg_kind_name(self, row: int) -> str:
        return SEG_KIND_NAMES[int(self.anns.seg_kind[row])]

    def overlays(self, image_id: int, **kwargs: Any) -> Any:
        """Render-ready overlay layers for one image (see :mod:`cocoview.model.overlays`)."""
        from cocoview.model.overlays import build_overlays

        return build_overlays(self, image_id, **kwargs)

    # ----- validation and statistics -----------------------------------
    def problems(self, check_files: bool | None = None, allow_outside: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> list[Problem]:
        """Every problem: damage found while opening plus a full validation pass.

        Image files are checked (their headers read) when an images folder was
        given (or when asked); files outside the images folder only with
        ``allow_outside``. ``progress(done, total)`` is called now and then.
        """
        return list(self._report(check_files, allow_outside, progress).problems)

    def problem_image_ids(self, code: str = "") -> np.ndarray:
        """The ids of the images with a problem (of ``code``, if given; image files not
        checked), every one of them: the list of :meth:`problems` stops at 10,000 per
        check, this does not."""
        report = self._report(False, False, None)
        return report.images_with(code) if code else report.image_ids

    def known_problem_codes(self) -> dict[str, int] | None:
        """The problem codes found and their counts, if the dataset is validated already
        (None: not yet; this never validates)."""
        return self._problems.codes() if self._problems is not None else None

    def _report(self, check_files: bool | None, allow_outside: bool,
                progress: Callable[[int, int], None] | None) -> Any:
        from cocoview.model.validate import validate_report

        check = self.images_dir is not None if check_files is None else check_files
        cacheable = not check and not allow_outside
        if self._problems is not None and cacheable:
            return self._problems
        report = validate_report(self, check_files=check, allow_outside=allow_outside,
                                 progress=progress)
        if cacheable:
            self._problems = report
        return report

    def image_problems(self, image_id: int, check_files: bool = True,
                       allow_outside: bool = False) -> list[Problem]:
        """Problems of one image and its annotations, computed now.

        With ``check_files`` the image file is decoded (at reduced size), so
        truncated and corrupt files are found; it is not opened if it lies
        outside the images folder, unless ``allow_outside``.
        """
        from cocoview.model.validate import validate_image

        return validate_image(self, image_id, check_files, allow_outside=allow_outside)

    @property
    def incidence(self) -> Incidence:
        """Which categories each image has (see :mod:`cocoview.model.incidence`; cached)."""
        if self._incidence is None:
            self._incidence = Incidence.build(self.ann_image_row, self.ann_category_index,
                                              len(self.image_ids), len(self.categories))
        return self._incidence

    def category_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(instances, images) per category, aligned with :attr:`categories` (cached).

        Instances are every annotation of the category; images the distinct images
        in the images list that have one (orphan annotations are in none).
        """
        if self._cat_counts is None:
            cidx = self.ann_category_index
            inst = np.bincount(cidx[cidx >= 0], minlength=len(self.categories))
            self._cat_counts = (inst.astype(np.int64), self.incidence.images_per_category())
        return self._cat_counts

    @property
    def ann_category_index(self) -> np.ndarray:
        """Per annotation row, the index of its category in :attr:`categories` (int32).

        Built once on first use; makes category filters a table lookup.
        """
        if self._ann_cat_index is None:
            ids = np.asarray([c.id for c in self.categories], np.int64)
            order = np.argsort(ids)
            pos = np.searchsorted(ids, self.anns.category_id, sorter=order)
            pos = np.minimum(pos, max(len(ids) - 1, 0))
            idx = order[pos] if len(ids) else np.zeros(len(self.anns), np.int64)
            bad = ids[idx] != self.anns.category_id if len(ids) else np.ones(len(idx), bool)
            self._ann_cat_index = np.where(bad, -1, idx).astype(np.int32)
        return self._ann_cat_index

    def supercategory_counts(self) -> dict[str, tuple[int, int]]:
        """Supercategory → (instances, distinct images), cached; '' holds no supercategory.

        Counted like :meth:`category_counts` (one incidence: they agree).
        """
        if self._super_counts is None:
            names = sorted({c.supercategory for c in self.categories})
            index = {n: i for i, n in enumerate(names)}
            sup_of = np.array([index[c.supercategory] for c in self.categories] + [-1],
                              np.int64)
            sup = sup_of[self.ann_category_index]  # -1 (no category) → -1
            inst = np.bincount(sup[sup >= 0], minlength=len(names))
            imgs = self.incidence.images_per_group(sup_of[:-1], len(names))
            self._super_counts = {n: (int(inst[i]), int(imgs[i])) for i, n in enumerate(names)}
        return self._super_counts

    def warm(self) -> None:
        """Compute the cached summaries views ask for at once (call it in the loading thread).

        A dataset opened from the index cache finds them there (kept by the first
        ``warm`` of the file); the views see the same numbers either way."""
        self.category_counts()
        self.supercategory_counts()
        if not all(k in self._derived for k in index_cache.SUMMARIES[:-1]):
            self._store_summaries()  # (the id order is kept when it is first made)

    def annotation_record(self, row: int) -> dict[str, Any]:
        """The annotation object of dataset row ``row`` as it is in the file."""
        return self._ann_record(row)

    def stats(self) -> dict[str, Any]:
        from cocoview.model.stats import dataset_stats

        return dataset_stats(self)

    def evaluate(self, results: Any = None, iou_type: str = "bbox", iou_thr: float = 0.5,
                 area: str = "all", max_dets: int | None = None) -> Any:
        """Evaluate detections against this ground truth, as pycocotools' COCOeval does.

        ``results``: None (the attached results file), a path, or a list of result
        dicts. ``iou_type``: ``bbox``, ``segm`` or ``keypoints``. The per-detection
        verdicts hold at ``iou_thr`` / ``area`` / ``max_dets``. Returns an
        :class:`cocoview.model.evaluation.Evaluation`.
        """
        from cocoview.model.evaluation import evaluate

        return evaluate(self, results, iou_type, iou_thr, area, max_dets)


class Results:
    """Detections attached to a dataset, matched to its images by image id."""

    def __init__(self, ds: Dataset, f: FileIndex) -> None:
        self.file = f
        self._ds = ds
        img_row = ds.image_rows(f.anns.image_id)
        known = img_row >= 0
        self.problems: list[Problem] = list(f.problems)
        n_unknown = int((~known).sum())
        if n_unknown:
            self.problems.append(Problem(
                Severity.WARNING, "result-unknown-image",
                _unknown_message(n_unknown, len(known), f.anns.image_id[~known]),
                file=str(f.path)))
        order = np.flatnonzero(known)
        order = order[np.argsort(img_row[order], kind="stable")]
        self.anns = f.anns.take(order)
        self.ann_image_row = img_row[order]
        counts = np.bincount(self.ann_image_row, minlength=len(ds.image_ids))
        self.image_ann_count = counts
        self.image_ann_start = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(
            counts) else counts

    def __len__(self) -> int:
        return len(self.anns)

    def rows(self, image_row: int) -> np.ndarray:
        s = int(self.image_ann_start[image_row])
        return np.arange(s, s + int(self.image_ann_count[image_row]))

    def record(self, row: int) -> dict[str, Any]:
        rec = self.file.record(int(self.anns.ordinal[row]))
        return rec if isinstance(rec, dict) else {}

    def segmentation(self, row: int) -> Any:
        off, n = int(self.anns.seg_off[row]), int(self.anns.seg_len[row])
        return None if off < 0 else _segmentation_value(self.file.data[off : off + n])

    def mask(self, row: int) -> np.ndarray:
        """Bool mask of result ``row`` at its image's size (RLE size if unknown)."""
        g = clean_segmentation(self.segmentation(row))
        h, w = self._ds.image_size(int(self.ann_image_row[row]))
        if (h <= 0 or w <= 0) and g.rle_size is not None:
            h, w = g.rle_size
        return geometry_mask(g, h, w)

    def keypoints_array(self, row: int) -> np.ndarray | None:
        return _keypoints(self.file.data, int(self.anns.kp_off[row]),
                          int(self.anns.kp_len[row]))


def _unknown_message(n_unknown: int, total: int, ids: np.ndarray) -> str:
    """How many results match no image, and which image ids they name (a few)."""
    sample = ", ".join(str(int(i)) for i in np.unique(ids)[:5])
    if n_unknown == total:
        return (f"none of the {total:,} results matches an image: their image ids (e.g. "
                f"{sample}) are not in the ground truth; nothing to show or evaluate")
    return (f"{n_unknown:,} of the {total:,} results refer to image ids not in the ground "
            f"truth (e.g. {sample}); left out")


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, without the sort when already in order."""
    if len(values) < 2 or bool((values[1:] >= values[:-1]).all()):
        return np.arange(len(values), dtype=np.int64)
    return np.argsort(values, kind="stable")


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, by counting when the values span a small range (category
    ids: 20 M of them in ~0.05 s against ~1 s)."""
    if not len(values):
        return np.empty(0, np.int64)
    lo, hi = int(values.min()), int(values.max())
    if hi - lo < (1 << 22):
        present = np.bincount((values - lo).astype(np.intp), minlength=hi - lo + 1) > 0
        return (np.flatnonzero(present) + lo).astype(np.int64)
    return np.unique(values).astype(np.int64)


def _first_occurrences(ids: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each value, in input order (a sort, not a hash:
    numpy's hashing unique is ~3x slower on large id ranges)."""
    if not len(ids):
        return np.empty(0, np.int64)
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    first = np.ones(len(s), bool)
    first[1:] = s[1:] != s[:-1]
    return np.sort(order[first])


def _segmentation_value(data: Any) -> Any:
    """A raw segmentation decoded; one that cannot be read becomes a string, which the
    mask code reports as a problem ("must be a list or an RLE object")."""
    try:
        return decode_value(data)
    except UndecodableValue as exc:
        return f"<unreadable: {exc}>"


def _keypoints(data: bytes, off: int, n: int) -> np.ndarray | None:
    """A raw ``keypoints`` list as (k, 3) floats; None if absent or not numbers."""
    if off < 0:
        return None
    try:
        vals = msgspec.json.decode(data[off : off + n], type=list[float])
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        return None
    vals = vals[: len(vals) - len(vals) % 3]
    return np.asarray(vals, np.float64).reshape(-1, 3)


def _drop_cross_file_duplicates(anns: AnnColumns, src: np.ndarray) -> tuple[
        AnnColumns, np.ndarray]:
    """One annotation per id across files; prefer the copy that carries keypoints."""
    has_kp = (anns.kp_off >= 0).astype(np.int8)
    order = np.lexsort((src, -has_kp, anns.id))
    ids, s = anns.id[order], src[order]
    same_prev = np.zeros(len(order), bool)
    same_prev[1:] = (ids[1:] == ids[:-1]) & (s[1:] != s[:-1])
    # a run of one id: keep the first copy of each *file*; drop later files' copies
    first_src_of_run = s.copy()
    run_start = np.ones(len(order), bool)
    run_start[1:] = ids[1:] != ids[:-1]
    idx = np.maximum.accumulate(np.where(run_start, np.arange(len(order)), 0))
    first_src_of_run = s[idx]
    drop = (s != first_src_of_run) & ~run_start
    keep = np.sort(order[~drop])
    return anns.take(keep), src[keep]


def open(
    paths: PathLike | Sequence[PathLike],
    images: PathLike | None = None,
    results: PathLike | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    cache: bool = True,
    isolate: bool = False,
) -> Dataset:
    """Open one COCO file, or several over the same images, as a :class:`Dataset`.

    Raises :class:`~cocoview.model.errors.CocoFormatError` for a file that
    cannot be used at all; damage inside records becomes :meth:`Dataset.problems`.
    With ``cache`` (the default) a file opened before is indexed from the
    user's cache folder instead of being parsed again; with ``isolate`` as well,
    big files are parsed in a child process so that this one stays responsive
    (see :func:`cocoview.model.loader.load_file`).
    """
    plist = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not plist:
        raise ValueError("no file given")
    n = len(plist) + (results is not None)
    files: list[FileIndex] = []
    for i, p in enumerate(plist):
        files.append(load_file(p, _sub(progress, i, n), cancelled, cache, isolate,
                               store_soon=True))
    res = load_file(results, _sub(progress, len(plist), n), cancelled, cache, isolate,
                    store_soon=True) if results else None
    if res is not None and not res.is_list and res.kind != "results":
        raise CocoFormatError(res.path, "not a results file (expected a JSON list of "
                              "detections)", 0)
    # a results file given as the main file and a ground truth file: attach it
    if len(files) > 1 and any(f.is_list for f in files) and res is None:
        lists = [f for f in files if f.is_list]
        if len(lists) == 1 and len(files) > len(lists):
            res = lists[0]
            files = [f for f in files if not f.is_list]
    return Dataset(files, images, res)


def _sub(progress: Progress | None, i: int, n: int) -> Progress | None:
    if progress is None:
        return None
    return lambda frac, what: progress((i + frac) / n, what)


__all__ = ["Cancelled", "Dataset", "ImageInfo", "Results", "open"]
