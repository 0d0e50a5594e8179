"""Image switching in the desktop canvas: decode + overlays + paint, and GUI-thread time.

    python benchmarks/bench_switch.py [--images 300] [--quick]

Writes real JPEGs (640×H, like COCO) for the first images of the generated
val2017 preset into ``bench-data/val2017_images/`` once, then, offscreen:

- cold: each image requested with nothing cached (worker decode + overlays),
- browsing: → held down at 10 images/s with the neighbours prefetched,

and prints the 50th/95th percentile of the whole switch (request → painted)
and of the part spent on the GUI thread (QPixmap upload, items, paint).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def ensure_data(n: int) -> Path:
    from PIL import Image

    from cocoview.testing.synth import generate_preset

    data = REPO / "bench-data"
    data.mkdir(exist_ok=True)
    ann = data / "val2017.json"
    if not ann.exists():
        generate_preset("val2017", ann)
    import cocoview

    ds = cocoview.open(ann)
    folder = data / "val2017_images"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for iid in ds.image_ids[:n].tolist():
        info = ds.image(iid)
        out = folder / info.file_name
        if out.exists():
            continue
        yy, xx = np.mgrid[0 : info.height, 0 : info.width]
        base = np.stack([xx * 255 // max(info.width, 1), yy * 255 // max(info.height, 1),
                         (xx + yy) % 256], axis=2)
        noise = rng.integers(0, 40, (info.height, info.width, 3))
        Image.fromarray((base + noise).clip(0, 255).astype(np.uint8)).save(out, quality=90)
    return ann


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1e3, q))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--quick", action="store_true", help="60 images")
    args = ap.parse_args()
    n = 60 if args.quick else args.images
    ann = ensure_data(n)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    import cocoview
    from cocoview.qt.app import GIL_SWITCH_INTERVAL
    from cocoview.qt.canvas import Canvas
    from cocoview.qt.frames import Frame, FrameLoader
    from cocoview.qt.state import ViewerState

    sys.setswitchinterval(GIL_SWITCH_INTERVAL)  # as the app does
    QApplication.instance() or QApplication([])
    ds = cocoview.open(ann, images=REPO / "bench-data" / "val2017_images")
    ids = ds.image_ids[:n].tolist()
    state = ViewerState()
    canvas = Canvas(state)
    canvas.resize(1280, 900)
    canvas.show()
    loader = FrameLoader()
    loader.set_dataset(ds)
    state.set_dataset(ds)

    shown: dict[int, float] = {}
    gui: list[float] = []

    def on_frame(frame: Frame) -> None:
        t = time.perf_counter()
        canvas.show_frame(frame)
        canvas.viewport().repaint()  # paint now, synchronously, to time it
        done = time.perf_counter()
        gui.append(done - t)
        shown[frame.image_id] = done

    loader.frameReady.connect(on_frame)

    def wait(until: Callable[[], bool], ms: int) -> None:
        # idle in a real event loop (a busy processEvents() loop would hold the
        # GIL and slow the workers down, which a real app never does)
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(ms)
        timer.timeout.connect(loop.quit)
        loader.frameReady.connect(loop.quit)
        timer.start()
        while not until():
            loop.exec()
        timer.stop()
        loader.frameReady.disconnect(loop.quit)

    def run(prefetch: bool, interval: float) -> tuple[list[float], list[float]]:
        loader.set_dataset(ds)
        shown.clear()
        gui.clear()
        totals: list[float] = []
        for k, iid in enumerate(ids):
            t0 = time.perf_counter()
            loader.request(iid)
            wait(lambda i=iid: i in shown, 50)
            totals.append(shown[iid] - t0)
            if prefetch:
                loader.prefetch([i for i in ids[k + 1 : k + 3]])
            if interval:
                end = t0 + interval
                wait(lambda e=end: time.perf_counter() >= e, max(1, int(interval * 1000)))
        return totals, list(gui)

    anns = float(np.mean([ds.image_ann_count[ds.image_row(i)] for i in ids]))
    print(f"{len(ids)} images of {ann.name}, 640-wide JPEGs, {anns:.1f} annotations per image")
    print(f"{'mode':<28} {'switch p50':>11} {'p95':>8} {'GUI thread p50':>15} {'p95':>8}")
    for name, pre, interval in (("cold (no cache)", False, 0.0),
                                ("browsing 10/s, prefetch", True, 0.1)):
        tot, g = run(pre, interval)
        print(f"{name:<28} {pct(tot, 50):>9.2f}ms {pct(tot, 95):>6.2f}ms "
              f"{pct(g, 50):>13.2f}ms {pct(g, 95):>6.2f}ms")
    print("goal: switch p95 < 16 ms, GUI thread ≤ 5 ms")
    loader.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
