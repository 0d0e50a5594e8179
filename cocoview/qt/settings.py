"""QSettings in one place; tests point ``COCOVIEW_SETTINGS`` at a temporary file."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

ORG = "cocoview"
APP = "cocoview"


def app_settings() -> QSettings:
    """The app's settings: an INI file at ``$COCOVIEW_SETTINGS`` if set, else the platform's."""
    path = os.environ.get("COCOVIEW_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


#: the setting behind View ▸ Use the Index Cache (on unless turned off)
CACHE_KEY = "cache/enabled"


def cache_enabled(s: QSettings | None = None) -> bool:
    """Whether the user lets cocoview read and write the index cache."""
    value = (s or app_settings()).value(CACHE_KEY, "true")
    return str(value).lower() in ("true", "1")
