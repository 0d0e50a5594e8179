"""Background work: the base of every worker job that reads a dataset, and
:class:`Jobs`, the one pattern for running a function of the dataset off the GUI
thread.

PySide's ``QThreadPool`` keeps Python runnables referenced after they finish,
or after ``clear()`` takes them off its queue; a job holding its dataset
strongly kept every dataset of the session alive (bench_scroll.py found it).
So jobs hold it weakly, and :class:`Jobs` holds it strongly only while the request
is still to come (closing a dataset cancels its requests: then nothing holds it).
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal, Slot

from cocoview.model.dataset import Dataset


def _none() -> None:
    return None


class DatasetJob(QRunnable):
    _ds_ref: Callable[[], Dataset | None] = staticmethod(_none)

    @property
    def ds(self) -> Dataset | None:
        return self._ds_ref()

    @ds.setter
    def ds(self, value: Dataset | None) -> None:
        self._ds_ref = weakref.ref(value) if value is not None else _none


# ----- one background-job pattern -------------------------------------------------------
T = TypeVar("T")


class Cancelled(Exception):
    """Raised by a job's progress callback once its request is cancelled or superseded:
    long work stops at its next report."""


class _Relay(QObject):
    #: request id, (True, result), (False, exception) or (None, None): not run
    done = Signal(int, object)
    #: request id, fraction done (-1: unknown)
    progress = Signal(int, float)


class _FnJob(DatasetJob):
    """``fn(ds)`` in a pool thread. Holds the dataset weakly and nothing of its owner
    but the relay: the pool may keep a finished runnable referenced."""

    def __init__(self, relay: _Relay, request: int, ds: Dataset,
                 fn: Callable[..., object], wanted: Callable[[int], bool],
                 reports: bool = False) -> None:
        super().__init__()
        self.ds = ds
        self._relay, self._request, self._fn, self._wanted = relay, request, fn, wanted
        self._reports = reports

    def _report(self, fraction: float) -> None:
        if not self._wanted(self._request):
            raise Cancelled
        with contextlib.suppress(RuntimeError):
            self._relay.progress.emit(self._request, float(fraction))

    def run(self) -> None:
        ds = self.ds
        if not self._wanted(self._request):
            return  # a newer request came first (it is no longer pending)
        if ds is None:  # the dataset was closed: the owner forgets the request
            with contextlib.suppress(RuntimeError):
                self._relay.done.emit(self._request, (None, None))
            return
        try:
            value = self._fn(ds, self._report) if self._reports else self._fn(ds)
            out: tuple[bool | None, object] = (True, value)
        except Cancelled:
            out = (None, None)
        except Exception as exc:  # delivered to the owner's on_error, or the crash hook
            out = (False, exc)
        del ds
        self._fn = _dropped  # nothing the function captured outlives the run
        with contextlib.suppress(RuntimeError):  # the owner was deleted meanwhile
            self._relay.done.emit(self._request, out)


def _dropped(ds: Dataset) -> None:
    return None


class Jobs(QObject):
    """The background work of one owner (a panel, a dialog): its own thread pool, the
    dataset held only while a request is to come, the newest request of a channel
    wins, results and errors delivered on the GUI thread.

    ``submit(ds, fn, on_done, on_error, channel=…, priority=…)`` runs ``fn(ds)``
    off the GUI thread and calls ``on_done(result)`` on it, unless a newer request
    on the same channel came meanwhile (then the older one is dropped, before it
    starts if it has not). Higher priorities start first. An exception goes to
    ``on_error(exc)``, or without one to the crash hook. ``fn`` gets the dataset as
    its argument: it must not capture it.

    A job submitted on the GUI thread starts when the event that submitted it is
    handled (a zero timer), not at once: the worker would otherwise take the GIL
    while the GUI thread is still updating the views for that event (an edit made
    the views' updates 2-3x slower), and a job superseded within the same event
    never starts at all.
    """

    def __init__(self, parent: QObject, threads: int | None = 1) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)  # a child: deleted (and joined) with its owner
        if threads is not None:  # None: one per core
            self._pool.setMaxThreadCount(max(1, threads))
        self._relay = _Relay(self)
        self._relay.done.connect(self._done)
        self._relay.progress.connect(self._progress)
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {}  # channel → its newest request (read by workers)
        self._pending: dict[int, tuple[str | None, Callable[[Any], None],
                                       Callable[[Exception], None] | None]] = {}
        self._on_progress: dict[int, Callable[[float], None]] = {}
        self._queued: list[tuple[int, _FnJob, int]] = []  # (request, job, priority)
        # the dataset of each request still to come, held strongly here (the job holds
        # it weakly): an edited view replaced by the next edit would otherwise be freed
        # before a queued job starts, and the job would end unseen, never delivered
        self._holds: dict[int, Dataset] = {}
        self._start_timer = QTimer(self)
        self._start_timer.setSingleShot(True)
        self._start_timer.setInterval(0)
        self._start_timer.timeout.connect(self._start_queued)

    def submit(self, ds: Dataset, fn: Callable[[Dataset], T], on_done: Callable[[T], None],
               on_error: Callable[[Exception], None] | None = None,
               channel: str | None = None, priority: int = 0,
               on_progress: Callable[[float], None] | None = None,
               at_once: bool = False) -> int:
        """Run ``fn(ds)`` — ``fn(ds, report)`` with ``on_progress``: ``report(fraction)``
        reaches ``on_progress`` and raises :class:`Cancelled` once the request is
        cancelled or superseded, which ends it quietly. ``at_once``: started now, not
        once the event is handled (what the user waits for: the shown image's frame)."""
        request = next(self._ids)
        if channel is not None:
            self._latest[channel] = request
            for r in [r for r, (ch, _, _) in self._pending.items() if ch == channel]:
                self._forget(r)  # superseded: its result is never delivered
        self._pending[request] = (channel, on_done, on_error)
        self._holds[request] = ds
        if on_progress is not None:
            self._on_progress[request] = on_progress
        pending = self._pending  # read by the worker: a dict lookup is atomic

        def wanted(r: int) -> bool:
            return r in pending

        job = _FnJob(self._relay, request, ds, fn, wanted, on_progress is not None)
        if at_once or QThread.currentThread() is not self.thread():
            self._pool.start(job, priority)  # no event loop here to wait for
            return request
        self._queued.append((request, job, priority))
        if not self._start_timer.isActive():
            self._start_timer.start()
        return request

    def _start_queued(self) -> None:
        """Start the jobs submitted since the last event (the still wanted ones)."""
        queued, self._queued = self._queued, []
        for request, job, priority in queued:
            if request in self._pending:
                self._pool.start(job, priority)

    def _forget(self, request: int) -> None:
        self._pending.pop(request, None)
        self._holds.pop(request, None)
        self._on_progress.pop(request, None)

    def running(self, channel: str) -> bool:
        """Whether a request of ``channel`` is still to come."""
        return any(ch == channel for ch, _, _ in self._pending.values())

    def cancel(self, channel: str | None = None) -> None:
        """Drop the results of every pending request (of ``channel``); queued ones
        do not start. A running one finishes, unseen."""
        for r, (ch, _, _) in list(self._pending.items()):
            if channel is None or ch == channel:
                self._forget(r)
                if ch is not None:
                    self._latest[ch] = 0
        if channel is None:
            self._queued.clear()
            self._pool.clear()

    def idle(self) -> bool:
        """No result is still to come (tests wait for this)."""
        return not self._pending

    def wait(self, msecs: int = -1) -> bool:
        self._start_queued()  # what waits here must have started
        return self._pool.waitForDone(msecs)

    @property
    def threads(self) -> int:
        return int(self._pool.maxThreadCount())

    def active_threads(self) -> int:
        return int(self._pool.activeThreadCount()) + sum(
            r in self._pending for r, _j, _p in self._queued)

    @Slot(int, float)
    def _progress(self, request: int, fraction: float) -> None:
        report = self._on_progress.get(request)
        if report is not None:
            report(fraction)

    @Slot(int, object)
    def _done(self, request: int, out: tuple[bool, Any]) -> None:
        self._on_progress.pop(request, None)
        entry = self._pending.pop(request, None)
        self._holds.pop(request, None)
        if entry is None:
            return  # cancelled
        channel, on_done, on_error = entry
        if channel is not None and self._latest.get(channel) != request:
            return  # a newer request of this channel is under way
        ok, value = out
        if ok is None:
            return  # its dataset was closed before it ran
        if ok:
            on_done(value)
        elif on_error is not None:
            on_error(value)
        else:
            sys.excepthook(type(value), value, value.__traceback__)
