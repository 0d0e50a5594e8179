"""The ``cocoview`` command: the GUI by default, and headless sub-commands.

Exit status: 0 success; 1 ``validate`` found errors; 2 the input cannot be used.
No traceback reaches the user: every failure is one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cocoview import __version__, edit_cli, eval_cli
from cocoview.model import chunk_worker, index_process

COMMANDS = ("stats", "validate", "render", "export", "cache", "eval", "edit")
EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or unusable input: one line on stderr, exit 2."""


def _escape_table(keep: str = "") -> dict[int, str]:
    """Control characters (C0, DEL, C1), bidirectional overrides and line separators."""
    named = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
    codes = [*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
             *range(0x2066, 0x206A), 0x2028, 0x2029]
    return {c: named.get(chr(c), f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
            for c in codes if chr(c) not in keep}


_ESCAPES = _escape_table()
_ESCAPES_MULTILINE = _escape_table(keep="\n")


def terminal_safe(text: str, multiline: bool = False) -> str:
    """``text`` with every character that could drive a terminal shown as an escape.

    Names in a file are data: an ``ESC[31m`` must not colour the terminal, a CR
    or newline must not split or overwrite a one-line message, an RTL override
    must not reverse it. JSON output needs none of this (``json.dumps`` escapes).
    """
    return text.translate(_ESCAPES_MULTILINE if multiline else _ESCAPES)


def _say(text: str, file: Any = None) -> None:
    """Print one line of text output, with control characters escaped."""
    print(terminal_safe(text), file=sys.stdout if file is None else file)


class _Parser(argparse.ArgumentParser):
    """argparse echoes arguments in its errors: escaped like every other output."""

    def _print_message(self, message: str, file: Any = None) -> None:
        super()._print_message(terminal_safe(message, multiline=True), file)


def _files_args(p: argparse.ArgumentParser, results: bool = True) -> None:
    p.add_argument("files", nargs="*", type=Path, metavar="FILE",
                   help="COCO JSON file(s) (.json or .json.gz); several files over the same "
                        "images open as one dataset")
    p.add_argument("--demo", action="store_true", help="use the bundled demo dataset")
    p.add_argument("--no-cache", action="store_true",
                   help="parse the file(s) again instead of using (or writing) the index cache")
    p.add_argument("--images", type=Path, metavar="DIR",
                   help="folder that image file_name entries are relative to")
    p.add_argument("--gzip-max-ratio", type=float, metavar="R",
                   help="refuse a .gz that inflates to more than R times its size "
                        "(default 100, at least 256 MiB; 0: no limit)")
    if results:
        p.add_argument("--results", type=Path, metavar="RES.json",
                       help="a detection results file to show beside the ground truth")


def _outside_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-outside-images", action="store_true",
                   help="open image files whose file_name is absolute, contains '..' or links "
                        "outside the images folder (reported, and not opened, by default)")


def build_parser() -> argparse.ArgumentParser:
    """The desktop app's arguments; its help lists the sub-commands too."""
    sub = next(a for a in build_command_parser()._actions
               if isinstance(a, argparse._SubParsersAction))
    lines = [f"  {c.dest:<10} {c.help}" for c in sub._choices_actions]
    parser = _Parser(
        prog="cocoview",
        usage="cocoview [FILE ...] [--images DIR] [--results RES.json] [--demo] "
              "[--allow-outside-images]\n"
              "       cocoview COMMAND [ARGS ...]",
        description="A fast browser for COCO-format datasets. Without a command, opens the "
                    "desktop app on FILE(s).",
        epilog="commands (work without a display; cocoview COMMAND --help):\n"
               + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cocoview {__version__}")
    _files_args(parser)
    _outside_arg(parser)
    return parser


def suggest_command(word: str) -> str | None:
    """The sub-command ``word`` is probably a typo of (``stat`` → ``stats``), if any."""
    if word.startswith("-") or Path(word).exists():
        return None
    close = difflib.get_close_matches(word.lower(), COMMANDS, n=1, cutoff=0.6)
    return close[0] if close else None


def build_command_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cocoview")
    parser.add_argument("--version", action="version", version=f"cocoview {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("stats", help="counts per category, crowd, keypoints, size buckets")
    _files_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--plots", type=Path, metavar="DIR",
                   help="also write every statistics plot as DIR/<plot>.png")
    p.add_argument("--html", type=Path, metavar="REPORT.html",
                   help="also write one self-contained page with the plots and tables")

    p = sub.add_parser("validate", help="list problems; exit 1 if any is an error")
    _files_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--min-severity", choices=("info", "warning", "error"), default="info")
    p.add_argument("--duplicate-iou", type=float, default=0.9, metavar="IOU",
                   help="box IoU at or above which two annotations of one category on one "
                        "image are reported as duplicates (default 0.9)")
    p.add_argument("--tiny-side", type=float, default=2.0, metavar="PX",
                   help="a box narrower or lower than this is 'tiny-box' (default 2)")
    p.add_argument("--tiny-area", type=float, default=4.0, metavar="PX2",
                   help="a box whose w·h is under this is 'tiny-box' (default 4)")
    p.add_argument("--near-duplicates", action="store_true",
                   help="also find perceptually similar image files (resized or re-compressed "
                        "copies; decodes every image at thumbnail size)")
    _outside_arg(p)

    p = sub.add_parser("render", help="draw one image with its overlays to a PNG")
    _files_args(p)
    p.add_argument("--image-id", type=int, required=True, metavar="ID")
    p.add_argument("--layers", default="masks,boxes,keypoints,labels",
                   help="comma-separated: masks, outlines, boxes, stuff_boxes (panoptic "
                        "stuff), keypoints, labels")
    p.add_argument("--opacity", type=float, default=0.5, help="of the masks (default 0.5, "
                   "as in the app)")
    p.add_argument("--color-by", choices=("category", "instance"), default="category",
                   help="a colour per category (default) or per object")
    p.add_argument("--min-score", type=float, default=0.0,
                   help="hide detections below this score")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.png")
    _outside_arg(p)

    p = sub.add_parser("cache", help="where the index cache is and how large; --clear empties it")
    p.add_argument("--clear", action="store_true", help="remove every cached index")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="write the filtered images as a list or a COCO subset, "
                                      "whole or split")
    _files_args(p, results=False)
    p.add_argument("--results", type=Path, action="append", default=[], metavar="RES.json",
                   help="a detection results file; twice: model A and model B (--compare)")
    p.add_argument("--out", type=Path, required=True, metavar="OUT",
                   help="output file; with --split, an output folder")
    p.add_argument("--format", choices=("ids", "names", "paths", "coco"), default="ids")
    p.add_argument("--category", action="append", default=[], metavar="NAME",
                   help="category name or numeric id (repeatable)")
    p.add_argument("--match", choices=("any", "all", "none"), default="any",
                   help="with several --category: any of them (default), all, or none")
    p.add_argument("--crowd", choices=("with", "without"))
    p.add_argument("--size", choices=("small", "medium", "large"),
                   help="images with a non-crowd annotation of this COCO size bucket")
    p.add_argument("--min-annotations", type=int, metavar="N")
    p.add_argument("--max-annotations", type=int, metavar="N")
    for what, unit in (("width", "px"), ("height", "px"), ("aspect", "w/h")):
        for end in ("min", "max"):
            p.add_argument(f"--{end}-box-{what}", type=float, metavar=unit.upper(),
                           help=f"images with a box of {what} ≥ (min) / ≤ (max) this ({unit};"
                                " all box flags hold for one box)" if end == "min" else None)
    p.add_argument("--name", metavar="PATTERN", help="shell glob matched against file_name")
    p.add_argument("--ids", metavar="ID,…|@FILE", help="only these image ids")
    p.add_argument("--has-keypoints", action="store_true", default=None)
    p.add_argument("--missing-images", action="store_true", default=None,
                   help="only images whose file is missing")
    p.add_argument("--has-problems", action="store_true", default=None,
                   help="only images with validation problems")
    p.add_argument("--problem", metavar="CODE",
                   help="only images with a validation problem of this code (e.g. "
                        "duplicate-annotation, tiny-box, area-mismatch; see 'cocoview "
                        "validate')")
    p.add_argument("--has-fp", metavar="CAT",
                   help="with --results: images with a false positive of this category "
                        "(name or id; 'any' for any) at --min-score (bbox, IoU 0.5)")
    p.add_argument("--has-missed", metavar="CAT",
                   help="with --results: images with a missed ground truth of this category "
                        "(name or id; 'any' for any) at --min-score")
    p.add_argument("--tag", metavar="TAG", help="only images with this tag (an image's "
                   "\"tags\" list, as Save As and 'cocoview edit --tag' write it)")
    p.add_argument("--untagged", action="store_true", help="only images without any tag")
    p.add_argument("--sort", choices=("errors", "fp", "missed"),
                   help="with --results: most errors first (errors: the sum of the false "
                        "positives' scores plus one per missed ground truth), or by the number "
                        "of false positives / missed ground truth")
    p.add_argument("--compare", choices=("a", "b", "differ"),
                   help="with two --results (A, then B): images where A found a ground truth "
                        "B missed (a), the reverse (b), or their TP / FP counts differ "
                        "(differ), at --min-score; as 'cocoview eval' compares them")
    p.add_argument("--min-score", type=float, default=0.0, metavar="S",
                   help="the operating point of --has-fp / --has-missed / --sort: detections "
                        "scoring under it are left out (default 0)")
    p.add_argument("--split", metavar="NAME=RATIO,…", help="e.g. train=0.8,val=0.2")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stratify", action="store_true",
                   help="keep each category's share of images in every part")
    p.add_argument("--table", type=Path, metavar="CSV",
                   help="write the per-category image counts per part as CSV")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    eval_cli.add_parser(sub)
    edit_cli.add_parser(sub)
    return parser


def _apply_limits(args: argparse.Namespace) -> None:
    """Limits given as flags reach the loader (and its helper processes) by environment."""
    ratio = getattr(args, "gzip_max_ratio", None)
    if ratio is not None:
        if ratio < 0:
            raise UsageError("--gzip-max-ratio must be 0 (no limit) or more")
        os.environ["COCOVIEW_GZIP_MAX_RATIO"] = f"{ratio:g}"


def _open(args: argparse.Namespace) -> Any:
    import cocoview
    from cocoview.resources import demo_files

    _apply_limits(args)

    files = list(args.files)
    if args.demo:
        files = demo_files() + files
    if not files:
        raise UsageError("no input file (give FILE, or --demo)")
    return cocoview.open(files, images=args.images, results=getattr(args, "results", None),
                         cache=not args.no_cache)


def cmd_stats(args: argparse.Namespace) -> int:
    ds = _open(args)
    st = ds.stats()
    if args.plots is not None or args.html is not None:
        from cocoview.qt.stats_files import write_plots  # Qt (offscreen) only when asked

        for path in write_plots(ds, args.plots, args.html):
            _say(f"wrote {path}", file=sys.stderr)
    if args.json:
        from cocoview.model.cache_info import cache_summary

        st["cache"] = cache_summary()
        print(json.dumps(st, indent=2))
        return EXIT_OK
    out = sys.stdout
    for f in st["files"]:
        _say(f"{f['path']}  ({f['kind']})", file=out)
    _say(f"images                     {st['images']:>10,}", file=out)
    _say(f"annotations                {st['annotations']:>10,}", file=out)
    _say(f"categories                 {st['categories']:>10,}", file=out)
    _say(f"crowd annotations          {st['crowd_annotations']:>10,}", file=out)
    _say(f"keypoint annotations       {st['keypoint_annotations']:>10,}", file=out)
    _say(f"images without annotations {st['images_without_annotations']:>10,}", file=out)
    if st["captions"]:
        _say(f"captions                   {st['captions']:>10,}", file=out)
    b = st["area_buckets"]
    _say(f"area small / medium / large  {b['small']:,} / {b['medium']:,} / {b['large']:,}",
          file=out)
    kinds = ", ".join(f"{k} {v:,}" for k, v in st["segmentation_kinds"].items())
    if kinds:
        _say(f"segmentation               {kinds}", file=out)
    if "results" in st:
        _say(f"detections                 {st['results']['detections']:>10,}", file=out)
    if st["per_category"]:
        _say("", file=out)
        _say("  id  name                         supercategory      instances    images",
             file=out)
        for c in st["per_category"]:
            _say(f"{c['id']:>4}  {c['name'][:28]:<28} {c['supercategory'][:16]:<16} "
                  f"{c['instances']:>11,} {c['images']:>9,}", file=out)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from cocoview.model.errors import Severity

    ds = _open(args)
    # the app's guess: image files are checked wherever the app would find them
    check_files = args.images is not None or args.demo or ds.images_found
    from cocoview.model.health import DEFAULT, HealthOptions
    from cocoview.model.validate import validate_report

    if not 0 < args.duplicate_iou <= 1:
        raise UsageError("--duplicate-iou must be in (0, 1]")
    options = HealthOptions(duplicate_iou=args.duplicate_iou, tiny_side=args.tiny_side,
                            tiny_area=args.tiny_area, near_duplicates=args.near_duplicates)
    with _progress_bar("validating", "item") as progress:
        if options == DEFAULT:
            problems = ds.problems(check_files=check_files,
                                   allow_outside=args.allow_outside_images, progress=progress)
        else:
            problems = validate_report(ds, check_files, args.allow_outside_images, progress,
                                       options).problems
    floor = {"info": Severity.INFO, "warning": Severity.WARNING, "error": Severity.ERROR}[
        args.min_severity]
    shown = [p for p in problems if p.severity >= floor]
    n_err = sum(p.severity == Severity.ERROR for p in problems)
    n_warn = sum(p.severity == Severity.WARNING for p in problems)
    if args.json:
        print(json.dumps({"errors": n_err, "warnings": n_warn, "images_checked_in":
                          str(ds.image_root) if check_files else None,
                          "problems": [p.to_dict() for p in shown]}, indent=2))
    else:
        for p in shown:
            _say(str(p))
        names = ", ".join(str(x) for x in ds.paths)
        if not check_files:
            where = " (image files not checked: none of them is near the JSON; give --images DIR)"
        elif args.images is not None:
            where = f" (image files checked in {ds.image_root})"
        else:
            where = (f" (image files checked in {ds.image_root}, guessed from where the JSON is; "
                     "--images DIR for another folder)")
        _say(f"{names}: {n_err} error(s), {n_warn} warning(s), "
             f"{len(problems) - n_err - n_warn} note(s){where}", file=sys.stderr)
    return EXIT_PROBLEMS if n_err else EXIT_OK


@contextlib.contextmanager
def _progress_bar(what: str, unit: str) -> Iterator[Callable[[int, int], None] | None]:
    """A tqdm bar on stderr when it is a terminal, else nothing: a ``(done, total)`` callback."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(desc=what, unit=f" {unit}s", unit_scale=True, leave=False, file=sys.stderr,
              dynamic_ncols=True) as bar:
        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update


def cmd_render(args: argparse.Namespace) -> int:
    from PIL import Image

    from cocoview.model.render import render_image
    from cocoview.model.safe_write import atomic_write

    layers = [x.strip() for x in args.layers.split(",") if x.strip()]
    ds = _open(args)
    if ds.image_rows([args.image_id])[0] < 0:
        raise UsageError(f"no image with id {args.image_id} in {', '.join(map(str, ds.paths))}")
    try:
        rgb, warning = render_image(ds, args.image_id, layers, args.opacity,
                                    min_score=args.min_score,
                                    allow_outside=args.allow_outside_images,
                                    by_instance=args.color_by == "instance")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if warning:
        _say(f"cocoview: warning: {warning}", file=sys.stderr)
    fmt = (args.out.suffix.lstrip(".") or "png").upper()
    fmt = "JPEG" if fmt == "JPG" else fmt
    try:
        atomic_write(args.out, lambda fh: Image.fromarray(rgb).save(fh, format=fmt))
    except (KeyError, ValueError):
        raise UsageError(f"unknown image format for {args.out}") from None
    _say(f"wrote {args.out} ({rgb.shape[1]}×{rgb.shape[0]})")
    return EXIT_OK


def _parse_ids(text: str) -> tuple[int, ...]:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise UsageError(f"cannot read id list {text[1:]}: {exc.strerror or exc}") from None
    from cocoview.model.filters import split_ids

    ids, bad = split_ids(text)
    if bad:
        raise UsageError(f"not an image id: {bad[0]!r}")
    return ids


def _problem_code(code: str | None) -> str | None:
    from cocoview.model.validate import CODES

    if not code:
        return None
    if code not in CODES:
        near = difflib.get_close_matches(code, CODES, n=2, cutoff=0.6)
        raise UsageError(f"unknown problem code {code!r}"
                         + (f"; did you mean {' or '.join(map(repr, near))}?" if near else
                            f"; the codes are: {', '.join(CODES)}"))
    return code


def _error_category(ds: Any, cat: str | None, flag: str) -> int | str | None:
    """``--has-fp`` / ``--has-missed``: a category id, ANY_CAT ('any'), or None."""
    from cocoview.model.filters import ANY_CAT, resolve_categories

    if cat is None:
        return None
    if ds.results is None:
        raise UsageError(f"{flag} needs --results RES.json")
    if cat.strip().lower() in ("any", "*"):
        return ANY_CAT
    return resolve_categories(ds, [cat])[0]


def _tag_filter(args: argparse.Namespace) -> str | None:
    """``--tag`` / ``--untagged`` → the filter's ``tag`` field."""
    from cocoview.model.tags import UNTAGGED, check_tag

    if args.untagged and args.tag is not None:
        raise UsageError("--tag and --untagged exclude each other")
    if args.untagged:
        return UNTAGGED
    if args.tag is not None and check_tag(args.tag) is not None:
        raise UsageError(f"--tag: {check_tag(args.tag)}")
    return args.tag


def cmd_export(args: argparse.Namespace) -> int:
    from cocoview.model.export import category_rows, export, export_split, write_table
    from cocoview.model.filters import (
        BOX_FIELDS,
        FilterError,
        FilterExtras,
        ImageFilter,
        filter_images,
        resolve_categories,
        sort_by_errors,
    )

    if args.stratify and not args.split:
        raise UsageError("--stratify needs --split")
    if args.table and not args.split:
        raise UsageError("--table needs --split")
    results = list(args.results)
    if len(results) > 2:
        raise UsageError("export compares at most two results files (--results A --results B)")
    ds = _open(argparse.Namespace(**{**vars(args), "results": results[0] if results else None}))
    try:
        flt = ImageFilter(
            categories=resolve_categories(ds, args.category),
            match=args.match, crowd=args.crowd, size=args.size,
            min_annotations=args.min_annotations, max_annotations=args.max_annotations,
            name=args.name or "",
            image_ids=_parse_ids(args.ids) if args.ids else None,
            has_keypoints=args.has_keypoints, file_missing=args.missing_images,
            has_problems=args.has_problems, problem=_problem_code(args.problem),
            has_fp=_error_category(ds, args.has_fp, "--has-fp"),
            has_missed=_error_category(ds, args.has_missed, "--has-missed"),
            compare=args.compare,
            **{f: getattr(args, f) for f in BOX_FIELDS},
            tag=_tag_filter(args),
        )
        extras = FilterExtras(min_score=args.min_score)
        if args.compare:
            extras.review, extras.comparison = eval_cli.comparison(ds, results)
        ids = filter_images(ds, flt, extras)
        if args.sort:
            if ds.results is None:
                raise UsageError("--sort needs --results RES.json")
            ids = sort_by_errors(extras.review_of(ds), ds, ids, args.sort, args.min_score)
    except FilterError as exc:
        raise UsageError(str(exc)) from None
    if args.split:
        from cocoview.model.split import SplitError, parse_split, split_images

        try:
            parts_spec = parse_split(args.split)
            parts = split_images(ds, ids, parts_spec, seed=args.seed, stratify=args.stratify)
        except SplitError as exc:
            raise UsageError(str(exc)) from None
        written = export_split(ds, parts, args.out, args.format, force=args.force)
        for path, part in zip(written, parts.values(), strict=True):
            _say(f"wrote {path} ({len(part):,} images)")
        if args.table:
            write_table(category_rows(ds, parts), args.table, force=args.force)
            _say(f"wrote {args.table}")
    else:
        export(ds, ids, args.out, args.format, force=args.force)
        _say(f"wrote {args.out} ({len(ids):,} of {len(ds.image_ids):,} images; "
              f"{flt.describe(ds)})")
    return EXIT_OK


def cmd_cache(args: argparse.Namespace) -> int:
    from cocoview.model.cache import clear
    from cocoview.model.cache_info import cache_summary

    freed = clear() if args.clear else 0
    info = cache_summary()
    if args.json:
        print(json.dumps({**info, "freed": freed}))
    else:
        if args.clear:
            _say(f"cleared {freed / 1e6:.1f} MB")
        _say(f"index cache: {info['path']} ({info['bytes'] / 1e6:.1f} MB)")
    return EXIT_OK


def run_gui(argv: Sequence[str]) -> int:
    parser = build_parser()
    parser.add_argument("--screenshot", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv))
    if args.gzip_max_ratio is not None and args.gzip_max_ratio < 0:
        parser.error("--gzip-max-ratio must be 0 (no limit) or more")
    _apply_limits(args)
    try:
        from cocoview.qt.display import display_problem

        problem = display_problem()
        if problem:
            _say(f"cocoview: cannot open the desktop app: {problem}", file=sys.stderr)
            return EXIT_UNUSABLE
        from cocoview.qt.app import run
    except ImportError as exc:
        _say(f"cocoview: the desktop app is not available ({exc}); try 'cocoview stats'",
              file=sys.stderr)
        return EXIT_UNUSABLE
    return int(run(args))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # a bundle's helper processes (there is no python -m in a bundle)
    if argv == [chunk_worker.FROZEN_FLAG]:
        return chunk_worker.main()
    if len(argv) == 2 and argv[0] == index_process.FROZEN_FLAG:
        return index_process.main(argv[1:])
    if argv == ["--eval-worker"]:  # cocoview.model.evaluation.remote.FROZEN_FLAG
        from cocoview.model.evaluation import remote

        return remote.main()
    if argv == ["--validate-worker"]:  # cocoview.model.validate_process.FROZEN_FLAG
        from cocoview.model import validate_process

        return validate_process.main()
    from cocoview.model.errors import CocoFormatError
    from cocoview.model.safe_write import WriteError

    if not argv or argv[0] not in COMMANDS:
        guess = suggest_command(argv[0]) if argv else None
        if guess:
            _say(f"cocoview: unknown command '{argv[0]}'; did you mean '{guess}'?",
                  file=sys.stderr)
            return EXIT_UNUSABLE
        return run_gui(argv)
    args = build_command_parser().parse_args(argv)
    handler = {"stats": cmd_stats, "validate": cmd_validate, "render": cmd_render,
               "export": cmd_export, "cache": cmd_cache, "eval": eval_cli.cmd_eval,
               "edit": edit_cli.cmd_edit}[args.command]
    try:
        return handler(args)
    except CocoFormatError as exc:
        _say(f"cocoview: {exc}", file=sys.stderr)
    except (UsageError, WriteError) as exc:
        _say(f"cocoview: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        _say("cocoview: interrupted", file=sys.stderr)
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        _say("cocoview: out of memory", file=sys.stderr)
    except Exception as exc:  # never a traceback on the command line
        _say(f"cocoview: internal error: {type(exc).__name__}: {exc} "
              "(please report this with the file that caused it)", file=sys.stderr)
    return EXIT_UNUSABLE
