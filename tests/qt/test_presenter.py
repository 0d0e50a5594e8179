"""The presenter between state, frame workers and canvas: the wanted frame, its
neighbours, the look, and no late frame over the image the user moved to."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

import cocoview
from cocoview.qt.canvas import Canvas
from cocoview.qt.frames import FrameLoader
from cocoview.qt.presenter import CanvasPresenter
from cocoview.qt.state import ViewerState
from cocoview.resources import demo_files


def test_wanted_frames_neighbours_and_no_stale_frame(qtbot: QtBot) -> None:
    state = ViewerState()
    frames = FrameLoader(threads=1)
    canvas = Canvas(state)
    qtbot.addWidget(canvas)
    presenter = CanvasPresenter(state, frames, canvas)
    shown: list[int] = []
    presenter.frameShown.connect(lambda f: shown.append(f.image_id))
    ds = cocoview.open(demo_files())
    state.set_dataset(ds)  # the workers get the dataset before the first request
    assert frames.dataset is ds
    first, second = int(ds.image_ids[0]), int(ds.image_ids[1])
    qtbot.waitUntil(lambda: shown == [first], timeout=10000)
    assert second in frames._pending or second in frames.cache  # the neighbour, prefetched
    old = canvas.frame
    assert old is not None
    state.step(1)
    qtbot.waitUntil(lambda: shown[-1:] == [second], timeout=10000)
    frames.frameReady.emit(old)  # a late frame of the image the user left
    assert canvas.frame is not None and canvas.frame.image_id == second
    state.set_opacity(0.8)
    assert frames.look.opacity == 0.8 and frames.look == state.look()
    state.set_dataset(None)
    assert frames.dataset is None and canvas.frame is None
    frames.shutdown()
