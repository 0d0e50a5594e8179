"""Reading a file's bytes (plain or gzip) with one clear error for every failure."""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import re
import stat
import zlib
from pathlib import Path
from typing import Any

import msgspec

from cocoview.model.errors import CocoFormatError

_GZIP_MAGIC = b"\x1f\x8b"
_BYTE_POS = re.compile(r"\(byte (\d+)\)")


#: a .gz may inflate to at most this many times its size (0: no limit). Real COCO
#: files compress 4-15x; a gzip bomb compresses 1000x. The CLI's --gzip-max-ratio and
#: the environment variable COCOVIEW_GZIP_MAX_RATIO change it.
GZIP_MAX_RATIO = 100
#: … but a small file may always inflate to this much
GZIP_MIN_LIMIT = 256 << 20
_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def gzip_max_ratio() -> float:
    """The ratio in force: the environment's if it sets one, else :data:`GZIP_MAX_RATIO`."""
    env = os.environ.get("COCOVIEW_GZIP_MAX_RATIO", "").strip()
    try:
        return float(env) if env else GZIP_MAX_RATIO
    except ValueError:
        return GZIP_MAX_RATIO


def check_regular(path: str | Path) -> os.stat_result:
    """The file's stat if it is a regular file; else the clear error.

    Checked before any ``open``: opening a FIFO blocks until a writer comes, and
    a device such as ``/dev/zero`` never ends.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise CocoFormatError(p, "file not found") from None
    except PermissionError:
        raise CocoFormatError(p, "permission denied") from None
    except OSError as exc:
        raise CocoFormatError(p, f"cannot read: {exc.strerror or exc}") from None
    _refuse_special(p, st)
    return st


def _refuse_special(p: Path, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise CocoFormatError(p, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        what = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise CocoFormatError(p, f"is {what}, not a regular file: cocoview reads files only")


def read_bytes(path: str | Path) -> bytes | bytearray:
    """The decoded (un-gzipped) bytes of a JSON file, opened read-only.

    Only regular files are read, and never more than their size when opened: a
    file that grows meanwhile is an error, not an unbounded read.
    """
    p = Path(path)
    check_regular(p)
    try:  # non-blocking: a FIFO put in its place since the check must not hang us
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise CocoFormatError(p, "file not found") from None
    except IsADirectoryError:
        raise CocoFormatError(p, "is a folder, not a file") from None
    except PermissionError:
        raise CocoFormatError(p, "permission denied") from None
    except OSError as exc:
        raise CocoFormatError(p, f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        _refuse_special(p, st)
        try:
            raw: bytes | bytearray = fh.read(st.st_size + 1)
        except OSError as exc:
            raise CocoFormatError(p, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > st.st_size:
        raise CocoFormatError(p, "the file grew while it was read (is it still being "
                              "written?)")
    if raw[:2] == _GZIP_MAGIC or p.suffix.lower() == ".gz":
        raw = _inflate(p, bytes(raw))
    if not raw.strip():
        raise CocoFormatError(p, "the file is empty", 0)
    return raw


def _inflate(p: Path, raw: bytes) -> bytearray:
    """``gzip.decompress`` with a bound, in steps: a bomb stops at the bound.

    The output grows in one buffer (no list of pieces joined at the end), so a
    large file is held once, not twice.
    """
    ratio = gzip_max_ratio()
    limit = max(int(ratio * len(raw)), GZIP_MIN_LIMIT) if ratio > 0 else None
    out = bytearray()
    data = memoryview(raw)
    step = 1 << 24
    try:
        while data:  # one gzip member after another, like gzip.decompress
            d = zlib.decompressobj(wbits=31)
            chunk: bytes | memoryview = data
            while not d.eof:
                piece = d.decompress(chunk, step)
                out += piece
                if limit is not None and len(out) > limit:
                    raise CocoFormatError(
                        p, f"the gzip stream inflates to more than {limit / 2**20:,.0f} MiB "
                        f"({ratio:g} times its size; a gzip bomb?): give --gzip-max-ratio 0 "
                        "or set COCOVIEW_GZIP_MAX_RATIO=0 to open it anyway")
                chunk = d.unconsumed_tail
                if not d.eof and not piece and not chunk:
                    raise EOFError("Compressed file ended before the end-of-stream marker "
                                   "was reached")
            data = memoryview(d.unused_data)
            while data[:1] == b"\0":  # gzip allows zero padding between members
                data = data[1:]
    except (OSError, EOFError, zlib.error) as exc:
        raise CocoFormatError(p, f"corrupt gzip stream: {exc}") from None
    return out  # not bytes(out): that copy would double the peak


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


def release_pages(data: Any, start: int, end: int) -> None:
    """Drop the pages of ``data[start:end]`` from memory (they stay in the page cache)."""
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        page = mmap.PAGESIZE
        lo = start - start % page
        with contextlib.suppress(OSError, ValueError):
            data.madvise(mmap.MADV_DONTNEED, lo, max(end - lo, 0))
