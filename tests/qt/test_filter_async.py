"""On big datasets the filter is computed in the worker; the GUI thread only shows the result."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from cocoview.model.dataset import Dataset
from cocoview.model.filters import ImageFilter, filter_images
from cocoview.qt import filter_model
from cocoview.qt.filter_model import FilterModel
from cocoview.qt.state import ViewerState

PERSON, CAR = 1, 3


@pytest.fixture
def big(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filter_model, "ASYNC_MIN_ANNOTATIONS", 0)


def test_result_arrives_from_the_worker(qtbot: QtBot, big: None, state: ViewerState,
                                        demo: Dataset) -> None:
    fm = FilterModel(state)
    busy: list[str] = []
    fm.busyChanged.connect(busy.append)
    before = state.image_list.copy()
    with qtbot.waitSignal(fm.applied, timeout=10000):
        fm.set_categories([CAR], "any", immediate=True)
        assert fm.computing  # not computed on the GUI thread
        assert np.array_equal(state.image_list, before)
    want = filter_images(demo, ImageFilter(categories=(CAR,)))
    assert np.array_equal(state.image_list, want)
    assert busy[0] == "Filtering…" and busy[-1] == ""
    assert not fm.computing
    fm.shutdown()


def test_only_the_newest_filter_is_shown(qtbot: QtBot, big: None, state: ViewerState,
                                         demo: Dataset) -> None:
    fm = FilterModel(state)
    applied: list[int] = []
    fm.applied.connect(lambda n, _total: applied.append(n))
    fm.set_categories([CAR], "any", immediate=True)
    fm.set_categories([PERSON], "none", immediate=True)
    qtbot.waitUntil(lambda: not fm.computing and fm.idle(), timeout=10000)
    want = filter_images(demo, ImageFilter(categories=(PERSON,), match="none"))
    assert np.array_equal(state.image_list, want)
    assert applied == [len(want)]  # the stale result was dropped, not shown
    assert state.image_list_label == fm.filter.describe(demo)
    fm.shutdown()


def test_a_new_dataset_drops_the_result(qtbot: QtBot, big: None, state: ViewerState,
                                        demo: Dataset, lvis: Dataset) -> None:
    fm = FilterModel(state)
    fm.set_categories([CAR], "any", immediate=True)
    state.set_dataset(lvis)
    assert fm.shutdown(10000)  # the worker has finished: its result was sent, or dropped
    QCoreApplication.processEvents()  # deliver it, if it was sent
    assert np.array_equal(state.image_list, lvis.image_ids)  # the old result was not applied
    assert not fm.computing
    fm.shutdown()


def test_a_big_dataset_gets_its_filter_index_in_the_background(
        qtbot: QtBot, big: None, state: ViewerState, tmp_path: object,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """At 20 M annotations the app orders the rows for the filters behind the other work
    (here with the threshold lowered); the filters then answer from it, as the scan."""
    from pathlib import Path

    import cocoview
    from cocoview.model import filter_index
    from cocoview.testing.synth import generate_coco

    monkeypatch.setattr(filter_index, "MIN_ANNOTATIONS", 0)
    path = Path(str(tmp_path)) / "gen.json"
    generate_coco(path, n_images=300, n_annotations=5000, seed=5)
    ds = cocoview.open(path)
    fm = FilterModel(state)
    state.set_dataset(ds)
    qtbot.waitUntil(lambda: ds.filter_index.missing() == [], timeout=20000)
    flt = ImageFilter(categories=(ds.categories[0].id,), min_box_aspect=2.0)
    with qtbot.waitSignal(fm.applied, timeout=10000):
        fm.set_filter(flt, immediate=True)
    with monkeypatch.context() as m:
        m.setattr(filter_index, "index_of", lambda _ds: None)
        want = filter_images(ds, flt)
    assert len(want) and np.array_equal(state.image_list, want)
    fm.shutdown()
