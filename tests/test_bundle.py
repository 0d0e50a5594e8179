"""The standalone bundle (packaging/cocoview.spec) builds, and the built program works.

The bundle is built once per run (``packaging/build_bundle.py``, ~20-30 s) into a
temporary folder; every check then runs the built program, never the source
tree: from a temporary working folder, with a minimal environment (no
PYTHONPATH, no virtualenv on PATH) and its cache, settings, logs and home in
temporary folders. ``pytest -s`` shows the bundle's size and the start-up time
to the first image.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

import cocoview

REPO = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO / "packaging" / "build_bundle.py"
BUILD_TIMEOUT = 900
RUN_TIMEOUT = 120
#: app.py's --screenshot waits this long after the first frame before grabbing the window
SCREENSHOT_DELAY = 0.4
#: a rendered window or image, not a blank or single-colour one
MIN_COLOURS = 1000


def _load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_bundle", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_bundle = _load_build_script()


@dataclass(frozen=True)
class Bundle:
    folder: Path
    exe: Path
    tmp: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A minimal environment: nothing of this test's Python leaks into the program."""
        keep = ("USER", "LOGNAME", "LANG", "LC_ALL", "SYSTEMROOT", "WINDIR", "COMSPEC")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.setdefault("LANG", "C.UTF-8")
        env["PATH"] = os.environ.get("PATH", "") if sys.platform == "win32" else os.defpath
        home = self.tmp / "home"
        runtime = self.tmp / "runtime"
        for d in (home, runtime):
            d.mkdir(exist_ok=True)
        runtime.chmod(0o700)
        env.update(
            HOME=str(home), USERPROFILE=str(home), TMPDIR=str(self.tmp), TEMP=str(self.tmp),
            TMP=str(self.tmp), XDG_RUNTIME_DIR=str(runtime),
            QT_QPA_PLATFORM="offscreen",
            COCOVIEW_CACHE_DIR=str(self.tmp / "cache"),
            COCOVIEW_SETTINGS=str(self.tmp / "settings" / "cocoview.ini"),
            COCOVIEW_LOG_DIR=str(self.tmp / "log"),
        )
        env.update(extra)
        assert "PYTHONPATH" not in env
        return env

    def run(self, *args: str, input: bytes | None = None, timeout: float = RUN_TIMEOUT,
            **env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(self.exe), *args], cwd=self.tmp, env=self.env(**env),
                              input=input, capture_output=True, timeout=timeout, check=False)

    def demo_annotations(self) -> Path:
        """The demo's instances file as shipped inside the bundle."""
        found = sorted(self.folder.rglob("_resources/demo/annotations/instances_demo.json"))
        assert found, f"no demo dataset in {self.folder}"
        return found[0]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """Build the bundle once for this module; a failed build fails the tests."""
    root = tmp_path_factory.mktemp("bundle")
    dist, work = root / "dist", root / "work"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--dist", str(dist), "--work", str(work)],
        cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        pytest.fail(f"building the bundle failed ({proc.returncode}):\n"
                    f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    folder = dist / "cocoview"
    exe = build_bundle.executable(dist)
    assert exe.is_file(), proc.stdout
    size = build_bundle.folder_size(folder)
    parts = ", ".join(f"{name} {n / 1e6:.1f}" for name, n in build_bundle.largest_parts(folder))
    print(f"\n[bundle] built in {seconds:.0f} s: {folder}")
    print(f"[bundle] size {size / 1e6:.1f} MB; largest (MB): {parts}")
    run_dir = root / "run"
    run_dir.mkdir()
    return Bundle(folder=folder, exe=exe, tmp=run_dir)


def test_version(bundle: Bundle) -> None:
    proc = bundle.run("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == f"cocoview {cocoview.__version__}"


def test_stats_on_the_shipped_demo(bundle: Bundle) -> None:
    """msgspec and numpy work, and the demo comes from the bundle, not the source tree."""
    proc = bundle.run("stats", "--demo", "--json")
    assert proc.returncode == 0, proc.stderr
    st = json.loads(proc.stdout)
    files = [Path(f["path"]) for f in st["files"]]
    assert [f.name for f in files] == ["instances_demo.json", "person_keypoints_demo.json"]
    for f in files:
        assert f.resolve().is_relative_to(bundle.folder.resolve()), f
    expected = cocoview.open(files, cache=False).stats()  # the same files, by this Python
    for key in ("images", "annotations", "categories", "keypoint_annotations",
                "crowd_annotations", "area_buckets", "segmentation_kinds"):
        assert st[key] == expected[key], key
    assert st["images"] > 0 and st["annotations"] > 0
    assert Path(st["cache"]["path"]).resolve().is_relative_to(bundle.tmp.resolve())


def test_render_uses_cv2_pil_and_pycocotools(bundle: Bundle) -> None:
    ann = json.loads(bundle.demo_annotations().read_bytes())
    image_id = ann["images"][0]["id"]
    out = bundle.tmp / "render.png"
    proc = bundle.run("render", "--demo", "--image-id", str(image_id), "--out", str(out),
                      "--layers", "masks,outlines,boxes,keypoints,labels")
    assert proc.returncode == 0, proc.stderr
    assert b"warning" not in proc.stderr, proc.stderr  # the image was found and decoded
    with Image.open(out) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 24)
    assert colours is not None and len(colours) > MIN_COLOURS


def test_gui_offscreen_shows_the_demo(bundle: Bundle) -> None:
    out = bundle.tmp / "window.png"
    t0 = time.time()
    proc = bundle.run("--demo", "--screenshot", str(out))
    wall = time.time() - t0
    assert proc.returncode == 0, proc.stderr
    assert out.is_file(), proc.stderr
    # the PNG is written once, 0.4 s after the first frame: its time stamp is the moment
    first_image = out.stat().st_mtime - t0 - SCREENSHOT_DELAY
    with Image.open(out) as im:
        assert im.width > 400 and im.height > 300
        colours = im.convert("RGB").getcolors(maxcolors=1 << 24)
    assert colours is not None and len(colours) > MIN_COLOURS, "blank window"
    print(f"\n[bundle] start-up to first image (demo, offscreen): {first_image:.2f} s "
          f"(whole --screenshot run {wall:.2f} s)")


def test_frozen_index_worker(bundle: Bundle) -> None:
    cache = bundle.tmp / "index-cache"
    proc = bundle.run("--index-worker", str(bundle.demo_annotations()),
                      COCOVIEW_CACHE_DIR=str(cache))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines() if x.strip()]
    assert len(lines) >= 2
    assert all(isinstance(x, list) and len(x) == 2 for x in lines[:-1])  # progress
    assert lines[-1] == {"cached": True}
    assert any(p.is_file() for p in cache.rglob("*")), "nothing was written to the cache"


def test_frozen_chunk_worker_refuses_a_changed_file(bundle: Bundle) -> None:
    path = bundle.demo_annotations()
    request = {"path": str(path), "size": path.stat().st_size + 1, "is_list": False,
               "chunks": [[0, 0, 10, 1]]}
    proc = bundle.run("--chunk-worker", input=json.dumps(request).encode() + b"\n")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == b""


def test_bundle_is_lean(bundle: Bundle) -> None:
    """What we use is there; the Qt modules and tools we do not use are not."""
    names = {p.name for p in bundle.folder.rglob("*")}
    for used in ("cv2", "pycocotools", "msgspec", "numpy", "PIL", "PySide6"):
        assert used in names, used
    qt_unused = ("Network", "Qml", "Quick", "Pdf", "WebEngine", "Multimedia", "3D", "Charts",
                 "DataVisualization")
    py_unused = {"tkinter", "_tkinter", "matplotlib", "IPython", "pytest", "_pytest",
                 "hypothesis", "mypy", "ruff"}
    plugins_unused = ("libqgtk3", "libqeglfs", "libqvnc", "qvnc")
    found = sorted(
        n for n in names
        if any(n.startswith(f"Qt{q}") or f"Qt6{q}" in n for q in qt_unused)
        or n.split(".")[0] in py_unused or n.startswith(plugins_unused))
    assert not found, found
