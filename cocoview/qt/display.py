"""Can the desktop app show a window here? Checked before Qt tries, because Qt's
own answer is an abort (exit 134) saying "Reinstalling the application may fix
this", which is wrong on a headless server and vague on a desktop that lacks a
system library.

Only Linux (and other X11/Wayland systems) is checked; an explicit
``QT_QPA_PLATFORM`` is the user's choice and is left to Qt.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: the system libraries Qt's xcb platform plugin loads, by Debian package
#: (read off ``ldd libqxcb.so`` of PySide6 6.6-6.11 on Debian 12)
XCB_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}

HEADLESS_HINT = ("the command-line tools work without one: cocoview stats | validate | "
                 "render | export (cocoview --help)")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.M)
_DLOPEN_MISSING = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


def display_problem(env: Mapping[str, str] | None = None) -> str | None:
    """One line saying why no window can open here, or None if one should."""
    env = os.environ if env is None else env
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    if env.get("QT_QPA_PLATFORM"):
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return f"no display (neither DISPLAY nor WAYLAND_DISPLAY is set); {HEADLESS_HINT}"
    if env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY"):
        return None  # Qt's wayland plugin: its libraries come with the compositor
    missing = missing_libraries(xcb_plugin())
    if missing:
        pkgs = sorted({XCB_PACKAGES.get(lib, lib) for lib in missing})
        return ("Qt's X11 (xcb) plugin cannot load: missing " + ", ".join(missing)
                + " (Debian/Ubuntu: sudo apt install " + " ".join(pkgs) + "); "
                + HEADLESS_HINT)
    return None


def xcb_plugin() -> Path | None:
    """The xcb platform plugin of the installed Qt, or None if it has none."""
    from PySide6.QtCore import QLibraryInfo  # QtCore needs no display

    path = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath),
                "platforms", "libqxcb.so")
    return path if path.is_file() else None


def missing_libraries(plugin: Path | None) -> list[str]:
    """System libraries ``plugin`` needs that the dynamic linker cannot find.

    ``dlopen`` is the linker's own verdict but names only the first missing
    library; ``ldd`` (where present) names them all.
    """
    if plugin is None:
        return []
    try:
        ctypes.CDLL(str(plugin), mode=ctypes.RTLD_LOCAL)
        return []
    except OSError as exc:
        first = _DLOPEN_MISSING.findall(str(exc))
    ldd = shutil.which("ldd")
    if ldd:
        try:
            out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True,
                                 timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        found = parse_ldd_missing(out)
        if found:
            return found
    return first


def parse_ldd_missing(ldd_output: str) -> list[str]:
    """The ``libX.so.N => not found`` names of ``ldd``'s output, once each, in its order
    (ldd repeats a library that several of the plugin's own libraries need)."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))
