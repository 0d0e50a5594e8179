"""One opened file's index: the columns, the raw bytes they point into, and access to
each record as it is in the file (``FileIndex``). Made by :mod:`cocoview.model.parse`,
stored and memory-mapped by :mod:`cocoview.model.cache`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from cocoview.model.columns import (
    AnnColumns,
    ImageColumns,
)
from cocoview.model.errors import CocoFormatError, Problem
from cocoview.model.records import (
    TOP_DECODER,
)
from cocoview.model.source import (
    UndecodableValue,
    decode_replacing,
    decode_value,
)


@dataclass
class FileIndex:
    """Everything cocoview knows about one file after opening it."""

    path: Path
    #: the file's (decoded) bytes, or after a cache hit a reader that slices by offset
    data: Any
    kind: str
    images: ImageColumns
    anns: AnnColumns
    categories: list[dict[str, Any]]
    problems: list[Problem] = field(default_factory=list)
    #: byte span of every record of the annotations array, in file order
    ann_rec_off: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ann_rec_len: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    is_list: bool = False  # a bare top-level list (results files)
    has_categories_key: bool = True
    #: panoptic: annotation record ordinal → PNG file name
    panoptic_png: dict[int, str] = field(default_factory=dict)
    captions: dict[int, list[str]] = field(default_factory=dict)
    #: caption records (they are not annotation rows): ordinals and image ids
    caption_ordinals: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    caption_image_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    #: this index is in the index cache (loaded from it, or just stored there)
    cached: bool = False
    #: annotation chunks a helper process decoded during this open (0: all done here)
    helper_chunks: int = 0
    #: byte spans of the small top-level values (info, licenses), read without a scan
    top_spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: the file's exact doubles of every record (by ordinal), when every chunk took the
    #: fast path in this open: "bbox64" (n, 4), "area64", "crowd" (iscrowd ≠ 0); None
    #: after a cache hit or a lenient record (the evaluation then decodes the file)
    exact: dict[str, np.ndarray] | None = None
    _top: dict[str, msgspec.Raw] | None = None

    @property
    def n_records(self) -> int:
        return len(self.ann_rec_off)

    def top(self) -> dict[str, msgspec.Raw]:
        """Top-level keys → raw values (scanned on first use; unknown keys included)."""
        if self._top is None:
            if self.is_list:
                self._top = {}
            else:
                data = self.all_bytes()
                # a key that is not UTF-8 is read replaced
                self._top = decode_replacing(TOP_DECODER, data)
        return self._top

    def top_value(self, key: str) -> Any:
        """A top-level value (e.g. ``licenses``) decoded, or None if the file has none."""
        span = self.top_spans.get(key)
        try:
            if span is not None:
                return decode_value(self.data[span[0] : span[0] + span[1]])
            raw = self.top().get(key)
            return None if raw is None else decode_value(raw)
        except UndecodableValue as exc:
            raise CocoFormatError(self.path, f"'{key}': {exc}", span[0] if span else None) \
                from None

    def all_bytes(self) -> bytes:
        data = self.data
        if isinstance(data, (bytes, bytearray)):
            return data  # type: ignore[return-value]  # bytes-like, read only
        return bytes(data.read_all())

    def record_bytes(self, ordinal: int) -> bytes:
        off, n = int(self.ann_rec_off[ordinal]), int(self.ann_rec_len[ordinal])
        return self.data[off : off + n]

    def record(self, ordinal: int) -> Any:
        """The ``ordinal``-th element of the annotations array, as in the file."""
        try:
            return decode_value(self.record_bytes(ordinal))
        except UndecodableValue as exc:
            where = "" if self.is_list else "annotations"
            raise CocoFormatError(self.path, f"{where}[{ordinal}]: {exc}",
                                  int(self.ann_rec_off[ordinal])) from None

    def image_record(self, row: int) -> Any:
        off, length = int(self.images.rec_off[row]), int(self.images.rec_len[row])
        try:
            return decode_value(self.data[off : off + length])
        except UndecodableValue as exc:
            raise CocoFormatError(self.path, f"images[{int(self.images.ordinal[row])}]: {exc}",
                                  off) from None
