"""An unexpected exception anywhere is a dialog and a log entry; the app keeps running."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from cocoview.qt import crash
from cocoview.qt.crash import CrashHandler


@pytest.fixture
def handler(qapp: object) -> Iterator[CrashHandler]:
    h = CrashHandler()
    h.install()
    yield h
    h.uninstall()
    if h.dialog is not None:
        h.dialog.close()


class _Emitter(QObject):
    fire = Signal()


def _boom() -> None:
    raise ValueError("a slot went wrong")


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_slot(qtbot: QtBot, handler: CrashHandler) -> None:
    e = _Emitter()
    e.fire.connect(_boom)
    e.fire.emit()  # PySide6 hands the exception to sys.excepthook and carries on
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())
    box = handler.dialog
    assert box is not None
    assert "ValueError: a slot went wrong" in box.text()
    assert "still running" in box.text()
    log = crash.log_path()
    assert str(log) in box.informativeText()
    text = log.read_text()
    assert "ValueError: a slot went wrong" in text and "_boom" in text
    assert "Traceback" in box.detailedText()
    # the copy button copies and leaves the dialog open
    copy = next(b for b in box.findChildren(QPushButton) if b.text() == "Copy details")
    copy.click()
    assert "ValueError: a slot went wrong" in QGuiApplication.clipboard().text()
    assert box.isVisible()
    # the app goes on: the event loop still runs timers
    fired: list[int] = []
    QTimer.singleShot(0, lambda: fired.append(1))
    qtbot.waitUntil(lambda: fired == [1])
    box.button(QMessageBox.StandardButton.Close).click()
    qtbot.waitUntil(lambda: handler.dialog is None)


@pytest.mark.qt_no_exception_capture
def test_worker_and_thread_exceptions_reach_the_gui_thread(qtbot: QtBot,
                                                           handler: CrashHandler) -> None:
    class Job(QRunnable):
        def run(self) -> None:
            raise RuntimeError("a worker went wrong")

    job = Job()
    job.setAutoDelete(False)
    QThreadPool.globalInstance().start(job)
    qtbot.waitUntil(lambda: handler.dialog is not None)
    assert handler.dialog is not None
    assert "RuntimeError: a worker went wrong" in handler.dialog.text()
    QThreadPool.globalInstance().waitForDone()
    # a second error while the dialog is open: logged and counted, not a second dialog
    t = threading.Thread(target=_boom, name="plain-thread")
    t.start()
    t.join()
    qtbot.waitUntil(lambda: handler.suppressed == 1)
    assert "1 more error" in handler.dialog.informativeText()
    log = crash.log_path().read_text()
    assert "a worker went wrong" in log and "thread plain-thread" in log


def test_log_is_rotated_and_unwritable_log_is_said(qtbot: QtBot, handler: CrashHandler,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: object) -> None:
    monkeypatch.setattr(crash, "LOG_MAX_BYTES", 100)
    crash.write_log("x" * 200)
    crash.write_log("second\n")
    assert crash.log_path().read_text() == "second\n"
    assert crash.log_path().with_name("cocoview.log.1").read_text() == "x" * 200
    blocker = crash.log_path().parent / "file"
    blocker.write_text("")
    monkeypatch.setenv("COCOVIEW_LOG_DIR", str(blocker / "log"))
    try:
        raise KeyError("k")
    except KeyError as exc:
        handler.handle(KeyError, exc, exc.__traceback__)
    qtbot.waitUntil(lambda: handler.dialog is not None)
    assert handler.dialog is not None
    assert "could not be written" in handler.dialog.informativeText()
