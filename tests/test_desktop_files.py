"""The Linux desktop integration files are valid and agree with the package.

``desktop-file-validate`` (desktop-file-utils) and ``appstreamcli`` (appstream)
are Debian packages that ``.ci/run`` installs; CI sets ``COCOVIEW_REQUIRE_TOOLS``
so that their absence fails there instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import cocoview
from tests.conftest import REPO

LINUX = REPO / "packaging" / "linux"
APP_ID = "io.github.cocoview.cocoview"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("COCOVIEW_REQUIRE_TOOLS"):
            pytest.fail(f"{name} is not installed (.ci/run installs it)")
        pytest.skip(f"{name} is not installed (Debian: desktop-file-utils / appstream)")
    return path


def test_desktop_file_validates() -> None:
    r = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def test_metainfo_validates() -> None:
    r = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", "--pedantic",
                        str(METAINFO)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_files_agree_with_the_package() -> None:
    entry = dict(line.split("=", 1) for line in DESKTOP.read_text().splitlines()
                 if "=" in line and not line.startswith("#"))
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "cocoview"
    assert "application/json" in entry["MimeType"]
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name  # type: ignore[union-attr]
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == cocoview.__version__
    for n in (16, 32, 48, 64, 128, 256, 512):
        assert (REPO / "resources" / "icons" / f"cocoview-{n}.png").is_file()
