"""Dataset statistics, computed from the columns (no geometry decoded)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cocoview.model.columns import SEG_KIND_NAMES

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

SMALL = 32**2
MEDIUM = 96**2


def size_buckets(area: np.ndarray) -> dict[str, int]:
    """COCO's area ranges: small < 32², medium < 96², large ≥ 96² (NaN areas left out)."""
    a = area[np.isfinite(area)]
    return {
        "small": int((a < SMALL).sum()),
        "medium": int(((a >= SMALL) & (a < MEDIUM)).sum()),
        "large": int((a >= MEDIUM).sum()),
    }


def dataset_stats(ds: Dataset) -> dict[str, Any]:
    a = ds.anns
    instances, images = ds.category_counts()  # the one incidence: the tree says the same
    cats: list[dict[str, Any]] = [
        {"id": c.id, "name": c.name, "supercategory": c.supercategory,
         "instances": int(n), "images": int(m)}
        for c, n, m in zip(ds.categories, instances.tolist(), images.tolist(), strict=True)]
    kinds = {SEG_KIND_NAMES[int(k)]: int(n) for k, n in zip(*np.unique(a.seg_kind,
                                                                        return_counts=True),
                                                             strict=True)}
    out: dict[str, Any] = {
        "files": [{"path": str(f.path), "kind": f.kind} for f in ds.files],
        "images": len(ds.image_ids),
        "annotations": len(a),
        "categories": len(ds.categories),
        "crowd_annotations": int((a.iscrowd == 1).sum()),
        "keypoint_annotations": int((a.kp_off >= 0).sum()),
        "labelled_keypoint_annotations": int((a.num_keypoints > 0).sum()),
        "images_without_annotations": int((ds.image_ann_count == 0).sum()),
        "captions": int(sum(len(v) for v in ds.captions_by_image.values())),
        "segmentation_kinds": kinds,
        "area_buckets": size_buckets(a.area),
        "per_category": cats,
        "image_root": str(ds.image_root),
    }
    if ds.results is not None:
        out["results"] = {"path": str(ds.results.file.path), "detections": len(ds.results)}
    return out
