"""Reading a file's bytes (plain or gzip) with one clear error for every failure."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from pathlib import Path
from typing import Any

import msgspec

from cocoview.model.errors import CocoFormatError

_GZIP_MAGIC = b"\x1f\x8b"
_BYTE_POS = re.compile(r"\(byte (\d+)\)")


def read_bytes(path: str | Path) -> bytes:
    """The decoded (un-gzipped) bytes of a JSON file, opened read-only."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise CocoFormatError(p, "file not found") from None
    except IsADirectoryError:
        raise CocoFormatError(p, "is a folder, not a file") from None
    except PermissionError:
        raise CocoFormatError(p, "permission denied") from None
    except OSError as exc:
        raise CocoFormatError(p, f"cannot read: {exc.strerror or exc}") from None
    if raw[:2] == _GZIP_MAGIC or p.suffix.lower() == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise CocoFormatError(p, f"corrupt gzip stream: {exc}") from None
    if not raw.strip():
        raise CocoFormatError(p, "the file is empty", 0)
    return raw


def decode_error(path: str | Path, exc: Exception, size: int) -> CocoFormatError:
    """Turn a msgspec/json decode error into the clear error, with a byte position."""
    msg = str(exc)
    m = _BYTE_POS.search(msg)
    pos = int(m.group(1)) if m else None
    if "truncated" in msg:
        return CocoFormatError(path, "the JSON ends too early (truncated file?)", size)
    cause = _BYTE_POS.sub("", msg).strip().rstrip(":").strip()
    cause = cause.replace("JSON is malformed: ", "not valid JSON: ")
    return CocoFormatError(path, cause, pos)


class UndecodableValue(ValueError):
    """A JSON value that cannot be decoded even leniently (see :func:`decode_value`)."""


def is_invalid_utf8(exc: BaseException) -> bool:
    """Whether a decode failed on invalid UTF-8 text.

    msgspec before 0.20 raised ``UnicodeDecodeError``; later ones raise a
    ``DecodeError`` saying "Invalid UTF-8": both mean the same to us.
    """
    return isinstance(exc, UnicodeDecodeError) or (
        isinstance(exc, msgspec.DecodeError) and "UTF-8" in str(exc))


def decode_replacing(decoder: Any, data: Any) -> Any:
    """``decoder.decode(data)``; on invalid UTF-8, again with it replaced (U+FFFD).

    The retry decodes other bytes: raw values it returns point into those.
    """
    try:
        return decoder.decode(data)
    except (UnicodeDecodeError, msgspec.DecodeError) as exc:
        if not is_invalid_utf8(exc):
            raise
    return decoder.decode(bytes(data).decode("utf-8", "replace").encode("utf-8"))


def _int(text: str) -> int | float:
    """An integer literal; beyond Python's 4,300-digit conversion limit, a float (inf)."""
    return int(text) if len(text) <= 4000 else float(text)


def decode_value(data: Any) -> Any:
    """One JSON value from the file's bytes, as leniently as the loader opens files.

    msgspec checks neither the UTF-8 of values it skipped while indexing nor
    numbers beyond double range (``1e999``) or 4,300 digits: invalid UTF-8 is
    replaced (U+FFFD), out-of-range numbers go through Python's json (``inf``),
    and a value that still cannot be read raises :class:`UndecodableValue`.
    """
    raw = bytes(data)
    try:
        return decode_replacing(msgspec.json, raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeError, RecursionError):
        pass
    try:
        return json.loads(raw.decode("utf-8", "replace"), parse_int=_int)
    except (ValueError, RecursionError) as exc:
        raise UndecodableValue(f"cannot decode the value: {exc}") from None
