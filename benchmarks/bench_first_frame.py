"""Time from asking the window to open a file to its image list, its first image and that
image's overlays on screen, and RSS then.

    python benchmarks/bench_first_frame.py [FILE] [--cold] [--repeat N]
    (default FILE: bench-data/train2017.json)

Runs offscreen. ``--cold`` removes the file's index cache entry before each open (a
first open: the images come first, the overlays when the annotations are indexed,
issue 18); without it, run it twice: the first run fills the index cache, the second
measures a cached open. Prints one line per open:

    list shown  — the image list has the file's images (the preview on a first open)
    first image — the first image (or its placeholder) is on the canvas
    overlays    — the first image is on the canvas with the annotations indexed
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

T_START = time.perf_counter()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> int:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path,
                    default=REPO / "bench-data" / "train2017.json")
    ap.add_argument("--cold", action="store_true",
                    help="remove the file's index cache entry before each open")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", action="store_true",
                    help="one JSON line per open (seconds from the open), for bench_scale")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    os.environ.setdefault("COCOVIEW_SETTINGS", str(Path(tempfile.mkdtemp()) / "bench.ini"))
    from cocoview.model import cache as index_cache
    from cocoview.qt.frames import Frame
    from cocoview.qt.loading import PreviewDataset
    from cocoview.qt.main_window import MainWindow

    path: Path = args.file
    app = QApplication.instance() or QApplication([])
    win = MainWindow()
    # a journal of unsaved edits of the same file (another run's) would ask in a modal
    # dialog and the benchmark would wait forever: it is left alone
    win.editing.offer_restore = lambda *_a, **_k: None  # type: ignore[method-assign]
    win.show()
    for k in range(args.repeat):
        if args.cold:
            index_cache.wait_pending()
            shutil.rmtree(index_cache.entry_dir(path), ignore_errors=True)
        win.close_dataset()
        app.processEvents()
        marks: dict[str, float] = {}

        def frame_shown(frame: Frame, marks: dict[str, float] = marks) -> None:
            now = time.perf_counter()
            marks.setdefault("first image", now)
            ds = win.state.dataset
            if ds is not None and not isinstance(ds, PreviewDataset):
                marks.setdefault("overlays", now)

        win.presenter.frameShown.connect(frame_shown)
        t0 = time.perf_counter()
        win.open_files([path])
        while "overlays" not in marks:
            app.processEvents()
            if "list shown" not in marks and win.state.dataset is not None \
                    and len(win.state.image_list):
                marks["list shown"] = time.perf_counter()
            if not win.loader.busy and win.state.dataset is None and \
                    time.perf_counter() - t0 > 1 and win.pending is None:
                print("the open failed")
                return 1
        app.processEvents()
        win.presenter.frameShown.disconnect(frame_shown)
        ds = win.state.dataset
        assert ds is not None
        if args.json:
            import json

            print(json.dumps({name.replace(" ", "_"): marks[name] - t0 for name in marks}
                             | {"rss_mb": rss_mb()}), flush=True)
            continue
        times = ", ".join(f"{name} {marks[name] - t0:.2f} s"
                          for name in ("list shown", "first image", "overlays"))
        first = f" (process start → first image {marks['first image'] - T_START:.2f} s)" \
            if k == 0 else ""
        print(f"{path.name}{' cold' if args.cold else ''}: open → {times}{first}; "
              f"{len(ds.image_ids):,} images, {len(ds.anns):,} annotations; "
              f"RSS {rss_mb():.0f} MB", flush=True)
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
