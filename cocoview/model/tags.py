"""Image tags (issue 17): free text, several per image, kept in an image object's
``"tags"`` list (what Save As writes, so a saved file brings its tags back).

The file's tags are found without decoding every image: the bytes of the images are
searched for ``"tags"`` and only the records that hold it are decoded (train2017
without tags: one byte search). The edits' tags override them per image
(:class:`~cocoview.model.edits.EditLayer`); the edited dataset carries the result,
which the image filter (``tag``) and the list's column read through :func:`image_tags`.
The app finds the file's tags in a worker once a dataset is open (the filter panel).
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

import msgspec
import numpy as np

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

Tags = tuple[str, ...]
#: the tag filter's value for "images without any tag" (a tag never holds a comma)
UNTAGGED = ","
_KEY = b'"tags"'
_OBJ = msgspec.json.Decoder(dict[str, object])
_lock = threading.Lock()
_cache: weakref.WeakKeyDictionary[Dataset, dict[int, Tags]] = weakref.WeakKeyDictionary()


def check_tag(tag: str) -> str | None:
    """Why ``tag`` cannot be a tag (None: it can)."""
    if not isinstance(tag, str) or not tag.strip():
        return "a tag cannot be empty"
    if tag != tag.strip():
        return f"tag {tag!r} has spaces around it"
    if "," in tag:
        return f"tag {tag!r} has a comma (commas separate tags)"
    return None


def _record_tags(raw: bytes) -> tuple[int, Tags] | None:
    try:
        obj = _OBJ.decode(raw)
    except msgspec.DecodeError:
        return None
    iid, tags = obj.get("id"), obj.get("tags")
    if not isinstance(iid, int) or not isinstance(tags, list):
        return None
    good = _valid(tags)
    return (iid, good) if good else None


def known_file_tags(ds: Dataset) -> dict[int, Tags] | None:
    """:func:`file_tags` if it was computed already, else None (the GUI thread asks so:
    finding them reads the images' bytes, ~0.1 s at train2017 size)."""
    return _cache.get(getattr(ds, "_edited_base", ds))


def file_tags(ds: Dataset) -> dict[int, Tags]:
    """Image id → the tags its record has in the file (cached per dataset; two threads
    asking at once scan once)."""
    base = getattr(ds, "_edited_base", ds)
    hit = _cache.get(base)
    if hit is not None:
        return hit
    with _lock:
        hit = _cache.get(base)
        if hit is None:
            hit = _cache[base] = _scan(base)
        return hit


def _scan(base: Dataset) -> dict[int, Tags]:
    out: dict[int, Tags] = {}
    for f in base.files:
        off, n = f.images.rec_off, f.images.rec_len
        if not len(off):
            continue
        order = np.argsort(off, kind="stable")
        starts = off[order]
        lo, hi = int(starts[0]), int(starts[-1] + n[order[-1]])
        span = bytes(f.data[lo:hi])  # the images' bytes (a lazily read file: one read)
        pos = 0
        while True:
            pos = span.find(_KEY, pos)
            if pos < 0:
                break
            k = int(order[max(int(np.searchsorted(starts, lo + pos, side="right")) - 1, 0)])
            a, b = int(off[k]) - lo, int(off[k] + n[k]) - lo
            found = _record_tags(span[a:b]) if a <= pos < b else None
            if found is not None:
                out.setdefault(found[0], found[1])
            pos = max(pos + len(_KEY), b)
    return out


def image_tags(ds: Dataset, known: bool = False) -> dict[int, Tags]:
    """Image id → its tags in ``ds`` (an edited dataset's: the file's with the edits').
    ``known``: without finding the file's tags if that was not done yet."""
    base = known_file_tags(ds) if known else file_tags(ds)
    edits: dict[int, Tags] | None = getattr(ds, "_edited_tags", None)
    if edits is None:
        return base or {}
    merged = {**(base or {}), **edits}
    return {k: v for k, v in merged.items() if v}


def tags_of(ds: Dataset, image_id: int, record: dict[str, object] | None = None) -> Tags:
    """One image's tags in ``ds``, O(1): the edits', else those of its ``record`` (the
    image object, if the caller has it: no file scan), else the file's."""
    edits: dict[int, Tags] | None = getattr(ds, "_edited_tags", None)
    if edits is not None and image_id in edits:
        return edits[image_id]
    if record is not None:
        tags = record.get("tags")
        return _valid(tags) if isinstance(tags, list) else ()
    return file_tags(ds).get(image_id, ())


def _valid(tags: list[object]) -> Tags:
    return tuple(dict.fromkeys(t for t in tags if isinstance(t, str) and check_tag(t) is None))


def tag_mask(ds: Dataset, tag: str) -> np.ndarray:
    """Per image row: has the image ``tag`` (:data:`UNTAGGED`: has it no tag at all)?"""
    tags = image_tags(ds)
    ids = [i for i, t in tags.items() if t and (tag == UNTAGGED or tag in t)]
    rows = ds.image_rows(np.asarray(ids, np.int64))
    mask = np.zeros(len(ds.image_ids), bool)
    mask[rows[rows >= 0]] = True
    return ~mask if tag == UNTAGGED else mask


def tag_counts(ds: Dataset, known: bool = False) -> dict[str, int]:
    """Tag → how many images have it, most used first (then by name); ``known``: as in
    :func:`image_tags`."""
    counts: dict[str, int] = {}
    for t in image_tags(ds, known).values():
        for tag in t:
            counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
