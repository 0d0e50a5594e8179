"""What a box edit and an added annotation cost at train2017 size (issue 17, i17canvas):
applying the edit (with the counts), then building the edited view the canvas draws,
against a relabel (the incremental path) — each the median of 3 runs of 20 edits.

    python benchmarks/bench_canvas_edits.py [FILE.json]   (default: a synth 118k / 860k)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import cocoview
from cocoview.model import edits as E
from cocoview.model.edited import EditedView
from cocoview.testing.synth import generate_coco


def _ms(view: EditedView, make: Callable[[int], E.Edit], n: int = 20) -> tuple[float, float]:
    """(apply, apply + the edited view) per edit, ms."""
    apply_t, view_t = [], []
    for k in range(n):
        e = make(k)
        t = time.perf_counter()
        view.apply(e)
        t1 = time.perf_counter()
        view.dataset()
        t2 = time.perf_counter()
        apply_t.append(t1 - t)
        view_t.append(t2 - t)
    return statistics.median(apply_t) * 1e3, statistics.median(view_t) * 1e3


def main(path: Path) -> None:
    ds = cocoview.open(path, cache=False)
    rng = np.random.default_rng(0)
    ids = rng.choice(ds.anns.id, 200, replace=False).tolist()
    cats = [c.id for c in ds.categories]
    images = ds.image_ids[:200].tolist()
    runs: dict[str, list[tuple[float, float]]] = {"relabel": [], "set box": [], "add": [],
                                                  "relabel, 20 added": []}
    for _ in range(3):
        view = EditedView(ds)
        runs["relabel"].append(_ms(view, lambda k: E.Relabel(ids[k], cats[k % len(cats)])))
        runs["set box"].append(_ms(view, lambda k: E.SetBox(ids[20 + k],
                                                            (1.0, 2.0, 30.0 + k, 40.0))))
        base = view.layer.fresh_ann_id()
        runs["add"].append(_ms(view, lambda k, base=base: E.AddAnnotation(
            base + k, int(images[k]), cats[0], (5.0, 5.0, 20.0, 20.0))))
        runs["relabel, 20 added"].append(_ms(view, lambda k: E.Relabel(
            ids[40 + k], cats[k % len(cats)])))
    print(f"{len(ds.anns):,} annotations, {len(ds.image_ids):,} images "
          "(median of 3 runs of 20 edits; ms per edit)")
    for name, r in runs.items():
        a = statistics.median(x for x, _ in r)
        v = statistics.median(y for _, y in r)
        print(f"  {name:<18} apply {a:7.1f}   apply + edited view {v:7.1f}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "s.json"
            generate_coco(p, n_images=118_287, n_annotations=860_001, boxes_only=True)
            main(p)
