"""Scale benchmark: first open, cached open, peak memory and a filter, at four sizes.

For each generated file (``cocoview.testing.synth`` presets val2017, train2017,
lvis and objects365, written to ``bench-data/`` if missing) every tool opens it
in a fresh process (``bench_open.py``'s workers, so the figures are each
process's own):

* ``pycocotools`` — where it can finish (skipped above 1 GB: it needs ~6.5 × the
  file in memory, ~20 GB for the Objects365-size file, and minutes);
* ``hotcoco`` — the fastest peer (Rust core);
* ``cocoview`` first open — cache emptied first; this open writes the index
  cache; its peak includes the helper process it starts on big files;
* ``cocoview`` cached open — from that cache; then a one-category filter
  (the most common category) over all annotations: first call and median;
* the GUI's first frame on a cold (uncached) open — ``bench_first_frame.py --cold``,
  offscreen: from asking the window to open the file to its first image on screen and
  to that image with its overlays (goal ≤ 2.5 s at train2017 size, issue 18);
* ``cocoview validate`` — every polygon and RLE decoded, from the index cache, in a
  fresh process (goal ≤ 10 s at train2017 size).

Each preset is written in every writing style asked for (``--styles``, from
``synth.STYLES``: COCO's own, CVAT-like, a pretty-printed full-precision dump),
since a loader's speed depends on how a file is written, not only on what it
holds; the table ends with the spread of the cocoview ÷ hotcoco ratio over them.

Usage::

    python benchmarks/bench_scale.py [--presets val2017,train2017,lvis,objects365]
        [--styles coco,cvat,pretty] [--skip-pycocotools] [--quick]

``--quick`` runs val2017 only. Generating the Objects365-size file (3.2 GB) takes
a few minutes once; its first open ~1 minute and ~4.6 GB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_open  # a sibling script, not a package

PRESETS = ("val2017", "train2017", "lvis", "objects365")
PYCOCOTOOLS_MAX_BYTES = 1 << 30
#: issue 18's goals, seconds, where it sets one
FIRST_FRAME_GOAL = {"train2017": 2.5}
VALIDATE_GOAL = {"train2017": 10.0}


def _cell(r: dict[str, Any]) -> str:
    if "open_s" not in r:
        return f"n/a ({r.get('error', 'not run')})"[:40]
    return f"{r['open_s']:.2f} s / {r['peak_mb']:,.0f} MiB"


def _first_frame(path: Path) -> dict[str, Any]:
    """``bench_first_frame.py --cold --json`` on ``path`` in a fresh process."""
    import json
    import os
    import subprocess

    script = Path(__file__).resolve().parent / "bench_first_frame.py"
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    try:
        out = subprocess.run([sys.executable, str(script), str(path), "--cold", "--json"],
                             capture_output=True, text=True, timeout=1800, env=env)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    last = (out.stdout + out.stderr).strip().splitlines()[-1:]
    return {"error": last[0] if last else "failed"}


def _gui_cell(r: dict[str, Any] | None) -> str:
    if not r:
        return "not run"
    if "overlays" not in r:
        return f"n/a ({r.get('error')})"[:40]
    return f"{r['first_image']:.2f} / {r['overlays']:.2f} s"


def _validate(path: Path) -> dict[str, Any]:
    """``cocoview validate`` of ``path`` (from the index cache) in a fresh process."""
    import subprocess
    import time

    t = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-m", "cocoview", "validate", str(path)],
                             capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    took = time.perf_counter() - t
    if out.returncode not in (0, 1):  # 1: problems found
        return {"error": f"exit {out.returncode}"}
    return {"validate_s": took, "lines": len(out.stdout.splitlines())}


def _validate_cell(r: dict[str, Any] | None) -> str:
    if not r:
        return "not run"
    if "validate_s" not in r:
        return f"n/a ({r.get('error')})"
    return f"{r['validate_s']:.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", default=",".join(PRESETS))
    ap.add_argument("--skip-pycocotools", action="store_true")
    ap.add_argument("--styles", default="coco,cvat,pretty")
    ap.add_argument("--quick", action="store_true", help="val2017 only")
    ap.add_argument("--skip-gui", action="store_true", help="no GUI first-frame column")
    ap.add_argument("--skip-validate", action="store_true", help="no validate column")
    a = ap.parse_args(argv)
    presets = ["val2017"] if a.quick else [p for p in a.presets.split(",") if p]
    styles = [s for s in a.styles.split(",") if s]
    rows = []
    for preset, style in ((p, s) for p in presets for s in styles):
        name = preset if style == "coco" else f"{preset}-{style}"
        path = bench_open.DATA_DIR / f"{name}.json"
        if not path.exists():
            print(f"generating {path} …", flush=True)
            gen = bench_open._run("generate", path, preset=f"{preset}:{style}", timeout=7200)
            if "error" in gen:
                print(f"  {gen['error']}")
                continue
        size = path.stat().st_size
        bench_open._warm_cache(path)
        runs: dict[str, dict[str, Any]] = {}
        for tool in ("pycocotools", "hotcoco", "cocoview", "cocoview-cached"):
            if tool == "pycocotools" and (a.skip_pycocotools or size > PYCOCOTOOLS_MAX_BYTES):
                runs[tool] = {"tool": tool, "error": "not run (needs ~6.5 × the file in RAM)"}
                continue
            runs[tool] = bench_open._run(tool, path)
            print(f"  {name:<18} {tool:<16} {_cell(runs[tool])}", flush=True)
        if not a.skip_gui:
            runs["gui"] = _first_frame(path)
            print(f"  {name:<18} {'GUI first frame':<16} {_gui_cell(runs['gui'])}", flush=True)
        if not a.skip_validate:
            bench_open._warm_cache(path)  # validate reads the index cache
            runs["validate"] = _validate(path)
            print(f"  {name:<18} {'validate':<16} {_validate_cell(runs['validate'])}",
                  flush=True)
        rows.append((name, size, runs))

    print("\n| generated file | pycocotools | hotcoco | cocoview first open "
          "(writes the cache) | cocoview cached open | category filter (first / median) "
          "| GUI cold open: first image / overlays | validate |")
    print("|---|---|---|---|---|---|---|---|")
    for preset, size, runs in rows:
        cached = runs["cocoview-cached"]
        flt = (f"{cached['filter_first_ms']:.0f} / {cached['filter_ms']:.1f} ms"
               if "filter_ms" in cached else cached.get("filter_error", "n/a"))
        first = runs["cocoview"]
        hot = runs["hotcoco"]
        ratio = (f" ({first['open_s'] / hot['open_s']:.2f} × hotcoco)"
                 if "open_s" in first and "open_s" in hot else "")
        print(f"| {preset} ({size / 1e6:,.0f} MB) | {_cell(runs['pycocotools'])} | {_cell(hot)} "
              f"| {_cell(first)}{ratio} | {_cell(cached)} | {flt} "
              f"| {_gui_cell(runs.get('gui'))} | {_validate_cell(runs.get('validate'))} |")
    spread: dict[str, list[float]] = {}
    for name, _size, runs in rows:
        first, hot = runs["cocoview"], runs["hotcoco"]
        if "open_s" in first and "open_s" in hot:
            spread.setdefault(name.split("-")[0], []).append(first["open_s"] / hot["open_s"])
    for preset, ratios in spread.items():
        print(f"\n{preset}: cocoview first open ÷ hotcoco over {len(ratios)} styles: "
              f"{min(ratios):.2f}–{max(ratios):.2f} ×")
        for key, label, goal in (("gui", "GUI cold open → first image", FIRST_FRAME_GOAL),
                                 ("validate", "validate", VALIDATE_GOAL)):
            field = "first_image" if key == "gui" else "validate_s"
            got = [r[key][field] for n, _s, r in rows
                   if n.split("-")[0] == preset and field in r.get(key, {})]
            if got:
                goal_note = f" (goal ≤ {goal[preset]:g} s)" if preset in goal else ""
                print(f"{preset}: {label} over {len(got)} styles: "
                      f"{min(got):.2f}–{max(got):.2f} s{goal_note}")
    print("\npeak = the process's ru_maxrss (cocoview first open: plus its helper process's); "
          "times are the open call alone, each tool in a fresh process, file in the page cache")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
