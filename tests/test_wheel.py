"""The built wheel, installed into a fresh virtual environment outside the source tree, works.

Builds the wheel (``python -m build``), installs it with its dependencies into a
new venv under pytest's tmp folder, and from there — with the source tree
nowhere on the path — runs ``cocoview --version``, ``cocoview stats --demo`` and
the GUI offscreen on the demo (open, show the first image, save a screenshot,
quit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cocoview
from tests.conftest import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh venv with the wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"),
                    str(REPO)], check=True, capture_output=True, timeout=900)
    wheels = list((root / "dist").glob("cocoview-*.whl"))
    assert len(wheels) == 1
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    r = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", str(wheels[0])],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-2000:]
    return bindir


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(QT_QPA_PLATFORM="offscreen", COCOVIEW_CACHE_DIR=str(tmp / "cache"),
               COCOVIEW_SETTINGS=str(tmp / "settings.ini"), COCOVIEW_LOG_DIR=str(tmp / "log"))
    return env


def _run(bindir: Path, args: list[str], tmp: Path, timeout: float = 120) -> str:
    r = subprocess.run([str(bindir / "cocoview"), *args], cwd=tmp, env=_env(tmp),
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout


def test_wheel_contents(installed: Path) -> None:
    wheel = next((installed.parents[1] / "dist").glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("cocoview/__init__.py", "cocoview/qt/main_window.py",
                   "cocoview/_resources/demo/annotations/instances_demo.json",
                   "cocoview/_resources/demo/NOTICE.md",
                   "cocoview/_resources/icons/cocoview.svg",
                   "cocoview/_resources/icons/cocoview-256.png"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "benchmarks/", "cocoview/_resources/demo/make_"))
                   for n in names)


def test_installed_package_is_not_the_source_tree(installed: Path, tmp_path: Path) -> None:
    r = subprocess.run([str(installed / "python"), "-c",
                        "import cocoview, cocoview.resources as r; "
                        "print(cocoview.__file__); print(r.resources_dir())"],
                       cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True,
                       timeout=60, check=True)
    module, resources = r.stdout.split("\n")[:2]
    assert str(REPO) not in module and str(REPO) not in resources
    assert resources.endswith(os.path.join("cocoview", "_resources"))


def test_version(installed: Path, tmp_path: Path) -> None:
    assert _run(installed, ["--version"], tmp_path).strip() == f"cocoview {cocoview.__version__}"


def test_stats_on_the_demo(installed: Path, tmp_path: Path) -> None:
    stats = json.loads(_run(installed, ["stats", "--demo", "--json"], tmp_path))
    text = json.dumps(stats)
    assert "person" in text  # the demo's categories are counted


def test_gui_offscreen_shows_the_first_image(installed: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    t = time.perf_counter()
    _run(installed, ["--demo", "--screenshot", str(shot)], tmp_path, timeout=180)
    print(f"\nwheel: start to screenshot {time.perf_counter() - t:.2f} s "
          "(includes the 0.4 s wait before the grab)")
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[0] > 300 and img.shape[1] > 500
    colours = np.unique(img.reshape(-1, 3)[:: 7], axis=0)
    assert len(colours) > 1000  # a photo with overlays, not an empty window
