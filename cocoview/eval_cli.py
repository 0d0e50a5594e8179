"""``cocoview eval``: pycocotools' summary, per-category AP, every detection's verdict.

Registered by :mod:`cocoview.cli`; the evaluation itself is
:mod:`cocoview.model.evaluation`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from pathlib import Path
from typing import Any, BinaryIO

HELP = "evaluate detection results as pycocotools' COCOeval does, with every verdict"


def add_parser(sub: Any) -> None:
    from cocoview.cli import _files_args

    p = sub.add_parser("eval", help=HELP)
    _files_args(p, results=False)
    p.add_argument("--results", type=Path, action="append", default=[], metavar="RES.json",
                   help="a detection results file (repeatable: models side by side)")
    p.add_argument("--iou-type", choices=("bbox", "segm", "keypoints"), default="bbox")
    p.add_argument("--iou-thr", type=float, default=0.5,
                   help="IoU threshold of the per-detection verdicts (default 0.5)")
    p.add_argument("--area", choices=("all", "small", "medium", "large"), default="all",
                   help="area range of the verdicts")
    p.add_argument("--max-dets", type=int, default=None, metavar="N",
                   help="detections per image and category for the verdicts "
                        "(default 100; 20 for keypoints)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--per-category", action="store_true", help="also a per-category table")
    p.add_argument("--detections", type=Path, metavar="OUT.csv|OUT.jsonl",
                   help="write one row per result: its verdict, matched GT, IoU, TIDE error")
    p.add_argument("--ground-truth", type=Path, metavar="OUT.csv|OUT.jsonl",
                   help="write one row per ground-truth annotation: matched, missed or ignored")


def cmd_eval(args: argparse.Namespace) -> int:
    from cocoview.cli import EXIT_OK, UsageError, _open, _say

    if not args.results:
        raise UsageError("eval needs --results RES.json")
    for dest in (args.detections, args.ground_truth):
        if dest is not None and dest.suffix.lower() not in (".csv", ".jsonl"):
            raise UsageError(f"{dest}: write .csv or .jsonl")
    ds = _open(argparse.Namespace(**{**vars(args), "results": None}))  # ground truth only
    evals = []
    for res in args.results:
        try:
            ev = ds.evaluate(res, iou_type=args.iou_type, iou_thr=args.iou_thr,
                             area=args.area, max_dets=args.max_dets)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        for p in ev.problems:
            _say(f"cocoview: {p}", file=sys.stderr)
        evals.append((res, ev))
    several = len(evals) > 1
    if args.json:
        objs = [{"results_file": str(res), **ev.to_json()} for res, ev in evals]
        out: dict[str, Any] = objs[0] if not several else {
            "evaluations": objs, "differences": _differences(evals)}
        print(json.dumps(_finite(out), indent=2))
    else:
        for k, (res, ev) in enumerate(evals):
            if several:
                if k:
                    _say("")
                _say(f"== {res} ({ev.iou_type}) ==")
            for line in ev.summary_lines():
                _say(line)
            if args.per_category:
                _say("")
                _per_category_table(ev, _say)
    if args.detections is not None:
        _write_rows(args.detections, [(res, ev.detections_table()) for res, ev in evals],
                    several)
    if args.ground_truth is not None:
        _write_rows(args.ground_truth, [(res, ev.ground_truth_table()) for res, ev in evals],
                    several)
    return EXIT_OK


def _per_category_table(ev: Any, say: Any) -> None:
    say(f"{'id':>6}  {'name':<24} {'AP':>6} {'AP50':>6} {'AP75':>6} {'AR100':>6} "
        f"{'GT':>7} {'dets':>7}")

    def f(v: float) -> str:
        return f"{v:6.3f}" if v > -1 else f"{'-':>6}"

    for c in ev.per_category:
        say(f"{c['category_id']:>6}  {c['name'][:24]:<24} {f(c['ap'])} {f(c['ap50'])} "
            f"{f(c['ap75'])} {f(c['ar100'])} {c['gt']:>7,} {c['detections']:>7,}")


def _differences(evals: list[tuple[Path, Any]]) -> dict[str, Any]:
    """Ground truth found by one model and missed by the other (first two results files);
    the definition is :class:`cocoview.model.compare.Comparison`'s."""
    from cocoview.model.compare import Comparison

    (ra, a), (rb, b) = evals[0], evals[1]
    return Comparison(a, b).differences(str(ra), str(rb))


def comparison(ds: Any, results: list[Path]) -> tuple[Any, Any]:
    """``export --results A --results B``: A's review (the attached file, for the other
    review criteria) and the comparison of A and B (bbox, IoU 0.5)."""
    from cocoview.cli import UsageError, _say
    from cocoview.model.compare import Comparison
    from cocoview.model.review import Review

    if len(results) != 2:
        raise UsageError("--compare needs two results files: --results A.json --results B.json")
    try:
        a, b = ds.evaluate(), ds.evaluate(results[1])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for p in (*a.problems, *b.problems):
        _say(f"cocoview: {p}", file=sys.stderr)
    return Review(ds, a), Comparison(a, b, (results[0].name, results[1].name))


def _finite(obj: Any) -> Any:
    """JSON has no NaN: null instead."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _write_rows(path: Path, tables: list[tuple[Path, dict[str, Any]]], several: bool) -> None:
    from cocoview.model.safe_write import atomic_write

    def rows() -> Any:
        for res, t in tables:
            cols = {k: v.tolist() for k, v in t.items()}
            names = list(cols)
            for vals in zip(*cols.values(), strict=True):
                row = dict(zip(names, vals, strict=True))
                if several:
                    row = {"results": str(res), **row}
                yield row

    def write(fh: BinaryIO) -> None:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        if path.suffix.lower() == ".jsonl":
            for row in rows():
                text.write(json.dumps(_finite(row)) + "\n")
        else:
            w: Any = None
            for row in rows():
                if w is None:
                    w = csv.DictWriter(text, fieldnames=list(row))
                    w.writeheader()
                w.writerow({k: "" if isinstance(v, float) and math.isnan(v) else v
                            for k, v in row.items()})
        text.flush()
        text.detach()

    atomic_write(path, write)
