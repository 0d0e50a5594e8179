"""Bad input never costs the user anything (issue 6): bad image files in the running views.

One generated folder holds every kind of file (``tests/bad_images.py``). Broken files
get a placeholder with a message in the canvas, a problem in the inspector, and a
grey thumbnail. Decodable oddities are shown with the right pixels. An EXIF-rotated
image lines up with its overlays. A file outside the images folder is opened only
after the user allows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.qt.canvas import Canvas
from cocoview.qt.frames import Frame, FrameLoader
from cocoview.qt.inspector import InspectorPanel
from cocoview.qt.main_window import MainWindow
from cocoview.qt.state import ViewerState
from cocoview.qt.thumbnails import ThumbnailCache
from tests import bad_images as B
from tests.bad_images import BLUE, BLUE_BOX, GREY, RED, RED_BOX, H, W

#: image id → (file name, JSON width, JSON height)
IMAGES: dict[int, tuple[str, int, int]] = {
    1: ("ok.jpg", W, H),
    2: ("trunc.jpg", W, H),
    3: ("trunc.png", W, H),
    4: ("corrupt.png", W, H),
    5: ("corrupt.jpg", W, H),
    6: ("empty.jpg", W, H),
    7: ("really_a_png.jpg", W, H),
    8: ("grey16.png", W, H),
    9: ("palette.png", W, H),
    10: ("grey_l.png", W, H),
    11: ("grey_la.png", W, H),
    12: ("cmyk.jpg", W, H),
    13: ("small.jpg", 2 * W, 2 * H),  # the file is half the JSON's size
    14: ("bomb.png", 30_000, 30_000),
    15: ("bomb.jpg", 30_000, 30_000),
    16: ("o6.jpg", H, W),  # EXIF 6, JSON size of the rotated image: applied
    17: ("o6.jpg", W, H),  # EXIF 6, JSON size of the stored pixels: ignored
    18: ("o3.jpg", W, H),  # EXIF 3: ignored (a half turn keeps the size)
    19: ("../outside/secret.jpg", W, H),
    20: ("text.jpg", W, H),
}
#: broken: image id → (problem code, text in the placeholder's message)
BROKEN = {
    3: ("image-truncated", "truncated"),
    4: ("image-unreadable", "cannot read image"),
    5: ("image-unreadable", "cannot read image"),
    6: ("image-empty", "empty (0 bytes)"),
    14: ("image-too-large", "too large"),
    15: ("image-too-large", "too large"),
    19: ("image-path-outside", "not opened"),
    20: ("image-unreadable", "not an image format"),
}
#: the red patch in the JSON's coordinates, where an annotation box is drawn
RED_IN_JSON = {16: (32, 4, 12, 20), 17: RED_BOX, 18: RED_BOX, 1: RED_BOX}
SHOWN = [i for i in IMAGES if i not in BROKEN]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    img = root / "images"
    img.mkdir()
    (root / "outside").mkdir()
    B.jpeg(root / "outside", "secret.jpg")
    B.jpeg(img, "ok.jpg")
    B.truncated(img, "trunc.jpg", B.jpeg, keep=0.6)
    B.truncated(img, "trunc.png", B.png)
    B.corrupt_png(img)
    B.corrupt_jpeg(img)
    B.empty(img)
    B.png_named_jpg(img)
    B.grey16(img)
    B.palette_transparent(img)
    B.grey_l(img)
    B.grey_la(img)
    B.cmyk_jpeg(img)
    B.jpeg(img, "small.jpg")
    B.bomb_png(img)
    B.bomb_jpeg(img)
    B.jpeg(img, "o6.jpg", orientation=6)
    B.jpeg(img, "o3.jpg", orientation=3)
    B.not_an_image(img)
    anns = []
    for k, (iid, (x, y, w, h)) in enumerate(RED_IN_JSON.items()):
        anns.append({"id": 100 + k, "image_id": iid, "category_id": 1, "bbox": [x, y, w, h],
                     "area": w * h, "iscrowd": 0,
                     "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]]})
    d = {"images": [{"id": i, "file_name": n, "width": w, "height": h}
                    for i, (n, w, h) in IMAGES.items()],
         "annotations": anns, "categories": [{"id": 1, "name": "patch", "supercategory": ""}]}
    (root / "bad.json").write_text(json.dumps(d))
    return root


@pytest.fixture(scope="module")
def ds(folder: Path) -> Dataset:
    return cocoview.open(folder / "bad.json", images=folder / "images", cache=False)


@pytest.fixture
def loader(qapp: object, ds: Dataset) -> Iterator[FrameLoader]:
    fl = FrameLoader()
    fl.set_dataset(ds)
    yield fl
    assert fl.shutdown()


@pytest.fixture
def bad_state(qapp: object, ds: Dataset) -> ViewerState:
    s = ViewerState()
    s.set_dataset(ds)
    s.set_layer("masks", False)  # the pictures' own pixels, not blended with masks
    s.set_layer("labels", False)
    return s


def _frame(qtbot: QtBot, loader: FrameLoader, image_id: int) -> Frame:
    with qtbot.waitSignal(loader.frameReady, timeout=10000,
                          check_params_cb=lambda f: f.image_id == image_id):
        loader.request(image_id)
    frame = loader.cache[image_id]
    assert frame.image_id == image_id
    return frame


def _pixels(img: QImage) -> np.ndarray:
    """An image as (h, w, 3) RGB."""
    q = img.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(q.constBits(), np.uint8).reshape(q.height(), q.bytesPerLine())
    bgrx = rows[:, : q.width() * 4].reshape(q.height(), q.width(), 4)
    return bgrx[..., [2, 1, 0]].copy()


def _near(px: np.ndarray, rgb: tuple[int, int, int], tol: int = 30) -> bool:
    return bool(np.abs(px.astype(int) - np.asarray(rgb)).max() <= tol)


def _is_grey(rgb: np.ndarray) -> bool:
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def _canvas(qtbot: QtBot, state: ViewerState) -> Canvas:
    canvas = Canvas(state)
    qtbot.addWidget(canvas)
    canvas.resize(520, 640)
    canvas.show()
    qtbot.waitExposed(canvas)
    return canvas


# ----- the canvas ------------------------------------------------------------------------
@pytest.mark.parametrize("image_id", sorted(BROKEN))
def test_broken_image_placeholder_with_message(qtbot: QtBot, loader: FrameLoader,
                                               bad_state: ViewerState, image_id: int) -> None:
    _code, text = BROKEN[image_id]
    name, jw, jh = IMAGES[image_id]
    f = _frame(qtbot, loader, image_id)
    assert text in f.error and Path(name).name in f.error and f.notice == ""
    assert (f.width, f.height) == (jw, jh)
    if jw * jh < 1e6:
        assert _is_grey(_pixels(f.base))  # the grey checker, not a picture
    canvas = _canvas(qtbot, bad_state)
    canvas.show_frame(f)
    assert canvas.placeholder.isVisible() and not canvas.placeholder.banner
    assert canvas.placeholder.message == f.error
    assert canvas.image_item.sceneBoundingRect().width() == pytest.approx(jw)


def test_bomb_placeholder_is_small(qtbot: QtBot, loader: FrameLoader) -> None:
    """Even the placeholder of a 30,000 × 30,000 image costs no 900-megapixel buffer."""
    f = _frame(qtbot, loader, 14)
    assert f.base.width() * f.base.height() <= 24_000_000
    assert f.nbytes < 200_000_000


@pytest.mark.parametrize("image_id", [1, 7, 8, 9, 10, 11, 12])
def test_decodable_formats_are_shown(qtbot: QtBot, loader: FrameLoader, image_id: int) -> None:
    f = _frame(qtbot, loader, image_id)
    assert f.error == "" and f.notice == ""
    px = _pixels(f.base)
    assert px.shape == (H, W, 3)
    if image_id == 8:  # 16-bit grey: columns 0, 1000, 32768, 65535 → 0, 4, 128, 255
        assert px[H // 2, :: W // 4, 0].tolist() == [0, 4, 128, 255]
        return
    expected = B.patches()
    if image_id in (10, 11):  # greyscale: the grey of each patch
        grey = (expected.astype(float) @ [0.299, 0.587, 0.114]).round()
        expected = np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)
    for box in (RED_BOX, BLUE_BOX):
        x, y, w, h = box
        assert _near(px[y + h // 2, x + w // 2], tuple(expected[y + h // 2, x + w // 2]))
    assert _near(px[H - 2, 2], tuple(expected[H - 2, 2]))
    if image_id == 12:
        assert _near(px[RED_BOX[1] + 4, RED_BOX[0] + 8], RED)


def test_truncated_jpeg_shown_with_a_notice(qtbot: QtBot, loader: FrameLoader,
                                            bad_state: ViewerState) -> None:
    f = _frame(qtbot, loader, 2)
    assert f.error == "" and "truncated" in f.notice and "trunc.jpg" in f.notice
    assert _near(_pixels(f.base)[10, 14], RED)  # the decoded top
    canvas = _canvas(qtbot, bad_state)
    canvas.show_frame(f)
    assert canvas.placeholder.isVisible() and canvas.placeholder.banner
    assert canvas.placeholder.message == f.notice
    canvas.show_frame(_frame(qtbot, loader, 1))
    assert not canvas.placeholder.isVisible()  # a good image: no notice left behind


def test_size_mismatch_scaled_to_the_json(qtbot: QtBot, loader: FrameLoader,
                                          bad_state: ViewerState) -> None:
    f = _frame(qtbot, loader, 13)
    assert (f.width, f.height) == (2 * W, 2 * H) and (f.base.width(), f.base.height()) == (W, H)
    assert "64×48" in f.notice and "128×96" in f.notice
    canvas = _canvas(qtbot, bad_state)
    canvas.show_frame(f)
    rect = canvas.image_item.sceneBoundingRect()
    assert (rect.width(), rect.height()) == (2 * W, 2 * H)
    # the blue patch, scaled: at twice its stored place in scene coordinates
    img = canvas.viewport().grab().toImage()
    x, y, w, h = BLUE_BOX
    pt = canvas.mapFromScene(QPointF(2 * (x + w / 2), 2 * (y + h / 2)))
    assert _near(_pixels(img)[pt.y(), pt.x()], BLUE)


def test_reduced_decode_of_a_large_png_lines_up(qtbot: QtBot, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A PNG over the size limit is decoded and then reduced; the canvas scales it back."""
    import cocoview.qt.frames as frames

    monkeypatch.setattr(frames, "LARGE_PIXELS", 1000)
    B.png(tmp_path, "p.png")
    d = {"images": [{"id": 1, "file_name": "p.png", "width": W, "height": H}],
         "annotations": [], "categories": []}
    (tmp_path / "a.json").write_text(json.dumps(d))
    fl = FrameLoader()
    fl.set_dataset(cocoview.open(tmp_path / "a.json", cache=False))
    f = _frame(qtbot, fl, 1)
    assert f.base.width() * f.base.height() <= 1000 and f.error == "" and f.notice == ""
    state = ViewerState()
    canvas = _canvas(qtbot, state)
    canvas.show_frame(f)
    assert canvas.image_item.sceneBoundingRect().width() == pytest.approx(W)
    img = _pixels(canvas.viewport().grab().toImage())
    x, y, w, h = RED_BOX
    pt = canvas.mapFromScene(QPointF(x + w / 2, y + h / 2))
    assert _near(img[pt.y(), pt.x()], RED, 40)
    assert fl.shutdown()


@pytest.mark.parametrize("image_id", [16, 17, 18, 1])
def test_exif_orientation_overlays_line_up(qtbot: QtBot, loader: FrameLoader,
                                           bad_state: ViewerState, image_id: int) -> None:
    """The box drawn at the red patch's place in the JSON's coordinates frames the patch."""
    f = _frame(qtbot, loader, image_id)
    assert f.error == "" and f.notice == ""
    canvas = _canvas(qtbot, bad_state)
    canvas.show_frame(f)
    canvas.fit()
    qtbot.waitUntil(lambda: canvas.zoom > 5, timeout=3000)
    img = _pixels(canvas.viewport().grab().toImage())
    x, y, w, h = RED_IN_JSON[image_id]

    def at(sx: float, sy: float) -> np.ndarray:
        pt = canvas.mapFromScene(QPointF(sx, sy))
        return img[pt.y(), pt.x()]

    for fx, fy in ((0.5, 0.5), (0.25, 0.3), (0.75, 0.7)):  # inside the box: red
        assert _near(at(x + fx * w, y + fy * h), RED), (fx, fy)
    for sx, sy in ((x - 2, y + h / 2), (x + w + 2, y + h / 2), (x + w / 2, y + h + 2)):
        assert _near(at(sx, sy), GREY), (sx, sy)  # just outside: the grey background
    # and the box itself is drawn on the patch's edge (the category's colour there)
    edge = at(x + w / 2, y)
    assert not _near(edge, GREY, 10) and not _near(edge, RED, 10)


# ----- the inspector ---------------------------------------------------------------------
def _problems(qtbot: QtBot, panel: InspectorPanel, state: ViewerState,
              image_id: int) -> list[object]:
    with qtbot.waitSignal(panel.problemsReady, timeout=10000,
                          check_params_cb=lambda i, _p: i == image_id) as blocker:
        state.set_current_image(image_id)
    return list(blocker.args[1])


@pytest.fixture
def panel(qtbot: QtBot, bad_state: ViewerState) -> InspectorPanel:
    p = InspectorPanel(bad_state)
    qtbot.addWidget(p)
    p.resize(400, 700)
    return p


def test_inspector_reports_every_broken_kind(qtbot: QtBot, panel: InspectorPanel,
                                             bad_state: ViewerState) -> None:
    for image_id, (code, text) in BROKEN.items():
        probs = _problems(qtbot, panel, bad_state, image_id)
        mine = [p for p in probs if p.code == code]  # type: ignore[attr-defined]
        assert mine, (image_id, probs)
        p = mine[0]
        assert text in p.message and Path(IMAGES[image_id][0]).name in p.message  # type: ignore[attr-defined]
        assert f"(id {image_id})" in p.location  # type: ignore[attr-defined]
        shown = [panel.problems_view.topLevelItem(i).text(0)  # type: ignore[union-attr]
                 for i in range(panel.problems_view.topLevelItemCount())]
        assert p.message in shown  # type: ignore[attr-defined]


def test_inspector_reports_shown_problems_and_notes(qtbot: QtBot, panel: InspectorPanel,
                                                    bad_state: ViewerState) -> None:
    expect = {
        2: ("image-truncated", "the part that could be decoded is shown"),
        7: ("image-format", "holds PNG data, not JPEG"),
        13: ("image-size", "is 64×48, the JSON says 128×96"),
        16: ("exif-orientation", "EXIF orientation 6 applied (JSON size matches the rotated "
                                 "image)"),
        17: ("exif-orientation", "EXIF orientation 6 ignored (JSON size matches the stored "
                                 "pixels)"),
        18: ("exif-orientation", "EXIF orientation 3 ignored (JSON size matches the stored "
                                 "pixels)"),
    }
    for image_id, (code, text) in expect.items():
        probs = _problems(qtbot, panel, bad_state, image_id)
        assert any(p.code == code and text in p.message for p in probs), (  # type: ignore[attr-defined]
            image_id, probs)
    for image_id in (1, 8, 9, 10, 11, 12):  # decodable and fine: nothing about the file
        probs = _problems(qtbot, panel, bad_state, image_id)
        assert not [p for p in probs if p.code.startswith(("image", "exif"))], probs  # type: ignore[attr-defined]


# ----- thumbnails --------------------------------------------------------------------------
@pytest.fixture
def cache(qtbot: QtBot, bad_state: ViewerState) -> Iterator[ThumbnailCache]:
    c = ThumbnailCache(bad_state, size=64)
    yield c
    c.shutdown()
    assert c.active_threads() == 0


def _thumb(qtbot: QtBot, cache: ThumbnailCache, image_id: int) -> np.ndarray:
    if cache.get(image_id) is None:
        with qtbot.waitSignal(cache.thumbnailReady, timeout=10000,
                              check_params_cb=lambda i: i == image_id):
            pass
    img = cache.get(image_id)
    assert img is not None
    return _pixels(img)


def test_thumbnails(qtbot: QtBot, cache: ThumbnailCache) -> None:
    for image_id in (3, 4, 5, 6, 20, 14, 15):  # broken: the grey checker, the JSON's aspect
        px = _thumb(qtbot, cache, image_id)
        _name, jw, jh = IMAGES[image_id]
        assert max(px.shape[:2]) == 64 and abs(px.shape[1] / px.shape[0] - jw / jh) < 0.05
        assert _is_grey(px)
    for image_id in (7, 9, 12):  # decodable: the picture (the patches are not annotated)
        px = _thumb(qtbot, cache, image_id)
        assert px.shape == (48, 64, 3) and _near(px[37, 50], BLUE, 40)
    px = _thumb(qtbot, cache, 13)  # another size: scaled to the JSON's aspect
    assert px.shape == (48, 64, 3) and _near(px[37, 50], BLUE, 40)
    px = _thumb(qtbot, cache, 16)  # EXIF applied: the rotated picture
    assert px.shape == (64, 48, 3)
    # the blue patch, stored at x 40…59, y 30…43, is turned to x 4…17, y 40…59
    assert _near(px[50, 10], BLUE, 40) and _near(px[8, 8], GREY, 40)


# ----- files outside the images folder ---------------------------------------------------
def test_outside_file_opens_only_when_allowed(qtbot: QtBot, loader: FrameLoader,
                                              panel: InspectorPanel, cache: ThumbnailCache,
                                              bad_state: ViewerState) -> None:
    f = _frame(qtbot, loader, 19)
    assert "not opened" in f.error and "'..'" in f.error
    assert "Allow Images Outside the Images Folder" in f.error  # how to open it anyway
    probs = _problems(qtbot, panel, bad_state, 19)
    (p,) = [p for p in probs if p.code == "image-path-outside"]  # type: ignore[attr-defined]
    assert "not opened" in p.message  # type: ignore[attr-defined]
    assert _is_grey(_thumb(qtbot, cache, 19))

    # the user allows it: the frame is made again, problems and thumbnails follow
    with qtbot.waitSignal(loader.frameReady, timeout=10000,
                          check_params_cb=lambda fr: fr.image_id == 19) as blocker:
        loader.set_allow_outside(True)
        with qtbot.waitSignal(panel.problemsReady, timeout=10000) as pblock:
            bad_state.set_allow_outside_images(True)
    f2 = blocker.args[0]
    assert f2.error == "" and _near(_pixels(f2.base)[10, 14], RED)
    (p2,) = [p for p in pblock.args[1] if p.code == "image-path-outside"]
    assert "opened because that is allowed" in p2.message
    assert cache.peek(19) is None  # thumbnails made under the old choice are gone
    assert not _is_grey(_thumb(qtbot, cache, 19))


def test_setting_in_the_file_menu_is_remembered(qtbot: QtBot) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    act = w.actions_["allow_outside"]
    assert act.isCheckable() and not act.isChecked()
    file_action = w.menuBar().actions()[0]  # held: PySide6 6.6 frees a temporary's menu
    file_menu = file_action.menu()
    assert act in file_menu.actions()  # type: ignore[union-attr]
    assert not w.state.allow_outside_images and not w.frames.allow_outside
    act.trigger()
    assert w.state.allow_outside_images and w.frames.allow_outside
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert w2.actions_["allow_outside"].isChecked()
    assert w2.state.allow_outside_images and w2.frames.allow_outside
    w2.actions_["allow_outside"].trigger()
    assert not w2.state.allow_outside_images and not w2.frames.allow_outside
    w2.close()
