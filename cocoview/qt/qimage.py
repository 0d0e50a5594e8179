"""numpy arrays ↔ QImage. Safe in worker threads (QImage, never QPixmap, off the GUI thread)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """(h, w, 3) uint8 RGB → an owned ``QImage.Format_RGB888`` copy."""
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def bgra_to_qimage(bgra: np.ndarray, premultiplied: bool = True) -> QImage:
    """(h, w, 4) uint8 BGRA (little-endian ARGB32) → an owned QImage copy."""
    a = np.ascontiguousarray(bgra, dtype=np.uint8)
    h, w = a.shape[:2]
    fmt = (QImage.Format.Format_ARGB32_Premultiplied if premultiplied
           else QImage.Format.Format_ARGB32)
    return QImage(a.data, w, h, 4 * w, fmt).copy()


def bgrx_to_qimage(bgrx: np.ndarray) -> QImage:
    """(h, w, 4) uint8 BGRX → ``Format_RGB32`` (what the raster engine draws fastest)."""
    a = np.ascontiguousarray(bgrx, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGB32).copy()
