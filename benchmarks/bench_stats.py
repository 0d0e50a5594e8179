"""Statistics plots and the box-range filter on a COCO-train-scale file (issue 15).

    python benchmarks/bench_stats.py [--preset train2017]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="train2017")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import cocoview
    from cocoview.model.distributions import distributions
    from cocoview.model.filters import ImageFilter, image_mask
    from cocoview.testing.synth import generate_preset

    path = REPO / "bench-data" / f"{args.preset}.json"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        generate_preset(args.preset, path)
    cocoview.open(path)  # the cache
    t = time.perf_counter()
    ds = cocoview.open(path)
    print(f"{path.name}: {len(ds.image_ids):,} images, {len(ds.anns):,} annotations "
          f"(cached open {time.perf_counter() - t:.2f} s)")
    half = np.arange(0, len(ds.image_ids), 2)
    for what, rows in (("whole dataset", None), ("half the images", half)):
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            distributions(ds, rows)
            times.append(time.perf_counter() - t)
        print(f"every plot, {what:<16} median {np.median(times) * 1e3:7.1f} ms")
    for name, flt in (("aspect > 4", ImageFilter(min_box_aspect=4.0)),
                      ("width 100–200", ImageFilter(min_box_width=100, max_box_width=200))):
        times = []
        for _ in range(args.repeat * 4):
            t = time.perf_counter()
            m = image_mask(ds, flt)
            times.append(time.perf_counter() - t)
        print(f"filter {name:<20} median {np.median(times) * 1e3:7.1f} ms  "
              f"({int(m.sum()):,} images)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
