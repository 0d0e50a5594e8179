"""One edit's incremental update of the counts and the edited view vs a recount (issue 17).

    python benchmarks/bench_edit_counts.py [N_IMAGES N_ANNOTATIONS]   (default: 118k / 860k)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import cocoview
from cocoview.model import edits as E
from cocoview.model.edited import EditedView
from cocoview.testing.synth import generate_coco


def main(n_img: int, n_ann: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "s.json"
        generate_coco(p, n_images=n_img, n_annotations=n_ann, boxes_only=True)
        ds = cocoview.open(p, cache=False)
        view = EditedView(ds)
        rng = np.random.default_rng(0)
        ids = rng.choice(ds.anns.id, 200, replace=False).tolist()
        cats = [c.id for c in ds.categories]
        t = time.perf_counter()
        for k, a in enumerate(ids):
            view.apply(E.Relabel(a, cats[k % len(cats)]) if k % 2 else E.DeleteAnnotation(a))
        per_edit = (time.perf_counter() - t) / len(ids) * 1e3
        t = time.perf_counter()
        view.dataset()
        view_ms = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        keep = view.layer.ann_keep_mask()
        cidx = view.cat_index(view.layer.category_column())
        np.bincount(cidx[keep & (cidx >= 0)], minlength=len(cats))
        recount_ms = (time.perf_counter() - t) * 1e3
        print(f"{len(ds.anns):,} annotations: incremental edit {per_edit:.2f} ms, edited view "
              f"{view_ms:.1f} ms, full recount {recount_ms:.0f} ms")


if __name__ == "__main__":
    a = sys.argv[1:]
    main(int(a[0]) if a else 118_287, int(a[1]) if len(a) > 1 else 860_001)
