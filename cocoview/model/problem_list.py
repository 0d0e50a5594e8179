"""Every problem of a dataset as columns: grouped, filtered and written out (CSV, JSON)
without a Python object per row in the views. Filled as the validator finds them.

Qt-free; the Problems dock (``qt/problems_dock.py``) is a view over it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cocoview.model.errors import Problem, Severity
from cocoview.model.safe_write import atomic_write

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

NONE = -1  # no image / annotation / category
FIELDS = ("severity", "code", "category", "image_id", "annotation_id", "location", "file",
          "message")


def _cell(v: object) -> object:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    if v is None:
        return ""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


class Locator:
    """Annotation ids → rows, for many problems at once (one sort of the ids; made in
    the worker that validates, so that the GUI thread never sorts 860k ids)."""

    def __init__(self, ds: Dataset) -> None:
        ids = ds.anns.id
        self._order = ds.ann_id_order  # the dataset's (kept in the index cache)
        self._sorted = ids[self._order]

    def rows(self, problems: list[Problem]) -> np.ndarray:
        """The annotation row of each problem (-1: none, or an id not in the dataset; the
        first row of an id the file repeats)."""
        ann = np.asarray([NONE if p.annotation_id is None else p.annotation_id
                          for p in problems], np.int64)
        out = np.full(len(ann), NONE, np.int64)
        if not len(self._sorted) or not len(ann):
            return out
        pos = np.clip(np.searchsorted(self._sorted, ann), 0, len(self._sorted) - 1)
        found = (ann != NONE) & (self._sorted[pos] == ann)
        out[found] = self._order[pos[found]]
        return out


class ProblemList:
    """The problems found so far, with per-problem columns built on demand."""

    def __init__(self, ds: Dataset) -> None:
        self._ds = ds
        self.problems: list[Problem] = []
        self.codes: list[str] = []  # code index → code
        self._code_index: dict[str, int] = {}
        self._sev: list[int] = []
        self._code: list[int] = []
        self._image: list[int] = []
        self._ann: list[int] = []
        self._rows: list[np.ndarray] = []
        self._arrays: dict[str, np.ndarray] | None = None
        self._locator: Locator | None = None

    def __len__(self) -> int:
        return len(self.problems)

    def add(self, problems: list[Problem], ann_rows: np.ndarray | None = None) -> None:
        """Append problems; ``ann_rows`` (from :class:`Locator`, made in the worker) are
        their annotation rows, else they are looked up here."""
        if ann_rows is None:
            if self._locator is None:
                self._locator = Locator(self._ds)
            ann_rows = self._locator.rows(problems)
        self._rows.append(np.asarray(ann_rows, np.int64))
        for p in problems:
            k = self._code_index.get(p.code)
            if k is None:
                k = self._code_index[p.code] = len(self.codes)
                self.codes.append(p.code)
            self.problems.append(p)
            self._sev.append(int(p.severity))
            self._code.append(k)
            self._image.append(NONE if p.image_id is None else int(p.image_id))
            self._ann.append(NONE if p.annotation_id is None else int(p.annotation_id))
        if problems:
            self._arrays = None

    # ----- columns ------------------------------------------------------------------
    def _cols(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            ann = np.asarray(self._ann, np.int64)
            self._arrays = {"severity": np.asarray(self._sev, np.int8),
                            "code": np.asarray(self._code, np.int32),
                            "image": np.asarray(self._image, np.int64), "ann": ann,
                            "ann_row": (np.concatenate(self._rows) if self._rows else
                                        np.zeros(0, np.int64))}
            rows = self._arrays["ann_row"]
            cidx = self._ds.ann_category_index
            cat = np.full(len(ann), NONE, np.int64)
            has = rows >= 0
            ci = cidx[rows[has]]
            cat[np.flatnonzero(has)[ci >= 0]] = np.asarray(
                [c.id for c in self._ds.categories], np.int64)[ci[ci >= 0]]
            self._arrays["category"] = cat
        return self._arrays

    @property
    def severity(self) -> np.ndarray:
        return self._cols()["severity"]

    @property
    def code(self) -> np.ndarray:
        return self._cols()["code"]

    @property
    def image_id(self) -> np.ndarray:
        return self._cols()["image"]

    @property
    def annotation_id(self) -> np.ndarray:
        return self._cols()["ann"]

    @property
    def annotation_row(self) -> np.ndarray:
        return self._cols()["ann_row"]

    @property
    def category_id(self) -> np.ndarray:
        return self._cols()["category"]

    # ----- views --------------------------------------------------------------------
    def groups(self) -> list[tuple[str, Severity, int]]:
        """(code, severity, count) for every pair found, errors first, then by count."""
        if not len(self):
            return []
        key = self.code.astype(np.int64) * 3 + self.severity
        uniq, counts = np.unique(key, return_counts=True)
        out = [(self.codes[int(k) // 3], Severity(int(k) % 3), int(n))
               for k, n in zip(uniq.tolist(), counts.tolist(), strict=True)]
        return sorted(out, key=lambda g: (-int(g[1]), -g[2], g[0]))

    def select(self, min_severity: Severity = Severity.INFO, codes: set[str] | None = None,
               category_id: int | None = None,
               severity: Severity | None = None) -> np.ndarray:
        """Indices of the problems that pass, errors first, then grouped by code (in the
        order found inside a group)."""
        if not len(self):
            return np.zeros(0, np.int64)
        keep = self.severity >= int(min_severity)
        if severity is not None:
            keep &= self.severity == int(severity)
        if codes is not None:
            wanted = [self._code_index[c] for c in codes if c in self._code_index]
            keep &= np.isin(self.code, wanted)
        if category_id is not None:
            keep &= self.category_id == category_id
        idx = np.flatnonzero(keep)
        order = np.lexsort((idx, self.code[idx], -self.severity[idx].astype(np.int16)))
        return idx[order]

    def categories(self) -> list[tuple[int, str, int]]:
        """(category id, name, problems) of the categories that have problems."""
        cat = self.category_id
        ids, counts = np.unique(cat[cat != NONE], return_counts=True)
        out = []
        for cid, n in zip(ids.tolist(), counts.tolist(), strict=True):
            try:
                name = self._ds.category(cid).name
            except KeyError:
                name = str(cid)
            out.append((cid, name, n))
        return out

    def category_name(self, i: int) -> str:
        cid = int(self.category_id[i])
        if cid == NONE:
            return ""
        try:
            return self._ds.category(cid).name
        except KeyError:
            return str(cid)

    def record(self, i: int) -> dict[str, Any]:
        p = self.problems[i]
        return {"severity": str(p.severity), "code": p.code, "category": self.category_name(i),
                "image_id": p.image_id, "annotation_id": p.annotation_id,
                "location": p.location, "file": p.file, "message": p.message}

    # ----- output -------------------------------------------------------------------
    def write(self, path: str | Path, indices: np.ndarray | None = None) -> int:
        """Write the problems (``indices``, default all) as CSV, or JSON if ``path`` ends
        in ``.json``; atomically. Returns how many were written."""
        idx = np.arange(len(self)) if indices is None else np.asarray(indices)
        recs = [self.record(int(i)) for i in idx.tolist()]
        if str(path).lower().endswith(".json"):
            data = json.dumps({"problems": recs}, indent=1, ensure_ascii=False).encode()
        else:
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=list(FIELDS), lineterminator="\n")
            w.writeheader()
            for r in recs:
                w.writerow({k: _cell(v) for k, v in r.items()})
            data = buf.getvalue().encode()
        atomic_write(path, lambda fh: fh.write(data))
        return len(recs)
