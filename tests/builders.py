"""Small hand-made COCO documents for unit tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

BASE: dict[str, Any] = {
    "info": {"description": "unit test", "year": 2026},
    "licenses": [{"id": 1, "name": "CC BY", "url": "http://x"}],
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 40, "height": 30, "license": 1, "extra": "kept"},
        {"id": 2, "file_name": "sub/b.jpg", "width": 20, "height": 10},
        {"id": 3, "file_name": "c.jpg", "width": 16, "height": 16},
    ],
    "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [2.0, 3.0, 10.0, 8.0],
         "area": 80.0, "iscrowd": 0,
         "segmentation": [[2, 3, 12, 3, 12, 11, 2, 11]], "note": {"a": "}{]["}},
        {"id": 11, "image_id": 1, "category_id": 2, "bbox": [20, 5, 6, 6], "area": 36,
         "iscrowd": 0, "segmentation": [[20, 5, 26, 5, 26, 11], [21, 20, 25, 20, 23, 25]]},
        {"id": 4294967297, "image_id": 2, "category_id": 2, "bbox": [0, 0, 5, 4], "area": 12,
         "iscrowd": 1,
         "segmentation": {"size": [10, 20], "counts": [3, 4, 6, 4, 6, 4, 173]}},
    ],
    "categories": [
        {"id": 1, "name": "cat", "supercategory": "animal"},
        {"id": 2, "name": "dog", "supercategory": "animal", "custom": [1, 2]},
    ],
    "top_extra": {"kept": True},
}


def doc(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    d.update(changes)
    return d


def write(path: Path, obj: Any, **dump_kwargs: Any) -> Path:
    path.write_text(json.dumps(obj, **dump_kwargs))
    return path


def reviewed(folder: Path, gt: dict[str, Any], results: list[dict[str, Any]]) -> tuple[Any, Any]:
    """``gt`` and ``results`` written to ``folder`` (gt.json, res.json), opened together
    (no index cache) and evaluated: ``(dataset, Review)``."""
    import cocoview
    from cocoview.model.review import Review

    (folder / "gt.json").write_text(json.dumps(gt))
    (folder / "res.json").write_text(json.dumps(results))
    ds = cocoview.open(folder / "gt.json", results=folder / "res.json", cache=False)
    return ds, Review(ds, ds.evaluate())


def result_row(ds: Any, file_index: int) -> int:
    """The row of the ``file_index``-th result of the results file (0-based)."""
    import numpy as np

    return int(np.flatnonzero(np.asarray(ds.results.anns.ordinal) == file_index)[0])
