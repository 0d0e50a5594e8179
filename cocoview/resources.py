"""The one place that finds shipped data: source tree, installed wheel or bundle."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """``resources/`` of the source tree, ``cocoview/_resources`` of a wheel, or the bundle's."""
    candidates = [
        _HERE / "_resources",  # installed wheel (hatch force-include)
        _HERE.parent / "resources",  # source tree / editable install
    ]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "cocoview" / "_resources")
    for c in candidates:
        if (c / "demo").is_dir():
            return c
    raise FileNotFoundError("cocoview's resources folder is missing from this installation")


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def demo_files() -> list[Path]:
    """The bundled demo dataset: instances + person_keypoints of the same images."""
    ann = resource("demo", "annotations")
    return [ann / "instances_demo.json", ann / "person_keypoints_demo.json"]


def icon_files() -> list[Path]:
    """The app icon's PNG sizes (made from icons/cocoview.svg by packaging/make_icons.py)."""
    return sorted(resource("icons").glob("cocoview-*.png"),
                  key=lambda p: int(p.stem.rsplit("-", 1)[1]))
