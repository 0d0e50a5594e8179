"""Perceptual hashes per second (the near-duplicate check): one thread, every core, cached.

    python benchmarks/bench_hashes.py [--images 600] [--side 640]

The JPEGs are photo-like (smooth shapes + sensor noise, quality 90: ~100–200 kB at
640×480, as COCO's); the issue's budget is ≥ 500 images/s on this 2-core machine.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import cocoview
from cocoview.model import health


def make_images(folder: Path, n: int, side: int) -> Path:
    rng = np.random.default_rng(0)
    w, h = side, side * 3 // 4
    images = []
    for k in range(n):
        small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
        base = np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC),
                          np.int16)
        noisy = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"{k:06d}.jpg", quality=90)
        images.append({"id": k + 1, "file_name": f"{k:06d}.jpg", "width": w, "height": h})
    ann = folder.parent / "hashes.json"
    ann.write_text(json.dumps({"images": images, "annotations": [],
                               "categories": [{"id": 1, "name": "thing"}]}))
    return ann


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=600)
    ap.add_argument("--side", type=int, default=640)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["COCOVIEW_CACHE_DIR"] = str(Path(tmp) / "cache")
        folder = Path(tmp) / "images"
        folder.mkdir()
        ann = make_images(folder, args.images, args.side)
        mb = sum(p.stat().st_size for p in folder.iterdir()) / args.images / 1e3
        ds = cocoview.open(ann, images=folder, cache=False)
        rows = np.arange(len(ds.image_ids))
        print(f"{args.images} JPEGs, {args.side} px wide, {mb:.0f} kB each, "
              f"{os.cpu_count()} cores")
        times = {}
        for label, workers in (("one thread", 1), ("every core", os.cpu_count() or 1)):
            _forget(ds)  # nothing kept: each run decodes everything
            t = time.perf_counter()
            got, _h = health.image_hashes(ds, rows, False, workers=workers)
            times[label] = time.perf_counter() - t
            assert len(got) == args.images
            print(f"  {label:12s} {times[label]:6.2f} s  {args.images / times[label]:7.0f} img/s")
        t = time.perf_counter()
        health.image_hashes(ds, rows, False)
        cached = time.perf_counter() - t
        print(f"  {'cached':12s} {cached:6.2f} s  {args.images / cached:7.0f} img/s")
        print(f"every core ÷ one thread: {times['one thread'] / times['every core']:.2f}× faster")
    return 0


def _forget(ds: cocoview.Dataset) -> None:
    from cocoview.model import hash_cache
    from cocoview.model.cache import entry_dir

    for f in ds.files:
        (entry_dir(f.path) / hash_cache.NAME).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
