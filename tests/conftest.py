"""Shared fixtures. Qt tests run offscreen; settings are isolated per test."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"
REAL = DATA / "real"
SHARED_REAL = REPO.parent / "shared" / "data" / "real"
DEMO = REPO / "resources" / "demo"


def real_sets() -> list[tuple[Path, dict]]:
    """Every set of the project's own copy, plus ../shared's when it is present."""
    out: list[tuple[Path, dict]] = []
    for root in (REAL, SHARED_REAL):
        index = root / "index.json"
        if index.is_file():
            for s in json.loads(index.read_text())["sets"]:
                out.append((root, s))
    return out


def set_id(item: tuple[Path, dict]) -> str:
    root, s = item
    return ("shared:" if root == SHARED_REAL else "tests:") + s["name"]


@pytest.fixture
def demo_instances() -> Path:
    return DEMO / "annotations" / "instances_demo.json"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-snapshots", action="store_true",
                     help="rewrite the canvas pixel snapshots in tests/data/snapshots")


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-snapshots"))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own settings file; no test touches the user's."""
    path = tmp_path_factory.mktemp("settings") / "cocoview.ini"
    monkeypatch.setenv("COCOVIEW_SETTINGS", str(path))
    monkeypatch.setenv("COCOVIEW_CACHE_DIR", str(path.parent / "cache"))
    monkeypatch.setenv("COCOVIEW_LOG_DIR", str(path.parent / "log"))
    yield
    from cocoview.model.cache import wait_pending

    wait_pending()  # a cache entry still being written belongs to this test


@pytest.fixture
def index_children(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """Every child process ``index_process`` starts during the test, in order."""
    from cocoview.model import index_process

    procs: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        p = real_popen(*args, **kwargs)
        procs.append(p)
        return p

    monkeypatch.setattr(index_process.subprocess, "Popen", popen)
    return procs
