"""A first open in two steps (issue 18): the image list and the first image as soon as
the images are indexed, the overlays when the annotations arrive.

The loader is replaced by one that hands over the preview and then waits for the
test to let the annotations come (an event, not a time), or fails, or sees a cancel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from cocoview.model import edits as E
from cocoview.model import loader
from cocoview.model.errors import CocoFormatError
from cocoview.qt import loading
from cocoview.qt.loading import PreviewDataset
from cocoview.qt.main_window import MainWindow
from cocoview.resources import demo_files


class SlowLoader:
    """``load_file`` for the window's thread: the preview at once, the rest on ``release``."""

    def __init__(self, path: Path) -> None:
        self.full = loader.load_file(path, cache=False)
        self.release = threading.Event()
        self.fail: Exception | None = None
        self.saw_cancel = False
        self.previews = 0

    def __call__(self, path: Path, progress: Callable[[float, str], None] | None = None,
                 cancelled: Callable[[], bool] | None = None, cache: bool = True,
                 isolate: bool = False, store_soon: bool = False,
                 preview: Callable[[loader.FileIndex], None] | None = None) -> Any:
        assert progress is not None and cancelled is not None and preview is not None
        progress(0.3, "indexing images")
        f = self.full
        self.previews += 1
        preview(loader.preview_index(f.path, f.data, f.images, f.categories))
        while not self.release.wait(0.01):  # the worker thread waits; the test does not
            if cancelled():
                self.saw_cancel = True
                raise loader.Cancelled(str(path))
            progress(0.5, "indexing annotations")
        if self.fail is not None:
            raise self.fail
        progress(1.0, "done")
        return f


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> SlowLoader:
    fake = SlowLoader(demo_files()[0])
    monkeypatch.setattr(loading, "load_file", fake)
    return fake


@pytest.fixture
def win(qtbot: QtBot, slow: SlowLoader) -> Iterator[MainWindow]:
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    yield w
    slow.release.set()
    w.close()


def _preview_shown(qtbot: QtBot, w: MainWindow) -> PreviewDataset:
    w.open_files([demo_files()[0]])
    qtbot.waitUntil(lambda: isinstance(w.state.dataset, PreviewDataset)
                    and w.canvas.frame is not None
                    and w.canvas.frame.image_id == w.state.current_image, timeout=10000)
    ds = w.state.dataset
    assert isinstance(ds, PreviewDataset)
    return ds


def test_the_list_and_the_image_come_before_the_annotations(
        qtbot: QtBot, win: MainWindow, slow: SlowLoader) -> None:
    ds = _preview_shown(qtbot, win)
    n = len(slow.full.images)
    assert len(ds.image_ids) == n and len(ds.anns) == 0
    assert win.browser.table.model().rowCount() == n  # the list shows every image
    assert win.canvas.frame is not None and not win.canvas.frame.overlays.items
    assert win.progress.isVisible()  # the annotations are still on their way
    assert "reading the annotations" in win.windowTitle()
    # the user moves on meanwhile; the overlays come on the image they are at
    win.actions_["next"].trigger()
    second = int(ds.image_ids[1])
    qtbot.waitUntil(lambda: win.canvas.frame is not None
                    and win.canvas.frame.image_id == second, timeout=10000)
    slow.release.set()
    qtbot.waitUntil(lambda: win.state.dataset is not None
                    and not isinstance(win.state.dataset, PreviewDataset), timeout=10000)
    assert win.state.current_image == second
    qtbot.waitUntil(lambda: win.canvas.frame is not None and win.canvas.frame.image_id == second
                    and bool(win.canvas.frame.overlays.items), timeout=10000)
    assert not win.progress.isVisible()
    assert len(win.state.dataset.anns) == len(slow.full.anns)
    assert "reading" not in win.windowTitle()


def test_cancel_while_the_annotations_are_read(qtbot: QtBot, win: MainWindow,
                                               slow: SlowLoader) -> None:
    ds = _preview_shown(qtbot, win)
    win.cancel_button.click()
    qtbot.waitUntil(lambda: slow.saw_cancel and not win.loader._old, timeout=10000)
    assert win.state.dataset is ds  # the images stay
    assert not win.progress.isVisible()
    assert "only the images" in win.statusBar().currentMessage()
    # another open after that works as ever
    slow.release.set()
    with qtbot.waitSignal(win.loader.loaded, timeout=10000):
        win.open_files([demo_files()[0]])
    assert len(win.state.dataset.anns) == len(slow.full.anns)


def test_a_failing_second_step_says_so_and_keeps_the_images(
        qtbot: QtBot, win: MainWindow, slow: SlowLoader) -> None:
    ds = _preview_shown(qtbot, win)
    slow.fail = CocoFormatError(demo_files()[0], "broken at the end", 123)
    slow.release.set()
    qtbot.waitUntil(lambda: win.findChild(QMessageBox, "load_error") is not None, timeout=10000)
    box = win.findChild(QMessageBox, "load_error")
    assert "could not read the annotations" in box.text()
    assert "broken at the end" in box.informativeText()
    box.close()
    assert win.state.dataset is ds and len(ds.image_ids) == len(slow.full.images)
    assert win.canvas.frame is not None  # still on show
    assert not win.progress.isVisible()
    assert "images only" in win.windowTitle()


def test_no_edits_on_the_preview(qtbot: QtBot, win: MainWindow, slow: SlowLoader) -> None:
    """Its annotations are not there yet: an edit (or a restored journal) would be lost."""
    ds = _preview_shown(qtbot, win)
    assert not win.editing.edit([E.DeleteImage(int(ds.image_ids[0]))])
    assert win.state.model.edits is None
    assert "still being read" in win.statusBar().currentMessage()
