"""Holding → through a dataset: memory stays within the caches' sizes, no thread is left."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cocoview.qt.main_window import MainWindow
from cocoview.qt.thumbnails import ThumbnailCache
from tests.builders import write


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def test_holding_right_through_a_dataset(qtbot: QtBot, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 150
    images, anns = [], []
    for i in range(1, n + 1):
        w, h = 800, 600
        Image.fromarray(rng.integers(0, 255, (h, w, 3), np.uint8)).save(tmp_path / f"{i}.jpg")
        images.append({"id": i, "file_name": f"{i}.jpg", "width": w, "height": h})
        for k in range(8):
            x, y = float(rng.uniform(0, 600)), float(rng.uniform(0, 400))
            anns.append({"id": i * 100 + k, "image_id": i, "category_id": 1 + k % 2,
                         "bbox": [x, y, 150, 150], "area": 150 * 150.0, "iscrowd": 0,
                         "segmentation": [[x, y, x + 150, y, x + 150, y + 150, x, y + 150]]})
    path = write(tmp_path / "ds.json", {"images": images, "annotations": anns, "categories": [
        {"id": 1, "name": "a"}, {"id": 2, "name": "b"}]})
    threads_before = threading.active_count()
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    w.frames.cache_limit = 16 * 2**20  # a few frames (an 800×600 frame is ~1.4 MB + masks)
    with qtbot.waitSignal(w.loader.loaded, timeout=20000):
        w.open_files([path])
    qtbot.waitUntil(lambda: w.canvas.frame is not None, timeout=10000)
    thumbs = w.findChildren(ThumbnailCache)
    assert thumbs
    rss_start = _rss_mb()
    seen: set[int] = set()
    for _ in range(n - 1):  # key repeat: one press after another, events in between
        QTest.keyClick(w.canvas, Qt.Key.Key_Right)
        QApplication.processEvents()
        seen.add(w.state.current_image)
        assert w.frames.cache_bytes <= w.frames.cache_limit + 4 * 2**20
    assert len(seen) == n - 1  # it really went through the images
    qtbot.waitUntil(lambda: w.canvas.frame is not None
                    and w.canvas.frame.image_id == w.state.current_image, timeout=10000)
    assert w.frames.cache_bytes <= w.frames.cache_limit + 4 * 2**20
    for t in thumbs:
        assert t.cached_bytes <= t.max_bytes
    # 150 frames unbounded would be > 200 MB; bounded caches keep the growth small
    assert _rss_mb() - rss_start < 120
    w.close()
    assert w.frames.jobs.active_threads() == 0
    qtbot.waitUntil(lambda: threading.active_count() <= threads_before, timeout=10000)


def test_opening_another_dataset_frees_the_first(qtbot: QtBot, tmp_path: Path) -> None:
    import gc
    import weakref

    from cocoview.resources import demo_files
    from tests.builders import doc

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    with qtbot.waitSignal(w.loader.loaded, timeout=20000):
        w.open_files(demo_files())
    qtbot.waitUntil(lambda: w.canvas.frame is not None, timeout=10000)
    first = weakref.ref(w.state.dataset)
    for _ in range(4):  # frames, looks, thumbnails and counts of the first dataset
        QTest.keyClick(w.canvas, Qt.Key.Key_Right)
        QApplication.processEvents()
    w.state.hidden_categories = {1}
    w.state.visibilityChanged.emit()
    qtbot.waitUntil(lambda: w.canvas.frame is not None
                    and w.canvas.frame.image_id == w.state.current_image, timeout=10000)
    with qtbot.waitSignal(w.loader.loaded, timeout=20000):
        w.open_files([write(tmp_path / "other.json", doc())])

    def gone() -> bool:
        gc.collect()
        return first() is None

    qtbot.waitUntil(gone, timeout=10000)
    w.close()
