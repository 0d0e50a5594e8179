"""Finding image files: ``--images DIR`` or the usual COCO layouts next to the JSON."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def candidate_roots(json_path: Path) -> list[Path]:
    """Folders that ``file_name`` is usually relative to, most specific first.

    ``annotations/instances_val2017.json`` → ``val2017/``, ``images/val2017/``,
    ``images/``; Roboflow keeps images beside the JSON; labelme's exporter puts
    sub-folders in ``file_name`` relative to the JSON's folder.
    """
    here = json_path.parent
    up = here.parent
    split = json_path.name.split(".")[0]
    split = split.rsplit("_", 1)[-1] if "_" in split else split
    roots = [
        up / split,
        up / "images" / split,
        here / split,
        up / "images",
        here / "images",
        here,
        up,
    ]
    out: list[Path] = []
    for r in roots:
        if r not in out:
            out.append(r)
    return out


def choose_root(json_path: Path, file_names: Sequence[str], sample: int = 64) -> Path:
    """The candidate folder in which most of a sample of ``file_names`` exist."""
    roots = candidate_roots(json_path)
    if not file_names:
        return json_path.parent
    step = max(1, len(file_names) // sample)
    picks = [f for f in file_names[::step][:sample] if f]
    best, best_hits = None, 0
    for root in roots:
        if not root.is_dir():
            continue
        hits = sum(1 for f in picks if (root / f).is_file())
        if hits > best_hits:
            best, best_hits = root, hits
    if best is not None:
        return best
    for root in roots:
        if root.is_dir() and root != json_path.parent.parent:
            return root
    return json_path.parent
