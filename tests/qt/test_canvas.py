"""The canvas and the frame pipeline: decoding off the GUI thread, layers, hover, selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.qt.canvas import Canvas
from cocoview.qt.frames import Frame, FrameLoader, decode_image
from cocoview.qt.state import ViewerState
from cocoview.resources import demo_files
from tests.builders import doc, write
from tests.conftest import DATA, REAL

SNAPSHOTS = DATA / "snapshots"


@pytest.fixture
def demo() -> cocoview.Dataset:
    return cocoview.open(demo_files())


def _frame(qtbot: QtBot, loader: FrameLoader, image_id: int) -> Frame:
    with qtbot.waitSignal(loader.frameReady, timeout=10000) as blocker:
        loader.request(image_id)
    frame = blocker.args[0]
    assert isinstance(frame, Frame) and frame.image_id == image_id
    return frame


@pytest.fixture
def setup(qtbot: QtBot, demo: cocoview.Dataset) -> tuple[ViewerState, Canvas, FrameLoader]:
    state = ViewerState()
    canvas = Canvas(state)
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.show()
    loader = FrameLoader()
    loader.set_dataset(demo)
    state.set_dataset(demo)
    yield state, canvas, loader
    assert loader.shutdown()


def test_frame_decoded_in_worker(qtbot: QtBot, setup: tuple) -> None:
    _state, canvas, loader = setup
    f = _frame(qtbot, loader, 142238)
    assert not f.error and f.base.format() == QImage.Format.Format_RGB32
    assert (f.base.width(), f.base.height()) == (f.width, f.height)
    assert f.composite is not None and f.composite != f.base and f.overlays.items
    canvas.show_frame(f)
    # a second request is served from the cache, synchronously
    with qtbot.waitSignal(loader.frameReady, timeout=1000):
        loader.request(142238)


def test_stale_result_not_shown(qtbot: QtBot, setup: tuple) -> None:
    _state, _canvas, loader = setup
    shown: list[int] = []
    loader.frameReady.connect(lambda f: shown.append(f.image_id))
    loader.request(142238)
    loader.request(785)  # the user moved on before the first frame arrived
    qtbot.waitUntil(lambda: 785 in shown, timeout=10000)
    qtbot.waitUntil(lambda: not loader._pending, timeout=10000)
    assert shown == [785]
    assert 142238 in loader.cache  # kept for later, not shown


def test_cache_bounded(qtbot: QtBot, demo: cocoview.Dataset) -> None:
    loader = FrameLoader(cache_mb=1)
    loader.set_dataset(demo)
    for iid in demo.image_ids[:6].tolist():
        _frame(qtbot, loader, iid)
    assert loader.cache_bytes <= 1024 * 1024 or len(loader.cache) == 1
    assert loader.shutdown()


def test_layers_toggle_items(qtbot: QtBot, setup: tuple) -> None:
    state, canvas, loader = setup
    canvas.show_frame(_frame(qtbot, loader, 785))
    for key, item in (("boxes", canvas.boxes), ("keypoints", canvas.keypoints),
                      ("labels", canvas.labels)):
        assert item.isVisible()
        state.set_layer(key, False)
        assert not item.isVisible()
        state.set_layer(key, True)
        assert item.isVisible()
    f = canvas.frame
    shown = lambda: canvas.image_item.pixmap().toImage().convertToFormat(  # noqa: E731
        QImage.Format.Format_RGB32)
    base = f.base.convertToFormat(QImage.Format.Format_RGB32)
    assert shown() != base  # masks blended in
    state.set_layer("masks", False)
    assert shown() == base and not canvas.outlines.isVisible()
    state.set_layer("masks", True)
    state.set_outline_only(True)
    assert shown() == base and canvas.outlines.isVisible()
    state.set_outline_only(False)
    assert shown() != base


def test_hidden_category_and_opacity_reblend(qtbot: QtBot, setup: tuple) -> None:
    state, canvas, loader = setup
    f = _frame(qtbot, loader, 142238)
    canvas.show_frame(f)
    before = f.composite.copy()
    with qtbot.waitSignal(loader.lookReady, timeout=10000) as blocker:
        state.set_category_visible(1, False)  # person
        loader.set_look(state.hidden_categories, state.opacity)
    hidden = blocker.args[0].composite
    assert hidden != before
    assert not canvas._is_visible(next(it for it in f.overlays.items if it.category_id == 1))
    with qtbot.waitSignal(loader.lookReady, timeout=10000) as blocker:
        state.set_category_visible(1, True)
        loader.set_look(state.hidden_categories, 0.9)
    assert blocker.args[0].composite not in (before, hidden)
    canvas.show_look(blocker.args[0])


def test_hover_and_click_select(qtbot: QtBot, setup: tuple) -> None:
    state, canvas, loader = setup
    f = _frame(qtbot, loader, 785)
    canvas.show_frame(f)
    person = next(it for it in f.overlays.items if it.keypoints is not None)
    _x, _y, _w, _h = person.bbox
    poly = person.polygons[0]
    cx, cy = poly.mean(axis=0)
    hit = canvas.hit_test(QPointF(float(cx), float(cy)))
    assert hit is not None and hit.row == person.row
    assert canvas.hit_test(QPointF(2.0, 2.0)) is None
    view_pt = canvas.mapFromScene(QPointF(float(cx), float(cy)))
    qtbot.mouseClick(canvas.viewport(), __import__("PySide6.QtCore", fromlist=["Qt"]).Qt
                     .MouseButton.LeftButton, pos=view_pt)
    assert state.selected_row == person.row
    assert canvas.highlight.selected is not None
    canvas.zoom_to_selection()
    assert canvas.zoom > 1.0


def test_missing_image_placeholder(qtbot: QtBot) -> None:
    src = REAL / "mmdet_coco_dummy" / "annotations" / "instances_val2017.json"
    ds = cocoview.open(src)
    state = ViewerState()
    canvas = Canvas(state)
    qtbot.addWidget(canvas)
    loader = FrameLoader()
    loader.set_dataset(ds)
    f = _frame(qtbot, loader, 255917)
    assert "not found" in f.error
    assert (f.width, f.height) == (640, 427) and (f.base.width(), f.base.height()) == (640, 427)
    canvas.show_frame(f)
    assert canvas.placeholder.isVisible() and canvas.placeholder.message == f.error
    assert canvas.boxes.items  # overlays still drawn
    assert loader.shutdown()


@pytest.mark.parametrize("content", [b"", b"not an image", b"\xff\xd8\xff\xe0broken"])
def test_corrupt_image_file(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "a.jpg"
    p.write_bytes(content)
    img, err = decode_image(p)
    assert img is None and str(p) in err


def test_zoom_and_fit(qtbot: QtBot, setup: tuple) -> None:
    _state, canvas, loader = setup
    canvas.show_frame(_frame(qtbot, loader, 785))
    canvas.fit()
    fit = canvas.zoom
    canvas.zoom_in()
    assert canvas.zoom == pytest.approx(fit * 1.25)
    canvas.actual_size()
    assert canvas.zoom == pytest.approx(1.0)
    canvas.set_zoom(4.0)
    assert canvas.image_item.transformationMode().name == "FastTransformation"
    canvas.set_zoom(0.5)
    assert canvas.image_item.transformationMode().name == "SmoothTransformation"


def test_canvas_pixel_snapshot(qtbot: QtBot, tmp_path: Path, update_snapshots: bool) -> None:
    """A synthetic frame (no photo, no text) renders to the stored pixels."""
    d = doc()
    d["annotations"][0]["keypoints"] = [4, 4, 2, 10, 8, 1, 0, 0, 0]
    d["categories"][0]["keypoints"] = ["a", "b", "c"]
    d["categories"][0]["skeleton"] = [[1, 2]]
    ds = cocoview.open(write(tmp_path / "a.json", d))
    yy, xx = np.mgrid[0:30, 0:40]
    gradient = np.stack([xx * 6, yy * 8, 255 - xx * 6], axis=2).astype(np.uint8)
    from PIL import Image

    Image.fromarray(gradient).save(tmp_path / "a.jpg", format="PNG")  # lossless, fixed pixels
    state = ViewerState()
    state.set_layer("labels", False)
    canvas = Canvas(state)
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show()
    loader = FrameLoader()
    loader.set_dataset(ds)
    f = _frame(qtbot, loader, 1)
    canvas.show_frame(f)
    canvas.fit()
    qtbot.waitUntil(lambda: canvas.zoom > 5, timeout=3000)
    img = canvas.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    snap = SNAPSHOTS / "canvas_synthetic.png"
    if update_snapshots or not snap.exists():
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        img.save(str(snap))
        if not update_snapshots:
            pytest.fail("snapshot was missing and has been written; run again")
    ref = QImage(str(snap)).convertToFormat(QImage.Format.Format_RGB32)
    assert (ref.width(), ref.height()) == (img.width(), img.height())

    def arr(q: QImage) -> np.ndarray:
        b = q.constBits()
        rows = np.frombuffer(b, np.uint8).reshape(q.height(), q.bytesPerLine())
        return rows[:, : q.width() * 4].reshape(q.height(), q.width(), 4).astype(int)

    diff = np.abs(arr(img) - arr(ref)).max(axis=2)
    assert (diff > 24).mean() < 0.01, "canvas rendering changed"
    assert loader.shutdown()


def test_huge_image_decoded_reduced(qtbot: QtBot, tmp_path: Path) -> None:
    """A 30-megapixel image is decoded at reduced size and still covers the JSON's size."""
    from PIL import Image

    w, h = 6400, 4800
    Image.new("RGB", (w, h), (40, 90, 160)).save(tmp_path / "big.jpg", quality=70)
    d = doc(images=[{"id": 1, "file_name": "big.jpg", "width": w, "height": h}],
            annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [100, 100, 3000, 2000],
                          "area": 6e6, "iscrowd": 0,
                          "segmentation": [[100, 100, 3100, 100, 3100, 2100, 100, 2100]]}])
    ds = cocoview.open(write(tmp_path / "a.json", d))
    loader = FrameLoader()
    loader.set_dataset(ds)
    f = _frame(qtbot, loader, 1)
    assert (f.width, f.height) == (w, h)
    assert f.base.width() < w and f.base.width() * f.base.height() <= 24_000_000
    state = ViewerState()
    canvas = Canvas(state)
    qtbot.addWidget(canvas)
    canvas.show_frame(f)
    assert canvas.image_item.sceneBoundingRect().width() == pytest.approx(w)
    assert loader.shutdown()
