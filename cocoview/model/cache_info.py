"""Where cocoview keeps its cache (the index cache itself arrives with the scale work)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any


def _user_dir(env: str, windows: str, mac: str, xdg: str, xdg_default: str,
              *tail: str) -> Path:
    """A per-user folder for cocoview: ``$env`` if set, else the platform's place."""
    override = os.environ.get(env)
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "cocoview" / windows
    if sys.platform == "darwin":
        return Path.home() / "Library" / mac / "cocoview"
    return Path(os.environ.get(xdg) or Path.home() / xdg_default).joinpath("cocoview", *tail)


def cache_dir() -> Path:
    """The platform's per-user cache folder for cocoview (XDG on Linux)."""
    return _user_dir("COCOVIEW_CACHE_DIR", "Cache", "Caches", "XDG_CACHE_HOME", ".cache")


def cache_summary() -> dict[str, Any]:
    from cocoview.model.cache import wait_pending

    wait_pending()  # an entry being written counts once it is there
    d = cache_dir()
    return {"path": str(d), "bytes": folder_bytes(d)}


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder``; files that vanish meanwhile (another
    process replacing or clearing an entry) count as gone, not as an error."""
    total = 0
    for parent, _dirs, files in os.walk(folder):  # os.walk skips folders that vanish
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(parent, name), follow_symlinks=False).st_size
    return total


def log_dir() -> Path:
    """The platform's per-user log folder for cocoview (XDG state on Linux)."""
    return _user_dir("COCOVIEW_LOG_DIR", "Logs", "Logs", "XDG_STATE_HOME", ".local/state",
                     "log")
