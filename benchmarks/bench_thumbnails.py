"""Thumbnails per second: DCT-scaled decode + overlays, one worker vs a pool; browser at scale.

    python benchmarks/bench_thumbnails.py                 # demo + 300 generated JPEGs
    python benchmarks/bench_thumbnails.py --images 1000 --browser 2000000

Prints figures; asserts nothing. ``--browser N`` also times the image browser on
a generated N-image file (set-up, grid jump to the last image, searches).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

import cocoview
from cocoview.model.thumbnail import render_thumbnail
from cocoview.resources import demo_files
from cocoview.testing.synth import generate_coco

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def full_decode(ds: cocoview.Dataset, image_id: int, size: int) -> np.ndarray:
    """The baseline: decode every pixel, then shrink."""
    path = ds.image_path(image_id)
    assert path is not None
    with Image.open(path) as im:
        rgb = im.convert("RGB")
        rgb.thumbnail((size, size), Image.Resampling.BILINEAR)
        return np.asarray(rgb)


def rate(fn: Callable[[int], object], ids: list[int], threads: int, rounds: int) -> float:
    work = ids * rounds
    t0 = time.perf_counter()
    if threads == 1:
        for i in work:
            fn(i)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(fn, work))
    return len(work) / (time.perf_counter() - t0)


def bench_dataset(name: str, ds: cocoview.Dataset, size: int, rounds: int) -> None:
    ids = [int(i) for i in ds.image_ids]
    for i in ids[:4]:
        render_thumbnail(ds, i, size)  # warm imports and caches
    cores = os.cpu_count() or 2
    cases: list[tuple[str, Callable[[int], object]]] = [
        ("full decode + resize, no overlays", lambda i: full_decode(ds, i, size)),
        ("draft decode, no overlays", lambda i: render_thumbnail(ds, i, size, overlays=False)),
        ("draft decode + masks + boxes", lambda i: render_thumbnail(ds, i, size)),
    ]
    print(f"\n{name}: {len(ids)} images, {len(ds.anns)} annotations, size {size}, "
          f"{cores} cores")
    for label, fn in cases:
        one = rate(fn, ids, 1, rounds)
        many = rate(fn, ids, cores, rounds)
        print(f"  {label:36s} 1 worker {one:7.0f}/s   {cores} workers {many:7.0f}/s")
    print(f"  {'ThumbnailCache (QThreadPool), end to end':36s} "
          f"1 worker {qt_rate(ds, ids, size, 1, rounds):7.0f}/s   "
          f"{cores} workers {qt_rate(ds, ids, size, None, rounds):7.0f}/s")


def qt_rate(ds: cocoview.Dataset, ids: list[int], size: int, threads: int | None,
            rounds: int) -> float:
    """Thumbnails/s through the real pipeline: get() → pool → queued signal → cache."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from cocoview.qt.state import ViewerState
    from cocoview.qt.thumbnails import ThumbnailCache

    app = QApplication.instance() or QApplication(sys.argv[:1])
    state = ViewerState()
    state.set_dataset(ds)
    cache = ThumbnailCache(state, size=size, threads=threads, max_pending=len(ids) + 1)
    done = 0
    t0 = time.perf_counter()
    for _ in range(rounds):
        cache.clear()
        for i in ids:
            cache.get(i)
        while cache.pending_count():  # sleep in the event loop, as the app does
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        done += len(ids)
    elapsed = time.perf_counter() - t0
    cache.shutdown()
    return done / elapsed


def make_jpeg_set(folder: Path, n: int) -> cocoview.Dataset:
    """A generated COCO file with polygons, and a matching JPEG for every image."""
    ann = folder / "annotations.json"
    generate_coco(ann, n_images=n, n_annotations=n * 7, seed=3)
    ds = cocoview.open(ann, images=folder)
    rng = np.random.default_rng(0)
    for row, name in enumerate(ds.image_file_names):
        w, h = int(ds.image_width[row]), int(ds.image_height[row])
        # smooth colour noise: compresses and decodes like a photo, unlike white noise
        small = rng.integers(0, 256, (max(h // 16, 2), max(w // 16, 2), 3), np.uint8)
        img = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        img.save(folder / name, quality=90)
    return cocoview.open(ann, images=folder)


def bench_browser(n: int) -> None:
    from PySide6.QtWidgets import QApplication

    from cocoview.qt.image_browser import ImageBrowser
    from cocoview.qt.state import ViewerState

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json"
        t0 = time.perf_counter()
        generate_coco(path, n_images=n, n_annotations=n // 5, boxes_only=True)
        ds = cocoview.open(path)
        print(f"\nbrowser on {n:,} images (generated + opened in "
              f"{time.perf_counter() - t0:.1f} s)")
        state = ViewerState()
        b = ImageBrowser(state)
        b.resize(700, 900)
        b.show()
        t0 = time.perf_counter()
        state.set_dataset(ds)
        app.processEvents()
        print(f"  set_dataset + first paint        {1000 * (time.perf_counter() - t0):7.1f} ms")
        for mode in ("list", "grid"):
            b.set_mode(mode)
            t0 = time.perf_counter()
            state.go_last()
            b.current_view().repaint()
            app.processEvents()
            print(f"  {mode}: jump to last + repaint     "
                  f"{1000 * (time.perf_counter() - t0):7.1f} ms")
        for text in ("12.jp", "12.jp", "*0?7.jpg", ""):
            t0 = time.perf_counter()
            b.search.setText(text)
            b.apply_search()  # large lists are debounced; apply now
            app.processEvents()
            print(f"  search {text!r:12s} → {len(state.image_list):>9,} images "
                  f"{1000 * (time.perf_counter() - t0):7.1f} ms")
        b.shutdown()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--images", type=int, default=300, help="generated JPEGs (0: skip)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--browser", type=int, default=0, help="time the browser on N images")
    args = ap.parse_args(argv)
    bench_dataset("demo", cocoview.open(demo_files()), args.size, args.rounds * 5)
    if args.images:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            ds = make_jpeg_set(Path(tmp), args.images)
            print(f"\n(wrote {args.images} JPEGs in {time.perf_counter() - t0:.1f} s)")
            bench_dataset("generated", ds, args.size, args.rounds)
    if args.browser:
        bench_browser(args.browser)
    return 0


if __name__ == "__main__":
    sys.exit(main())
