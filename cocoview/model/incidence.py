"""Which categories each image has: the one image × category incidence.

Every count of "images with category X" (the category tree, ``stats``, the
split's per-category table, the supercategory rows) comes from here, so they
agree. The definition: the distinct (image, category) pairs of the annotations
whose image is in the images list and whose ``category_id`` is present (an id
the ``categories`` list lacks still counts: the category table has a
placeholder for it). An annotation whose image is missing (an orphan, reported
as ``unknown-image``) is in no image: it counts as an instance of its category,
never as an image of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Incidence:
    """The distinct (image row, category index) pairs, sorted by image, then category."""

    image_row: np.ndarray  # int64, rows of the dataset's images
    category: np.ndarray  # int64, indexes of the dataset's categories
    count: np.ndarray  # int64, annotations per pair
    n_images: int
    n_categories: int

    @classmethod
    def build(cls, ann_image_row: np.ndarray, ann_category: np.ndarray, n_images: int,
              n_categories: int) -> Incidence:
        ok = (ann_image_row >= 0) & (ann_category >= 0)
        width = max(n_categories, 1)
        # one sort of int64 keys: np.unique hashes wide ranges (numpy ≥ 2.3), ~10× slower
        key = np.sort(ann_image_row[ok].astype(np.int64) * width + ann_category[ok])
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else \
            np.zeros(0, np.int64)
        pairs = key[starts]
        count = np.diff(np.r_[starts, len(key)]).astype(np.int64)
        return cls(pairs // width, pairs % width, count, n_images, n_categories)

    def images_per_category(self) -> np.ndarray:
        """Distinct images per category index."""
        return np.bincount(self.category, minlength=self.n_categories).astype(np.int64)

    def images_per_group(self, group_of_category: np.ndarray, n_groups: int) -> np.ndarray:
        """Distinct images per group of categories (e.g. supercategories); -1: no group."""
        group = group_of_category[self.category]
        ok = group >= 0
        key = np.sort(self.image_row[ok] * max(n_groups, 1) + group[ok])
        key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
        return np.bincount(key % max(n_groups, 1), minlength=n_groups).astype(np.int64)

    def restricted(self, image_rows: np.ndarray) -> Incidence:
        """The pairs of ``image_rows`` only (image rows are kept, not renumbered)."""
        member = np.zeros(self.n_images, bool)
        member[image_rows] = True
        keep = member[self.image_row]
        return Incidence(self.image_row[keep], self.category[keep], self.count[keep],
                         self.n_images, self.n_categories)
