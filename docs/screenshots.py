"""Regenerate the README's screenshots from the running app.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots.py

(or offscreen: ``QT_QPA_PLATFORM=offscreen python docs/screenshots.py``). Writes
``docs/img/main-window.png`` and ``docs/img/thumbnail-grid.png``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

OUT = Path(__file__).resolve().parent / "img"


def settle(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main() -> int:
    os.environ.setdefault("COCOVIEW_SETTINGS", str(Path(tempfile.mkdtemp()) / "shots.ini"))
    from cocoview.qt.main_window import MainWindow
    from cocoview.resources import demo_files

    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow()
    win.resize(1500, 920)
    win.show()
    win.open_files(demo_files(), label="demo dataset")
    while win.state.dataset is None:
        settle(50)
    win.state.set_current_image(785)
    while win.canvas.frame is None or win.canvas.frame.image_id != 785:
        settle(50)
    person = next(it for it in win.canvas.frame.overlays.items if it.keypoints is not None)
    win.state.select(person.row)
    settle(600)
    OUT.mkdir(exist_ok=True)
    win.grab().save(str(OUT / "main-window.png"))
    win.state.set_current_image(439180)
    win.browser.set_mode("grid")
    win.docks["images"].setMinimumWidth(560)
    settle(2500)  # thumbnails are made in workers
    win.grab().save(str(OUT / "thumbnail-grid.png"))
    win.close()
    app.processEvents()
    print(f"wrote {OUT / 'main-window.png'} and {OUT / 'thumbnail-grid.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
