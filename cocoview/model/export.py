"""Writing image lists and COCO subsets: atomically, never over the input, never half-written.

A ``coco`` export is byte-faithful: every kept image and annotation object is
copied from the input as it was (same ids, same numbers, unknown fields), in
input order; ``info``, ``licenses``, ``categories`` and any other top-level
key are copied as they were. Exporting every image gives a document equal (as
parsed JSON) to the input.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

import msgspec
import numpy as np

from cocoview.model.safe_write import WriteError, atomic_write

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

Format = Literal["ids", "names", "paths", "coco"]
FORMATS: tuple[Format, ...] = ("ids", "names", "paths", "coco")


def suffix(fmt: Format) -> str:
    return ".json" if fmt == "coco" else ".txt"


def list_lines(ds: Dataset, image_ids: np.ndarray, fmt: Format) -> list[str]:
    """One line per image: its id, ``file_name`` or resolved path."""
    if fmt == "ids":
        return [str(int(i)) for i in image_ids]
    rows = ds.image_rows(np.asarray(image_ids, np.int64))
    names = [ds.image_file_names[int(r)] for r in rows]
    if fmt == "names":
        return names
    if fmt == "paths":
        return [str(ds.image_root / n) for n in names]
    raise ValueError(f"not a list format: {fmt!r}")


def write_coco(ds: Dataset, image_ids: np.ndarray, fh: BinaryIO) -> None:
    """Stream a COCO document of the images ``image_ids`` and all their annotations."""
    keep_rows = np.zeros(len(ds.image_ids), bool)
    keep_rows[ds.image_rows(np.asarray(image_ids, np.int64))] = True
    main = ds.files[0]
    top = main.top()
    keys = list(top) if top else ["images", "annotations", "categories"]
    if "images" not in keys:
        keys.append("images")
    fh.write(b"{")
    for k, key in enumerate(keys):
        if k:
            fh.write(b", ")
        fh.write(msgspec.json.encode(key) + b": ")
        if key == "images":
            _write_images(ds, keep_rows, fh)
        elif key == "annotations":
            _write_annotations(ds, keep_rows, fh)
        elif key == "categories" and len(ds.files) > 1:
            fh.write(msgspec.json.encode([c.record for c in ds.categories if c.defined]))
        else:
            fh.write(bytes(top[key]))
    fh.write(b"}")


def _write_images(ds: Dataset, keep_rows: np.ndarray, fh: BinaryIO) -> None:
    fh.write(b"[")
    first = True
    for row in np.flatnonzero(keep_rows).tolist():
        src = int(ds.image_src[row])
        if src < 0:
            continue
        f = ds.files[src]
        r = int(ds.image_src_row[row])
        off, n = int(f.images.rec_off[r]), int(f.images.rec_len[r])
        fh.write((b"" if first else b", ") + f.data[off : off + n])
        first = False
    fh.write(b"]")


def _write_annotations(ds: Dataset, keep_rows: np.ndarray, fh: BinaryIO) -> None:
    """The kept images' annotations, as in the input, in input (file, then record) order."""
    img = ds.ann_image_row
    sel = np.flatnonzero((img >= 0) & keep_rows[np.maximum(img, 0)])
    # panoptic rows are segments: one record per annotation ordinal
    chunks = [np.stack([ds.ann_src[sel].astype(np.int64), ds.anns.ordinal[sel]], 1)]
    kept_ids = ds.image_ids[keep_rows]
    for k, f in enumerate(ds.files):  # captions are records but not annotation rows
        if len(f.caption_ordinals):
            c = f.caption_ordinals[np.isin(f.caption_image_ids, kept_ids)]
            chunks.append(np.stack([np.full(len(c), k, np.int64), c], 1))
    both = np.concatenate(chunks)
    pairs = np.unique(both, axis=0) if len(both) else np.zeros((0, 2), np.int64)
    fh.write(b"[")
    for k, (src, ordinal) in enumerate(pairs.tolist()):
        fh.write((b", " if k else b"") + ds.files[src].record_bytes(ordinal))
    fh.write(b"]")


def export(ds: Dataset, image_ids: np.ndarray, out: str | Path, fmt: Format = "ids",
           force: bool = False) -> Path:
    """Write one export file atomically; refuse to overwrite without ``force`` or the input."""
    path = Path(out)
    _guard(ds, path, force)
    if fmt == "coco":
        atomic_write(path, lambda fh: write_coco(ds, image_ids, fh))
    else:
        text = "".join(line + "\n" for line in list_lines(ds, image_ids, fmt))
        atomic_write(path, lambda fh: fh.write(text.encode()))
    return path


def export_split(ds: Dataset, parts: dict[str, np.ndarray], out_dir: str | Path,
                 fmt: Format = "ids", force: bool = False) -> list[Path]:
    """One file per part (``NAME.txt`` / ``NAME.json``) in ``out_dir`` (created if needed)."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise WriteError(f"{folder} exists and is not a folder")
    targets = [folder / f"{name}{suffix(fmt)}" for name in parts]
    for t in targets:
        _guard(ds, t, force)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create {folder}: {exc.strerror or exc}") from None
    return [export(ds, ids, t, fmt, force=True) for t, ids in zip(targets, parts.values(),
                                                                   strict=True)]


@dataclass(frozen=True)
class ExportRequest:
    """One export as a user asks for it (the app's dialog, a script): the image ids, the
    format, where, and an optional split. Holds no dataset: :meth:`run` gets it."""

    ids: np.ndarray
    fmt: Format
    out: Path
    parts: list[tuple[str, float]] | None  # None: no split
    seed: int = 0
    stratify: bool = False
    force: bool = False

    def targets(self) -> list[Path]:
        if self.parts is None:
            return [self.out]
        return [self.out / f"{name}{suffix(self.fmt)}" for name, _ in self.parts]

    def run(self, ds: Dataset) -> tuple[str, list[Path]]:
        """("exists", files) without writing when outputs exist and not ``force`` (the
        caller asks, then runs it again with ``force``); else ("done", files written).
        An input file is never a target, forced or not (:func:`_guard`)."""
        for t in self.targets():
            _guard(ds, t, force=True)
        if not self.force:
            existing = [t for t in self.targets() if t.exists()]
            if existing:
                return "exists", existing
        if self.parts is None:
            return "done", [export(ds, self.ids, self.out, self.fmt, force=self.force)]
        from cocoview.model.split import split_images

        split = split_images(ds, self.ids, self.parts, self.seed, self.stratify)
        return "done", export_split(ds, split, self.out, self.fmt, force=self.force)


def _guard(ds: Dataset, path: Path, force: bool) -> None:
    resolved = path.resolve()
    for f in ds.files:
        if f.path.resolve() == resolved:
            raise WriteError(f"refusing to write over the input file {path}")
    if path.exists() and not force:
        raise WriteError(f"{path} exists (use --force to overwrite)")


def category_rows(ds: Dataset, parts: dict[str, np.ndarray]) -> list[dict[str, object]]:
    """The per-category table of a split (see :func:`cocoview.model.split.category_table`)."""
    from cocoview.model.split import category_table

    return category_table(ds, parts)


def table_csv(rows: Iterable[dict[str, object]]) -> bytes:
    rows = list(rows)
    if not rows:
        return b""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue().encode()


def write_table(rows: Iterable[dict[str, object]], out: str | Path, force: bool = False) -> Path:
    path = Path(out)
    if path.exists() and not force:
        raise WriteError(f"{path} exists (use --force to overwrite)")
    data = table_csv(rows)
    atomic_write(path, lambda fh: fh.write(data))
    return path
