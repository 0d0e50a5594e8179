"""Save As with 1,000 edits vs an unfiltered ``export --format coco`` (issue 17).

    python benchmarks/bench_edits_save.py FILE.json [--repeat 3]   (e.g. synth train2017)

The edits: deletes, relabels, crowd flags and image tags; Save As reports its progress
as the app's does (a callback per 16k records). Each repeat times both in one run;
the median ratio is printed (the budget: 1.5).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import cocoview
from cocoview.model.edits import (
    DeleteAnnotation,
    EditLayer,
    Relabel,
    SetCrowd,
    SetTags,
    save_as,
)
from cocoview.model.export import export


def main(path: str, repeat: int) -> None:
    ds = cocoview.open(path)
    rng = np.random.default_rng(0)
    ids = rng.choice(ds.anns.id, 900, replace=False).tolist()
    images = rng.choice(ds.image_ids, 100, replace=False).tolist()
    cats = [c.id for c in ds.categories]
    layer = EditLayer(ds)
    t = time.perf_counter()
    for k, a in enumerate(ids):
        e = (DeleteAnnotation(a), Relabel(a, cats[k % len(cats)]), SetCrowd(a, 1))[k % 3]
        layer.apply(e)
    for i in images:
        layer.apply(SetTags(int(i), ("checked",)))
    per_edit = (time.perf_counter() - t) / (len(ids) + len(images))
    t = time.perf_counter()
    keep = layer.ann_keep_mask()
    mask_s = time.perf_counter() - t
    print(f"apply: {per_edit * 1e6:.1f} us/edit; keep mask ({int((~keep).sum())} gone): "
          f"{mask_s * 1e3:.1f} ms")
    ratios = []
    seen: list[float] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            export(ds, ds.image_ids, Path(d) / "a.json", "coco")
            exp_s = time.perf_counter() - t
            t = time.perf_counter()
            save_as(layer, Path(d) / "b.json", report=seen.append)
            save_s = time.perf_counter() - t
        ratios.append(save_s / exp_s)
        print(f"export coco: {exp_s:.2f} s; save as ({len(layer.done)} edits, "
              f"{len(seen)} progress reports): {save_s:.2f} s; ratio {ratios[-1]:.2f}")
        seen.clear()
    print(f"median ratio over {repeat}: {float(np.median(ratios)):.2f} (budget 1.5)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    main(args.file, args.repeat)
