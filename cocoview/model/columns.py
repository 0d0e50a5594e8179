"""The compact tables a file is indexed into: numpy columns, one row per record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# segmentation kinds
SEG_NONE = 0  # no segmentation key (or null)
SEG_POLYGON = 1
SEG_RLE = 2  # compressed counts string
SEG_RLE_RAW = 3  # uncompressed counts list
SEG_EMPTY = 4  # segmentation: []
SEG_INVALID = 5
SEG_PANOPTIC = 6
SEG_KIND_NAMES = {
    SEG_NONE: "none",
    SEG_POLYGON: "polygon",
    SEG_RLE: "rle",
    SEG_RLE_RAW: "rle-uncompressed",
    SEG_EMPTY: "empty",
    SEG_INVALID: "invalid",
    SEG_PANOPTIC: "panoptic",
}

ANN_COLUMNS: dict[str, Any] = {
    "id": np.int64,
    "image_id": np.int64,
    "category_id": np.int64,
    "area": np.float32,  # filters compare with 32² and 96²; exact values stay in the file
    "iscrowd": np.int8,
    "num_keypoints": np.int32,
    "score": np.float32,
    "seg_kind": np.int8,
    "seg_off": np.int64,
    "seg_len": np.int32,
    "kp_off": np.int64,
    "kp_len": np.int32,
    "ordinal": np.int64,
}


@dataclass
class AnnColumns:
    """Annotation columns in file order (only usable records)."""

    id: np.ndarray
    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray  # (n, 4) float32, NaN where absent
    area: np.ndarray
    iscrowd: np.ndarray
    num_keypoints: np.ndarray
    score: np.ndarray
    seg_kind: np.ndarray
    seg_off: np.ndarray
    seg_len: np.ndarray
    kp_off: np.ndarray
    kp_len: np.ndarray
    ordinal: np.ndarray  # index in the file's annotations array
    # For SEG_PANOPTIC rows ``seg_off`` is the index in the record's segments_info.

    @classmethod
    def lean(cls, n: int) -> AnnColumns:
        """Columns for ``n`` rows where the usually-absent fields (keypoints, score)
        cost no memory until a row has one (:func:`writable`)."""
        cols = {k: (constant(n, _ABSENT_VALUE[k], dt) if k in _ABSENT_VALUE else np.zeros(n, dt))
                for k, dt in ANN_COLUMNS.items()}
        return cls(bbox=np.full((n, 4), np.nan, np.float32), **cols)

    @classmethod
    def empty(cls, n: int = 0) -> AnnColumns:
        cols = {k: np.zeros(n, dt) for k, dt in ANN_COLUMNS.items()}
        return cls(bbox=np.full((n, 4), np.nan, np.float32), **cols)

    def __len__(self) -> int:
        return len(self.id)

    def take(self, idx: np.ndarray) -> AnnColumns:
        return AnnColumns(**{k: getattr(self, k)[idx] for k in (*ANN_COLUMNS, "bbox")})

    @staticmethod
    def concat(parts: list[AnnColumns]) -> AnnColumns:
        if not parts:
            return AnnColumns.empty()
        return AnnColumns(
            **{k: np.concatenate([getattr(p, k) for p in parts]) for k in (*ANN_COLUMNS, "bbox")}
        )


#: values of the columns whose field is absent from most files
_ABSENT_VALUE: dict[str, float] = {"num_keypoints": -1, "score": float("nan"),
                                   "kp_off": -1, "kp_len": 0}


def constant(n: int, value: float, dtype: Any) -> np.ndarray:
    """A read-only column of ``n`` equal values that takes no memory (stride 0)."""
    return np.broadcast_to(np.asarray(value, dtype), (n,))


def writable(arr: np.ndarray) -> np.ndarray:
    """``arr`` itself, or a real copy of it if it is a :func:`constant` column."""
    return arr.copy() if arr.ndim and arr.strides[0] == 0 else arr


@dataclass
class ImageColumns:
    id: np.ndarray
    width: np.ndarray
    height: np.ndarray
    file_name: list[str]
    rec_off: np.ndarray
    rec_len: np.ndarray
    ordinal: np.ndarray

    def __len__(self) -> int:
        return len(self.id)
