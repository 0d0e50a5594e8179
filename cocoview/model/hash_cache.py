"""Perceptual hashes of image files, kept beside the annotation file's index.

The near-duplicate check decodes every image once; a second check of the same data
decodes only the files that changed. An entry is the file's absolute path, size and
modification time (ns) with its 64-bit hash, stored as one ``.npz`` in the index
cache's entry folder of each annotation file (``cache.entry_dir``), written to a
temporary file and renamed. Best effort: an unreadable cache is an empty one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

from cocoview.model.cache import entry_dir

NAME = "image_hashes-v1.npz"  # the version of health.dhash they were made with

Key = tuple[str, int, int]  # absolute path, size, mtime_ns


def file_key(path: Path) -> Key | None:
    """The file's identity for the cache: its absolute path with its size and
    modification time (no ``resolve`` here: a second one per image costs a syscall per
    path part, and size and time already tell a changed file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path.absolute()), st.st_size, st.st_mtime_ns


def load(ann_path: Path, root: Path | None = None) -> dict[Key, int]:
    """The hashes kept for the images of ``ann_path``'s dataset (empty when none)."""
    try:
        with np.load(entry_dir(ann_path, root) / NAME, allow_pickle=False) as z:
            paths, sizes, mtimes, hashes = z["paths"], z["sizes"], z["mtimes"], z["hashes"]
    except (OSError, ValueError, KeyError):
        return {}
    return {(str(p), int(s), int(m)): int(h) for p, s, m, h in
            zip(paths.tolist(), sizes.tolist(), mtimes.tolist(), hashes.tolist(),
                strict=True)}


def store(ann_path: Path, entries: dict[Key, int], root: Path | None = None) -> None:
    """Replace the kept hashes of ``ann_path``'s images with ``entries``."""
    folder = entry_dir(ann_path, root)
    keys = list(entries)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, paths=np.asarray([k[0] for k in keys], dtype=np.str_),
                     sizes=np.asarray([k[1] for k in keys], np.int64),
                     mtimes=np.asarray([k[2] for k in keys], np.int64),
                     hashes=np.asarray([entries[k] for k in keys], np.uint64))
        os.replace(tmp, folder / NAME)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
