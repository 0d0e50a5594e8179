"""Regenerate the README's screenshots from the running app.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots.py

(or offscreen: ``QT_QPA_PLATFORM=offscreen python docs/screenshots.py``). Writes
``docs/img/main-window.png`` and ``docs/img/thumbnail-grid.png`` from the demo; with
the real sets beside the repository (``../shared/data/real``) also
``docs/img/keypoints-by-instance.png`` (mmpose: five people, one colour each) and
``docs/img/crowded-labels.png`` (DetVisGUI with its Mask R-CNN results: 50
detections on one image, labels placed so that none covers another) and
``docs/img/review.png`` (the same results evaluated: verdicts on the canvas, the
inspector on a false positive, the evaluation dock with PR curves and the confusion
matrix).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication

REVIEW_IMAGE = 238866
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
    width = win.docks["images"].width()  # given back after the grid's wide list
    win.browser.set_mode("grid")
    win.docks["images"].setMinimumWidth(560)
    settle(2500)  # thumbnails are made in workers
    win.grab().save(str(OUT / "thumbnail-grid.png"))
    written = [OUT / "main-window.png", OUT / "thumbnail-grid.png"]
    real = Path(os.environ.get("COCOVIEW_REAL_DATA", "") or  # e.g. from a worktree
                Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
    win.browser.set_mode("list")  # the Statistics dock (issue 15): a plot that filters
    win.docks["images"].setMinimumWidth(0)
    win.resizeDocks([win.docks["images"]], [width], Qt.Orientation.Horizontal)
    win.docks["statistics"].raise_()
    right = win.docks["inspector"].width()  # given back after the wide plot
    win.docks["statistics"].setMinimumWidth(620)
    win.stats.set_plot("instances")
    while win.stats.dist is None or win.stats.dist.name != "instances":
        settle(50)
    settle(600)
    win.grab().save(str(OUT / "statistics.png"))
    written.append(OUT / "statistics.png")
    win.docks["statistics"].setMinimumWidth(0)
    win.resizeDocks([win.docks["inspector"]], [right], Qt.Orientation.Horizontal)
    if real.is_dir():
        win.browser.set_mode("list")
        win.docks["images"].setMinimumWidth(0)
        shoot(win, [real / "mmpose" / "coco" / "test_coco.json"], 196141, None,
              by_instance=True, out=written, name="keypoints-by-instance.png")
        det = real / "detvisgui"
        shoot(win, [det / "data" / "coco" / "annotations" / "instances_val2017.json"], 238866,
              det / "results" / "mask_rcnn_r50_fpn_1x" / "val_results.segm.json",
              by_instance=False, out=written, name="crowded-labels.png")
        shoot_review(win, det, out=written)
    win.close()
    app.processEvents()
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def shoot(win: Any, files: list[Path], image_id: int, results: Path | None, *,
          by_instance: bool, out: list[Path], name: str) -> None:
    """Open ``files`` (and results), show one image, save the window as ``name``."""
    old = win.state.dataset
    win.open_files(files, results=results)
    while win.state.dataset is None or win.state.dataset is old:
        settle(50)
    win.state.set_color_by_instance(by_instance)
    win.state.set_current_image(image_id)
    while win.canvas.frame is None or win.canvas.frame.image_id != image_id:
        settle(50)
    settle(800)
    win.grab().save(str(OUT / name))
    out.append(OUT / name)


def shoot_review(win: Any, det: Path, *, out: list[Path]) -> None:
    """DetVisGUI with its Mask R-CNN results: verdicts on the canvas, the evaluation dock
    with the PR curves of three categories and the confusion matrix."""
    win.open_files([det / "data" / "coco" / "annotations" / "instances_val2017.json"],
                   results=det / "results" / "mask_rcnn_r50_fpn_1x" / "val_results.bbox.json")
    while win.review.review is None or win.review.running():
        settle(50)
    win.state.set_min_score(0.3)
    dock = win.docks["evaluation"]
    dock.show()
    win.resizeDocks([dock], [430], Qt.Orientation.Vertical)
    panel = dock.widget()
    panel.flush()  # the plots (drawn one per event-loop turn otherwise)
    panel.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # most ground truth first
    for row in range(3):
        panel.table.selectionModel().select(
            panel.proxy.index(row, 0), QItemSelectionModel.SelectionFlag.Select
            | QItemSelectionModel.SelectionFlag.Rows)
    win.state.set_current_image(REVIEW_IMAGE)
    while win.canvas.frame is None or win.canvas.frame.image_id != REVIEW_IMAGE:
        settle(50)
    # the inspector on the most confident false positive: its verdict, TIDE type, and
    # the image's detections in the list
    fps = [it for it in win.canvas.frame.overlays.items if it.is_result
           and win.review.review.detection(it.row) == "fp"]
    if fps:
        win.docks["inspector"].raise_()
        win.state.select(max(fps, key=lambda it: it.score).row, "detection")
    settle(800)
    win.grab().save(str(OUT / "review.png"))
    out.append(OUT / "review.png")
    dock.hide()


if __name__ == "__main__":
    raise SystemExit(main())
