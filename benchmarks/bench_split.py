"""Random vs stratified train/val(/test) splits at COCO train2017 scale.

    python benchmarks/bench_split.py                       # bench-data/train2017.json
    python benchmarks/bench_split.py --data other.json --seed 3

Generates ``bench-data/train2017.json`` with the synthetic generator if it is
missing (118,287 images, 860,001 annotations, COCO's 80 long-tailed
categories). For 0.8/0.2 and 0.7/0.15/0.15, random and stratified, prints the
time, the part sizes and the worst per-category share deviation (over
categories with ≥ 20 images), then the stratified table of the 10 rarest and
the 5 most common categories. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cocoview
from cocoview.model.split import category_table, split_images
from cocoview.testing.synth import generate_preset

REPO = Path(__file__).resolve().parent.parent
SPLITS = [[("train", 0.8), ("val", 0.2)], [("train", 0.7), ("val", 0.15), ("test", 0.15)]]
MIN_IMAGES = 20


def worst_deviation(table: list[dict], parts: list[tuple[str, float]]) -> tuple[float, str]:
    """Largest |share − ratio| over categories with ≥ MIN_IMAGES images, and where."""
    worst, where = 0.0, "-"
    for row in table[:-1]:
        if row["total"] < MIN_IMAGES:
            continue
        for name, ratio in parts:
            dev = abs(row[f"{name}_share"] - ratio)
            if dev > worst:
                worst, where = dev, f"{row['name']} ({row['total']} images) in {name}"
    return worst, where


def print_table(rows: list[dict], parts: list[tuple[str, float]], all_row: dict) -> None:
    """Categories, then the part sizes and the targets."""
    names = [n for n, _ in parts]

    def line(row: dict) -> str:
        cells = "".join(f"{row[n]:>9}{100 * row[n + '_share']:>9.1f}%" for n in names)
        return f"  {row['name'][:15]:<16}{row['total']:>8}{cells}"

    head = f"  {'category':<16}{'images':>8}" + "".join(f"{n:>9}{n + ' %':>10}" for n in names)
    print(head)
    print("  " + "-" * (len(head) - 2))
    for row in rows:
        print(line(row))
    print("  " + "-" * (len(head) - 2))
    print(line(all_row))
    print(f"  {'target':<24}" + "".join(f"{'':>9}{100 * r:>9.1f}%" for _, r in parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "bench-data" / "train2017.json")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if not args.data.exists():
        print(f"generating {args.data} (train2017 preset) …", flush=True)
        args.data.parent.mkdir(parents=True, exist_ok=True)
        generate_preset("train2017", args.data)
    t0 = time.perf_counter()
    ds = cocoview.open(args.data)
    print(f"{ds}  (opened in {time.perf_counter() - t0:.1f} s)")
    ids = ds.image_ids
    split_images(ds, ids[:1000], SPLITS[0], args.seed, stratify=True)  # warm up

    print(f"\n{'split':<16}{'method':<12}{'time':>9}  {'sizes':<24}"
          f"worst share deviation (categories with ≥ {MIN_IMAGES} images)")
    tables = {}
    for parts in SPLITS:
        label = "/".join(f"{r:g}" for _, r in parts)
        for stratify in (False, True):
            t0 = time.perf_counter()
            out = split_images(ds, ids, parts, args.seed, stratify=stratify)
            dt = time.perf_counter() - t0
            table = category_table(ds, out)
            worst, where = worst_deviation(table, parts)
            sizes = " / ".join(str(len(v)) for v in out.values())
            method = "stratified" if stratify else "random"
            print(f"{label:<16}{method:<12}{dt:>8.3f}s  {sizes:<24}{worst:.4f}  {where}")
            if stratify:
                tables[label] = table

    for parts in SPLITS:
        label = "/".join(f"{r:g}" for _, r in parts)
        rows = sorted(tables[label][:-1], key=lambda r: (r["total"], r["id"]))
        print(f"\nstratified {label}: the 10 rarest and the 5 most common categories")
        print_table(rows[:10] + rows[-5:], parts, tables[label][-1])

if __name__ == "__main__":
    main()
