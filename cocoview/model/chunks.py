"""One run of annotation records → its columns: the unit of work of a first open.

A chunk is the file's own bytes from one record's start to another's end,
wrapped in ``[``…``]`` (between elements of a JSON array there is only a comma
and white space). :func:`decode_chunk` needs nothing but those bytes, so the
loader can hand chunks to a helper process (``chunk_worker``) as byte ranges and
get columns back; :func:`encode`/:func:`read` carry them across the pipe as
plain arrays (no pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import IO, Any

import msgspec
import numpy as np

from cocoview.model import rawspan
from cocoview.model.columns import (
    SEG_EMPTY,
    SEG_INVALID,
    SEG_NONE,
    SEG_POLYGON,
    SEG_RLE,
    SEG_RLE_RAW,
)
from cocoview.model.records import ANN_LIST_DECODER, MISSING_ID, AnnRec

#: fields kept as raw JSON: their byte offset and length become columns
RAW_KEYS = ("segmentation", "keypoints", "caption", "segments_info")
_BLANK = AnnRec()
#: the default objects of absent fields (msgspec gives every struct the same one)
_ABSENT = {k: getattr(_BLANK, k) for k in RAW_KEYS}
#: fields most files lack: a column only when some record of the chunk has one
OPTIONAL = {"iscrowd": np.int8, "num_keypoints": np.int32, "score": np.float32}
DEFAULTS = {k: getattr(_BLANK, k) for k in OPTIONAL}
_WIDE = {"iscrowd": np.int64, "num_keypoints": np.int64, "score": np.float64}
#: the exact values a chunk carries beside its columns (see ``FileIndex.exact``)
EXACT = ("bbox64", "area64", "crowd")


@dataclass
class Chunk:
    """Columns of ``n`` consecutive records; raw offsets are relative to the chunk's buffer."""

    n: int
    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray | None:
        return self.cols.get(name)


def wrap(records: Any) -> bytes:
    """The bytes of consecutive array elements as a JSON array of their own."""
    return b"".join((b"[", records, b"]"))


def decode_chunk(buf: bytes, count: int, is_list: bool) -> Chunk | None:
    """Decode ``buf`` (a wrapped run of ``count`` records) on the fast path.

    None when any record needs the per-record path: a type surprise, an id
    beyond 64 bits, or a record that cannot be placed (no image id; no id
    unless a results or panoptic record).
    """
    try:
        structs = ANN_LIST_DECODER.decode(buf)
    except (msgspec.ValidationError, OverflowError, RecursionError):
        return None
    if len(structs) != count:
        return None
    try:
        chunk = from_structs(structs, buf)
    except OverflowError:
        return None
    if (chunk.cols["image_id"] == MISSING_ID).any():
        return None
    if not is_list:
        no_id = np.flatnonzero(chunk.cols["id"] == MISSING_ID)
        if not all(len(structs[int(i)].segments_info) for i in no_id):
            return None
    return chunk


def from_structs(recs: list[Any], buf: Any) -> Chunk:
    """Columns of decoded records whose raw values point into ``buf``."""
    n = len(recs)

    def col(name: str, dtype: Any) -> np.ndarray:
        # map + attrgetter run in C: ~3x faster than a comprehension
        return np.fromiter(map(attrgetter(name), recs), dtype, n)

    out = Chunk(n)
    c = out.cols
    c["id"] = col("id", np.int64)
    c["image_id"] = col("image_id", np.int64)
    c["category_id"] = col("category_id", np.int64)
    # the file's doubles are kept beside the float32 columns (EXACT): the evaluation
    # needs them, and decoding them again from the file costs it seconds at 1 M records
    c["bbox64"] = np.fromiter(chain.from_iterable(map(attrgetter("bbox"), recs)),
                              np.float64, 4 * n).reshape(n, 4)
    c["area64"] = col("area", np.float64)
    with np.errstate(over="ignore"):  # beyond float32 (3.4e38) is inf, as intended
        c["bbox"] = c["bbox64"].astype(np.float32)
        c["area"] = c["area64"].astype(np.float32)
    for name, dtype in OPTIONAL.items():
        vals = list(map(attrgetter(name), recs))
        if vals.count(DEFAULTS[name]) != n:  # else absent here: the shared default object
            wide = np.fromiter(vals, _WIDE[name], n)
            c[name] = wide.astype(dtype)
            if name == "iscrowd":  # any non-zero value is a crowd (an int8 may wrap to 0)
                c["crowd"] = wide != 0
    for key in RAW_KEYS:
        raws = list(map(attrgetter(key), recs))
        # absent fields all share the struct's default object: counting it (an
        # identity check per item, in C) is ~5x cheaper than measuring every one
        if raws.count(_ABSENT[key]) == n:
            continue
        c[key + "_off"] = rawspan.offsets(raws, buf)
        c[key + "_len"] = rawspan.lengths(raws).astype(np.int32)
    off = c.get("segmentation_off")
    if off is None:
        c["seg_kind"] = np.full(n, SEG_NONE, np.int8)
    else:
        c["seg_kind"] = seg_kinds(buf, off, c["segmentation_len"])
    return out


#: JSON's white space bytes
_WS = np.zeros(256, bool)
_WS[[9, 10, 13, 32]] = True


def seg_kinds(source: Any, seg_off: np.ndarray, seg_len: np.ndarray) -> np.ndarray:
    """Segmentation kinds from each value's first bytes in ``source``.

    Called per chunk on the chunk's own bytes: reading them from the whole
    file afterwards would make every page of it resident again.
    """
    data = np.frombuffer(source, np.uint8)
    n = len(seg_off)
    kind = np.full(n, SEG_INVALID, np.int8)
    present = seg_off >= 0
    kind[~present] = SEG_NONE
    first = np.zeros(n, np.uint8)
    first[present] = data[seg_off[present]]
    kind[first == ord("n")] = SEG_NONE  # null
    idx = np.flatnonzero(first == ord("["))
    if len(idx):
        # the first byte after "[" that is not white space ("[ ]", a pretty-printed
        # list): stepped for all at once, as far as the indentation goes (a copy and
        # split of each value cost 2.5 s on a pretty-printed train2017)
        last = seg_off[idx] + seg_len[idx] - 1  # the value's closing "]"
        pos = np.minimum(seg_off[idx] + 1, last)
        live = np.flatnonzero(_WS[data[pos]] & (pos < last))
        while len(live):
            pos[live] += 1
            live = live[_WS[data[pos[live]]] & (pos[live] < last[live])]
        empty = data[pos] == ord("]")
        kind[idx] = np.where(empty, SEG_EMPTY, SEG_POLYGON)
    for j in np.flatnonzero(first == ord("{")).tolist():
        text = bytes(source[seg_off[j] : seg_off[j] + seg_len[j]])
        at = text.find(b'"counts"')
        if at < 0:
            continue
        rest = text[text.find(b":", at) + 1 :].lstrip()
        c = rest[:1]
        kind[j] = SEG_RLE if c == b'"' else SEG_RLE_RAW if c == b"[" else SEG_INVALID
    return kind


# ----- across a pipe -----------------------------------------------------------
class _Header(msgspec.Struct):
    index: int
    n: int = 0
    failed: bool = False
    #: the sender has started on this chunk (its result follows later)
    claim: bool = False
    #: (name, dtype string, shape) of each array, in the order of the payload
    arrays: list[tuple[str, str, list[int]]] = []


_HEADER_ENCODER = msgspec.json.Encoder()
_HEADER_DECODER = msgspec.json.Decoder(_Header)


def encode_claim(index: int) -> bytes:
    return _HEADER_ENCODER.encode(_Header(index, claim=True)) + b"\n"


@dataclass
class Result:
    index: int
    chunk: Chunk | None  # None: failed the fast path (or only a claim)
    claim: bool = False


def encode(index: int, chunk: Chunk | None) -> bytes:
    """One result as a JSON header line followed by the arrays' bytes."""
    if chunk is None:
        return _HEADER_ENCODER.encode(_Header(index, failed=True)) + b"\n"
    arrays = [(k, a.dtype.str, list(a.shape)) for k, a in chunk.cols.items()]
    parts = [_HEADER_ENCODER.encode(_Header(index, chunk.n, arrays=arrays)), b"\n"]
    parts += [np.ascontiguousarray(a).tobytes() for a in chunk.cols.values()]
    return b"".join(parts)


def read(stream: IO[bytes]) -> Result | None:
    """The next message from ``stream`` (None at its end; ValueError if it is garbled)."""
    line = stream.readline()
    if not line:
        return None
    try:
        head = _HEADER_DECODER.decode(line)
    except msgspec.DecodeError as exc:
        raise ValueError(f"garbled chunk header: {exc}") from None
    if head.claim or head.failed:
        return Result(head.index, None, head.claim)
    chunk = Chunk(head.n)
    for name, dtype, shape in head.arrays:
        dt = np.dtype(dtype)
        if dt.kind not in "biuf":
            raise ValueError(f"unexpected array type {dtype}")
        nbytes = dt.itemsize * int(np.prod(shape))
        data = stream.read(nbytes)
        if len(data) != nbytes:
            raise ValueError("chunk result cut short")
        chunk.cols[name] = np.frombuffer(data, dt).reshape(shape)
    return Result(head.index, chunk)
