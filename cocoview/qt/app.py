"""The composition root of the desktop app: QApplication, main window, first open."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QFileOpenEvent, QIcon
from PySide6.QtWidgets import QApplication

from cocoview import __version__

#: Workers (msgspec, pycocotools) hold the GIL; the GUI thread gets it back within
#: this many seconds instead of Python's default 5 ms (benchmarks/bench_switch.py).
GIL_SWITCH_INTERVAL = 0.0005
#: objects that live as long as the app
_alive: list[object] = []


def run(args: argparse.Namespace) -> int:
    """Open the window (on the files given, or the demo) and run the event loop."""
    from cocoview.qt.crash import CrashHandler
    from cocoview.qt.main_window import MainWindow

    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("cocoview")
    app.setOrganizationName("cocoview")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.cocoview.cocoview")  # matches packaging/linux/
    app.setWindowIcon(app_icon())
    win = MainWindow()
    crash = CrashHandler(lambda: win)  # an unexpected exception: a dialog and a log, no crash
    crash.install()
    _alive.append(crash)
    opener = _FileOpenFilter(win)  # macOS: files opened from Finder or dropped on the Dock
    app.installEventFilter(opener)
    _alive.append(opener)
    if getattr(args, "no_cache", False):
        win.actions_["use_cache"].setChecked(False)
    if getattr(args, "allow_outside_images", False):
        win.actions_["allow_outside"].setChecked(True)  # as File → Allow … (remembered)
    win.show()
    files = [Path(f) for f in args.files]
    if getattr(args, "demo", False):
        from cocoview.resources import demo_files

        files = demo_files() + files
    if files:
        label = "demo dataset" if getattr(args, "demo", False) and len(files) == 2 else ""
        QTimer.singleShot(0, lambda: win.open_files(files, args.images,
                                                    getattr(args, "results", None), label))
    screenshot = getattr(args, "screenshot", None)
    if screenshot:
        _schedule_screenshot(app, win, Path(screenshot))
    try:
        return int(app.exec())
    finally:
        crash.uninstall()


class _FileOpenFilter(QObject):
    """Turns the platform's "open this file" event (macOS) into an open in the window."""

    def __init__(self, win: object) -> None:
        super().__init__()
        self.win = win

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file()
            if path:
                self.win.open_files([Path(path)], None, None, "")  # type: ignore[attr-defined]
                return True
        return False


def app_icon() -> QIcon:
    from cocoview.resources import icon_files

    icon = QIcon()
    for f in icon_files():
        icon.addFile(str(f))
    return icon


def _schedule_screenshot(app: QApplication, win: object, path: Path) -> None:
    """Hidden ``--screenshot PATH``: save the window once the first frame is shown, then quit."""
    from cocoview.qt.main_window import MainWindow

    assert isinstance(win, MainWindow)

    def shoot() -> None:
        win.grab().save(str(path))
        app.quit()

    def on_frame(_f: object) -> None:
        QTimer.singleShot(400, shoot)

    win.frames.frameReady.connect(on_frame)
    QTimer.singleShot(30000, shoot)  # never hang
