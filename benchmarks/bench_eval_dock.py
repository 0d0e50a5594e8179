"""The evaluation dock at scale: from a results file opened to the dock filled.

Generates (or reuses) the val2017-like pair of ``bench_eval.py`` in ``bench-data/``,
opens it, then in an offscreen app with the ReviewController and the EvalDock:

* ``evaluate``: from ``state.set_dataset`` to the dock drawn (the evaluation runs in
  the controller's worker; the drawing on the GUI thread);
* ``again``: the same once more (no first-time costs: pyqtgraph's import, the plots);
* ``draw``: of that, the GUI thread's ``EvalDock.set_review`` (summary, table, curves,
  heat map, bars);
* ``iou 0.75``: a new IoU threshold (verdicts only, in the worker) to the dock redrawn;
* ``area medium``: the same for a new area range;
* ``min score``: ``state.set_min_score`` (table counts and the PR markers, GUI thread);
* ``stall``: the longest gap between ticks of a 1 ms GUI-thread timer during each, and
  the longest one outside the GUI thread's own drawing (what the evaluation in the
  worker costs the GUI thread).

With ``--window`` the whole main window is built instead of the dock alone (canvas,
image list with its FP / Missed / Errors columns, filter, inspector, status bar all
follow the review and the min score): what a user sees. Every step prints the longest
GUI-thread stall and how many gaps exceeded the 16 ms budget (issue 14, "Fluid"), and
the setting changes their time against the 100 ms (val2017) / 1 s (train2017) goal;
``PASS`` / ``FAIL`` at the end sums it up.

With ``--compare``, then a second results file (model B: the generator's seed 1): added
(indexed and both models evaluated in the worker) to the dock redrawn side by side;
the min score with both; the "A right, B wrong" filter applied; the canvas switch to B.

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_eval_dock.py [--preset val2017]
                                                  [--window] [--realtime] [--compare]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: the GUI thread's budget per event-loop turn (issue 14: "never blocks for more than 16 ms")
BUDGET = 0.016
sys.path.insert(0, str(REPO))

from benchmarks.bench_eval import _files  # noqa: E402


class Heartbeat:
    """The longest gap between the ticks of a 1 ms timer on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.worst = 0.0

        self.gaps: list[tuple[float, float]] = []
        #: (start, end) of the GUI thread's own drawing: gaps over it are not the worker's
        self.own: list[tuple[float, float]] = []

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        if now - self.last > 0.004:
            self.gaps.append((self.last, now))
        self.last = now

    def start(self) -> None:
        self.last, self.worst = time.perf_counter(), 0.0
        self.gaps, self.own = [], []
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.worst

    def over_budget(self) -> int:
        """How many gaps exceeded :data:`BUDGET`."""
        return sum(1 for a, b in self.gaps if b - a > BUDGET)

    def worker_stall(self) -> float:
        """The longest gap that does not overlap the GUI thread's own drawing: the time
        the GUI thread waited for the GIL (or anything else) held by the evaluation."""
        out = 0.0
        for a, b in self.gaps:
            if not any(a < e and s < b for s, e in self.own):
                out = max(out, b - a)
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="val2017")
    ap.add_argument("--compare", action="store_true", help="also model A vs model B")
    ap.add_argument("--profile", metavar="STEP",
                    help="print a pyinstrument profile of the GUI thread during the steps "
                         "whose label has STEP (e.g. 're-evaluate')")
    ap.add_argument("--window", action="store_true",
                    help="the whole main window (canvas, list, filter, inspector), not "
                         "the dock alone")
    ap.add_argument("--realtime", action="store_true",
                    help="run the GUI thread under SCHED_FIFO (Linux, needs the privilege), "
                         "so that on a loaded machine a stall is what the GUI thread waits "
                         "for in this process (the GIL), not for a core")
    args = ap.parse_args(argv)
    if args.realtime:
        try:  # pid 0: the calling thread, the GUI thread
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))  # type: ignore[attr-defined]
            print("GUI thread under SCHED_FIFO")
        except (AttributeError, OSError) as exc:
            print(f"--realtime unavailable ({exc}); stalls include waiting for a core")
    gt, res = _files(args.preset)
    if args.window:  # never the user's settings
        import tempfile

        os.environ["COCOVIEW_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "bench.ini")
    from PySide6.QtWidgets import QApplication

    import cocoview
    from cocoview.qt.eval_dock import EvalDock
    from cocoview.qt.filter_model import FilterModel
    from cocoview.qt.review import ReviewController
    from cocoview.qt.state import ViewerState

    app = QApplication.instance() or QApplication(sys.argv[:1])
    t0 = time.perf_counter()
    ds = cocoview.open(gt, results=res, cache=False)
    t_open = time.perf_counter() - t0
    win = None
    if args.window:
        from cocoview.qt.main_window import MainWindow

        win = MainWindow()
        # a journal of unsaved edits of the same file (another session's) would ask in a
        # modal dialog; the benchmark leaves it alone
        win.editing.offer_restore = lambda *_a, **_k: None  # type: ignore[method-assign]
        win.resize(1600, 1000)
        win.show()
        state, rc = win.state, win.review
        dock = win.docks["evaluation"].widget()
        assert isinstance(dock, EvalDock)
    else:
        state = ViewerState()
        rc = ReviewController(state)
        dock = EvalDock(state, rc, FilterModel(state, rc))
        dock.resize(1400, 420)
        dock.show()
    draw: list[float] = []
    inner = dock.set_review

    def timed(review: object) -> None:
        t = time.perf_counter()
        inner(review)  # type: ignore[arg-type]
        end = time.perf_counter()
        draw.append(end - t)
        beat.own.append((t, end))

    rc.reviewChanged.disconnect(dock.set_review)
    rc.reviewChanged.connect(timed)
    beat = Heartbeat()
    goal = 1.0 if args.preset == "train2017" else 0.1  # the issue's, for a new setting
    fails: list[str] = []

    def settle(seconds: float = 0.05) -> None:
        """Let the GUI thread finish what the step queued (repaints, timers)."""
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.0005)

    def until_drawn(start: float, n: int) -> tuple[float, float]:
        while len(draw) < n or rc.running():
            app.processEvents()
            time.sleep(0.0005)
        app.processEvents()
        took = time.perf_counter() - start
        settle()
        return took, beat.stop()

    def verdict(label: str, stall: float | None, took: float | None = None) -> str:
        """" ok" / " FAIL …" of one step against the budgets (and remembered); ``stall``
        None: not judged by it."""
        bad = []
        if stall is not None and stall > BUDGET:
            bad.append(f"stall > {BUDGET * 1000:.0f} ms")
        if took is not None and took > goal:
            bad.append(f"> {goal:g} s")
        if bad:
            fails.append(f"{label.strip()}: {', '.join(bad)}")
        return "  ok" if not bad else "  FAIL (" + ", ".join(bad) + ")"

    def timed_step(label: str, action: Callable[[], object], n: int,
                   setting: bool = False, judged: bool = True) -> None:
        """Run ``action`` under the heartbeat until the ``n``-th drawing; print one line."""
        prof = None
        if args.profile and args.profile in label:
            from pyinstrument import Profiler  # --profile needs pyinstrument

            prof = Profiler(interval=0.0005)
            prof.start()
        beat.start()
        t = time.perf_counter()
        action()
        total, stall = until_drawn(t, n)
        if prof is not None:
            prof.stop()
            print(prof.output_text(color=False, show_all=False), file=sys.stderr)
        print(f"{label:24s} {total:7.3f} s   (draw {draw[-1] * 1000:6.1f} ms, "
              f"GUI stall {stall * 1000:6.1f} ms, {beat.over_budget()} over "
              f"{BUDGET * 1000:.0f} ms, outside the drawing "
              f"{beat.worker_stall() * 1000:6.1f} ms)"
              + (verdict(label, stall, total if setting else None) if judged else
                 "  (not judged)"))

    print(f"{args.preset}: {len(ds.image_ids):,} images, {len(ds.anns):,} annotations, "
          f"{len(ds.results or ()):,} detections; open (GT + results) {t_open:.2f} s"
          + ("; the main window" if win is not None else "; the dock alone"))
    settle(1.0)  # the window's first paint (fonts, styles) is not the noise floor
    beat.start()
    settle(2.0)
    idle = beat.stop()
    print(f"idle 2 s (the noise floor)          GUI stall {idle * 1000:6.1f} ms, "
          f"{beat.over_budget()} over {BUDGET * 1000:.0f} ms")
    # 2 drawings: None at the dataset change, then the review
    # once per session (pyqtgraph's import, the plots): shown, not judged
    timed_step("evaluate → dock filled", lambda: state.set_dataset(ds), 2, judged=False)
    proc = getattr(rc, "process", None)
    if proc is not None and rc.review is not None:
        print(f"  evaluated in the child process: {proc.holds(rc.review.evaluation)}")
    # the same again: no first-time costs (pyqtgraph's import in the worker — PySide6's
    # module inits hold the GIL —, making the plots); what every later evaluation costs
    state.set_dataset(None)
    settle()
    # in the window a new dataset also starts its validation, counts, thumbnails, frames
    # (their stalls are not the evaluation's): judged in the dock-only run
    timed_step("again → dock filled", lambda: state.set_dataset(ds), 4, judged=win is None)
    if win is not None:  # the dataset's other jobs (validation, counts) done first
        from cocoview.qt.jobs import Jobs

        while not all(j.idle() for j in win.findChildren(Jobs)):
            settle(0.1)
    settle(0.5)

    def _fresh() -> None:  # the evaluation alone: no dataset change around it
        rc._bases.clear()
        rc.evaluate()

    timed_step("re-evaluate → filled", _fresh, 5)
    timed_step("IoU 0.75 → dock redrawn", lambda: dock.iou_thr.setValue(0.75), 6, True)

    def _area(name: str) -> Callable[[], None]:
        def run() -> None:
            dock.area.setCurrentText(name)
            dock.area.activated.emit(dock.area.currentIndex())
        return run

    timed_step("area medium → redrawn", _area("medium"), 7, True)
    timed_step("IoU 0.5 → redrawn", lambda: dock.iou_thr.setValue(0.5), 8, True)
    timed_step("area all → redrawn", _area("all"), 9, True)
    for s in (0.5, 0.1):
        beat.start()
        t = time.perf_counter()
        state.set_min_score(s)
        app.processEvents()
        took = time.perf_counter() - t
        settle()
        stall = beat.stop()
        label = f"min score {s:.2f}"
        # a user's own action, done on the GUI thread: judged by the time goal
        print(f"{label:24s} {took * 1000:7.1f} ms (GUI thread; stall {stall * 1000:6.1f} ms)"
              + verdict(label, None, took))
    if args.compare:
        _compare(app, state, rc, dock, res, draw, beat, until_drawn)
    rc.shutdown()
    print("PASS: every step within the budgets" if not fails else
          "FAIL: " + "; ".join(fails))
    if win is not None:
        win.close()
    return 0


def _compare(app: object, state: object, rc: object, dock: object, res: Path,
             draw: list[float], beat: Heartbeat, until_drawn: object) -> None:
    """Model B beside A: add it, move the min score, filter, switch the canvas."""
    from cocoview.model.filters import FilterExtras, ImageFilter, filter_images
    from cocoview.testing import synth

    res_b = res.with_name(res.stem + "_b.json")
    if not res_b.exists():
        print(f"generating {res_b} …", file=sys.stderr)
        synth.generate_results(res.with_name(res.name.replace("_results", "")), res_b,
                               seed=1)
    beat.start()
    t = time.perf_counter()
    rc.add_comparison(res_b)  # type: ignore[attr-defined]
    total, stall = until_drawn(t, len(draw) + 1)  # type: ignore[operator]
    comp = rc.comparison  # type: ignore[attr-defined]
    print(f"add B → both side by side {total:6.3f} s   (draw {draw[-1] * 1000:6.1f} ms, "
          f"GUI stall {stall * 1000:6.1f} ms)")
    for s in (0.5, 0.1):
        t = time.perf_counter()
        state.set_min_score(s)  # type: ignore[attr-defined]
        app.processEvents()  # type: ignore[attr-defined]
        print(f"min score {s:.2f} (A and B)   {(time.perf_counter() - t) * 1000:7.1f} ms")
    ds = state.dataset  # type: ignore[attr-defined]
    extras = FilterExtras(review=rc.review, min_score=0.1)  # type: ignore[attr-defined]
    for kind in ("a", "b", "differ"):
        t = time.perf_counter()
        ids = filter_images(ds, ImageFilter(compare=kind), extras)
        print(f"filter compare={kind:<6}     {(time.perf_counter() - t) * 1000:7.1f} ms "
              f"({len(ids):,} images; {len(comp.image_ids(kind, 0.1)):,} by the model)")
    beat.start()
    t = time.perf_counter()
    rc.show("b")  # type: ignore[attr-defined]
    app.processEvents()  # type: ignore[attr-defined]
    print(f"switch the canvas to B    {(time.perf_counter() - t) * 1000:7.1f} ms "
          f"(GUI stall {beat.stop() * 1000:6.1f} ms)")


if __name__ == "__main__":
    raise SystemExit(main())
