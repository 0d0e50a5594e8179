"""The category table: names, supercategories, keypoint schema, colours, counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cocoview.model.colors import category_color


@dataclass
class Category:
    id: int
    name: str
    supercategory: str
    color: tuple[int, int, int]
    keypoint_names: list[str] = field(default_factory=list)
    skeleton: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))  # 0-based
    isthing: bool | None = None
    defined: bool = True  # False: used by annotations but absent from 'categories'
    record: dict[str, Any] = field(default_factory=dict)


#: names longer than this are cut for every view (a 5 MB name, copied into each row's
#: label and tooltip, took the app past 20 GB); the file's record keeps the whole name
MAX_NAME = 256


def shorten(text: str, limit: int = MAX_NAME) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_categories(records: list[dict[str, Any]], used_ids: np.ndarray) -> tuple[
        list[Category], list[str]]:
    """Categories in file order, plus placeholders for ids used but never defined.

    Returns the categories and notes about the skeleton convention used.
    """
    notes: list[str] = []
    cats: dict[int, Category] = {}
    for rec in records:
        cid = int(rec["id"])
        if cid in cats:
            # the same category in a second file (e.g. person_keypoints): fill gaps
            cur = cats[cid]
            if not cur.keypoint_names and isinstance(rec.get("keypoints"), list):
                cur.keypoint_names = [shorten(str(k)) for k in rec["keypoints"]]
            if not len(cur.skeleton) and isinstance(rec.get("skeleton"), list):
                cur.skeleton, note = _skeleton(rec.get("skeleton"), cid,
                                               len(cur.keypoint_names))
                notes += note
            cur.record = {**rec, **cur.record}
            continue
        name = rec.get("name")
        sup = rec.get("supercategory")
        kp = rec.get("keypoints")
        skel, note = _skeleton(rec.get("skeleton"), cid, len(kp) if isinstance(kp, list) else 0)
        notes += note
        isthing = rec.get("isthing")
        cats[cid] = Category(
            id=cid,
            name=shorten(str(name)) if name is not None else f"category {cid}",
            supercategory=shorten(sup) if isinstance(sup, str) and sup else "",
            color=category_color(cid, rec),
            keypoint_names=[shorten(str(k)) for k in kp] if isinstance(kp, list) else [],
            skeleton=skel,
            isthing=bool(isthing) if isinstance(isthing, (int, bool)) else None,
            record=rec,
        )
    for cid in np.unique(used_ids).tolist():
        if cid not in cats and cid != -(2**63):
            cats[cid] = Category(id=cid, name=f"category {cid}", supercategory="",
                                 color=category_color(cid), defined=False)
    return list(cats.values()), notes


def _skeleton(value: Any, cid: int, n_names: int) -> tuple[np.ndarray, list[str]]:
    """Skeleton edges as 0-based pairs; COCO's are 1-based, some exporters' 0-based.

    Edges that name no keypoint (below the base, or past the ``n_names`` keypoint
    names) are dropped with a note: drawing them would index past the keypoints.
    """
    if not isinstance(value, list) or not value:
        return np.zeros((0, 2), np.int64), []
    pairs = [p for p in value if isinstance(p, list) and len(p) == 2
             and all(isinstance(v, int) and not isinstance(v, bool) and -(2**31) <= v < 2**31
                     for v in p)]
    if not pairs:
        return np.zeros((0, 2), np.int64), [f"category {cid}: skeleton is not a list of pairs"]
    arr = np.asarray(pairs, np.int64)
    base = 0 if arr.min() == 0 else 1
    notes = [f"category {cid}: skeleton uses 0-based indices (COCO's are 1-based); "
             "read as 0-based"] if base == 0 else []
    high = base + n_names if n_names else 2**31
    bad = (arr < base).any(axis=1) | (arr >= high).any(axis=1)
    if bad.any():
        count = f"{n_names} keypoint names" if n_names else "no keypoint names"
        notes.append(f"category {cid}: {int(bad.sum())} skeleton edge(s) name a keypoint that "
                     f"does not exist (e.g. {arr[bad][0].tolist()}; the category has {count}, "
                     f"numbered from {base}); not drawn")
        arr = arr[~bad]
    return arr - base, notes
