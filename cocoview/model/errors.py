"""The one error type for unusable files, and problems for damage inside records."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class CocoFormatError(Exception):
    """A file that cannot be read as a COCO document at all.

    Carries the file, the byte position where it is known, and the cause, so the
    CLI and the GUI can say all three in one line.
    """

    def __init__(self, path: str | Path, cause: str, position: int | None = None) -> None:
        self.path = str(path)
        self.cause = cause
        self.position = position
        where = f" at byte {position}" if position is not None else ""
        super().__init__(f"{self.path}{where}: {cause}")


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one item of a file, located like ``annotations[12] (id 7)``."""

    severity: Severity
    code: str
    message: str
    location: str = ""
    file: str = ""
    image_id: int | None = None
    annotation_id: int | None = None

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.location) if p)
        return f"{self.severity}: {where}: {self.message}" if where else (
            f"{self.severity}: {self.message}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
            "location": self.location,
            "file": self.file,
            "image_id": self.image_id,
            "annotation_id": self.annotation_id,
        }
