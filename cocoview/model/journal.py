"""The edit journal (issue 17): JSON lines, appended and flushed per edit, in the user's
data folder keyed like the index cache (a hash of the input's resolved path), so a crash
loses no edit. The first line names the input and its fingerprint; a journal of another
file (or of the file since changed) is refused."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

from cocoview.model import edits as E
from cocoview.model.cache import fingerprint
from cocoview.model.cache_info import cache_dir

OPS: dict[str, type] = {t.__name__: t for t in (
    E.DeleteAnnotation, E.Relabel, E.SetCrowd, E.RenameCategory, E.MergeCategory,
    E.DeleteCategory, E.DeleteImage, E.SetTags,
    E.SetBox, E.AddAnnotation)}


class JournalError(ValueError):
    pass


def journal_path(src: Path, root: Path | None = None) -> Path:
    key = hashlib.blake2b(str(src.resolve()).encode(), digest_size=16).hexdigest()
    return (root or cache_dir()) / "journals" / f"{key}.jsonl"


def _header(src: Path) -> dict[str, Any]:
    size, _mtime, fp = fingerprint(src)
    return {"file": str(src.resolve()), "size": size, "fingerprint": fp}


def encode(edit: E.Edit) -> str:
    d = dataclasses.asdict(edit)
    if "tags" in d:
        d["tags"] = list(d["tags"])
    return json.dumps({"op": type(edit).__name__, **d})


def decode(line: str) -> E.Edit:
    d = json.loads(line)
    cls = OPS.get(d.pop("op", None))
    if cls is None:
        raise JournalError(f"not an edit: {line.strip()[:80]}")
    for key in ("tags", "chained"):
        if key in d:
            d[key] = tuple(d[key])
    if isinstance(d.get("bbox"), list):  # SetBox, AddAnnotation
        d["bbox"] = tuple(d["bbox"])
    return cls(**d)


class Journal:
    """Appends each applied edit (``record``) to the journal of ``src``."""

    def __init__(self, src: Path, path: Path | None = None) -> None:
        self.src = src
        self.path = path or journal_path(src)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._fh: IO[str] = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        if fresh:
            self._write(json.dumps(_header(src)))

    def _write(self, line: str) -> None:
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def record(self, edit: E.Edit) -> None:
        self._write(encode(edit))

    def close(self) -> None:
        self._fh.close()

    def discard(self) -> None:
        """After a save: the journal's edits are in the saved file."""
        self.close()
        self.path.unlink(missing_ok=True)


def read(path: Path, src: Path) -> list[E.Edit]:
    """The edits of the journal ``path`` of ``src``; JournalError if it is another file's."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc.strerror or exc}") from None
    if not lines:
        return []
    try:
        head = json.loads(lines[0])
    except json.JSONDecodeError:
        raise JournalError(f"{path} is not an edit journal") from None
    want = _header(src)
    if not isinstance(head, dict) or head.get("fingerprint") != want["fingerprint"] \
            or head.get("size") != want["size"]:
        raise JournalError(f"{path} is the journal of another file "
                           f"({head.get('file') if isinstance(head, dict) else '?'}), "
                           f"not of {src}")
    out = []
    for k, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        try:
            out.append(decode(line))
        except (json.JSONDecodeError, TypeError):
            if k == len(lines):  # a last line cut by the crash
                break
            raise JournalError(f"{path}:{k}: not an edit") from None
    return out


def restore(layer: E.EditLayer, path: Path | None = None) -> int:
    """Apply the unsaved edits of ``layer``'s file; how many."""
    src = layer.ds.files[0].path
    p = path or journal_path(src)
    if not p.exists():
        return 0
    edits = read(p, src)
    for e in edits:
        layer.apply(e)
    return len(edits)
