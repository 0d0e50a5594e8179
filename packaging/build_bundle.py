"""Build the standalone cocoview bundle with PyInstaller (packaging/cocoview.spec).

    python packaging/build_bundle.py [--dist DIR] [--work DIR]

Prints the output folder (``DIR/cocoview``, on macOS also ``DIR/cocoview.app``),
its size in MB and what takes the most room. Exits non-zero when PyInstaller
fails or the program it should have made is missing. Run it with the Python
that has cocoview's dependencies and ``pyinstaller`` installed
(``pip install -e '.[test]'``); the bundle is for this platform only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "packaging" / "cocoview.spec"
NAME = "cocoview"


def executable(dist: Path) -> Path:
    """The program inside a built bundle under ``dist``."""
    if sys.platform == "win32":
        return dist / NAME / f"{NAME}.exe"
    if sys.platform == "darwin":
        return dist / f"{NAME}.app" / "Contents" / "MacOS" / NAME
    return dist / NAME / NAME


def folder_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (symbolic links not followed)."""
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def largest_parts(folder: Path, n: int = 5) -> list[tuple[str, int]]:
    """The ``n`` biggest entries of the bundle's ``_internal`` folder (packages, libraries)."""
    inner = folder / "_internal"
    root = inner if inner.is_dir() else folder
    sizes = [(p.name, folder_size(p) if p.is_dir() else p.lstat().st_size)
             for p in root.iterdir()]
    return sorted(sizes, key=lambda x: -x[1])[:n]


def build(dist: Path, work: Path, log_level: str = "WARN") -> Path:
    """Run PyInstaller on the spec; return the bundle's folder. Raises on failure."""
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
           "--log-level", log_level, "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    proc = subprocess.run(cmd, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"PyInstaller failed with exit status {proc.returncode}")
    exe = executable(dist)
    if not exe.is_file():
        raise RuntimeError(f"PyInstaller finished but {exe} is missing")
    return dist / NAME


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "build" / "bundle",
                        help="output folder (default: build/bundle)")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "pyinstaller",
                        help="PyInstaller's work folder (default: build/pyinstaller)")
    parser.add_argument("--log-level", default="WARN",
                        choices=("DEBUG", "INFO", "WARN", "ERROR"),
                        help="PyInstaller's log level (default: WARN)")
    args = parser.parse_args(argv)
    dist, work = args.dist.resolve(), args.work.resolve()
    t0 = time.perf_counter()
    try:
        folder = build(dist, work, args.log_level)
    except (RuntimeError, OSError) as exc:
        print(f"build_bundle: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - t0
    print(f"bundle: {folder}")
    if sys.platform == "darwin":
        print(f"app: {dist / (NAME + '.app')}")
    print(f"program: {executable(dist)}")
    print(f"size: {folder_size(folder) / 1e6:.1f} MB")
    print(f"build time: {seconds:.0f} s")
    print("largest: " + ", ".join(f"{name} {size / 1e6:.1f} MB"
                                  for name, size in largest_parts(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
