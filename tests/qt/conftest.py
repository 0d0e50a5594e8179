"""Fixtures shared by the Qt tests (settings are isolated by ``tests/conftest.py``)."""

from __future__ import annotations

import pytest

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.qt.state import ViewerState
from cocoview.resources import demo_files
from cocoview.testing.synth import generate_coco


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return cocoview.open(demo_files())


@pytest.fixture(scope="module")
def lvis(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """A generated LVIS-like dataset: 1,203 categories."""
    path = tmp_path_factory.mktemp("lvis") / "lvis.json"
    generate_coco(path, n_images=300, n_annotations=6000, n_categories=1203, lvis=True)
    return cocoview.open(path)


@pytest.fixture
def state(qapp: object, demo: Dataset) -> ViewerState:
    s = ViewerState()
    s.set_dataset(demo)
    return s
