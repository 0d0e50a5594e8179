"""What the command line prints: validate's image folder and progress, escaped names,
ambiguous category names, and problems that used to go unreported."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cocoview
from cocoview.cli import main, terminal_safe
from tests.builders import doc, write

REAL = Path(__file__).parent / "data" / "real"


def _jpeg(path: Path, w: int, h: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), (90, 120, 150)).save(path)


def _coco_layout(tmp_path: Path) -> Path:
    """annotations/instances_val2017.json with val2017/ beside it; one image file missing."""
    ann = tmp_path / "annotations" / "instances_val2017.json"
    ann.parent.mkdir()
    write(ann, doc())
    _jpeg(tmp_path / "val2017" / "a.jpg", 40, 30)
    _jpeg(tmp_path / "val2017" / "sub" / "b.jpg", 20, 10)
    return ann  # c.jpg is missing


# ----- validate finds the images where the app does -----------------------------------
def test_validate_checks_images_in_the_folder_the_app_guesses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ann = _coco_layout(tmp_path)
    assert cocoview.open(ann).image_root == tmp_path / "val2017"  # what the app shows
    assert main(["validate", str(ann)]) == 0
    cap = capsys.readouterr()
    assert "c.jpg" in cap.out and "image-missing" not in cap.err
    assert f"image files checked in {tmp_path / 'val2017'}" in cap.err
    assert main(["validate", str(ann), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["images_checked_in"] == str(tmp_path / "val2017")
    assert [p["code"] for p in rep["problems"]] == ["image-missing"]
    assert rep["problems"][0]["image_id"] == 3


def test_validate_says_when_no_image_is_near_the_json(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write(tmp_path / "only.json", doc())
    assert main(["validate", str(p)]) == 0
    err = capsys.readouterr().err
    assert "image files not checked: none of them is near the JSON; give --images DIR" in err


def test_real_mmdet_dummy_reports_the_missing_image_without_images_flag(
        capsys: pytest.CaptureFixture[str]) -> None:
    ann = REAL / "mmdet_coco_dummy" / "annotations" / "instances_val2017.json"
    assert main(["validate", str(ann), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    missing = [p for p in rep["problems"] if p["code"] == "image-missing"]
    assert [p["image_id"] for p in missing] == [255917]


def test_panoptic_pngs_are_checked_without_images_flag(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = REAL / "datumaro" / "coco_panoptic"
    dst = tmp_path / "coco_panoptic"
    shutil.copytree(src / "annotations", dst / "annotations")  # the PNGs, not the images
    ann = dst / "annotations" / "panoptic_train.json"
    assert main(["validate", str(ann), "--json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    sizes = [p for p in rep["problems"] if p["code"] == "panoptic-png-size"]
    assert len(sizes) == 1 and "5×5" in sizes[0]["message"] and "10×5" in sizes[0]["message"]


def test_validate_reports_progress_to_the_end() -> None:
    ds = cocoview.open(REAL / "mmpose" / "coco" / "test_coco.json")
    seen: list[tuple[int, int]] = []
    ds.problems(check_files=True, progress=lambda done, total: seen.append((done, total)))
    total = int((ds.anns.kp_off >= 0).sum()) + int((ds.anns.seg_kind > 0).sum()) + len(ds)
    assert seen and seen[-1][0] == seen[-1][1] > 0
    assert all(d <= t for d, t in seen) and seen[-1][1] <= total


def test_validate_shows_a_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    ann = _coco_layout(tmp_path)
    cmd = [sys.executable, "-m", "cocoview", "validate", str(ann)]
    quiet = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert "validating" not in quiet.stderr
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=follower, timeout=120)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "validating:" in shown  # tqdm's bar, on the terminal only


# ----- names are data, not terminal commands --------------------------------------------
def test_terminal_safe_escapes_controls_and_bidi_overrides() -> None:
    assert terminal_safe("a\x1b[31mred\x07\x00") == "a\\x1b[31mred\\x07\\x00"
    assert terminal_safe("two\nlines\r") == "two\\nlines\\r"
    assert terminal_safe("\u202eevil\u2066") == "\\u202eevil\\u2066"
    assert terminal_safe("\x9b") == "\\x9b"
    assert terminal_safe("café 東京 ok") == "café 東京 ok"
    assert terminal_safe("a\nb", multiline=True) == "a\nb"


def test_names_with_control_characters_never_reach_the_terminal_raw(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = doc()
    d["categories"][0]["name"] = "\x1b[31mred\x1b[0m\u202e"
    d["images"][0]["file_name"] = "new\nline.jpg"
    d["annotations"][0]["bbox"] = [-50, 3, 10, 8]  # a warning naming the image
    p = write(tmp_path / "evil\x07.json", d)
    assert main(["stats", str(p)]) == 0
    assert main(["validate", str(p), "--images", str(tmp_path)]) == 0
    cap = capsys.readouterr()
    for text in (cap.out, cap.err):
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "\\x1b[31mred" in cap.out and "new\\nline.jpg" in cap.out
    for line in cap.out.splitlines():
        if "bbox-outside" in line or "new\\nline" in line:
            assert line.startswith(("warning: ", "error: ", "info: "))
    assert main(["render", str(p), "--image-id", "99", "--out", str(tmp_path / "o.png")]) == 2
    assert "evil\\x07.json" in capsys.readouterr().err


def test_argparse_errors_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["validate", "x.json", "--min-severity", "\x1b[2J"])
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J" in err


# ----- problems that went unreported ---------------------------------------------------
def test_duplicate_category_names_are_a_problem_and_ambiguous_in_filters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = doc()
    d["categories"][1]["name"] = "cat"
    p = write(tmp_path / "dup.json", d)
    probs = [x for x in cocoview.open(p).problems() if x.code == "duplicate-category-name"]
    assert len(probs) == 1 and "'cat'" in probs[0].message and "1, 2" in probs[0].message
    out = tmp_path / "out.json"
    assert main(["export", str(p), "--category", "cat", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ambiguous" in err and "1, 2" in err and not out.exists()
    assert main(["export", str(p), "--category", "2", "--out", str(out)]) == 0
    assert out.read_text().split() == ["1", "2"]  # the images with category 2
    assert "any of {cat (id 2)}" in capsys.readouterr().out


def test_same_name_in_two_files_with_the_same_id_is_not_a_duplicate(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", doc())
    b = write(tmp_path / "b.json", doc(images=[], annotations=[]))
    codes = {x.code for x in cocoview.open([a, b]).problems()}
    assert "duplicate-category-name" not in codes


@pytest.mark.parametrize("skeleton", [[[1, 2], [2, 99]], [[1, 2], [-1, 2]], [[0, 1], [1, 3]]])
def test_skeleton_edges_to_missing_keypoints_are_reported_and_not_drawn(
        tmp_path: Path, skeleton: list[list[int]]) -> None:
    d = doc()
    d["categories"][0].update(keypoints=["a", "b", "c"], skeleton=skeleton)
    d["annotations"][0].update(keypoints=[3, 4, 2, 8, 8, 2, 10, 10, 2], num_keypoints=3)
    p = write(tmp_path / "kp.json", d)
    ds = cocoview.open(p)
    notes = [x for x in ds.problems() if x.code == "skeleton" and "does not exist" in x.message]
    assert len(notes) == 1 and "1 skeleton edge" in notes[0].message
    skel = ds.category(1).skeleton
    assert len(skel) == 1 and skel.min() >= 0 and skel.max() < 3
    rgb = ds.overlays(1)  # drawing works
    assert rgb.items


def test_top_level_values_are_named_in_json_words(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for text, word in (("null", "null"), ("3.5", "a number"), ("false", "a boolean")):
        p = tmp_path / "top.json"
        p.write_text(text)
        assert main(["stats", str(p)]) == 2
        err = capsys.readouterr().err
        assert f"top-level value is {word}," in err and "NoneType" not in err


def test_validate_counts_what_it_does_not_list(tmp_path: Path) -> None:
    from cocoview.model import validate as v

    d = doc(images=[{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}],
            annotations=[{"id": i, "image_id": 1, "category_id": 1, "bbox": [0, 0, 0, 0]}
                         for i in range(1, 8)])
    ds = cocoview.open(write(tmp_path / "many.json", d))
    old = v.MAX_PER_CHECK
    v.MAX_PER_CHECK = 3
    try:
        probs = ds.problems(check_files=False, allow_outside=True)
    finally:
        v.MAX_PER_CHECK = old
    assert sum(p.code == "empty-bbox" for p in probs) == 3
    more = [p for p in probs if p.code == "truncated"]
    assert len(more) == 1 and "4 more problems like 'empty-bbox'" in more[0].message
    assert np.all(ds.anns.bbox[:, 2] == 0)


def test_has_problems_filter_misses_no_image_past_the_listing_cap(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cocoview.model.filters import ImageFilter, filter_images
    from cocoview.model.validate import MAX_PER_CHECK

    n = MAX_PER_CHECK + 50
    d = {"images": [{"id": i, "file_name": f"{i}.jpg", "width": 10, "height": 10}
                    for i in range(1, n + 2)],
         "annotations": [{"id": i, "image_id": i, "category_id": 1, "bbox": [1, 1, 0, 3]}
                         for i in range(1, n + 1)],  # every image but the last: empty-bbox
         "categories": [{"id": 1, "name": "x"}]}
    ds = cocoview.open(write(tmp_path / "broken.json", d))
    probs = ds.problems()
    assert sum(p.code == "empty-bbox" for p in probs) == MAX_PER_CHECK
    assert any(p.code == "truncated" and "50 more problems like 'empty-bbox'" in p.message
               for p in probs)
    with_problems = filter_images(ds, ImageFilter(has_problems=True))
    assert len(with_problems) == n and n + 1 not in with_problems.tolist()
    assert filter_images(ds, ImageFilter(has_problems=False)).tolist() == [n + 1]
    out = tmp_path / "ids.txt"
    assert main(["export", str(tmp_path / "broken.json"), "--has-problems",
                 "--out", str(out)]) == 0
    assert len(out.read_text().split()) == n


def test_ids_are_read_one_way_in_the_cli_and_the_panel(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cocoview.model.filters import split_ids

    assert split_ids("3; 1,\n3\t-2 x 1_000 +4") == ((3, 1, -2), ["x", "1_000", "+4"])
    p = write(tmp_path / "d.json", doc())
    out = tmp_path / "ids.txt"
    assert main(["export", str(p), "--ids", "3;1", "--out", str(out)]) == 0
    assert out.read_text().split() == ["1", "3"]
    assert main(["export", str(p), "--ids", "3;1_000", "--out", str(out), "--force"]) == 2
    assert "not an image id: '1_000'" in capsys.readouterr().err


def test_a_huge_category_name_is_cut_for_every_view(tmp_path: Path) -> None:
    from cocoview.model.categories import MAX_NAME

    d = doc()
    d["categories"][0]["name"] = "n" * 2_000_000
    d["categories"][0]["keypoints"] = ["k" * 100_000]
    ds = cocoview.open(write(tmp_path / "long.json", d))
    cat = ds.category(1)
    assert len(cat.name) == MAX_NAME and cat.name.endswith("…")
    assert len(cat.keypoint_names[0]) == MAX_NAME
    assert len(cat.record["name"]) == 2_000_000  # the record (exports) keeps it whole
