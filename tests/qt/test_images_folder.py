"""Where the images are: File → Set Images Folder…, remembered per annotation file,
the status bar, the panopticapi layout, --allow-outside-images for the app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.cli import build_parser
from cocoview.qt.main_window import MainWindow
from tests.builders import doc, write
from tests.conftest import REAL


def _dataset_without_images(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "data").mkdir()
    ann = write(tmp_path / "data" / "ann.json", doc())
    pics = tmp_path / "elsewhere"
    (pics / "sub").mkdir(parents=True)
    for name, (w, h) in (("a.jpg", (40, 30)), ("sub/b.jpg", (20, 10)), ("c.jpg", (16, 16))):
        Image.new("RGB", (w, h), (120, 30, 30)).save(pics / name)
    return ann, pics


def test_the_model_can_be_pointed_at_another_folder(tmp_path: Path) -> None:
    ann, pics = _dataset_without_images(tmp_path)
    ds = cocoview.open(ann)
    assert not ds.images_found
    assert any(p.code == "image-missing" for p in ds.problems(check_files=True))
    ds.set_images_dir(pics)
    assert ds.image_root == pics and ds.images_found
    assert not any(p.code == "image-missing" for p in ds.problems(check_files=True))
    ds.set_images_dir(None)
    assert ds.image_root != pics


def test_panopticapi_layout_is_guessed() -> None:
    ds = cocoview.open(REAL / "panopticapi" / "sample_data" / "panoptic_examples.json")
    assert ds.image_root.name == "input_images" and ds.images_found


def test_set_images_folder_in_the_app_is_shown_and_remembered(qtbot: QtBot,
                                                              tmp_path: Path) -> None:
    ann, pics = _dataset_without_images(tmp_path)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loader.loaded, timeout=10000):
        w.open_files([ann])
    qtbot.waitUntil(lambda: w.canvas.frame is not None, timeout=10000)
    assert w.canvas.frame.error  # the picture is not where the JSON is
    assert "no image found there" in w.status_images.text()
    w.set_images_folder(pics)
    qtbot.waitUntil(lambda: w.canvas.frame is not None and not w.canvas.frame.error,
                    timeout=10000)
    assert w.status_images.text() == "Images: elsewhere"
    w.close()
    w2 = MainWindow()  # the same file again: the folder is remembered
    qtbot.addWidget(w2)
    with qtbot.waitSignal(w2.loader.loaded, timeout=10000):
        w2.open_files([ann])
    assert w2.state.dataset is not None and w2.state.dataset.image_root == pics
    shutil.rmtree(pics)  # a remembered folder that is gone is not used
    assert w2.remembered_images_folder(ann) is None
    w2.close()


def test_the_app_takes_allow_outside_images() -> None:
    args = build_parser().parse_args(["x.json", "--allow-outside-images", "--images", "d"])
    assert args.allow_outside_images and args.images == Path("d")


def test_the_placeholder_and_the_problems_tab_offer_set_images_folder(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ann, pics = _dataset_without_images(tmp_path)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *_a, **_k: str(pics)))
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.inspector.problemsReady, timeout=10000):
        w.open_files([ann])
    qtbot.waitUntil(lambda: w.canvas.frame is not None, timeout=10000)
    button = w.canvas.folder_button
    assert button.isVisible()
    # at the other end of the view than the placeholder's text band
    lower_half = button.geometry().top() > w.canvas.viewport().height() // 2
    assert lower_half == w.canvas.placeholder.text_at_top
    assert not w.inspector.folder_button.isHidden()  # on the Problems tab
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # the dialog (stubbed) answers
    qtbot.waitUntil(lambda: w.canvas.frame is not None and not w.canvas.frame.error,
                    timeout=10000)
    assert not button.isVisible()
    qtbot.waitUntil(lambda: w.inspector.folder_button.isHidden(),
                    timeout=10000)
    assert w.state.dataset is not None and w.state.dataset.image_root == pics
    w.close()


def test_the_placeholder_text_goes_to_the_end_with_fewer_boxes() -> None:
    """The band is decided once per frame, so the folder button can take the other end."""
    from cocoview.qt.canvas_items import PlaceholderItem

    item = PlaceholderItem()
    item.set(640, 480, "image file not found")
    assert not item.text_at_top  # nothing to avoid: the bottom
    item.set(640, 480, "image file not found", boxes=[(10, 400, 300, 70)])
    assert item.text_at_top  # an object along the bottom: the text moves up
    item.set(640, 480, "image file not found", boxes=[(10, 5, 300, 70), (10, 400, 20, 20)])
    assert not item.text_at_top
