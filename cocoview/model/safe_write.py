"""Writes that never leave a partial file: a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _read_umask() -> int:
    umask = os.umask(0o022)  # reading the umask means setting it: done once, at import
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


class WriteError(Exception):
    """An output could not be written; nothing was left behind."""


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object],
                 overwrite: bool = True) -> None:
    """Call ``write(fh)`` on a temporary file in the target's folder, then rename it."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.exists() and not overwrite:
        raise WriteError(f"{target} exists (use --force to overwrite)")
    if not folder.is_dir():
        raise WriteError(f"cannot write {target}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file 0600: give it the mode a plain open() would have
        # (or the replaced file's own mode)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
