"""Filter timing on a COCO-train-scale file (the GUI updates its count live while editing).

    python benchmarks/bench_filter.py [--preset train2017] [--repeat 20]
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
    ap.add_argument("--file", type=Path)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    import cocoview
    from cocoview.model.filters import ImageFilter, image_mask
    from cocoview.testing.synth import generate_preset

    path = args.file or REPO / "bench-data" / f"{args.preset}.json"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        generate_preset(args.preset, path)
    t = time.perf_counter()
    ds = cocoview.open(path)
    print(f"{path.name}: {len(ds.image_ids):,} images, {len(ds.anns):,} annotations, "
          f"{len(ds.categories)} categories (opened in {time.perf_counter() - t:.2f} s)")
    counts = np.bincount(np.searchsorted(np.sort([c.id for c in ds.categories]),
                                         ds.anns.category_id))
    ids = np.sort([c.id for c in ds.categories])
    common = [int(ids[i]) for i in np.argsort(-counts)[:3]]
    cases = {
        "category any (1)": ImageFilter(categories=(common[0],)),
        "categories all (2)": ImageFilter(categories=tuple(common[:2]), match="all"),
        "categories none (3)": ImageFilter(categories=tuple(common), match="none"),
        "crowd with": ImageFilter(crowd="with"),
        "size small in category": ImageFilter(categories=(common[1],), size="small"),
        "annotations 10–30": ImageFilter(min_annotations=10, max_annotations=30),
        "name glob *12*.jpg": ImageFilter(name="*12*.jpg"),
        "everything above": ImageFilter(categories=tuple(common[:2]), match="all",
                                        crowd="without", size="large", min_annotations=5,
                                        name="*1*"),
    }
    print(f"{'filter':<26} {'median':>9} {'p95':>9} {'matches':>9}")
    for name, flt in cases.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            m = image_mask(ds, flt)
            times.append(time.perf_counter() - t)
        med, p95 = np.median(times) * 1e3, np.percentile(times, 95) * 1e3
        print(f"{name:<26} {med:>7.1f}ms {p95:>7.1f}ms {int(m.sum()):>9,}")
    print("goal: < 50 ms on a COCO-train-scale file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
