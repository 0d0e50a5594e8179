"""Time from asking the window to open a file to its first image on screen, and RSS then.

    python benchmarks/bench_first_frame.py [FILE]   (default: bench-data/train2017.json)

Runs offscreen. Run it twice: the first run fills the index cache, the second
measures a cached open (the figure the scale issue asks for: < 0.5 s, < 400 MB).
"""

from __future__ import annotations

import os
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

    from PySide6.QtWidgets import QApplication

    os.environ.setdefault("COCOVIEW_SETTINGS", str(Path(tempfile.mkdtemp()) / "bench.ini"))
    from cocoview.qt.main_window import MainWindow

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "bench-data" / "train2017.json"
    app = QApplication.instance() or QApplication([])
    win = MainWindow()
    win.show()
    t0 = time.perf_counter()
    win.open_files([path])
    while win.canvas.frame is None:
        app.processEvents()
    app.processEvents()
    t1 = time.perf_counter()
    print(f"{path.name}: open → first image on screen {t1 - t0:.2f} s "
          f"(process start → image {t1 - T_START:.2f} s); RSS {rss_mb():.0f} MB")
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
