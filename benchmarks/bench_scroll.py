"""GUI fluidity at 2 M images: GUI-thread cost of scrolling the list, the grid and the
category tree, of toggling a category, and of applying a category filter.

    python benchmarks/bench_scroll.py [--file FILE] [--tree-file FILE] [--steps 300] [--quick]

Default files: ``bench-data/objects365.json`` (2 M images, 20 M boxes) for the image
list, the thumbnail grid and the filter, and ``bench-data/lvis.json`` (1,203
categories) for the category tree; ``--quick`` uses ``bench-data/val2017.json`` for
everything (generated if missing) and finishes in well under a minute.

Runs offscreen with the real ``QApplication`` and the real ``MainWindow`` at
1400×900. Each file is first opened once in a child process, so the index cache
is warm (the first open of objects365.json without a cache takes ~60 s and
~4.6 GB); then it is opened here with :func:`cocoview.open` and handed to the
window as its loader thread would (``ds.warm()`` off the window, then
``MainWindow._on_loaded``).

A scroll step is ``scrollbar.setValue()`` → ``viewport().repaint()`` (the rows'
``data()`` calls and the delegate's painting, synchronously) →
``QApplication.processEvents()`` (whatever arrived meanwhile: thumbnails, their
repaints); its wall time is the GUI-thread cost of the step. Phases: N page-downs
from the top, N positions spread evenly over the whole range (a scrollbar drag),
a jump to the end and one back to the top. Thumbnails are made in the browser's
worker thread and are not waited for; the images are not on disk, so they are
placeholders with overlays (the worker still reads the boxes from the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

os.environ["QT_QPA_PLATFORM"] = "offscreen"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

if TYPE_CHECKING:
    from PySide6.QtCore import QModelIndex
    from PySide6.QtWidgets import QAbstractItemView, QApplication

    from cocoview.model.dataset import Dataset
    from cocoview.qt.main_window import MainWindow

FRAME_MS = 16.0  # one frame at 60 Hz
SLOW_MS = 50.0  # a visible stutter

_WARM = """
import json, sys, time
import cocoview
msgs = []
t = time.perf_counter()
ds = cocoview.open(sys.argv[1], progress=lambda f, what: msgs.append(what))
print(json.dumps({"seconds": time.perf_counter() - t, "cached": "index cache" in msgs[-1],
                  "images": len(ds.image_ids), "annotations": len(ds.anns)}))
"""


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@dataclass
class Phase:
    """Per-step wall times (ms) of one scroll phase."""

    name: str
    ms: list[float] = field(default_factory=list)
    note: str = ""

    def figures(self) -> tuple[float, float, float, int, int]:
        a = np.asarray(self.ms)
        return (float(np.median(a)), float(np.percentile(a, 95)), float(a.max()),
                int((a > FRAME_MS).sum()), int((a > SLOW_MS).sum()))


@dataclass
class Report:
    phases: list[Phase] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)

    def add(self, what: str, value: str) -> None:
        self.figures.append((what, value))
        print(f"  {what}: {value}")

    def phase(self, p: Phase) -> None:
        self.phases.append(p)
        med, p95, mx, over16, over50 = p.figures()
        print(f"  {p.name:<40} n={len(p.ms):<4} median {med:6.2f} ms  p95 {p95:6.2f} ms  "
              f"max {mx:7.2f} ms  >16 ms {over16:3}  >50 ms {over50:3}")
        if p.note:
            print(f"  {'':<40} {p.note}")

    def table(self) -> None:
        print()
        print("=" * 100)
        print(f"{'scroll phase (GUI thread per step)':<44} {'steps':>5} {'median':>8} "
              f"{'p95':>8} {'max':>8} {'>16ms':>6} {'>50ms':>6}")
        print("-" * 100)
        for p in self.phases:
            med, p95, mx, over16, over50 = p.figures()
            print(f"{p.name:<44} {len(p.ms):>5} {med:>6.2f}ms {p95:>6.2f}ms {mx:>6.1f}ms "
                  f"{over16:>6} {over50:>6}")
        print("-" * 100)
        for what, value in self.figures:
            print(f"{what:<58} {value}")
        print("=" * 100)


# ----- data --------------------------------------------------------------------------
def ensure(path: Path, preset: str | None) -> Path:
    if path.exists():
        return path
    if preset is None:
        raise SystemExit(f"{path}: no such file")
    from cocoview.testing.synth import generate_preset

    print(f"generating the {preset} preset into {path} …", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    generate_preset(preset, path)
    return path


def warm_cache(path: Path) -> dict[str, Any]:
    """Open ``path`` once in a child process: fills the index cache if it is cold."""
    out = subprocess.run([sys.executable, "-c", _WARM, str(path)], check=True,
                         capture_output=True, text=True, cwd=REPO)
    info: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return info


def open_dataset(path: Path, report: Report) -> Dataset:
    """Warm the cache, then open ``path`` here (timed) as the app's loader thread does."""
    import cocoview

    info = warm_cache(path)
    how = "from the index cache" if info["cached"] else "parsed; the index cache is now filled"
    report.add(f"{path.name}: warm-up open (child process)", f"{info['seconds']:.2f} s ({how})")
    msgs: list[str] = []
    t = time.perf_counter()
    ds = cocoview.open(path, progress=lambda _f, what: msgs.append(what))
    t_open = time.perf_counter() - t
    t = time.perf_counter()
    ds.warm()  # the app does this in its loader thread, before the window sees the dataset
    t_warm = time.perf_counter() - t
    cached = bool(msgs) and "index cache" in msgs[-1]
    report.add(f"{path.name}: open (cocoview.open)",
               f"{t_open:.2f} s, {'from the index cache' if cached else 'NOT from the cache'}"
               f" (cached files: {[f.cached for f in ds.files]})")
    report.add(f"{path.name}: ds.warm() (loader thread in the app)", f"{t_warm:.2f} s")
    report.add(f"{path.name}: size", f"{len(ds.image_ids):,} images, {len(ds.anns):,} "
               f"annotations, {len(ds.categories):,} categories")
    return ds


# ----- Qt helpers --------------------------------------------------------------------
def settle(app: QApplication, done: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    """Run the event loop (a real one: idle, not spinning) until ``done()`` or the timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(loop.quit)
    timer.start()
    end = time.perf_counter() + timeout_s
    while not done() and time.perf_counter() < end:
        loop.exec()
    timer.stop()
    app.processEvents()
    return done()


def step(app: QApplication, view: QAbstractItemView, value: int,
         split: list[tuple[float, float]] | None = None) -> float:
    """One scroll step; its GUI-thread wall time in ms (``split``: + (paint, events) ms)."""
    sb, vp = view.verticalScrollBar(), view.viewport()
    t0 = time.perf_counter()
    sb.setValue(value)
    vp.repaint()
    t1 = time.perf_counter()
    app.processEvents()
    t2 = time.perf_counter()
    if split is not None:
        split.append(((t1 - t0) * 1e3, (t2 - t1) * 1e3))
    return (t2 - t0) * 1e3


def scroll(app: QApplication, view: QAbstractItemView, label: str, steps: int,
           report: Report, lookups: Callable[[], int] | None = None) -> None:
    """Page-downs from the top, positions spread over the range, a jump to the end and back."""
    sb = view.verticalScrollBar()
    top, bottom, page = sb.minimum(), sb.maximum(), max(sb.pageStep(), 1)
    for v in (top, top + page, top):  # first paints (glyph caches etc.) are not counted
        step(app, view, v)

    def run(name: str, values: Sequence[int]) -> None:
        before = lookups() if lookups is not None else 0
        split: list[tuple[float, float]] = []
        ms = [step(app, view, int(v), split) for v in values]
        paint, events = np.median(np.asarray(split), axis=0)
        note = f"(median: paint {paint:.1f} + events {events:.1f} ms"
        if lookups is not None:
            note += f"; {(lookups() - before) / max(len(values), 1):.0f} thumbnail lookups/step"
        note += ")"
        report.phase(Phase(f"{label}: {name}", ms, note))

    pages = [top + (k + 1) * page for k in range(steps)]
    pages = [top + (v - top) % (bottom - top + 1) for v in pages] if bottom > top else pages
    run(f"page-down ×{steps}", pages)
    run(f"spread ×{steps} over range", np.linspace(top, bottom, steps).round().astype(int))
    step(app, view, top)
    run("jump to end", [bottom])
    run("jump back to top", [top])


def first_paint(app: QApplication, view: QAbstractItemView) -> float:
    t = time.perf_counter()
    view.viewport().repaint()
    app.processEvents()
    return (time.perf_counter() - t) * 1e3


def toggle_ms(app: QApplication, win: MainWindow, ix: QModelIndex) -> float:
    """Un/check a category's box in the tree as its delegate does (``setData`` on the
    proxy), then paint: the GUI-thread cost of one visibility toggle."""
    from PySide6.QtCore import Qt

    panel = win.categories
    state = Qt.CheckState(ix.data(Qt.ItemDataRole.CheckStateRole))
    new = Qt.CheckState.Unchecked if state == Qt.CheckState.Checked else Qt.CheckState.Checked
    t = time.perf_counter()
    panel.proxy.setData(ix, new, Qt.ItemDataRole.CheckStateRole)
    panel.view.viewport().repaint()
    app.processEvents()
    return (time.perf_counter() - t) * 1e3


def toggles(app: QApplication, win: MainWindow, label: str, report: Report) -> None:
    from cocoview.qt.category_tree import CATEGORY_ID_ROLE

    proxy = win.categories.proxy
    leaves: list[QModelIndex] = []  # the first 5 category rows (not supercategories)
    todo = [proxy.index(r, 0) for r in range(proxy.rowCount())]
    while todo and len(leaves) < 5:
        ix = todo.pop(0)
        if ix.data(CATEGORY_ID_ROLE) is not None:
            leaves.append(ix)
        else:
            todo[:0] = [proxy.index(r, 0, ix) for r in range(proxy.rowCount(ix))]
    ms: list[float] = []
    for ix in leaves:
        ms.append(toggle_ms(app, win, ix))  # hide
        ms.append(toggle_ms(app, win, ix))  # show again
    n = len(win.state.image_list)
    report.phase(Phase(f"{label}: toggle category @ {n:,} images", ms,
                       f"(hide, then show, each of {len(leaves)} categories)"))


def load_into(app: QApplication, win: MainWindow, path: Path, ds: Dataset,
              report: Report) -> None:
    """Hand ``ds`` to the window as its loader does; time it; let the window settle."""
    from cocoview.qt.loading import OpenRequest

    cats = win.categories.model
    stamps: dict[str, float] = {}

    def mark(key: str) -> Callable[[], None]:
        return lambda: stamps.setdefault(key, time.perf_counter())

    cats.modelAboutToBeReset.connect(mark("cat0"))
    cats.modelReset.connect(mark("cat1"))
    t = time.perf_counter()
    win._on_loaded(OpenRequest((path,)), ds)  # what DatasetLoader.loaded calls
    t_loaded = time.perf_counter() - t
    t = time.perf_counter()
    app.processEvents()
    win.repaint()
    t_paint = time.perf_counter() - t
    report.add(f"{path.name}: dataset → window (GUI thread, _on_loaded)",
               f"{t_loaded * 1e3:.1f} ms, then first processEvents + paint "
               f"{t_paint * 1e3:.1f} ms")
    if "cat0" in stamps and "cat1" in stamps:
        report.add(f"{path.name}: category tree populated (model reset)",
                   f"{(stamps['cat1'] - stamps['cat0']) * 1e3:.1f} ms, "
                   f"{cats.category_count():,} categories")
    ok = settle(app, lambda: win.canvas.frame is not None
                and win.filter_panel.choices.counted())
    if not ok:
        print("  (the window did not settle within 60 s)")


# ----- the parts -----------------------------------------------------------------
def part_list_and_grid(app: QApplication, win: MainWindow, steps: int,
                       report: Report) -> None:
    b = win.browser
    thumbs = b.thumbnails

    def lookups() -> int:
        return thumbs.hits + thumbs.misses

    b.set_mode("list")
    t = b.table
    report.add("image list rows (model.rowCount)", f"{b.model.rowCount():,}")
    report.add("image list viewport", f"{t.viewport().width()}×{t.viewport().height()} px, "
               f"{t.viewport().height() // max(t.verticalHeader().defaultSectionSize(), 1)} "
               f"rows per page, scrollbar 0…{t.verticalScrollBar().maximum():,}")
    print("1. image list")
    scroll(app, t, "list", steps, report, lookups)

    t0 = time.perf_counter()
    b.set_mode("grid")
    app.processEvents()
    g = b.grid
    g.viewport().repaint()
    report.add("switch list → grid + first paint", f"{(time.perf_counter() - t0) * 1e3:.1f} ms")
    cs = g.cell_size()
    report.add("thumbnail grid", f"{g.viewport().width()}×{g.viewport().height()} px, "
               f"{g.columns()} columns of {cs.width()}×{cs.height()} px cells, scrollbar "
               f"0…{g.verticalScrollBar().maximum():,} px")
    print("2. thumbnail grid (images not on disk: placeholder thumbnails with overlays; "
          "the worker's time is not counted)")
    started = thumbs.started
    scroll(app, g, "grid", steps, report, lookups)
    report.add("thumbnails: jobs started during the grid phases / cached now",
               f"{thumbs.started - started:,} / {len(thumbs):,} "
               f"({thumbs.cached_bytes / 1e6:.1f} MB)")
    b.set_mode("list")


def part_filter(app: QApplication, win: MainWindow, ds: Dataset, steps: int,
                report: Report) -> None:
    from cocoview.model.filters import ImageFilter, filter_images

    print("4. category filter")
    images_per_cat = ds.category_counts()[1]
    k = int(np.argmax(images_per_cat))
    cat = ds.categories[k]
    flt = ImageFilter(categories=(cat.id,), match="any")
    times = []
    for _ in range(5):
        t = time.perf_counter()
        ids = filter_images(ds, flt)
        times.append(time.perf_counter() - t)
    report.add(f"filter model: images with '{cat.name}' (any), filter_images",
               f"median {np.median(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms "
               f"→ {len(ids):,} of {len(ds.image_ids):,} images")
    used = np.flatnonzero(images_per_cat > 0)
    rare = ds.categories[int(used[np.argmin(images_per_cat[used])])] if len(used) else cat
    times = []
    for _ in range(3):
        t = time.perf_counter()
        n_rare = len(filter_images(ds, ImageFilter(categories=(rare.id,), match="any")))
        times.append(time.perf_counter() - t)
    report.add(f"filter model: images with '{rare.name}' (rarest, any)",
               f"median {np.median(times) * 1e3:.1f} ms → {n_rare:,} images")

    state, model, t = win.state, win.browser.model, win.browser.table
    stamps: dict[str, float] = {}
    real = state.set_image_list

    def probed(ids: np.ndarray, label: str) -> None:  # a timing probe around the real call
        t0 = time.perf_counter()
        real(ids, label)
        stamps["set_list"] = time.perf_counter() - t0

    def mark(key: str) -> Callable[[], None]:
        return lambda: stamps.__setitem__(key, time.perf_counter())

    state.set_image_list = probed  # type: ignore[method-assign]
    model.modelAboutToBeReset.connect(mark("r0"))
    model.modelReset.connect(mark("r1"))
    try:
        for what, act in ((f"apply filter '{cat.name}'",
                           lambda: win.filter_model.show_with([cat.id])),
                          ("clear the filter (back to all)", win.filter_model.clear)):
            stamps.clear()
            t0 = time.perf_counter()
            act()
            t_apply = time.perf_counter() - t0
            t_paint = first_paint(app, t)
            report.add(f"GUI: {what} (FilterModel, immediate)",
                       f"{t_apply * 1e3:.1f} ms in all, of which state.set_image_list + "
                       f"slots {stamps.get('set_list', float('nan')) * 1e3:.1f} ms "
                       f"(list model reset incl. views "
                       f"{(stamps.get('r1', 0) - stamps.get('r0', 0)) * 1e3:.1f} ms); "
                       f"then paint {t_paint:.1f} ms; {model.rowCount():,} rows")
            if what.startswith("apply"):
                print("   scrolling the filtered list")
                sb = t.verticalScrollBar()
                top, bottom = sb.minimum(), sb.maximum()
                n = max(steps // 3, 10)
                ms = [step(app, t, int(v)) for v in np.linspace(top, bottom, n).round()]
                report.phase(Phase(f"filtered list: spread ×{n} over range", ms))
                step(app, t, top)
    finally:
        state.set_image_list = real  # type: ignore[method-assign]


def part_tree(app: QApplication, win: MainWindow, steps: int, report: Report) -> None:
    panel = win.categories
    v = panel.view
    print("3. category tree")
    report.add("category tree rows (top level) / viewport",
               f"{panel.proxy.rowCount():,} / {v.viewport().width()}×{v.viewport().height()} "
               f"px, scrollbar 0…{v.verticalScrollBar().maximum():,}")
    report.add("category tree first paint", f"{first_paint(app, v):.1f} ms")
    t = time.perf_counter()
    v.expandAll()  # what the filter box does; makes every category a row with supercategories
    app.processEvents()
    report.add("category tree expandAll + events", f"{(time.perf_counter() - t) * 1e3:.1f} ms")
    scroll(app, v, "tree", steps, report)
    step(app, v, 0)
    toggles(app, win, "tree", report)


# ----- main ----------------------------------------------------------------------
def _quiet(mode: Any, context: Any, message: str) -> None:
    """Qt's messages to stderr, but for the offscreen platform's own note."""
    if "propagateSizeHints" not in message:
        print(f"Qt: {message}", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, help="the big file for the list, grid and filter "
                    "(default bench-data/objects365.json)")
    ap.add_argument("--tree-file", type=Path, help="the file for the category tree "
                    "(default bench-data/lvis.json)")
    ap.add_argument("--steps", type=int, default=300, help="steps per scroll phase")
    ap.add_argument("--quick", action="store_true",
                    help="bench-data/val2017.json for everything, 60 steps")
    args = ap.parse_args()
    data = REPO / "bench-data"
    steps = 60 if args.quick and args.steps == 300 else args.steps
    if args.quick:
        big = ensure(args.file or data / "val2017.json", None if args.file else "val2017")
        tree = ensure(args.tree_file or big, None)
    else:
        big = ensure(args.file or data / "objects365.json", None if args.file else "objects365")
        tree = ensure(args.tree_file or data / "lvis.json", None if args.tree_file else "lvis")

    os.environ.setdefault("COCOVIEW_SETTINGS", str(Path(tempfile.mkdtemp()) / "bench.ini"))
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from cocoview.qt.app import GIL_SWITCH_INTERVAL
    from cocoview.qt.main_window import MainWindow

    sys.setswitchinterval(GIL_SWITCH_INTERVAL)  # as the app does
    qInstallMessageHandler(_quiet)
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    report = Report()
    t_all = time.perf_counter()
    print(f"setup: {big.name}" + (f", {tree.name}" if tree != big else ""))
    report.add("RSS before opening", f"{rss_mb():.0f} MB")
    ds = open_dataset(big, report)
    report.add("RSS after open", f"{rss_mb():.0f} MB")
    win = MainWindow()
    # a journal of unsaved edits of the same file (another run's) would ask in a modal
    # dialog and the benchmark would wait forever: it is left alone
    win.editing.offer_restore = lambda *_a, **_k: None  # type: ignore[method-assign]
    win.resize(1400, 900)
    win.show()
    app.processEvents()
    load_into(app, win, big, ds, report)
    report.add("RSS after setup (window shown, first image on the canvas)",
               f"{rss_mb():.0f} MB")

    part_list_and_grid(app, win, steps, report)
    toggles(app, win, "window", report)
    part_filter(app, win, ds, steps, report)
    if tree != big:
        print(f"setup: {tree.name} into the same window (File → Open)")
        del ds
        tds = open_dataset(tree, report)
        load_into(app, win, tree, tds, report)
    part_tree(app, win, steps, report)
    report.add("RSS at the end", f"{rss_mb():.0f} MB")
    report.add("benchmark wall time", f"{time.perf_counter() - t_all:.1f} s")
    report.table()
    print(f"goal: every scroll step ≤ {FRAME_MS:.0f} ms on the GUI thread (60 Hz); "
          f"> {SLOW_MS:.0f} ms is a visible stutter")
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
