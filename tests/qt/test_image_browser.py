"""The image browser: model, list ↔ grid, search, selection ↔ state, thumbnail pipeline."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt
from PySide6.QtGui import QIcon, QImage
from PySide6.QtWidgets import QAbstractItemView
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.qt.image_browser import IMAGE_ID_ROLE, ImageBrowser, ImageListModel
from cocoview.qt.state import ViewerState
from cocoview.qt.thumbnail_grid import THUMBNAIL_ROLE
from cocoview.qt.thumbnails import ThumbnailCache
from cocoview.testing.synth import generate_coco
from tests.builders import doc, write


@pytest.fixture
def browser(qtbot: QtBot, state: ViewerState) -> Iterator[ImageBrowser]:
    b = ImageBrowser(state)
    qtbot.addWidget(b)
    b.resize(760, 600)
    b.show()
    qtbot.waitExposed(b)
    yield b
    b.shutdown()
    assert b.thumbnails.active_threads() == 0


@pytest.fixture
def cache(qtbot: QtBot, state: ViewerState) -> Iterator[ThumbnailCache]:
    c = ThumbnailCache(state, size=96)
    yield c
    c.shutdown()
    assert c.active_threads() == 0


def _ids(state: ViewerState) -> list[int]:
    return [int(i) for i in state.image_list]


# ----- the model -------------------------------------------------------
def test_model_passes_qt_model_tester(qtmodeltester: object, cache: ThumbnailCache) -> None:
    model = ImageListModel(cache.state, cache)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    cache.state.set_image_list(cache.state.image_list[::2], "every other")
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    cache.state.set_dataset(None)
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert model.rowCount() == 0


def test_model_columns_and_roles(browser: ImageBrowser, demo: cocoview.Dataset) -> None:
    m = browser.model
    assert m.rowCount() == len(demo) and m.columnCount() == 3
    assert [m.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == [
        "File name", "Id", "Annotations"]
    row = _ids(browser.state).index(139)
    assert m.data(m.index(row, 0)) == "000000000139.jpg"
    assert m.data(m.index(row, 1)) == 139
    assert m.data(m.index(row, 2)) == 20
    assert m.data(m.index(row, 0), IMAGE_ID_ROLE) == 139
    align = Qt.AlignmentFlag(m.data(m.index(row, 2), Qt.ItemDataRole.TextAlignmentRole))
    assert align & Qt.AlignmentFlag.AlignRight
    tip = m.data(m.index(row, 0), Qt.ItemDataRole.ToolTipRole)
    assert "640 × 426 px" in tip and "20 annotations" in tip and "000000000139.jpg" in tip
    assert isinstance(m.data(m.index(row, 0), Qt.ItemDataRole.DecorationRole), QIcon)
    assert m.data(m.index(row, 1), Qt.ItemDataRole.DecorationRole) is None


def test_model_resets_on_image_list_changed(qtbot: QtBot, browser: ImageBrowser) -> None:
    with qtbot.waitSignal(browser.model.modelReset, timeout=1000):
        browser.state.set_image_list(np.array([785, 139]), "two")
    assert browser.model.rowCount() == 2
    assert browser.model.data(browser.model.index(0, 1)) == 785


def test_decoration_arrives_and_row_is_updated(qtbot: QtBot, browser: ImageBrowser) -> None:
    m = browser.model
    browser.thumbnails.clear()
    ix = m.index(5, 0)
    first = m.data(ix, THUMBNAIL_ROLE)
    assert first is None  # asked: a job is queued, the view shows a placeholder meanwhile
    with qtbot.waitSignal(m.dataChanged, timeout=10000,
                          check_params_cb=lambda a, b, roles=None: a.row() == 5):
        pass
    img = m.data(ix, THUMBNAIL_ROLE)
    assert isinstance(img, QImage) and not img.isNull()


# ----- selection ↔ state ---------------------------------------------------
def test_selecting_a_row_sets_the_current_image(qtbot: QtBot, browser: ImageBrowser) -> None:
    t = browser.table
    rect = t.visualRect(browser.model.index(4, 1))
    with qtbot.waitSignal(browser.state.currentImageChanged, timeout=1000) as sig:
        qtbot.mouseClick(t.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sig.args == [_ids(browser.state)[4]]
    assert browser.state.current_image == _ids(browser.state)[4]
    qtbot.keyClick(t, Qt.Key.Key_Down)
    assert browser.state.current_image == _ids(browser.state)[5]


def test_current_image_selects_and_scrolls_without_echo(qtbot: QtBot,
                                                        browser: ImageBrowser) -> None:
    state = browser.state
    emitted: list[int] = []
    state.currentImageChanged.connect(emitted.append)
    browser.resize(400, 150)
    target = _ids(state)[-1]
    state.set_current_image(target)
    assert emitted == [target]  # selecting the row did not set the state again
    cur = browser.table.currentIndex()
    assert cur.row() == len(_ids(state)) - 1
    assert browser.table.selectionModel().isRowSelected(cur.row(), QModelIndex())
    assert browser.table.viewport().rect().intersects(browser.table.visualRect(cur))
    state.set_image_list(np.array([139, 785]), "two")  # current image not in the list
    assert state.current_image == 139
    assert browser.table.currentIndex().row() == 0


# ----- search -------------------------------------------------------------
def test_search_by_substring_glob_and_id(qtbot: QtBot, browser: ImageBrowser,
                                         demo: cocoview.Dataset) -> None:
    state, search = browser.state, browser.search
    names = demo.image_file_names
    qtbot.keyClicks(search, "2388")
    assert [names[demo.image_row(i)] for i in _ids(state)] == ["000000238866.jpg"]
    assert browser.count_label.text().startswith("1 of 19 images")
    assert state.current_image == 238866
    search.clear()
    assert len(state.image_list) == 19
    qtbot.keyClicks(search, "*4?.JPG")  # case-insensitive shell glob
    want = [n for n in names if fnmatch.fnmatch(n.lower(), "*4?.jpg")]
    assert want and [names[demo.image_row(i)] for i in _ids(state)] == want
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    assert search.text() == "" and len(state.image_list) == 19
    qtbot.keyClicks(search, "785")  # an id: jump, the list stays whole
    assert state.current_image == 785 and len(state.image_list) == 19
    search.clear()
    qtbot.keyClicks(search, "0000002")  # digits that are no id: a name substring
    assert _ids(state) and all("0000002" in names[demo.image_row(i)] for i in _ids(state))
    assert len(state.image_list) < 19
    search.clear()
    qtbot.keyClicks(search, "no-such-name")
    assert len(state.image_list) == 0 and browser.count_label.text().startswith("0 of 19")


def test_search_filters_within_an_outside_filter(qtbot: QtBot, browser: ImageBrowser) -> None:
    state = browser.state
    qtbot.keyClicks(browser.search, "jpg")
    state.set_image_list(np.array([139, 785, 40083]), "category dog")
    assert browser.search.text() == ""  # an outside filter starts a fresh search
    assert "category dog" in browser.count_label.text()
    qtbot.keyClicks(browser.search, "785")
    assert len(state.image_list) == 3 and state.current_image == 785
    browser.search.clear()
    qtbot.keyClicks(browser.search, "00000000")
    assert _ids(state) == [139, 785]
    assert "category dog" in state.image_list_label


def test_focus_search(qtbot: QtBot, browser: ImageBrowser) -> None:
    browser.activateWindow()
    browser.search.setText("abc")
    browser.focus_search()
    qtbot.waitUntil(browser.search.hasFocus, timeout=1000)
    assert browser.search.selectedText() == "abc"
    assert browser.search.placeholderText() == "File name or id… (Ctrl+F)"


# ----- list ↔ grid --------------------------------------------------------
def test_grid_toggle_and_shared_selection(qtbot: QtBot, browser: ImageBrowser) -> None:
    state = browser.state
    assert browser.mode() == "list" and browser.list_button.isChecked()
    modes: list[str] = []
    browser.modeChanged.connect(modes.append)
    qtbot.mouseClick(browser.grid_button, Qt.MouseButton.LeftButton)
    assert browser.mode() == "grid" and browser.grid_button.isChecked()
    assert browser.stack.currentWidget() is browser.grid and modes == ["grid"]
    g = browser.grid
    assert g.selectionModel() is browser.table.selectionModel()
    rect = g.visualRect(browser.model.index(2, 0))
    qtbot.mouseClick(g.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert state.current_image == _ids(state)[2]
    qtbot.keyClick(g, Qt.Key.Key_Down)  # one grid row down
    assert state.current_image == _ids(state)[2 + g.columns()]
    browser.set_mode("list")
    assert browser.table.currentIndex().row() == 2 + g.columns()
    with pytest.raises(ValueError):
        browser.set_mode("tiles")


def test_mode_shortcuts(qtbot: QtBot, browser: ImageBrowser) -> None:
    browser.activateWindow()
    qtbot.waitUntil(browser.isActiveWindow, timeout=2000)
    browser.table.setFocus()
    qtbot.keyClick(browser.table, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: browser.mode() == "grid", timeout=2000)  # buttons animate clicks
    qtbot.keyClick(browser.grid, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: browser.mode() == "list", timeout=2000)


def test_grid_geometry(qtbot: QtBot, browser: ImageBrowser) -> None:
    browser.set_mode("grid")
    g, m = browser.grid, browser.model
    cols = g.columns()
    assert cols >= 2
    for row in (0, 1, cols, m.rowCount() - 1):
        ix = m.index(row, 0)
        g.scrollTo(ix)
        r = g.visualRect(ix)
        assert g.viewport().rect().contains(r.center())
        assert g.indexAt(r.center()) == ix
    assert not g.indexAt(QPoint(-5, 5)).isValid()
    g.setCurrentIndex(m.index(0, 0))
    A = QAbstractItemView.CursorAction
    none = Qt.KeyboardModifier.NoModifier
    assert g.moveCursor(A.MoveRight, none).row() == 1
    assert g.moveCursor(A.MoveDown, none).row() == cols
    assert g.moveCursor(A.MoveUp, none).row() == 0
    assert g.moveCursor(A.MoveEnd, none).row() == m.rowCount() - 1


def test_grid_fills_narrow_and_wide_docks(qtbot: QtBot, browser: ImageBrowser) -> None:
    browser.set_mode("grid")
    g = browser.grid
    nominal = g.delegate().nominal_width()
    for width in (150, 260, 400, 700, 1200):
        browser.resize(width, 500)
        vw = g.viewport().width()
        cols, cell = g.columns(), g.cell_size()
        assert cols * cell.width() <= vw < (cols + 1) * cell.width() or cols == 1
        if vw >= 2 * nominal * g.min_scale:
            assert cols >= 2  # two smaller thumbnails rather than one lost in margins
            assert cell.width() >= nominal * g.min_scale
        browser.state.set_current_image(int(browser.state.image_list[-1]))
        last = g.visualRect(browser.model.index(browser.model.rowCount() - 1, 0))
        assert g.viewport().rect().intersects(last)


def test_grid_paints_thumbnails(qtbot: QtBot, browser: ImageBrowser) -> None:
    browser.set_mode("grid")
    first = int(browser.state.image_list[0])
    qtbot.waitUntil(lambda: browser.thumbnails.peek(first) is not None, timeout=10000)
    img = browser.grid.grab().toImage()
    assert not img.isNull()
    # the painted cell is not flat: the thumbnail is there
    cell = browser.grid.visualRect(browser.model.index(0, 0))
    colours = {img.pixel(x, cell.center().y()) for x in range(cell.left(), cell.right(), 4)}
    assert len(colours) > 10


# ----- the thumbnail cache -------------------------------------------------
def test_thumbnail_arrives_by_signal_and_is_cached(qtbot: QtBot,
                                                   cache: ThumbnailCache) -> None:
    assert cache.get(139) is None
    assert cache.get(139) is None  # asked twice before it is ready: one job
    with qtbot.waitSignal(cache.thumbnailReady, timeout=10000,
                          check_params_cb=lambda i: i == 139):
        pass
    assert cache.started == 1
    img = cache.get(139)
    assert isinstance(img, QImage) and max(img.width(), img.height()) == 96
    assert cache.hits == 1 and cache.started == 1
    assert cache.get(139) is img and cache.hits == 2
    assert cache.cached_bytes == img.sizeInBytes() and len(cache) == 1


def test_visibility_change_clears(qtbot: QtBot, cache: ThumbnailCache) -> None:
    cache.get(139)
    with qtbot.waitSignal(cache.thumbnailReady, timeout=10000):
        pass
    assert cache.peek(139) is not None
    cache.state.set_category_visible(1, False)
    assert cache.peek(139) is None and len(cache) == 0


def test_category_toggle_keeps_old_thumbnail_until_new(qtbot: QtBot,
                                                       browser: ImageBrowser) -> None:
    m, c = browser.model, browser.thumbnails
    ix = m.index(0, 0)
    m.data(ix, THUMBNAIL_ROLE)
    qtbot.waitUntil(lambda: m.data(ix, THUMBNAIL_ROLE) is not None, timeout=10000)
    before = m.data(ix, THUMBNAIL_ROLE)
    browser.state.set_category_visible(1, False)
    assert c.peek(browser.model.image_id(0)) is None
    assert m.data(ix, THUMBNAIL_ROLE) is before  # no placeholder flash meanwhile
    with qtbot.waitSignal(m.dataChanged, timeout=10000,
                          check_params_cb=lambda a, b, roles=None: a.row() == 0):
        pass
    after = m.data(ix, THUMBNAIL_ROLE)
    assert after is not before and after is c.peek(browser.model.image_id(0))


def test_stale_results_are_dropped(qtbot: QtBot, cache: ThumbnailCache) -> None:
    cache.get(785)
    cache.clear()  # e.g. the dataset changed while the job ran
    cache.get(139)
    with qtbot.waitSignal(cache.thumbnailReady, timeout=10000) as sig:
        pass
    assert sig.args == [139]
    assert cache.peek(785) is None


def test_missing_image_gives_a_placeholder_thumbnail(qtbot: QtBot, tmp_path: Path) -> None:
    d = doc(images=[{"id": 7, "file_name": "gone.jpg", "width": 200, "height": 100}],
            annotations=[])
    state = ViewerState()
    state.set_dataset(cocoview.open(write(tmp_path / "t.json", d), images=tmp_path))
    c = ThumbnailCache(state, size=64)
    try:
        c.get(7)
        with qtbot.waitSignal(c.thumbnailReady, timeout=10000):
            pass
        img = c.get(7)
        assert img is not None and (img.width(), img.height()) == (64, 32)
        px = img.pixelColor(10, 10)
        assert px.red() == px.green() == px.blue()
    finally:
        c.shutdown()


def test_lru_bound_in_bytes(qtbot: QtBot, state: ViewerState) -> None:
    c = ThumbnailCache(state, size=160, max_mb=0.25)  # room for 2–3 thumbnails
    try:
        ids = _ids(state)[:8]
        for i in ids:
            c.get(i)
        qtbot.waitUntil(lambda: c.pending_count() == 0, timeout=20000)
        assert 1 <= len(c) < 8 and c.cached_bytes <= c.max_bytes
    finally:
        c.shutdown()


@pytest.mark.parametrize("pause_ms", [0, 60])
def test_newest_requests_first_and_old_ones_dropped(qtbot: QtBot, state: ViewerState,
                                                    pause_ms: int) -> None:
    c = ThumbnailCache(state, size=32, threads=1, max_pending=4, pause_ms=pause_ms)
    done: list[int] = []
    c.thumbnailReady.connect(done.append)
    try:
        ids = _ids(state)
        for i in ids:  # as if the user scrolled through all 19 rows at once
            c.get(i)
        # without a pause two went to the pool at once; with one, only the first request
        # (the rest came while "scrolling"); of the rest, the 4 newest, newest first
        assert c.started == (2 if pause_ms == 0 else 1)
        qtbot.waitUntil(lambda: c.pending_count() == 0, timeout=20000)
        assert done == ids[: 2 if pause_ms == 0 else 1] + ids[-1:-5:-1]
    finally:
        c.shutdown()


def test_requests_while_scrolling_wait_for_the_pause(qtbot: QtBot, state: ViewerState) -> None:
    c = ThumbnailCache(state, size=32, threads=1, pause_ms=200)
    try:
        ids = _ids(state)
        c.get(ids[0])  # the first request after a pause starts at once
        assert c.started == 1
        for i in ids[1:6]:  # a scroll: each paint asks for its cells
            c.get(i)
            qtbot.wait(20)  # (the event loop runs between the paints)
            assert c.started == 1  # nothing new while the requests keep coming
        qtbot.waitUntil(lambda: c.started > 1, timeout=5000)  # the pause fed the pool
        qtbot.waitUntil(lambda: c.pending_count() == 0, timeout=20000)
        assert all(c.peek(i) is not None for i in ids[:6])
    finally:
        c.shutdown()


def test_shutdown_leaves_no_thread(qtbot: QtBot, state: ViewerState) -> None:
    c = ThumbnailCache(state, size=64)
    for i in _ids(state):
        c.get(i)
    c.shutdown()
    assert c.active_threads() == 0
    assert c.get(139) is None or c.peek(139) is not None
    started = c.started
    c.get(_ids(state)[-1])
    assert c.started == started  # closed: nothing new is queued


# ----- scale ----------------------------------------------------------------
@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> cocoview.Dataset:
    path = tmp_path_factory.mktemp("big") / "big.json"
    generate_coco(path, n_images=100_000, n_annotations=20_000, boxes_only=True)
    return cocoview.open(path)


def test_hundred_thousand_images(qtbot: QtBot, big: cocoview.Dataset) -> None:
    state = ViewerState()
    t0 = time.perf_counter()
    b = ImageBrowser(state)
    qtbot.addWidget(b)
    b.resize(600, 800)
    b.show()
    state.set_dataset(big)
    qtbot.waitExposed(b)
    setup = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        b.set_mode("grid")
        state.go_last()
        b.grid.repaint()
        switch = time.perf_counter() - t0
        assert b.grid.viewport().rect().intersects(
            b.grid.visualRect(b.model.index(len(big) - 1, 0)))
        t0 = time.perf_counter()
        b.search.setText("12.JP")
        substring = time.perf_counter() - t0
        n_sub = len(state.image_list)
        t0 = time.perf_counter()
        b.search.setText("*0?7.jpg")
        glob = time.perf_counter() - t0
        n_glob = len(state.image_list)
        print(f"\n100k images: browser set-up {setup * 1000:.0f} ms, grid + jump to last "
              f"{switch * 1000:.0f} ms, substring search {substring * 1000:.0f} ms "
              f"({n_sub} hits), glob {glob * 1000:.0f} ms ({n_glob} hits)")
        assert 0 < n_sub < len(big) and 0 < n_glob < len(big)
        assert setup < 2.0 and switch < 2.0  # measured ~0.05 s and ~0.02 s; generous
        assert substring < 2.0 and glob < 2.0  # measured ~10 ms and ~40 ms
    finally:
        b.shutdown()
    assert b.thumbnails.active_threads() == 0


def test_selection_flags_keep_rows(browser: ImageBrowser) -> None:
    sm = browser.table.selectionModel()
    sm.setCurrentIndex(browser.model.index(3, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                       | QItemSelectionModel.SelectionFlag.Rows)
    assert browser.state.current_image == _ids(browser.state)[3]
    assert sm.isRowSelected(3, QModelIndex())


def test_clicking_a_header_sorts_the_browsed_list(qtbot: QtBot) -> None:
    import cocoview
    from cocoview.qt.image_browser import ImageBrowser
    from cocoview.qt.state import ViewerState
    from cocoview.resources import demo_files

    state = ViewerState()
    b = ImageBrowser(state)
    qtbot.addWidget(b)
    b.show()
    ds = cocoview.open(demo_files())
    state.set_dataset(ds)
    b.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    counts = [int(ds.image_ann_count[ds.image_row(int(i))]) for i in state.image_list]
    assert counts == sorted(counts, reverse=True)
    assert state.image_list_label.endswith("sorted by annotations ↓")
    state.set_current_image(int(state.image_list[0]))
    state.step(1)  # Next follows the order shown
    assert state.current_image == int(state.image_list[1])
    b.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert list(state.image_list) == sorted(ds.image_ids.tolist())
    b.model.sort(-1)  # the third click: the file's order again
    assert list(state.image_list) == ds.image_ids.tolist()
    assert "sorted" not in state.image_list_label
    assert b.table.textElideMode() == Qt.TextElideMode.ElideMiddle


def test_thumbnail_size_by_slider_and_ctrl_wheel_is_remembered(qtbot: QtBot) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent

    from cocoview.qt.image_browser import THUMB_MAX, THUMB_STEP
    from cocoview.qt.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    b = w.browser
    b.set_mode("grid")
    assert b.size_slider.isVisible()
    before = b.grid.cell_size()
    b.size_slider.setValue(240)
    assert b.thumbnail_size() == 240 and b.grid.cell_size().width() > before.width()
    assert b.thumbnails.size >= 240
    wheel = QWheelEvent(QPointF(10, 10), QPointF(10, 10), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    b.grid.wheelEvent(wheel)
    assert b.thumbnail_size() == 240 + THUMB_STEP and b.size_slider.value() == 260
    b.set_thumbnail_size(10_000)
    assert b.thumbnail_size() == THUMB_MAX
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert w2.browser.thumbnail_size() == THUMB_MAX
    w2.close()
