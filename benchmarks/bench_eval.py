"""Evaluation benchmark: pycocotools, faster-coco-eval, hotcoco and cocoview side by side.

Generates a synthetic ground truth for a preset (``cocoview.testing.synth``) and a
detector-like results file for it (``synth.generate_results``: val2017 → 95,413
boxes) into ``bench-data/`` if they are missing, then runs each tool in a fresh
subprocess on the same pair of files (bbox):

* ``pycocotools``      ``COCO(gt)`` + ``loadRes(res)``; ``evaluate()`` + ``accumulate()``;
* ``faster-coco-eval`` the same with its ``COCO`` and ``COCOeval_faster`` (if installed);
* ``hotcoco``          ``COCO(gt)`` + ``load_res(res)``; ``evaluate()`` + ``accumulate()``;
* ``cocoview``         ``cocoview.open(gt)`` (no index cache); then, from the open
                       dataset, everything: ``ds.evaluate(res)`` (stats, verdicts: the
                       "first verdicts" the review needs), TIDE, the confusion matrix,
                       the per-category and per-row tables and the P/R/F1 curve; each
                       part's time is printed below the table.

It prints, per tool, the load time, the evaluation time, their sum, the peak RSS
of the process, the ratio of the evaluation time to pycocotools' and to hotcoco's,
and the largest difference of the 12 stats from pycocotools'.

Usage::

    python benchmarks/bench_eval.py [--preset val2017|train2017] [--skip TOOL]…
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "bench-data"
TAG = "BENCH_RESULT "
TOOLS = ("pycocotools", "faster-coco-eval", "hotcoco", "cocoview")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _files(preset: str) -> tuple[Path, Path]:
    sys.path.insert(0, str(REPO))
    from cocoview.testing import synth

    DATA_DIR.mkdir(exist_ok=True)
    gt = DATA_DIR / f"{preset}.json"
    res = DATA_DIR / f"{preset}_results.json"
    if not gt.exists():
        print(f"generating {gt} …", file=sys.stderr)
        synth.generate_preset(preset, gt)
    if not res.exists():
        print(f"generating {res} …", file=sys.stderr)
        synth.generate_results(gt, res)
    return gt, res


def _run_tool(tool: str, gt: Path, res: Path) -> dict[str, Any]:
    """In the child: load, evaluate, report."""
    out: dict[str, Any] = {"tool": tool}
    quiet = contextlib.redirect_stdout(io.StringIO())
    if tool in ("pycocotools", "faster-coco-eval"):
        if tool == "pycocotools":
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval as Eval
        else:
            from faster_coco_eval import COCO
            from faster_coco_eval import COCOeval_faster as Eval
        with quiet:
            t = time.perf_counter()
            g = COCO(str(gt))
            d = g.loadRes(str(res))
            out["load_s"] = time.perf_counter() - t
            t = time.perf_counter()
            ev = Eval(g, d, "bbox")
            ev.evaluate()
            ev.accumulate()
            out["eval_s"] = time.perf_counter() - t
            ev.summarize()
        out["stats"] = [float(x) for x in ev.stats]
    elif tool == "hotcoco":
        import hotcoco

        t = time.perf_counter()
        g = hotcoco.COCO(str(gt))
        d = g.load_res(str(res))
        out["load_s"] = time.perf_counter() - t
        t = time.perf_counter()
        ev = hotcoco.COCOeval(g, d, "bbox")
        c = time.process_time()
        ev.evaluate()
        ev.accumulate()
        out["eval_s"] = time.perf_counter() - t
        out["eval_cpu_s"] = time.process_time() - c
        with quiet:
            ev.summarize()
        out["stats"] = [float(x) for x in ev.stats]
    else:
        import cocoview
        import cocoview.model.evaluation  # imported before timing, as the other tools are

        t = time.perf_counter()
        ds = cocoview.open(gt, cache=False)
        out["load_s"] = time.perf_counter() - t
        t = time.perf_counter()
        c = time.process_time()
        e = ds.evaluate(res)
        # the first verdicts: what the review needs first (hotcoco's run for the stats
        # goes on in the background until "stats wait" below)
        out["evaluate_s"] = time.perf_counter() - t
        parts = {}
        p = time.perf_counter()
        tide = e.tide
        parts["tide"] = time.perf_counter() - p
        p = time.perf_counter()
        cm = e.confusion
        parts["confusion"] = time.perf_counter() - p
        p = time.perf_counter()
        e.detections_table()
        e.ground_truth_table()
        e.score_curve()
        parts["tables"] = time.perf_counter() - p
        p = time.perf_counter()
        e.stats  # noqa: B018 - hotcoco's numbers: waits for its background run
        e.per_category  # noqa: B018 - computed on first use
        parts["stats wait"] = time.perf_counter() - p
        out["eval_s"] = time.perf_counter() - t
        out["eval_cpu_s"] = time.process_time() - c
        out["parts"] = parts
        out["stats"] = [float(x) for x in e.stats]
        out["tide"] = tide.counts if tide else None
        out["confusion_total"] = int(cm.matrix.sum()) if cm else None
    out["peak_mb"] = _peak_mb()
    return out


def _child(tool: str, gt: Path, res: Path) -> dict[str, Any] | str:
    proc = subprocess.run([sys.executable, __file__, "--child", tool, str(gt), str(res)],
                          capture_output=True, text=True, cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith(TAG):
            return json.loads(line[len(TAG):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return f"n/a ({tail[:80]})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="val2017", choices=("val2017", "train2017"))
    ap.add_argument("--skip", action="append", default=[], choices=TOOLS)
    ap.add_argument("--child", nargs=3, metavar=("TOOL", "GT", "RES"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        tool, gt, res = args.child
        print(TAG + json.dumps(_run_tool(tool, Path(gt), Path(res))))
        return 0
    gt, res = _files(args.preset)
    n_res = len(json.loads(res.read_bytes()))
    print(f"{args.preset}: {gt.name} ({gt.stat().st_size / 1e6:.0f} MB), {res.name} "
          f"({n_res:,} detections), bbox; each tool in a fresh process\n")
    results: dict[str, dict[str, Any] | str] = {}
    for tool in TOOLS:
        if tool not in args.skip:
            results[tool] = _child(tool, gt, res)
    ref = results.get("pycocotools")
    hot = results.get("hotcoco")
    print(f"{'tool':<18}{'load s':>8}{'eval s':>8}{'total s':>9}{'peak MB':>9}"
          f"{'× pycoco':>10}{'× hotcoco':>10}{'max |Δstats|':>14}")
    for tool, r in results.items():
        if isinstance(r, str):
            print(f"{tool:<18}{r}")
            continue
        vs_ref = f"{ref['eval_s'] / r['eval_s']:.1f}×" if isinstance(ref, dict) else "n/a"
        vs_hot = f"{r['eval_s'] / hot['eval_s']:.2f}" if isinstance(hot, dict) else "n/a"
        diff = (f"{max(abs(a - b) for a, b in zip(r['stats'], ref['stats'], strict=True)):.1e}"
                if isinstance(ref, dict) else "n/a")
        print(f"{tool:<18}{r['load_s']:>8.2f}{r['eval_s']:>8.2f}"
              f"{r['load_s'] + r['eval_s']:>9.2f}{r['peak_mb']:>9.0f}{vs_ref:>10}{vs_hot:>10}"
              f"{diff:>14}")
    cv = results.get("cocoview")
    if isinstance(cv, dict):
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in cv["parts"].items())
        first = (f" ({cv['evaluate_s'] / hot['eval_s']:.2f}× hotcoco's eval)"
                 if isinstance(hot, dict) else "")
        print(f"\ncocoview first verdicts = ds.evaluate() (every verdict; hotcoco's stats "
              "still running beside) "
              f"{cv['evaluate_s']:.2f} s{first}; everything = that + {parts}")
        if isinstance(hot, dict):
            print(f"CPU seconds of the eval: cocoview {cv['eval_cpu_s']:.2f}, hotcoco "
                  f"{hot['eval_cpu_s']:.2f} ({cv['eval_cpu_s'] / hot['eval_cpu_s']:.2f}×; "
                  "hotcoco's Rust uses both cores)")
        print(f"TIDE counts {cv['tide']}")
        print("× pycoco: pycocotools' eval time / the tool's (faster is larger); "
              "× hotcoco: the tool's eval time / hotcoco's (goal for cocoview ≤ 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
