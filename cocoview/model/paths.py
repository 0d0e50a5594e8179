"""Finding image files: ``--images DIR`` or the usual COCO layouts next to the JSON.

And keeping to that folder: a ``file_name`` that is absolute, has a ``..`` part
or resolves (through a symbolic link) outside the images folder is reported and
not opened unless the caller allows it (:func:`resolve_image_path`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
        here / "input_images",  # panopticapi's sample layout
        up / "input_images",
        here,
        up,
    ]
    out: list[Path] = []
    for r in roots:
        if r not in out:
            out.append(r)
    return out


def is_file(root: Path, name: str) -> bool:
    """``root / name`` is a file; False for names the OS refuses (too long, NUL, …)."""
    try:
        return (root / name).is_file()
    except (OSError, ValueError):
        return False


def choose_root(json_path: Path, file_names: Sequence[str], sample: int = 64) -> Path:
    """The candidate folder in which most of a sample of ``file_names`` exist."""
    return find_root(json_path, file_names, sample)[0]


def find_root(json_path: Path, file_names: Sequence[str], sample: int = 64) -> tuple[Path, int]:
    """:func:`choose_root`, and how many of the sampled files it holds (0: none found)."""
    roots = candidate_roots(json_path)
    if not file_names:
        return json_path.parent, 0
    step = max(1, len(file_names) // sample)
    picks = [f for f in file_names[::step][:sample] if f]
    best, best_hits = None, 0
    for root in roots:
        if not root.is_dir():
            continue
        hits = sum(1 for f in picks if is_file(root, f))
        if hits > best_hits:
            best, best_hits = root, hits
    if best is not None:
        return best, best_hits
    for root in roots:
        if root.is_dir() and root != json_path.parent.parent:
            return root, 0
    return json_path.parent, 0


@dataclass(frozen=True)
class ImagePath:
    """Where an image's ``file_name`` points, and whether that is inside the images folder.

    ``outside`` says why the file is outside ("" when inside): ``file_name`` is an
    absolute path, has a ``..`` part, or resolves (through a symbolic link) to a
    place outside the folder. Such files are not opened unless the caller
    explicitly allows it (:meth:`usable`).
    """

    file_name: str
    path: Path | None  # root / file_name (None without a file name)
    outside: str = ""  # why it is outside ("" when inside)
    by_name: bool = False  # the name alone says so (absolute or "..": no disk access needed)

    def usable(self, allow_outside: bool = False) -> Path | None:
        """The path to open, or None (no file name, or outside and not allowed)."""
        if self.outside and not allow_outside:
            return None
        return self.path


def name_outside_reason(file_name: str) -> str:
    """Why ``file_name`` alone leaves the images folder ("" if it does not): no disk access."""
    p = Path(file_name)
    if p.is_absolute() or p.drive or p.root:
        return f"file_name {file_name!r} is an absolute path"
    if ".." in p.parts:
        return f"file_name {file_name!r} contains '..'"
    return ""


def resolve_image_path(root: Path, file_name: str, *, follow_links: bool = True,
                       real_root: Path | None = None) -> ImagePath:
    """``file_name`` against the images folder ``root``, checked for leaving it.

    With ``follow_links`` (the default; it touches the disk, so call it from a
    worker), symbolic links are resolved and a link inside ``root`` that points
    outside it counts as outside: links are followed only within the folder.
    ``real_root`` is ``root.resolve()`` when the caller already knows it.
    """
    if not file_name:
        return ImagePath(file_name, None)
    path = root / file_name
    reason = name_outside_reason(file_name)
    if reason:
        return ImagePath(file_name, path, reason, by_name=True)
    if follow_links:
        try:
            real_root = root.resolve() if real_root is None else real_root
            real = path.resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a NUL character…
            return ImagePath(file_name, path, f"file_name {file_name!r} cannot be resolved: "
                             f"{exc}")
        if not real.is_relative_to(real_root):
            return ImagePath(file_name, path, f"file_name {file_name!r} resolves to {real}, "
                             f"outside the images folder {real_root}")
    return ImagePath(file_name, path)
