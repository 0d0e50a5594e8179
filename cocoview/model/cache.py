"""The index cache: a file's columns kept on disk, so a second open parses nothing.

One entry per annotation file, in the user's cache folder
(:func:`cocoview.model.cache_info.cache_dir`), named by a hash of the file's
resolved path. An entry is a folder of ``.npy`` arrays (memory-mapped when
read) and a ``meta.json`` with the format version, the file's size, mtime and
a content fingerprint, and the few small non-array parts (categories,
problems, kind). Nothing is ever unpickled (``allow_pickle=False``): a
corrupt, foreign or stale entry is ignored, removed and rebuilt, never trusted.
Entries are written to a temporary folder and renamed into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from cocoview.model.cache_info import cache_dir, folder_bytes
from cocoview.model.columns import ANN_COLUMNS, AnnColumns, ImageColumns
from cocoview.model.errors import Problem, Severity
from cocoview.model.file_index import FileIndex

FORMAT_VERSION = 5  # 4: the fingerprint covers inode and ctime; 5: the summaries
_SAMPLE = 64 * 1024  # bytes read from each end (and from 8 places between) to fingerprint


class FileBytes:
    """Read-only random access to a file by ``pread``: what a cache hit uses for geometry.

    Slicing a truncated file gives short bytes (and so a clear decode error),
    never the SIGBUS a memory map would raise.
    """

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self._lock = threading.Lock()  # for systems without pread (Windows)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: slice) -> bytes:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("FileBytes supports plain slices only")
        start, stop, _ = key.indices(self.size)
        if stop <= start:
            return b""
        if hasattr(os, "pread"):
            return os.pread(self._fd, stop - start, start)
        with self._lock:
            os.lseek(self._fd, start, os.SEEK_SET)
            return os.read(self._fd, stop - start)

    def read_all(self) -> bytes:
        return self[0 : self.size]

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            os.close(self._fd)


def fingerprint(path: Path) -> tuple[int, int, str]:
    """(size, mtime in ns, a hash of identity and sampled content): what must match for
    a cache hit.

    Size and mtime can be restored by anyone (``cat B > f; touch -d``), so the hash
    also covers what a user cannot set: the inode and device (a file moved or copied
    over this one is another inode) and the ctime, which the kernel sets to "now" on
    every write, rename and ``utime``. Windows reports the creation time as ctime, so
    there the whole content is hashed instead. Sampled content still catches a file
    rewritten on a file system that keeps no inode numbers.
    """
    st = path.stat()
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{st.st_dev}:{st.st_ino}:{st.st_ctime_ns}".encode())
    with open(path, "rb") as fh:
        n = st.st_size
        if sys.platform == "win32":
            while block := fh.read(1 << 20):
                h.update(block)
        else:
            spots = [0, max(n - _SAMPLE, 0)] + [n * k // 9 for k in range(1, 9)]
            for off in spots:
                fh.seek(off)
                h.update(fh.read(_SAMPLE))
    return st.st_size, st.st_mtime_ns, h.hexdigest()


def entry_dir(path: Path, root: Path | None = None) -> Path:
    key = hashlib.blake2b(str(path.resolve()).encode(), digest_size=16).hexdigest()
    return (root or cache_dir()) / "index" / key


# ----- writing -------------------------------------------------------------------
#: entries being written in the background, by entry folder (see :func:`store_soon`)
_pending: dict[Path, threading.Thread] = {}
_pending_lock = threading.Lock()


def store_soon(fi: FileIndex, root: Path | None = None) -> None:
    """:func:`store` in a background thread, so the open returns ~0.2 s sooner.

    The thread is not a daemon (the interpreter waits for it at exit) and
    :func:`load` of the same file waits for it; ``fi.cached`` turns True when
    the entry is in place.
    """
    root = root or cache_dir()  # now: the thread must not see a later change of folder
    target = entry_dir(fi.path, root)

    def run() -> None:
        try:
            fi.cached = store(fi, root) is not None
        finally:
            with _pending_lock:
                if _pending.get(target) is threading.current_thread():
                    del _pending[target]

    # daemon given: else Thread() asks current_thread(), which leaves a dummy Thread for
    # the calling QThread behind
    t = threading.Thread(target=run, name="cocoview-index-store", daemon=False)
    with _pending_lock:
        earlier = _pending.get(target)
        _pending[target] = t
    if earlier is not None:
        earlier.join()
    t.start()


def wait_pending(path: Path | None = None, root: Path | None = None) -> None:
    """Wait for background stores (of ``path``'s entry, or all)."""
    with _pending_lock:
        threads = ([_pending[e]] if path is not None and (e := entry_dir(path, root)) in _pending
                   else [] if path is not None else list(_pending.values()))
    for t in threads:
        t.join()


def store(fi: FileIndex, root: Path | None = None) -> Path | None:
    """Write ``fi``'s index for later opens; returns the entry, or None if it could not."""
    target = entry_dir(fi.path, root)
    try:
        key = fingerprint(fi.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    except OSError:
        return None
    try:
        arrays = _arrays(fi)
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        meta = {
            "format": FORMAT_VERSION,
            "source": str(fi.path.resolve()),
            "size": key[0], "mtime_ns": key[1], "fingerprint": key[2],
            "kind": fi.kind, "is_list": fi.is_list,
            "has_categories_key": fi.has_categories_key,
            "categories": fi.categories,
            "problems": [p.to_dict() for p in fi.problems],
            "panoptic_png": {str(k): v for k, v in fi.panoptic_png.items()},
            "captions": {str(k): v for k, v in fi.captions.items()},
            "top_spans": {k: list(v) for k, v in fi.top_spans.items()},
            "arrays": {k: [list(v.shape), str(v.dtype)] for k, v in arrays.items()},
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        _swap_in(tmp, target)
        return target
    except (OSError, ValueError, TypeError):
        shutil.rmtree(tmp, ignore_errors=True)
        return None


def _swap_in(tmp: Path, target: Path) -> None:
    """Rename the finished folder ``tmp`` to ``target``, replacing an older entry.

    A folder cannot be renamed over a non-empty one, so the old entry is first
    renamed aside (a name of this writer's own). Other processes may be doing the
    same at the same moment: whichever rename wins, every reader sees a whole entry
    or none, and a writer that loses raises OSError (its caller drops its copy).
    Readers that hold arrays of the old entry keep them: on POSIX a removed file
    stays readable through its open map.
    """
    aside = target.with_name(f"{target.name}.old-{os.getpid()}-{threading.get_ident()}")
    with contextlib.suppress(FileNotFoundError):  # no entry yet, or another writer's
        os.replace(target, aside)                  # rename moved it aside first
    try:
        os.replace(tmp, target)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def _arrays(fi: FileIndex) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {f"ann_{k}": getattr(fi.anns, k) for k in (*ANN_COLUMNS,
                                                                            "bbox")}
    im = fi.images
    names = [n.encode("utf-8", "surrogatepass") for n in im.file_name]
    lens = np.fromiter(map(len, names), np.int64, len(names))
    out.update({
        "img_id": im.id, "img_width": im.width, "img_height": im.height,
        "img_rec_off": im.rec_off, "img_rec_len": im.rec_len, "img_ordinal": im.ordinal,
        "img_name_blob": np.frombuffer(b"".join(names), np.uint8),
        "img_name_end": np.cumsum(lens),
        "rec_off": fi.ann_rec_off, "rec_len": fi.ann_rec_len,
        "caption_ordinals": fi.caption_ordinals, "caption_image_ids": fi.caption_image_ids,
    })
    return out


# ----- reading -------------------------------------------------------------------
def load(path: Path, data: bytes | FileBytes | None = None,
         root: Path | None = None) -> FileIndex | None:
    """The cached index of ``path`` if there is a valid, current one; else None.

    ``data`` is the file's (decoded) content if the caller has it; without it a
    plain file is read on demand by offset (:class:`FileBytes`).
    """
    wait_pending(path, root)  # an entry still being written is waited for, not missed
    entry = entry_dir(path, root)
    meta_path = entry / "meta.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
            raise ValueError("foreign or old cache format")
        size, mtime, fp = fingerprint(path)
        if (meta["size"], meta["mtime_ns"], meta["fingerprint"]) != (size, mtime, fp):
            raise ValueError("the file changed")
        arrays = {}
        for name, (shape, dtype) in meta["arrays"].items():
            arr = np.load(entry / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            if list(arr.shape) != shape or str(arr.dtype) != dtype:
                raise ValueError(f"{name}: shape or type differs from meta.json")
            arrays[name] = arr
        fi = _index(path, meta, arrays, data if data is not None else FileBytes(path, size))
    except FileNotFoundError:  # another process replaced or cleared the entry meanwhile
        return None
    except Exception:  # anything odd: not trusted, removed, rebuilt by the caller
        shutil.rmtree(entry, ignore_errors=True)
        return None
    return fi


def _decode_names(blob_arr: np.ndarray, end_arr: np.ndarray) -> list[str]:
    """The image file names of the blob ``blob_arr`` cut at the byte offsets ``end_arr``.

    Each name was encoded on its own, so no character straddles a cut: when no name
    holds a NUL byte, a NUL is put at every cut and the whole blob is decoded and split
    at once (2 M names: ~0.2 s against ~2.8 s name by name); else name by name.
    """
    ends = np.asarray(end_arr, np.int64)
    blob = np.asarray(blob_arr, np.uint8).reshape(-1)
    n = len(ends)
    if not n:
        return []
    if ends[-1] != len(blob) or ends[0] < 0 or (np.diff(ends) < 0).any():
        raise ValueError("image name offsets out of order")
    if not (blob == 0).any():
        text = np.insert(blob, ends[:-1], 0).tobytes().decode("utf-8", "surrogatepass")
        return text.split("\x00")
    data = blob.tobytes()
    starts = [0, *ends[:-1].tolist()]
    return [data[s:e].decode("utf-8", "surrogatepass")
            for s, e in zip(starts, ends.tolist(), strict=True)]


def _index(path: Path, meta: dict[str, Any], a: dict[str, np.ndarray],
           data: bytes | FileBytes) -> FileIndex:
    anns = AnnColumns(**{k: a[f"ann_{k}"] for k in (*ANN_COLUMNS, "bbox")})
    n = len(anns.id)
    if any(len(a[f"ann_{k}"]) != n for k in ANN_COLUMNS):
        raise ValueError("annotation columns of different lengths")
    names = _decode_names(a["img_name_blob"], a["img_name_end"])
    images = ImageColumns(id=a["img_id"], width=a["img_width"], height=a["img_height"],
                          file_name=names, rec_off=a["img_rec_off"], rec_len=a["img_rec_len"],
                          ordinal=a["img_ordinal"])
    if len(names) != len(images.id):
        raise ValueError("image columns of different lengths")
    problems = [Problem(Severity[p["severity"].upper()], p["code"], p["message"],
                        p["location"], p["file"], p["image_id"], p["annotation_id"])
                for p in meta["problems"]]
    fi = FileIndex(path=path, data=data, kind=meta["kind"], images=images, anns=anns,
                   categories=meta["categories"], problems=problems,
                   ann_rec_off=a["rec_off"], ann_rec_len=a["rec_len"],
                   is_list=bool(meta["is_list"]),
                   has_categories_key=bool(meta["has_categories_key"]))
    fi.panoptic_png = {int(k): v for k, v in meta["panoptic_png"].items()}
    fi.captions = {int(k): v for k, v in meta["captions"].items()}
    fi.caption_ordinals = a["caption_ordinals"]
    fi.caption_image_ids = a["caption_image_ids"]
    fi.top_spans = {k: (int(v[0]), int(v[1])) for k, v in meta.get("top_spans", {}).items()}
    fi.cached = True
    return fi


DERIVED = ("image_keep", "ann_image_row", "ann_order")
#: derived arrays kept when present, each checked (length, type) by the dataset that uses
#: it, and recomputed when absent or not fitting: what ``Dataset.warm`` computes (the
#: category index and counts: ~5 s at 20 M annotations) and the other per-open work
SUMMARIES = ("image_sort", "image_ann_count", "used_category_ids", "ann_category_index",
             "category_instances", "category_images", "super_instances", "super_images",
             "ann_id_order")
#: the filter index's orders (:mod:`cocoview.model.filter_index`), kept when present
FILTER_INDEX = tuple(f"fi_{name}_{part}" for name in ("category", "width", "height", "aspect")
                     for part in ("order", "starts"))


def load_derived(fi: FileIndex, root: Path | None = None) -> dict[str, np.ndarray]:
    """Arrays a dataset of this one file derives from it (kept beside its index): every
    one of :data:`DERIVED` (else none) and those of :data:`SUMMARIES` there are."""
    entry = entry_dir(fi.path, root)
    if not isinstance(fi.data, FileBytes) or not (entry / "meta.json").is_file():
        return {}  # only next to an index that was just loaded from this entry
    out: dict[str, np.ndarray] = {}
    for name in (*DERIVED, *SUMMARIES, *FILTER_INDEX):
        path = entry / f"ds_{name}.npy"
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            if name in DERIVED:
                return {}
            continue
        if arr.ndim != 1 or arr.dtype.kind not in "iu":  # every derived array is of ints
            if name in DERIVED:
                return {}
            continue
        out[name] = arr
    return out


def store_derived(fi: FileIndex, arrays: dict[str, np.ndarray],
                  root: Path | None = None) -> None:
    """Keep a single-file dataset's derived arrays beside the file's index (best effort)."""
    entry = entry_dir(fi.path, root)
    if not fi.cached or not (entry / "meta.json").is_file():
        return
    for name, arr in arrays.items():
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=entry)
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
            os.replace(tmp, entry / f"ds_{name}.npy")
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return


def clear(root: Path | None = None) -> int:
    """Remove every cached index; returns the bytes freed."""
    wait_pending()
    folder = (root or cache_dir()) / "index"
    freed = folder_bytes(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return freed
