"""Finding images by file name (substring or shell glob, case-insensitive) or by id.

Measured on 2 vCPUs: a substring over 100,000 names takes ~5 ms, a glob ~17 ms
(2,000,000 names: 0.10 s and 0.33 s; lower-casing them once: 0.16 s).
``np.strings.find`` was slower than the plain loop (0.36 s for 2 M); a
joined-string ``re.finditer`` wins only for rare matches, so the loop stays.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence

import numpy as np

_GLOB_CHARS = re.compile(r"[*?\[]")


def is_glob(text: str) -> bool:
    return bool(_GLOB_CHARS.search(text))


def parse_id(text: str) -> int | None:
    """The image id typed as ``text`` (digits, optionally with a leading ``#``), else None."""
    t = text.strip().lstrip("#")
    return int(t) if t.isdigit() and len(t) < 20 else None


class NameSearch:
    """Case-insensitive file-name matching over an image table (lower-cased once, lazily)."""

    def __init__(self, file_names: Sequence[str]) -> None:
        self._names = file_names
        self._lower: list[str] | None = None

    def _lowered(self) -> list[str]:
        if self._lower is None:
            self._lower = [n.lower() for n in self._names]
        return self._lower

    def mask(self, text: str) -> np.ndarray:
        """Bool per image row: the file name contains ``text`` (or matches it as a glob)."""
        q = text.strip().lower()
        names = self._lowered()
        if not q:
            return np.ones(len(names), bool)
        if is_glob(q):
            match = re.compile(fnmatch.translate(q)).match
            return np.fromiter(map(bool, map(match, names)), bool, len(names))
        return np.fromiter((q in n for n in names), bool, len(names))
