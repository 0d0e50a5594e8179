"""Reading image files for display, with a placeholder for anything unreadable."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

#: Pillow refuses more pixels than this (its bomb check); we decode reduced instead.
MAX_PIXELS = 100_000_000


@dataclass
class LoadedImage:
    rgb: np.ndarray | None  # (h, w, 3) uint8, None when unreadable
    error: str = ""


def load_rgb(path: Path | None) -> LoadedImage:
    if path is None:
        return LoadedImage(None, "image has no file name")
    if not path.is_file():
        return LoadedImage(None, f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                im.draft("RGB", (im.width // 4, im.height // 4))
            return LoadedImage(np.asarray(im.convert("RGB")))
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        return LoadedImage(None, f"cannot read image {path}: {exc}")


def placeholder(width: int, height: int) -> np.ndarray:
    """A neutral grey canvas of the JSON's size with a light checker to read as 'no image'."""
    w, h = max(width, 1), max(height, 1)
    yy, xx = np.mgrid[0:h, 0:w]
    checker = (((xx // 32) + (yy // 32)) % 2).astype(np.uint8)
    grey = (96 + 16 * checker)[..., None].repeat(3, axis=2)
    return grey.astype(np.uint8)
