"""The headless command line: output, exit codes, and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cocoview import __version__
from cocoview.cli import main
from tests.builders import doc, write
from tests.conftest import DEMO, REAL

INST = DEMO / "annotations" / "instances_demo.json"
KP = DEMO / "annotations" / "person_keypoints_demo.json"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["--version"])
    assert ei.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_module_entry_point() -> None:
    r = subprocess.run([sys.executable, "-m", "cocoview", "stats", "--demo", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["images"] == 19


def test_stats_json_matches_pycocotools(capsys: pytest.CaptureFixture[str]) -> None:
    from pycocotools.coco import COCO

    assert main(["stats", str(INST), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    coco = COCO(str(INST))
    assert st["images"] == len(coco.imgs)
    assert st["annotations"] == len(coco.anns)
    assert st["crowd_annotations"] == sum(a["iscrowd"] for a in coco.anns.values())
    per = {c["id"]: c for c in st["per_category"]}
    for cid in coco.cats:
        assert per[cid]["instances"] == len(coco.getAnnIds(catIds=[cid]))
        assert per[cid]["images"] == len(coco.getImgIds(catIds=[cid]))
    areas = np.array([a["area"] for a in coco.anns.values()])
    assert st["area_buckets"] == {"small": int((areas < 32**2).sum()),
                                  "medium": int(((areas >= 32**2) & (areas < 96**2)).sum()),
                                  "large": int((areas >= 96**2).sum())}
    assert st["images_without_annotations"] == sum(
        1 for i in coco.imgs if not coco.getAnnIds(imgIds=[i]))
    assert "path" in st["cache"]


def test_stats_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", str(INST), str(KP)]) == 0
    out = capsys.readouterr().out
    assert "images" in out and "keypoint annotations" in out and "person" in out


def test_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(INST)]) == 0
    d = doc()
    d["annotations"][0]["image_id"] = 777
    bad = write(tmp_path / "bad.json", d)
    assert main(["validate", str(bad), "--json"]) == 1
    res = json.loads(capsys.readouterr().out)
    assert res["errors"] >= 1
    assert any(p["code"] == "unknown-image" and p["location"] == "annotations[0] (id 10)"
               for p in res["problems"])


def test_validate_checks_image_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = REAL / "mmdet_coco_dummy" / "annotations" / "instances_val2017.json"
    images = REAL / "mmdet_coco_dummy" / "val2017"
    main(["validate", str(src), "--images", str(images), "--json"])
    res = json.loads(capsys.readouterr().out)
    missing = [p for p in res["problems"] if p["code"] == "image-missing"]
    assert len(missing) == 1 and missing[0]["image_id"] == 255917
    # a file of another size than the JSON says
    d = doc()
    Image.new("RGB", (41, 30)).save(tmp_path / "a.jpg")
    p = write(tmp_path / "x.json", d)
    assert main(["validate", str(p), "--images", str(tmp_path), "--json"]) == 1
    res = json.loads(capsys.readouterr().out)
    assert any(p["code"] == "image-size" and "41×30" in p["message"] for p in res["problems"])


@pytest.mark.parametrize("content", [b"", b"{", b"[1, 2", b"nonsense", b"42"])
def test_unusable_input_exit_2_one_line(tmp_path: Path, content: bytes,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "x.json"
    p.write_bytes(content)
    for cmd in (["stats", str(p)], ["validate", str(p)],
                ["render", str(p), "--image-id", "1", "--out", str(tmp_path / "o.png")]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(p) in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_no_traceback_from_subprocess(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_bytes(b'{"images": [')
    r = subprocess.run([sys.executable, "-m", "cocoview", "stats", str(p)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "ends too early" in r.stderr


def test_render_layers(tmp_path: Path) -> None:
    out_all = tmp_path / "all.png"
    out_none = tmp_path / "none.png"
    assert main(["render", "--demo", "--image-id", "785", "--out", str(out_all)]) == 0
    assert main(["render", "--demo", "--image-id", "785", "--layers", "labels",
                 "--out", str(out_none)]) == 0
    a = np.asarray(Image.open(out_all))
    b = np.asarray(Image.open(out_none))
    raw = np.asarray(Image.open(DEMO / "images" / "000000000785.jpg").convert("RGB"))
    assert a.shape == raw.shape
    assert (np.abs(a.astype(int) - raw).sum(axis=2) > 30).mean() > 0.05  # overlays drawn
    assert (np.abs(b.astype(int) - raw).sum(axis=2) > 30).mean() < (
        np.abs(a.astype(int) - raw).sum(axis=2) > 30).mean()


def test_render_missing_image_placeholder(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = REAL / "mmdet_coco_dummy" / "annotations" / "instances_val2017.json"
    out = tmp_path / "o.png"
    assert main(["render", str(src), "--image-id", "255917", "--out", str(out)]) == 0
    assert "not found" in capsys.readouterr().err
    im = np.asarray(Image.open(out))
    assert im.shape == (427, 640, 3)


def test_render_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--demo", "--image-id", "123456789", "--out",
                 str(tmp_path / "o.png")]) == 2
    assert "no image with id 123456789" in capsys.readouterr().err
    assert main(["render", "--demo", "--image-id", "785", "--layers", "bogus", "--out",
                 str(tmp_path / "o.png")]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["render", "--demo", "--image-id", "785", "--out",
                 str(tmp_path / "nodir" / "o.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_render_with_results(tmp_path: Path) -> None:
    gt = REAL / "mmpose" / "coco" / "test_coco.json"
    res = REAL / "mmpose" / "coco" / "test_coco_det_AP_H_56.json"
    out = tmp_path / "o.png"
    assert main(["render", str(gt), "--results", str(res), "--image-id", "785",
                 "--out", str(out)]) == 0
    assert out.is_file()
