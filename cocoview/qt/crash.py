"""The last line of defence: an unexpected exception is a dialog and a log entry, not a crash.

PySide6 hands an exception raised in a slot, an event handler or a thread-pool
worker to ``sys.excepthook`` and carries on; ``threading.excepthook`` gets
those of plain threads. Both come here: the traceback is appended to
``cocoview.log`` in the platform's log folder (one previous file kept, so it
stays small), and the GUI thread shows a dialog with the message, where the log
is and a *Copy details* button. The app keeps running. While one dialog is open,
further exceptions are only logged and counted, so a failing paint event cannot
bury the user in dialogs.
"""

from __future__ import annotations

import contextlib
import datetime
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from cocoview import __version__
from cocoview.model.cache_info import log_dir

LOG_NAME = "cocoview.log"
#: the log is rotated (to cocoview.log.1) beyond this size
LOG_MAX_BYTES = 1 << 20

_lock = threading.Lock()


def log_path() -> Path:
    return log_dir() / LOG_NAME


def write_log(text: str) -> Path | None:
    """Append ``text`` to the log (rotating it when large); None if it cannot be written."""
    path = log_path()
    with _lock:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_file() and path.stat().st_size > LOG_MAX_BYTES:
                path.replace(path.with_name(LOG_NAME + ".1"))
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text)
            return path
        except OSError:
            return None


def describe(exc_type: type[BaseException], exc: BaseException,
             tb: TracebackType | None, where: str = "") -> str:
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    head = f"--- {stamp} cocoview {__version__}, Python {sys.version.split()[0]}"
    if where:
        head += f", {where}"
    return head + "\n" + "".join(traceback.format_exception(exc_type, exc, tb)) + "\n"


class CrashHandler(QObject):
    """Installs the hooks; shows at most one dialog at a time (on the GUI thread)."""

    report = Signal(str, str, str)  # message, details, log path ("" if none)

    def __init__(self, parent_widget: Callable[[], QWidget | None] | None = None) -> None:
        super().__init__()
        self._parent_widget = parent_widget or (lambda: None)
        self.dialog: QMessageBox | None = None
        self.suppressed = 0
        self.handled = 0
        self._old_hooks: tuple[Any, Any] | None = None
        # queued: a worker thread's exception is shown by the GUI thread
        self.report.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._old_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.handle
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if self._old_hooks is not None:
            sys.excepthook, threading.excepthook = self._old_hooks
            self._old_hooks = None

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        where = f"thread {args.thread.name}" if args.thread is not None else "a thread"
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, where)

    def handle(self, exc_type: type[BaseException], exc: BaseException,
               tb: TracebackType | None, where: str = "") -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        self.handled += 1
        details = describe(exc_type, exc, tb, where or threading.current_thread().name)
        with contextlib.suppress(Exception):
            sys.__stderr__.write(details)  # type: ignore[union-attr]
        path = write_log(details)
        message = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
        self.report.emit(message, details, str(path) if path else "")

    @Slot(str, str, str)
    def _show(self, message: str, details: str, path: str) -> None:
        if self.dialog is not None:
            self.suppressed += 1
            self.dialog.setInformativeText(self._informative(path))
            return
        box = QMessageBox(self._parent_widget())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("cocoview: unexpected error")
        box.setText(f"Something went wrong, but cocoview is still running.\n\n{message}")
        box.setInformativeText(self._informative(path))
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.disconnect()  # any message-box button would close the box
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details))
        box.addButton(QMessageBox.StandardButton.Close)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.finished.connect(self._closed)
        self.dialog = box
        box.show()

    def _informative(self, path: str) -> str:
        text = (f"The details are in {path}." if path
                else "The details could not be written to a log file.")
        if self.suppressed:
            text += f"\n{self.suppressed} more error(s) since; see the log."
        return text

    def _closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None
        self.suppressed = 0
