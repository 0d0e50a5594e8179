"""Panoptic segmentation: a PNG per image whose pixel value R + 256·G + 256²·B is a segment id.

Segment id 0 is void (unlabelled) and never belongs to a segment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset


def png_folder(json_path: Path) -> Path:
    """COCO keeps ``panoptic_val2017/`` beside ``panoptic_val2017.json``."""
    return json_path.parent / json_path.name.split(".")[0]


def png_path(ds: Dataset, row: int) -> Path | None:
    f = ds.files[int(ds.ann_src[row])]
    name = f.panoptic_png.get(int(ds.anns.ordinal[row]), "")
    return png_folder(f.path) / name if name else None


@lru_cache(maxsize=8)
def _id_map(path: Path, mtime_ns: int) -> np.ndarray:
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def id_map(path: Path) -> np.ndarray | None:
    """The segment-id image of a panoptic PNG, or None if it cannot be read."""
    try:
        return _id_map(path, path.stat().st_mtime_ns)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def fit(m: np.ndarray, h: int, w: int) -> np.ndarray:
    """Crop or zero-pad a 2-D array to h × w (top-left aligned)."""
    if m.shape == (h, w):
        return m
    out = np.zeros((h, w), m.dtype)
    hh, ww = min(h, m.shape[0]), min(w, m.shape[1])
    out[:hh, :ww] = m[:hh, :ww]
    return out


def panoptic_mask(ds: Dataset, row: int, h: int, w: int) -> np.ndarray:
    path = png_path(ds, row)
    ids = id_map(path) if path is not None else None
    if ids is None:
        return np.zeros((max(h, 0), max(w, 0)), bool)
    seg_id = int(ds.anns.id[row])
    m = ids == seg_id if seg_id != 0 else np.zeros(ids.shape, bool)
    if h <= 0 or w <= 0:
        return m
    return fit(m, h, w)
