"""Bad input never costs the user anything: image files (issue 6), model side.

Every image is generated in ``tmp_path`` (``tests/bad_images.py``). For each kind
the decoder (shared by canvas, thumbnails, ``render`` and validation) either
shows it correctly (pixels checked), or shows a placeholder with a message, and
reports a problem whose code and message name the file and image.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

import cocoview
from cocoview.cli import main
from cocoview.model.images import (
    MAX_PIXELS,
    check_image,
    decode,
    open_image,
    orientation_decision,
    to_rgb,
)
from cocoview.model.paths import resolve_image_path
from cocoview.model.render import render_image
from cocoview.model.thumbnail import render_thumbnail, thumbnail_size
from tests import bad_images as B
from tests.bad_images import BLUE, BLUE_BOX, GREY, RED, RED_BOX, H, W
from tests.builders import doc, write


def _centre(box: tuple[int, int, int, int]) -> tuple[int, int]:
    x, y, w, h = box
    return x + w // 2, y + h // 2


def _near(px: np.ndarray, rgb: tuple[int, int, int], tol: int = 12) -> bool:
    return bool(np.abs(px.astype(int) - np.asarray(rgb)).max() <= tol)


def _is_grey(rgb: np.ndarray) -> bool:
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def _dataset(tmp_path: Path, entries: list[tuple[str, int, int]],
             annotations: list[dict] | None = None) -> cocoview.Dataset:
    """A dataset over ``tmp_path``: image ids 1, 2, … for (file_name, width, height)."""
    imgs = [{"id": i + 1, "file_name": n, "width": w, "height": h}
            for i, (n, w, h) in enumerate(entries)]
    d = doc(images=imgs, annotations=annotations or [])
    return cocoview.open(write(tmp_path / "ann.json", d), images=tmp_path, cache=False)


# ----- formats that decode: shown, with the right pixels ------------------------------------
def test_png_named_jpg_is_shown_with_a_note(tmp_path: Path) -> None:
    d = decode(tmp_path / B.png_named_jpg(tmp_path), W, H)
    assert d.rgb is not None and d.error == "" and d.notice == ""
    assert _near(d.rgb[_centre(RED_BOX)[::-1]], RED, 0)
    (note,) = d.notes
    assert note.code == "image-format" and "really_a_png.jpg" in note.message
    assert "PNG" in note.message and "JPEG" in note.message


def test_grey_16_bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    d = decode(tmp_path / B.grey16(tmp_path), W, H)
    assert d.rgb is not None and not d.notes
    row = d.rgb[H // 2, :: W // 4]
    assert row.tolist() == [[0, 0, 0], [4, 4, 4], [128, 128, 128], [255, 255, 255]]


def test_rgb_16_bit_png(tmp_path: Path) -> None:
    d = decode(tmp_path / B.rgb16(tmp_path), W, H)
    assert d.rgb is not None
    assert np.array_equal(d.rgb, B.patches())


@pytest.mark.parametrize("alpha_table", [True, False])
def test_palette_with_transparency_no_warning(tmp_path: Path, alpha_table: bool) -> None:
    path = tmp_path / B.palette_transparent(tmp_path, alpha_table=alpha_table)
    with Image.open(path) as im:
        assert im.mode == "P" and "transparency" in im.info
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow warns on P + tRNS → RGB
        d = decode(path, W, H)
    assert d.rgb is not None
    # alpha is dropped: the (half) transparent grey keeps its stored colour
    assert np.array_equal(d.rgb, B.patches())


@pytest.mark.parametrize("maker", [B.grey_l, B.grey_la])
def test_greyscale_l_and_la(tmp_path: Path, maker: object) -> None:
    d = decode(tmp_path / maker(tmp_path), W, H)  # type: ignore[operator]
    assert d.rgb is not None and _is_grey(d.rgb)
    expected = np.asarray(Image.fromarray(B.patches()).convert("L"))
    assert np.array_equal(d.rgb[..., 0], expected)


def test_cmyk_jpeg(tmp_path: Path) -> None:
    path = tmp_path / B.cmyk_jpeg(tmp_path)
    with Image.open(path) as im:
        assert im.mode == "CMYK"
    d = decode(path, W, H)
    assert d.rgb is not None and not d.notes
    for box, colour in ((RED_BOX, RED), (BLUE_BOX, BLUE)):
        assert _near(d.rgb[_centre(box)[::-1]], colour)
    assert _near(d.rgb[H - 2, 2], GREY)


def test_other_modes_to_rgb() -> None:
    f = Image.fromarray(np.array([[-1.0, 0.0, 3.0, np.nan]], np.float32))
    assert to_rgb(f)[0, :, 0].tolist() == [0, 64, 255, 0]
    i = Image.fromarray(np.array([[0, 65535, 70000, -5]], np.int32))
    assert to_rgb(i)[0, :, 0].tolist() == [0, 255, 255, 0]
    assert to_rgb(Image.new("1", (2, 1), 1)).tolist() == [[[255, 255, 255]] * 2]


# ----- broken files: a placeholder (no pixels), a message, a problem ------------------------
BROKEN = [
    ("truncated PNG", lambda d: B.truncated(d, "trunc.png", B.png), "image-truncated",
     "truncated"),
    ("corrupt PNG", B.corrupt_png, "image-unreadable", "cannot read image"),
    ("corrupt JPEG", B.corrupt_jpeg, "image-unreadable", "cannot read image"),
    ("not an image", B.not_an_image, "image-unreadable", "not an image format"),
    ("zero bytes", B.empty, "image-empty", "empty (0 bytes)"),
    ("bomb PNG", B.bomb_png, "image-too-large", "30000×30000"),
    ("bomb JPEG", B.bomb_jpeg, "image-too-large", "30000×30000"),
]


@pytest.mark.parametrize(("kind", "maker", "code", "text"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_is_a_message(tmp_path: Path, kind: str, maker: object, code: str,
                                  text: str) -> None:
    name = maker(tmp_path)  # type: ignore[operator]
    d = decode(tmp_path / name, W, H)
    assert d.rgb is None and d.failure is not None
    assert d.failure.code == code
    assert text in d.error and name in d.error
    assert d.notice == ""


@pytest.mark.parametrize(("kind", "maker", "code", "text"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_is_a_problem_of_its_image(tmp_path: Path, kind: str, maker: object,
                                               code: str, text: str) -> None:
    name = maker(tmp_path)  # type: ignore[operator]
    B.jpeg(tmp_path, "fine.jpg")
    ds = _dataset(tmp_path, [("fine.jpg", W, H), (name, W, H)])
    assert [p for p in ds.image_problems(1) if p.code.startswith("image")] == []
    probs = [p for p in ds.image_problems(2) if p.code == code]
    assert len(probs) == 1, ds.image_problems(2)
    p = probs[0]
    assert p.image_id == 2 and "(id 2)" in str(p) and name in p.message and text in p.message
    # the thumbnail: a grey checker with the JSON's aspect
    thumb = render_thumbnail(ds, 2, 64)
    assert thumb.shape == (48, 64, 3) and _is_grey(thumb)
    # ``cocoview render`` draws on a placeholder and says why
    rgb, warning = render_image(ds, 2)
    assert rgb.shape == (H, W, 3) and text in warning


def test_bomb_is_never_decoded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load",
                        lambda self: loads.append(self.size) or load(self))
    for maker in (B.bomb_png, B.bomb_jpeg):
        d = decode(tmp_path / maker(tmp_path), 30_000, 30_000, max_pixels=1_000_000)
        assert d.failure is not None and d.failure.code == "image-too-large"
        assert "decompression bomb" in d.error
    assert loads == []
    assert MAX_PIXELS < 30_000 * 30_000


def test_big_png_header_check_has_no_pillow_warning(tmp_path: Path) -> None:
    """Between Pillow's two bomb thresholds it warns; we open PNG/JPEG without its check."""
    name = B.bomb_png(tmp_path, "big.png", side=10_000)  # 100 MP: Pillow would warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        notes = check_image(tmp_path / name, 10_000, 10_000, decode_pixels=False)
    assert notes == []


def test_missing_file(tmp_path: Path) -> None:
    d = decode(tmp_path / "nope.jpg", W, H)
    assert d.failure is not None and d.failure.code == "image-missing"
    assert "not found" in d.error and "nope.jpg" in d.error
    assert decode(None).failure.code == "no-file-name"  # type: ignore[union-attr]
    (tmp_path / "dir.jpg").mkdir()
    assert "not a file" in decode(tmp_path / "dir.jpg").error


# ----- truncated JPEG: the decodable part is shown, and reported -----------------------------
def test_truncated_jpeg_shows_what_is_there(tmp_path: Path) -> None:
    name = B.truncated(tmp_path, "trunc.jpg", B.jpeg, keep=0.6)
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    d = decode(tmp_path / name, W, H)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is before is False  # no global flag was used
    assert d.rgb is not None and d.rgb.shape == (H, W, 3)
    assert _near(d.rgb[_centre(RED_BOX)[::-1]], RED, 30)  # the top is there
    (note,) = d.notes
    assert note.code == "image-truncated" and name in note.message
    assert "truncated" in d.notice
    # Pillow alone still refuses the file (nothing was changed globally)
    with Image.open(tmp_path / name) as im, pytest.raises(OSError, match="truncated"):
        im.load()
    # validation decodes one image and finds it; the dataset-wide pass reads headers only
    B.jpeg(tmp_path, "fine.jpg")
    ds = _dataset(tmp_path, [(name, W, H), ("fine.jpg", W, H)])
    probs = [p for p in ds.image_problems(1) if p.code == "image-truncated"]
    assert len(probs) == 1 and "(id 1)" in str(probs[0])
    assert not [p for p in ds.problems(check_files=True) if p.code == "image-truncated"]


def test_jpeg_truncated_in_its_header(tmp_path: Path) -> None:
    name = B.truncated(tmp_path, "stub.jpg", B.jpeg, keep=0.1)
    d = decode(tmp_path / name, W, H)
    assert d.rgb is None and d.failure is not None
    assert d.failure.code in ("image-truncated", "image-unreadable")


# ----- size disagreeing with the JSON ------------------------------------------------------
def test_size_mismatch_is_shown_and_reported(tmp_path: Path) -> None:
    B.jpeg(tmp_path, "small.jpg")  # 64 × 48 on disk
    ds = _dataset(tmp_path, [("small.jpg", 128, 96)], annotations=[
        {"id": 5, "image_id": 1, "category_id": 1, "bbox": [80, 60, 40, 28], "area": 1120,
         "iscrowd": 0, "segmentation": [[80, 60, 120, 60, 120, 88, 80, 88]]}])
    d = open_image(ds, 1)
    assert d.rgb is not None and d.size == (W, H)  # shown: the picture as it is
    assert "64×48" in d.notice and "128×96" in d.notice
    (p,) = [p for p in ds.image_problems(1) if p.code == "image-size"]
    assert "small.jpg" in p.message and "64×48" in p.message and "128×96" in p.message
    assert p.image_id == 1 and "(id 1)" in str(p)
    assert [q.code for q in ds.problems(check_files=True) if q.code == "image-size"] == [
        "image-size"]
    # render and thumbnails scale it to the JSON's size: the blue patch is under the box
    rgb, warning = render_image(ds, 1, layers=[])
    assert warning == "" and rgb.shape == (96, 128, 3)
    assert _near(rgb[60 + 14, 80 + 20], BLUE, 20)
    thumb = render_thumbnail(ds, 1, 64, overlays=False)
    assert thumb.shape == (48, 64, 3) and _near(thumb[37, 50], BLUE, 20)


# ----- EXIF orientation ----------------------------------------------------------------------
def test_orientation_decision_rule() -> None:
    assert orientation_decision(1, (64, 48), (64, 48)) == (False, "")
    assert orientation_decision(6, (64, 48), (48, 64)) == (
        True, "EXIF orientation 6 applied (JSON size matches the rotated image)")
    assert orientation_decision(6, (64, 48), (64, 48)) == (
        False, "EXIF orientation 6 ignored (JSON size matches the stored pixels)")
    # a half turn keeps the size: the size cannot ask for it, the stored pixels are used
    assert orientation_decision(3, (64, 48), (64, 48))[0] is False
    apply, why = orientation_decision(3, (64, 48), (48, 64))
    assert not apply and "neither" in why
    assert orientation_decision(6, (50, 50), (50, 50))[0] is False  # square: cannot tell
    assert "no width/height" in orientation_decision(8, (64, 48), (-1, -1))[1]
    assert "not a valid value" in orientation_decision(9, (64, 48), (48, 64))[1]


def _red_centre(rgb: np.ndarray) -> tuple[float, float]:
    red = (rgb[..., 0] > 180) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
    ys, xs = np.nonzero(red)
    return float(xs.mean()), float(ys.mean())


# (orientation, JSON size, applied?, where the red patch is in the JSON's coordinates)
EXIF_CASES = [
    (6, (48, 64), True, (32, 4, 12, 20)),  # turned 90° clockwise
    (6, (64, 48), False, RED_BOX),
    (3, (64, 48), False, RED_BOX),
    (3, (48, 64), False, None),  # neither size: stored pixels, scaled to the JSON
]


@pytest.mark.parametrize(("orientation", "json_size", "applied", "red"), EXIF_CASES)
def test_exif_orientation(tmp_path: Path, orientation: int, json_size: tuple[int, int],
                          applied: bool, red: tuple[int, int, int, int] | None) -> None:
    name = B.jpeg(tmp_path, f"o{orientation}.jpg", orientation=orientation)
    ds = _dataset(tmp_path, [(name, *json_size)])
    d = open_image(ds, 1)
    assert d.rgb is not None
    word = "applied" if applied else "ignored"
    (note,) = [n for n in d.notes if n.code == "exif-orientation"]
    assert note.message.startswith(f"EXIF orientation {orientation} {word}")
    probs = ds.image_problems(1)
    assert any(p.code == "exif-orientation" and p.message == note.message for p in probs)
    size_problem = [p for p in probs if p.code == "image-size"]
    if red is None:
        assert size_problem and "64×48" in size_problem[0].message
        return
    assert not size_problem
    assert (d.rgb.shape[1], d.rgb.shape[0]) == json_size
    x, y, w, h = red
    cx, cy = _red_centre(d.rgb)
    assert abs(cx - (x + w / 2 - 0.5)) < 1.0 and abs(cy - (y + h / 2 - 0.5)) < 1.0
    # the thumbnail follows the same rule
    thumb = render_thumbnail(ds, 1, 64, overlays=False)
    assert (thumb.shape[1], thumb.shape[0]) == thumbnail_size(*json_size, 64)
    tx, ty = _red_centre(thumb)
    s = 64 / max(json_size)
    assert abs(tx - (x + w / 2) * s) < 2 and abs(ty - (y + h / 2) * s) < 2


def test_exif_rotated_box_lands_on_the_patch_in_render(tmp_path: Path) -> None:
    """A box at the red patch's place in the JSON's (rotated) coordinates is drawn on it."""
    name = B.jpeg(tmp_path, "o6.jpg", orientation=6)
    ds = _dataset(tmp_path, [(name, 48, 64)], annotations=[
        {"id": 9, "image_id": 1, "category_id": 1, "bbox": [32, 4, 12, 20], "area": 240,
         "iscrowd": 0, "segmentation": [[32, 4, 44, 4, 44, 24, 32, 24]]}])
    plain, _ = render_image(ds, 1, layers=[])
    boxed, _ = render_image(ds, 1, layers=["boxes"])
    changed = np.nonzero((plain != boxed).any(axis=2))
    ys, xs = changed
    assert xs.min() >= 30 and xs.max() <= 46 and ys.min() >= 2 and ys.max() <= 26
    assert _near(plain[14, 38], RED, 30)  # inside the box: the red patch
    assert _near(plain[14, 26], GREY, 30) and _near(plain[32, 38], GREY, 30)  # outside: not


def test_large_image_is_decoded_reduced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = np.kron(B.patches(), np.ones((20, 20, 1), np.uint8))  # 1280 × 960
    B.jpeg(tmp_path, "big.jpg", big)
    B.png(tmp_path, "big.png", big)
    loads: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load",
                        lambda self: loads.append(self.size) or load(self))
    sizes = {}
    for name in ("big.jpg", "big.png"):
        loads.clear()
        d = decode(tmp_path / name, 1280, 960, max_pixels=100_000)
        sizes[name] = set(loads)
        assert d.rgb is not None and d.size == (1280, 960) and not d.notes
        h, w = d.rgb.shape[:2]
        assert w * h <= 100_000 and abs(w / h - 4 / 3) < 0.02
        assert _near(d.rgb[int(h * (RED_BOX[1] + 6) / H), int(w * (RED_BOX[0] + 10) / W)], RED,
                     30)
    assert sizes["big.jpg"] == {(320, 240)}  # the JPEG: DCT-scaled while decoding (1/4)
    assert sizes["big.png"] == {(1280, 960)}  # a PNG cannot be: decoded, then reduced


# ----- paths outside the images folder ----------------------------------------------------
@pytest.fixture
def outside_setup(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "images"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    B.jpeg(elsewhere, "secret.jpg")
    B.jpeg(root, "inside.jpg")
    B.jpeg(root, "sub_target.jpg")
    os.symlink(elsewhere / "secret.jpg", root / "link_out.jpg")
    os.symlink(root / "sub_target.jpg", root / "link_in.jpg")
    return root, elsewhere


def test_resolve_image_path(outside_setup: tuple[Path, Path]) -> None:
    root, elsewhere = outside_setup
    ok = resolve_image_path(root, "inside.jpg")
    assert ok.outside == "" and ok.usable() == root / "inside.jpg"
    assert resolve_image_path(root, "link_in.jpg").outside == ""  # a link within: followed
    assert resolve_image_path(root, "a/../inside.jpg").outside  # any '..' part
    absolute = resolve_image_path(root, str(elsewhere / "secret.jpg"))
    assert "absolute" in absolute.outside and absolute.by_name and absolute.usable() is None
    assert absolute.usable(allow_outside=True) == elsewhere / "secret.jpg"
    up = resolve_image_path(root, "../elsewhere/secret.jpg")
    assert "'..'" in up.outside and up.usable() is None
    link = resolve_image_path(root, "link_out.jpg")
    assert "outside the images folder" in link.outside and not link.by_name
    assert str(elsewhere / "secret.jpg") in link.outside
    assert resolve_image_path(root, "link_out.jpg", follow_links=False).outside == ""
    assert resolve_image_path(root, "").path is None
    assert resolve_image_path(root, "..name.jpg").outside == ""  # not a '..' part


def test_outside_files_are_reported_and_not_opened(outside_setup: tuple[Path, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root, elsewhere = outside_setup
    names = ["inside.jpg", str(elsewhere / "secret.jpg"), "../elsewhere/secret.jpg",
             "link_out.jpg", "link_in.jpg"]
    d = doc(images=[{"id": i + 1, "file_name": n, "width": 50, "height": 40}
                    for i, n in enumerate(names)], annotations=[])
    ds = cocoview.open(write(root.parent / "ann.json", d), images=root, cache=False)
    opened: list[str] = []
    real_open = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(self.name)
                        or real_open(self, *a, **k))
    for iid in (2, 3, 4):
        got = open_image(ds, iid)
        assert got.rgb is None and got.failure is not None
        assert got.failure.code == "image-path-outside" and "not opened" in got.error
        assert render_thumbnail(ds, iid, 32).std() < 10  # the grey checker
    assert not {"secret.jpg", "link_out.jpg"} & set(opened)
    for iid in (1, 5):
        assert open_image(ds, iid).rgb is not None
    allowed = open_image(ds, 4, allow_outside=True)
    assert allowed.rgb is not None and allowed.notes[0].code == "image-path-outside"
    assert "opened because that is allowed" in allowed.notes[0].message
    # validate: names need no disk access; the link is found when files are checked
    by_name = {p.image_id for p in ds.problems(check_files=False)
               if p.code == "image-path-outside"}
    assert by_name == {2, 3}
    checked = [p for p in ds.problems(check_files=True) if p.code == "image-path-outside"]
    assert {p.image_id for p in checked} == {2, 3, 4}
    for p in checked:
        assert "not opened" in p.message and f"(id {p.image_id})" in str(p)
    # the files outside are not read by validation (their size disagrees with the JSON)
    assert not [p for p in ds.problems(check_files=True) if p.code == "image-size"
                and p.image_id in (2, 3, 4)]
    sizes = {p.image_id for p in ds.problems(check_files=True, allow_outside=True)
             if p.code == "image-size"}
    assert {2, 3, 4} <= sizes
    (p,) = [p for p in ds.image_problems(4) if p.code == "image-path-outside"]
    assert "link_out.jpg" in p.message and "outside the images folder" in p.message


def test_cli_render_and_validate_refuse_outside(outside_setup: tuple[Path, Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root, _elsewhere = outside_setup
    d = doc(images=[{"id": 1, "file_name": "../elsewhere/secret.jpg", "width": W, "height": H}],
            annotations=[])
    src = write(root.parent / "ann.json", d)
    out = root.parent / "o.png"
    assert main(["render", str(src), "--images", str(root), "--image-id", "1",
                 "--out", str(out)]) == 0
    assert "outside the images folder" in capsys.readouterr().err
    assert _is_grey(np.asarray(Image.open(out))[30:, :])  # the placeholder (under the banner)
    assert main(["render", str(src), "--images", str(root), "--image-id", "1",
                 "--allow-outside-images", "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert _near(np.asarray(Image.open(out))[_centre(RED_BOX)[::-1]], RED, 30)
    main(["validate", str(src), "--images", str(root), "--json"])
    assert "image-path-outside" in capsys.readouterr().out


def test_odd_names_never_raise(tmp_path: Path) -> None:
    """A NUL in a name, a symbolic-link loop, a folder: problems, never exceptions."""
    os.symlink(tmp_path / "loop_b.jpg", tmp_path / "loop_a.jpg")
    os.symlink(tmp_path / "loop_a.jpg", tmp_path / "loop_b.jpg")
    (tmp_path / "folder.jpg").mkdir()
    ds = _dataset(tmp_path, [("a\x00b.jpg", W, H), ("loop_a.jpg", W, H), ("folder.jpg", W, H)])
    for iid in (1, 2, 3):
        for allow in (False, True):
            d = open_image(ds, iid, allow_outside=allow)
            assert d.rgb is None and d.failure is not None and d.error
        assert render_thumbnail(ds, iid, 32).shape == (24, 32, 3)
    codes = {p.image_id: p.code for p in ds.problems(check_files=True)
             if p.code.startswith("image")}
    assert codes[3] == "image-unreadable" and {1, 2} <= set(codes)
    assert "not a file" in open_image(ds, 3).error
