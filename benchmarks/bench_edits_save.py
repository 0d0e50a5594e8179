"""Save As with 1,000 edits vs an unfiltered ``export --format coco`` (issue 17).

    python benchmarks/bench_edits_save.py FILE.json   (e.g. synth train2017)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import cocoview
from cocoview.model.edits import DeleteAnnotation, EditLayer, Relabel, SetCrowd, save_as
from cocoview.model.export import export


def main(path: str) -> None:
    ds = cocoview.open(path)
    rng = np.random.default_rng(0)
    ids = rng.choice(ds.anns.id, 1000, replace=False).tolist()
    cats = [c.id for c in ds.categories]
    layer = EditLayer(ds)
    t = time.perf_counter()
    for k, a in enumerate(ids):
        e = (DeleteAnnotation(a), Relabel(a, cats[k % len(cats)]), SetCrowd(a, 1))[k % 3]
        layer.apply(e)
    per_edit = (time.perf_counter() - t) / len(ids)
    t = time.perf_counter()
    keep = layer.ann_keep_mask()
    mask_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        export(ds, ds.image_ids, Path(d) / "a.json", "coco")
        exp_s = time.perf_counter() - t
        t = time.perf_counter()
        save_as(layer, Path(d) / "b.json")
        save_s = time.perf_counter() - t
    print(f"apply: {per_edit * 1e6:.1f} us/edit; keep mask ({int((~keep).sum())} gone): "
          f"{mask_s * 1e3:.1f} ms")
    print(f"export coco: {exp_s:.2f} s; save as (1000 edits): {save_s:.2f} s; "
          f"ratio {save_s / exp_s:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
