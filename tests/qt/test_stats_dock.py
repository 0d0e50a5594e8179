"""The Statistics dock: filled in the worker; a bar click sets the category filter and the
list follows; a dragged range sets the box-range filter, with the model's count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

import cocoview
from cocoview.model.distributions import distribution
from cocoview.model.filters import ImageFilter, image_mask
from cocoview.qt.filter_model import FilterModel
from cocoview.qt.state import ViewerState
from cocoview.qt.stats_dock import StatsDock
from cocoview.testing.synth import generate_coco


@pytest.fixture
def dock(qapp: object, qtbot: Any, tmp_path: Path) -> StatsDock:
    path = tmp_path / "a.json"
    generate_coco(path, n_images=300, n_annotations=2500, seed=4, n_categories=12)
    state = ViewerState()
    state.set_dataset(cocoview.open(path, cache=False))
    fm = FilterModel(state)
    d = StatsDock(state, filter_model=fm)
    d.resize(700, 450)
    qtbot.addWidget(d)
    with qtbot.waitSignal(d.filled, timeout=20_000):
        d.show()
    qtbot.waitUntil(lambda: d.dist is not None and d.dist.name == "instances")
    return d


def test_fills_with_the_model_arrays(dock: StatsDock, qtbot: Any) -> None:
    ds = dock.state.dataset
    assert ds is not None and dock.dist is not None
    assert dock.dist.counts.tolist() == distribution(ds, "instances").counts.tolist()
    for name in ("box_aspect", "annotations", "sizes"):
        with qtbot.waitSignal(dock.filled, timeout=20_000):
            dock.set_plot(name)
        assert dock.dist.name == name
        assert dock.dist.total == distribution(ds, name).total
    dock.log.setChecked(True)  # redraws without a job
    assert dock.plot.getPlotItem().getAxis("left").logMode


def test_bar_click_sets_the_category_filter(dock: StatsDock, qtbot: Any) -> None:
    d = dock.dist
    assert d is not None and dock.filters is not None
    vb = dock.plot.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: vb.sceneBoundingRect().width() > 50)
    scene_pos = vb.mapViewToScene(pg_point(0.0, float(d.counts[0]) / 2))
    view_pos = dock.plot.mapFromScene(scene_pos)
    qtbot.mouseClick(dock.plot.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(int(view_pos.x()), int(view_pos.y())))
    qtbot.waitUntil(lambda: dock.filters.filter.categories == (d.keys[0],), timeout=5000)
    ds = dock.state.dataset
    assert ds is not None
    want = ds.image_ids[image_mask(ds, ImageFilter(categories=(d.keys[0],)))]
    qtbot.waitUntil(lambda: len(dock.state.image_list) == len(want), timeout=10_000)
    assert np.array_equal(np.sort(dock.state.image_list), np.sort(want))
    # the filtered plot follows the list: every image shown has that category
    qtbot.waitUntil(lambda: dock.dist is not None and dock.dist.name == "instances"
                    and dock.dist.counts.sum() < d.counts.sum(), timeout=10_000)


def test_region_drag_sets_a_range(dock: StatsDock, qtbot: Any) -> None:
    ds = dock.state.dataset
    assert ds is not None and dock.filters is not None
    with qtbot.waitSignal(dock.filled, timeout=20_000):
        dock.set_plot("box_aspect")
    d = dock.dist
    assert d is not None
    dock.region.setRegion((2.0, d.edges[-1]))  # w/h ≥ 4 (log₂ axis), up to the end
    qtbot.waitUntil(lambda: dock.filters.filter.min_box_aspect == 4.0, timeout=5000)
    assert dock.filters.filter.max_box_aspect is None
    n = int(image_mask(ds, ImageFilter(min_box_aspect=4.0)).sum())
    assert n > 0
    qtbot.waitUntil(lambda: len(dock.state.image_list) == n, timeout=10_000)

    with qtbot.waitSignal(dock.filled, timeout=20_000):
        dock.set_plot("annotations")
    d = dock.dist
    assert d is not None
    dock.region.setRegion((10.2, d.edges[-1]))
    qtbot.waitUntil(lambda: dock.filters.filter.min_annotations == 11, timeout=5000)
    n = int(image_mask(ds, dock.filters.filter).sum())
    qtbot.waitUntil(lambda: len(dock.state.image_list) == n, timeout=10_000)
    assert all(ds.image_ann_count[ds.image_rows(dock.state.image_list)] >= 11)


def pg_point(x: float, y: float) -> Any:
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_region_shows_the_filter_range(dock: StatsDock, qtbot: Any) -> None:
    assert dock.filters is not None
    dock.filters.set_filter(ImageFilter(min_box_aspect=2.0), immediate=True)
    with qtbot.waitSignal(dock.filled, timeout=20_000):
        dock.set_plot("box_aspect")
    d = dock.dist
    assert d is not None
    lo, hi = dock.region.getRegion()
    assert lo == pytest.approx(1.0) and hi == pytest.approx(d.edges[-1])
    assert dock.filters.filter.min_box_aspect == 2.0  # drawing did not change the filter


@pytest.mark.parametrize("orphan", [False, True])
def test_a_list_of_every_image_is_the_whole_dataset(tmp_path: Path, orphan: bool) -> None:
    """The dock's shortcut (every image listed, no orphan: the cached whole-dataset
    counts) gives what the image rows give; with an orphan annotation it is not taken."""
    from cocoview.model.distributions import PLOTS
    from cocoview.qt.stats_dock import _compute

    path = tmp_path / "a.json"
    generate_coco(path, n_images=200, n_annotations=1500, seed=5, n_categories=9)
    if orphan:
        import json

        d = json.loads(path.read_text())
        d["annotations"][0]["image_id"] = 10**9
        path.write_text(json.dumps(d))
    ds = cocoview.open(path, cache=False)
    ids = ds.image_ids[::-1].copy()  # every image, in another order
    for name in PLOTS:
        got, want = _compute(ds, name, ids), distribution(ds, name, ds.image_rows(ids))
        assert got.counts.tolist() == want.counts.tolist(), name
        assert got.labels == want.labels, name
