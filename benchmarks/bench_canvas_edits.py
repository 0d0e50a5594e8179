"""What each edit kind costs at train2017 size (issue 17 "Fast": an edit within one
frame): applying the edit (with the counts), then building the edited view the canvas
draws — each the median of 3 runs of 20 edits (the category edits: 3 runs of 4), with
the 16.7 ms frame budget passed or not.

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

#: one frame at 60 Hz, ms
FRAME_MS = 1000 / 60


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
    ids = rng.choice(ds.anns.id, 400, replace=False).tolist()
    cats = [c.id for c in ds.categories]
    images = ds.image_ids[:200].tolist()
    runs: dict[str, list[tuple[float, float]]] = {}

    def run(name: str, view: EditedView, make: Callable[[int], E.Edit], n: int = 20) -> None:
        runs.setdefault(name, []).append(_ms(view, make, n))

    for _ in range(3):
        view = EditedView(ds)
        view.apply(E.Relabel(ids[-1], cats[0]))  # the id index, once per dataset
        run("delete", view, lambda k: E.DeleteAnnotation(ids[k]))
        run("relabel", view, lambda k: E.Relabel(ids[20 + k], cats[k % len(cats)]))
        run("crowd toggle", view, lambda k: E.SetCrowd(ids[40 + k], 1))
        run("set box", view, lambda k: E.SetBox(ids[60 + k], (1.0, 2.0, 30.0 + k, 40.0)))
        run("delete image", view, lambda k: E.DeleteImage(int(images[100 + k])))
        run("rename category", view, lambda k: E.RenameCategory(cats[k], f"renamed {k}"))
        run("merge category", view, lambda k: E.MergeCategory(cats[2 * k + 1], cats[2 * k]), 4)
        run("delete category", view, lambda k: E.DeleteCategory(cats[20 + k]), 4)
        base = view.layer.fresh_ann_id()
        run("add", view, lambda k, base=base: E.AddAnnotation(
            base + k, int(images[k]), cats[0], (5.0, 5.0, 20.0, 20.0)))
        run("relabel, 20 added", view, lambda k: E.Relabel(ids[80 + k], cats[40 + k]))
        run("delete, 20 added", view, lambda k: E.DeleteAnnotation(ids[100 + k]))
    print(f"{len(ds.anns):,} annotations, {len(ds.image_ids):,} images "
          "(median of 3 runs; ms per edit; frame budget 16.7 ms)")
    for name, r in runs.items():
        a = statistics.median(x for x, _ in r)
        v = statistics.median(y for _, y in r)
        ok = "pass" if v < FRAME_MS else "FAIL"
        print(f"  {name:<18} apply {a:7.1f}   apply + edited view {v:7.1f}   {ok}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "s.json"
            generate_coco(p, n_images=118_287, n_annotations=860_001, boxes_only=True)
            main(p)
