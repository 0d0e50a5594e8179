"""Replaces PyInstaller's hook for PySide6.QtGui: the same, minus plugins we never load.

The stock hook collects every Qt GUI plugin, and PyInstaller then bundles every
library those plugins link against. A desktop image browser needs the desktop
platforms (xcb, wayland, windows, cocoa) and ``offscreen`` (headless runs and
tests), not the embedded or remote ones: eglfs pulls in Qt's EGL device
integration, vnc pulls in QtNetwork, and the GTK 3 platform theme pulls in
cairo, pango and gdk-pixbuf but not GTK itself, so in a bundle it either fails
to load or mixes our copies with the system's GTK. Without it Qt uses the
xdg-desktop-portal theme (native file dialogs through the portal) or its own.
"""

from __future__ import annotations

from pathlib import Path

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

#: plugin folders not collected at all
UNUSED_DIRS = {"egldeviceintegrations", "generic"}
#: plugins (file name without lib prefix and extension) not collected
UNUSED_PLUGINS = {
    "qeglfs", "qlinuxfb", "qminimal", "qminimalegl", "qvkkhrdisplay", "qvnc", "qgtk3",
}


def _unused(src: str, dest: str) -> bool:
    parts = Path(dest).parts
    if "plugins" not in parts:
        return False
    kind = parts[parts.index("plugins") + 1:]
    stem = Path(src).name.split(".")[0].removeprefix("lib")
    return (bool(kind) and kind[0] in UNUSED_DIRS) or stem in UNUSED_PLUGINS


hiddenimports, _binaries, datas = add_qt6_dependencies(__file__)
binaries = [(src, dest) for src, dest in _binaries if not _unused(src, dest)]
