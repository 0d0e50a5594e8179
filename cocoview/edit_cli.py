"""``cocoview edit``: apply edits headless and Save As (issue 17)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cocoview.model.edits import SetBox

HELP = "delete, relabel, rename, merge, tag; write the edited COCO file (input never written)"


def add_parser(sub: Any) -> None:
    from cocoview.cli import _files_args

    p = sub.add_parser("edit", help=HELP)
    _files_args(p, results=False)
    p.add_argument("--delete-annotation", type=int, nargs="+", default=[], metavar="ID")
    p.add_argument("--relabel", nargs="+", default=[], metavar="ID=CATEGORY",
                   help="CATEGORY is an id or a name")
    p.add_argument("--rename-category", nargs="+", default=[], metavar="OLD=NEW")
    p.add_argument("--merge-category", nargs="+", default=[], metavar="FROM=INTO")
    p.add_argument("--delete-category", nargs="+", default=[], metavar="CATEGORY")
    p.add_argument("--delete-image", type=int, nargs="+", default=[], metavar="ID")
    p.add_argument("--tag", nargs="+", default=[], metavar="ID=TAG",
                   help="add TAG to image ID (written in the image's \"tags\" list)")
    p.add_argument("--set-box", nargs="+", default=[], metavar="ID=X,Y,W,H",
                   help="move/resize a box (a segmentation is left as it is; a box-only "
                        "annotation's area follows)")
    p.add_argument("--journal", type=Path, metavar="EDITS.jsonl",
                   help="apply a journal saved from the app first")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.json")
    p.add_argument("--force", action="store_true", help="overwrite an existing OUT")


def _pair(text: str, flag: str) -> tuple[str, str]:
    from cocoview.model.edits import EditError

    left, sep, right = text.partition("=")
    if not sep or not left or not right:
        raise EditError(f"{flag} {text!r}: expected A=B")
    return left, right


def cmd_edit(args: argparse.Namespace) -> int:
    from cocoview.cli import _open, _say
    from cocoview.model import edits as E
    from cocoview.model.safe_write import WriteError

    out: Path = args.out
    if out.exists() and not args.force:
        raise WriteError(f"{out} exists (use --force to overwrite)")
    layer = E.EditLayer(_open(args))
    try:
        if args.journal is not None:
            from cocoview.model.journal import JournalError, restore

            try:
                restore(layer, args.journal)
            except JournalError as exc:
                raise E.EditError(str(exc)) from None
        for a in args.delete_annotation:
            layer.apply(E.DeleteAnnotation(a))
        for text in args.relabel:
            ann, cat = _pair(text, "--relabel")
            if not ann.lstrip("-").isdigit():
                raise E.EditError(f"--relabel {text!r}: {ann!r} is not an annotation id")
            layer.apply(E.Relabel(int(ann), layer.category_id(cat)))
        for text in args.rename_category:
            old, new = _pair(text, "--rename-category")
            layer.apply(E.RenameCategory(layer.category_id(old), new))
        for text in args.merge_category:
            src, into = _pair(text, "--merge-category")
            layer.apply(E.MergeCategory(layer.category_id(src), layer.category_id(into)))
        for cat in args.delete_category:
            layer.apply(E.DeleteCategory(layer.category_id(cat)))
        for i in args.delete_image:
            layer.apply(E.DeleteImage(i))
        for text in args.tag:
            img, tag = _pair(text, "--tag")
            if not img.lstrip("-").isdigit():
                raise E.EditError(f"--tag {text!r}: {img!r} is not an image id")
            now = layer.tags_of(int(img))
            layer.apply(E.SetTags(int(img), (*now, tag)))
        for text in args.set_box:
            layer.apply(_set_box(text))
    except E.EditError as exc:
        _say(f"cocoview: {args.files[0]}: {exc}; nothing written", file=sys.stderr)
        return 2
    E.save_as(layer, out)
    _say(f"{len(layer.done)} edits; wrote {out}")
    return 0


def _set_box(text: str) -> SetBox:
    """``--set-box ID=X,Y,W,H`` as a SetBox edit (EditError when malformed)."""
    from cocoview.model import edits as E

    ann, box = _pair(text, "--set-box")
    if not ann.lstrip("-").isdigit():
        raise E.EditError(f"--set-box {text!r}: {ann!r} is not an annotation id")
    parts = box.split(",")
    try:
        vals = [float(v) for v in parts]
    except ValueError:
        raise E.EditError(f"--set-box {text!r}: expected ID=X,Y,W,H (four numbers)") from None
    if len(vals) != 4:
        raise E.EditError(f"--set-box {text!r}: expected ID=X,Y,W,H (four numbers)")
    return E.SetBox(int(ann), E.check_box(vals, f"--set-box {text!r}"))
