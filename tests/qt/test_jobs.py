"""The one background-job pattern (qt/jobs.py): newest request wins, errors reach the
owner or the crash hook, cancel, and the dataset held weakly by every job that uses it."""

from __future__ import annotations

import dataclasses
import gc
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QObject, Qt
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.model.dataset import Dataset
from cocoview.model.export import ExportRequest
from cocoview.qt.export_dialog import ExportDialog
from cocoview.qt.jobs import Jobs
from cocoview.qt.state import ViewerState
from tests.builders import doc, write


@pytest.fixture
def owner(qapp: Any) -> QObject:
    return QObject()


def _ds(tmp_path: Path, name: str = "a.json") -> Dataset:
    return cocoview.open(write(tmp_path / name, doc()), cache=False)


def test_results_arrive_on_the_gui_thread(qtbot: QtBot, owner: QObject, tmp_path: Path) -> None:
    jobs = Jobs(owner)
    ds = _ds(tmp_path)
    seen: list[tuple[int, bool]] = []
    jobs.submit(ds, lambda d: len(d), lambda n: seen.append(
        (n, threading.current_thread() is threading.main_thread())))
    qtbot.waitUntil(jobs.idle, timeout=5000)
    assert seen == [(3, True)]


def test_the_newest_request_of_a_channel_wins(qtbot: QtBot, owner: QObject,
                                              tmp_path: Path) -> None:
    jobs = Jobs(owner)
    ds = _ds(tmp_path)
    gate = threading.Event()
    seen: list[str] = []
    jobs.submit(ds, lambda d: gate.wait(5) and "blocker", seen.append, channel="other")
    for k in range(5):  # queued behind the blocker: only the last may run
        jobs.submit(ds, lambda d, k=k: f"count {k}", seen.append, channel="count")
    gate.set()
    qtbot.waitUntil(jobs.idle, timeout=5000)
    assert seen == ["blocker", "count 4"]


def test_errors_go_to_on_error_or_to_the_crash_hook(qtbot: QtBot, owner: QObject,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = Jobs(owner)
    ds = _ds(tmp_path)
    errors: list[Exception] = []
    hooked: list[type] = []
    monkeypatch.setattr(sys, "excepthook", lambda t, v, tb: hooked.append(t))

    def boom(d: Dataset) -> None:
        raise KeyError("no such thing")

    jobs.submit(ds, boom, lambda _r: None, errors.append)
    jobs.submit(ds, lambda d: 1 / 0, lambda _r: None)
    qtbot.waitUntil(jobs.idle, timeout=5000)
    assert [type(e) for e in errors] == [KeyError] and hooked == [ZeroDivisionError]


def test_cancel_drops_what_is_pending(qtbot: QtBot, owner: QObject, tmp_path: Path) -> None:
    jobs = Jobs(owner)
    ds = _ds(tmp_path)
    gate = threading.Event()
    ran: list[int] = []
    seen: list[object] = []
    jobs.submit(ds, lambda d: gate.wait(5), seen.append, channel="a")
    jobs.submit(ds, lambda d: ran.append(1), seen.append, channel="b")
    jobs.cancel("a")
    assert not jobs.idle()  # b is still to come
    jobs.cancel()
    assert jobs.idle()
    gate.set()
    assert jobs.wait(5000)
    qtbot.wait(0)  # deliver anything queued: nothing may arrive
    assert seen == [] and ran == []


def test_a_finished_job_does_not_keep_its_dataset(qtbot: QtBot, owner: QObject,
                                                  tmp_path: Path) -> None:
    jobs = Jobs(owner)
    ds = _ds(tmp_path)
    ref = weakref.ref(ds)
    jobs.submit(ds, lambda d: d.stats()["images"], lambda _n: None)
    qtbot.waitUntil(jobs.idle, timeout=5000)
    del ds
    gc.collect()
    assert ref() is None  # the pool may still hold the runnable: it holds the dataset weakly


def test_a_job_of_a_closed_dataset_does_nothing(qtbot: QtBot, owner: QObject,
                                                tmp_path: Path) -> None:
    """Closing a dataset cancels its owners' requests: a queued job never runs, and
    the dataset is let go before it would have."""
    jobs = Jobs(owner)
    gate = threading.Event()
    ran: list[int] = []
    jobs.submit(_ds(tmp_path), lambda d: gate.wait(5), lambda _r: None)  # the one thread
    ds = _ds(tmp_path, "b.json")
    ref = weakref.ref(ds)
    jobs.submit(ds, lambda d: ran.append(1), lambda _r: None)
    jobs.cancel()  # what an owner does when its dataset is closed
    del ds
    gc.collect()
    assert ref() is None
    gate.set()
    assert jobs.wait(5000)
    assert ran == []


def test_a_queued_job_keeps_its_dataset_until_it_runs(qtbot: QtBot, owner: QObject,
                                                      tmp_path: Path) -> None:
    """An edited view is replaced (and dropped by the app) at the next edit: a frame
    job queued for it must still run and be delivered, or its image never shows."""
    jobs = Jobs(owner)
    gate = threading.Event()
    got: list[int] = []
    jobs.submit(_ds(tmp_path), lambda d: gate.wait(5), lambda _r: None)  # the one thread
    jobs.submit(_ds(tmp_path, "b.json"), lambda d: d.stats()["images"], got.append)
    gc.collect()  # nobody but the request holds the second dataset
    gate.set()
    qtbot.waitUntil(jobs.idle, timeout=5000)
    assert got and got[0] > 0


def test_jobs_start_once_the_submitting_event_is_handled(qtbot: QtBot, owner: QObject,
                                                         tmp_path: Path) -> None:
    """A job does not take the GIL while the GUI thread is still handling the event that
    submitted it; one superseded within the same event never starts."""
    jobs = Jobs(owner)
    ran: list[str] = []
    started = threading.Event()
    ds = _ds(tmp_path)

    def old(d: object) -> None:
        started.set()
        ran.append("old")

    jobs.submit(ds, old, lambda _r: None, channel="c")
    # still in the submitting event: a job started at once would be running by now
    assert not started.wait(0.3)
    jobs.submit(ds, lambda d: ran.append("new"), lambda _r: None, channel="c")
    qtbot.waitUntil(jobs.idle, timeout=5000)
    assert ran == ["new"]


def test_export_requests_do_not_hold_the_dataset() -> None:
    names = {f.name for f in dataclasses.fields(ExportRequest)}
    assert "ds" not in names


def test_the_export_dialog_lets_its_dataset_go(qtbot: QtBot, tmp_path: Path) -> None:
    state = ViewerState()
    ds = _ds(tmp_path)
    state.set_dataset(ds)
    state.set_image_list(list(ds.image_ids), "all")
    ref = weakref.ref(ds)
    del ds
    dlg = ExportDialog(state)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # as the main window opens it
    dlg.show()
    qtbot.waitUntil(dlg.idle, timeout=10000)  # the preview ran in a worker
    dlg.output.setText(str(tmp_path / "out.txt"))
    with qtbot.waitSignal(dlg.exported, timeout=10000):
        dlg.start_export()
    assert (tmp_path / "out.txt").read_text().split() == ["1", "2", "3"]
    dlg.close()
    qtbot.waitUntil(lambda d=dlg: not shiboken6.isValid(d), timeout=5000)  # deleted on close
    del dlg
    state.set_dataset(None)

    def gone() -> bool:
        gc.collect()
        return ref() is None

    qtbot.waitUntil(gone, timeout=5000)


def test_progress_arrives_and_cancel_stops_long_work(qtbot: QtBot, owner: QObject,
                                                     tmp_path: Path) -> None:
    jobs = Jobs(owner)
    ds = _ds(tmp_path)
    seen: list[float] = []
    steps: list[int] = []
    gate = threading.Event()

    def long(d: Dataset, report: Any) -> str:
        for k in range(10_000):
            steps.append(k)
            report(k / 10_000)
            if k == 0:
                gate.wait(5)  # the test cancels during the first step
        return "finished"

    results: list[str] = []
    jobs.submit(ds, long, results.append, on_progress=seen.append, channel="slow")
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen[0] == 0.0
    jobs.cancel("slow")
    gate.set()
    assert jobs.wait(5000)
    assert results == [] and steps == [0, 1]  # stopped at its next report
    qtbot.waitUntil(jobs.idle, timeout=5000)
