"""Annotation rows grouped by a key, so that a filter that keeps few of many rows reads
only those (issues 15, 18: a filter edit within 0.3 s at 20 M annotations).

A scan of every annotation costs ~150–350 ms at 20 M rows whatever the filter keeps:
it reads the whole box column and scatters every selected row into the image mask.
Here the rows are ordered once by a key — the category, or a bucket of the box's
width, height or aspect ratio — and a filter takes the rows of the keys its ranges
touch as *candidates*, on which the filter's own exact test is then run. So the index
only narrows, it never decides: the answer is the scan's, bit for bit (the tests
compare them).

A box field's key is the top 16 bits of the value as float32 (buckets of 2^-7
relative width; ``uint16`` keys, so NumPy's stable argsort is a radix sort). A range
takes its end buckets as candidates, widened by a relative 1e-6 so that no value the
exact test keeps (float32 compares for width and height, ``w ≥ a·h`` in float64 for
the aspect) lies outside; the buckets strictly inside the range, narrowed as much,
pass without a test when the range is the filter's only per-box criterion.

The orders are kept beside the index cache (a one-file dataset), so they are built
once per file; a dataset that has none yet is scanned (see :func:`build`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

#: the box fields that have an order (the filter's ``min_box_*`` / ``max_box_*``)
FIELDS = ("width", "height", "aspect")
#: under this many annotations a scan is as fast: no index is built
MIN_ANNOTATIONS = 2_000_000
#: candidates beyond this share of the rows: scan instead (reading them costs more)
MAX_SHARE = 0.4
#: how far a range's ends are widened (candidates) or narrowed (rows that surely pass):
#: far beyond a float32 rounding (6e-8) and the aspect's quotient-vs-product one (1e-16)
_MARGIN = 1e-6


def _up(x: float) -> np.float32:
    return np.float32(x + abs(x) * _MARGIN + 1e-30)


def _down(x: float) -> np.float32:
    return np.float32(x - abs(x) * _MARGIN - 1e-30)


def sortable_key(v: np.ndarray) -> np.ndarray:
    """The top 16 bits of a float32's bits, flipped so that the integer order is the
    number order: a bucket of 2^-7 relative width (sign, exponent, 7 bits of mantissa).
    NaNs fall outside every finite range (beyond ±inf)."""
    with np.errstate(over="ignore"):  # an aspect beyond float32: inf, its key the last
        b = np.ascontiguousarray(v, np.float32).view(np.uint32)
    u = np.where(b >> 31 == 1, ~b, b | np.uint32(0x80000000))
    return (u >> 16).astype(np.uint16)


def _key(x: np.float32) -> int:
    return int(sortable_key(np.array([x], np.float32))[0])


@dataclass(frozen=True)
class KeyOrder:
    """Rows sorted by a small integer key: ``order[starts[k]:starts[k + 1]]`` are the
    rows of key ``k`` (file order within a key)."""

    order: np.ndarray  # int32 rows
    starts: np.ndarray  # int64, one more than there are keys

    def rows(self, first: int, last: int) -> np.ndarray:
        """The rows of keys ``first``..``last`` (both included; none if last < first)."""
        if last < first:
            return self.order[:0]
        return self.order[self.starts[first] : self.starts[last + 1]]

    def count(self, first: int, last: int) -> int:
        return 0 if last < first else int(self.starts[last + 1] - self.starts[first])

    @staticmethod
    def key_range(lo: float | None, hi: float | None) -> tuple[int, int, int, int]:
        """For a box field's lo ≤ v ≤ hi (None: open): the keys that hold every value
        that can pass (first, last), and those whose every value passes (sure_first,
        sure_last), for the float32 test of width and height and the float64
        ``w ≥ a·h`` of the aspect alike."""
        low, high = _key(np.float32(-np.inf)), _key(np.float32(np.inf))
        first = low if lo is None else _key(_down(lo))
        last = high if hi is None else _key(_up(hi))
        sure_first = (low if lo is None else _key(_up(lo))) + 1
        sure_last = (high if hi is None else _key(_down(hi))) - 1
        return first, last, sure_first, sure_last

    def to_arrays(self, name: str) -> dict[str, np.ndarray]:
        """Integer arrays for the index cache (which keeps 1-D integer arrays)."""
        return {f"fi_{name}_order": self.order, f"fi_{name}_starts": self.starts}

    @classmethod
    def from_arrays(cls, name: str, arrays: dict[str, np.ndarray], n_rows: int
                    ) -> KeyOrder | None:
        order = arrays.get(f"fi_{name}_order")
        starts = arrays.get(f"fi_{name}_starts")
        if order is None or starts is None or len(order) != n_rows:
            return None
        if not len(starts) or int(starts[-1]) != n_rows or (
                name != "category" and len(starts) != (1 << 16) + 1):
            return None
        return cls(np.asarray(order), np.asarray(starts))


def _by_key(keys: np.ndarray, n_keys: int) -> KeyOrder:
    order = np.argsort(keys, kind="stable").astype(np.int32)  # uint16: a radix sort
    counts = np.bincount(keys, minlength=n_keys)
    starts = np.zeros(n_keys + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    return KeyOrder(order, starts)


def box_values(bbox: np.ndarray, field: str) -> np.ndarray:
    """The field's value per row (aspect: w/h in float64, NaN unless w, h > 0)."""
    if field == "width":
        return bbox[:, 2]
    if field == "height":
        return bbox[:, 3]
    w, h = bbox[:, 2].astype(np.float64), bbox[:, 3].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = w / h
    out[~((w > 0) & (h > 0))] = np.nan
    return out


def build_field(bbox: np.ndarray, field: str) -> KeyOrder:
    """The order of a box field, by :func:`sortable_key`."""
    return _by_key(sortable_key(box_values(bbox, field)), 1 << 16)


def build_category(cidx: np.ndarray, n_categories: int) -> KeyOrder:
    """Rows by category index (key 0: an id the categories lack, index -1)."""
    dtype = np.uint16 if n_categories + 1 < 1 << 16 else np.int32
    return _by_key((cidx + 1).astype(dtype), n_categories + 1)


class FilterIndex:
    """The orders of one dataset, built on request (:meth:`build`) and read by the filters;
    each order appears whole or not at all (no lock needed to read)."""

    def __init__(self, ds: Dataset) -> None:
        self._ds = ds
        self._orders: dict[str, KeyOrder] = {}
        self._lock = threading.Lock()
        arrays = ds.cached_arrays("fi_")
        n = len(ds.anns)
        for name in ("category", *FIELDS):
            ko = KeyOrder.from_arrays(name, arrays, n)
            if ko is not None:
                self._orders[name] = ko

    def get(self, name: str) -> KeyOrder | None:
        """The order ``name`` (``category`` or a box field) if it is built."""
        return self._orders.get(name)

    def missing(self) -> list[str]:
        return [n for n in ("category", *FIELDS) if n not in self._orders]

    def build(self, name: str) -> None:
        """Build the order ``name`` (in a worker: ~1 s at 20 M rows) and keep it in the
        index cache."""
        with self._lock:
            if name in self._orders:
                return
            ds = self._ds
            if name == "category":
                ko = build_category(ds.ann_category_index, len(ds.categories))
            else:
                ko = build_field(ds.anns.bbox, name)
            self._orders[name] = ko
            ds.keep_arrays(ko.to_arrays(name))

    def warm(self) -> None:
        """Page in what the filters read (the orders and the columns, memory-mapped from
        the index cache): the first filter after an open read them at random, paging in
        ~0.5 GB at 20 M rows one fault at a time (~0.1–0.9 s)."""
        ds = self._ds
        for arr in (ds.anns.bbox, ds.ann_image_row, ds.ann_category_index,
                    *(o.order for o in self._orders.values())):
            _touch(arr)


def _touch(arr: np.ndarray) -> None:
    """Fault in every page of a memory-mapped array (one byte per 4 KiB page)."""
    flat = np.asarray(arr).reshape(-1)
    if flat.flags.c_contiguous and len(flat):
        int(flat.view(np.uint8)[::4096].sum())


def index_of(ds: Dataset) -> FilterIndex | None:
    """The dataset's filter index, or None where a scan is as good or the index could
    be stale (small files; an edited view, whose rows change under it)."""
    from cocoview.model.dataset import Dataset

    if type(ds) is not Dataset or len(ds.anns) < MIN_ANNOTATIONS:
        return None
    return ds.filter_index
