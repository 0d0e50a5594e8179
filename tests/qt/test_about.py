"""Help → About names the version and the licences; the app has its icon."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

import cocoview
from cocoview.model.cache_info import log_dir
from cocoview.qt.app import app_icon
from cocoview.qt.help import about_text


def test_about_says_version_licences_and_where_things_are(qapp: QApplication) -> None:
    text = about_text(cocoview.__version__)
    assert f"cocoview {cocoview.__version__}" in text
    for needle in ("MIT", "LGPL", "PySide6", "CC BY 4.0", "Index cache", str(log_dir())):
        assert needle in text, needle


def test_app_icon_has_every_size(qapp: QApplication) -> None:
    icon = app_icon()
    assert not icon.isNull()
    sizes = {s.width() for s in icon.availableSizes()}
    assert {16, 32, 48, 256} <= sizes


def test_file_open_event_opens_the_file(qapp: QApplication) -> None:
    from PySide6.QtGui import QFileOpenEvent

    from cocoview.qt.app import _FileOpenFilter

    opened: list[object] = []

    class Win:
        def open_files(self, files: list[object], *rest: object) -> None:
            opened.extend(files)

    f = _FileOpenFilter(Win())
    assert f.eventFilter(f, QFileOpenEvent("/data/instances.json"))
    assert [str(p) for p in opened] == ["/data/instances.json"]
