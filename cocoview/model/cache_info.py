"""Where cocoview keeps its cache (the index cache itself arrives with the scale work)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """The platform's per-user cache folder for cocoview (XDG on Linux)."""
    override = os.environ.get("COCOVIEW_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "cocoview" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "cocoview"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cocoview"


def cache_summary() -> dict[str, Any]:
    from cocoview.model.cache import wait_pending

    wait_pending()  # an entry being written counts once it is there
    d = cache_dir()
    size = sum(f.stat().st_size for f in d.rglob("*") if f.is_file()) if d.is_dir() else 0
    return {"path": str(d), "bytes": size}


def log_dir() -> Path:
    """The platform's per-user log folder for cocoview (XDG state on Linux)."""
    override = os.environ.get("COCOVIEW_LOG_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "cocoview" / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "cocoview"
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / \
        "cocoview" / "log"
