"""What the inspector says about an annotation or an image, as text (no widgets):
properties, JSON, numbers. Pure functions of the dataset, tested without a screen."""

from __future__ import annotations

import json
import math
from typing import Any

from cocoview.model.categories import Category
from cocoview.model.dataset import Dataset
from cocoview.model.tags import tags_of

Prop = tuple[str, str, str]  # key, value, tooltip
VISIBILITY = {0: "absent", 1: "occluded", 2: "visible"}
_ANN_KEYS = {"id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation",
             "keypoints", "num_keypoints", "score"}
_IMAGE_KEYS = {"id", "file_name", "width", "height", "license", "coco_url", "flickr_url",
               "date_captured"}
JSON_DISPLAY_LIMIT = 200_000  # characters shown; "Copy JSON" always copies everything


def num(v: float, thousands: bool = False) -> str:
    """A number with at most two decimals and no trailing zeros ('—' if not finite)."""
    v = float(v)
    if not math.isfinite(v):
        return "—"
    s = f"{v:,.2f}" if thousands else f"{v:.2f}"
    return s.rstrip("0").rstrip(".")


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def pretty_json(value: Any, indent: int = 0) -> str:
    """Indented JSON that keeps lists of numbers (polygons, RLE counts, bbox) on one line."""
    pad, end = "  " * (indent + 1), "  " * indent
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {pretty_json(v, indent + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list) and value and not all(_is_scalar(v) for v in value):
        return "[\n" + ",\n".join(pad + pretty_json(v, indent + 1) for v in value) + "\n" \
            + end + "]"
    return json.dumps(value, ensure_ascii=False)


def _short(value: Any, limit: int = 160) -> str:
    s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _category(ds: Dataset, cid: int) -> Category | None:
    try:
        return ds.category(cid)
    except KeyError:
        return None


def _segmentation_props(ds: Dataset, row: int) -> list[Prop]:
    kind = ds.seg_kind_name(row)
    if kind == "panoptic":
        return [("segmentation", "panoptic segment", "a segment of the panoptic PNG")]
    g = ds.geometry(row)
    out: list[Prop] = []
    if kind == "polygon" and g.polygons:
        pts = [len(p) for p in g.polygons]
        n = len(pts)
        out.append(("segmentation", f"polygon · {n} part{'s' * (n != 1)}", ""))
        shown = ", ".join(str(k) for k in pts[:12]) + (f", … (+{n - 12})" if n > 12 else "")
        out.append(("points", shown, f"{sum(pts):,} points in all"))
    elif kind.startswith("rle") and g.rle_size is not None:
        h, w = g.rle_size
        label = "RLE (compressed)" if kind == "rle" else "RLE (uncompressed counts)"
        img_row = int(ds.ann_image_row[row])
        note = ""
        if img_row >= 0:
            ih, iw = ds.image_size(img_row)
            if (ih, iw) != (h, w) and ih > 0:
                note = f" — image is {iw} × {ih}"
        out.append(("segmentation", f"{label} · {w} × {h}{note}", f"RLE size [h, w] = [{h}, {w}]"))
    elif kind == "polygon":
        out.append(("segmentation", "polygon · no usable part", ""))
    else:
        out.append(("segmentation", kind, ""))
    if g.problems:
        out.append(("geometry", "; ".join(g.problems), "\n".join(g.problems)))
    return out


def annotation_props(ds: Dataset, row: int) -> list[Prop]:
    """The selected annotation's properties, ready to show."""
    a = ds.anns
    cid = int(a.category_id[row])
    cat = _category(ds, cid)
    props: list[Prop] = [("id", str(int(a.id[row])), "")]
    if cat is None:
        props.append(("category", f"{cid} (unknown)", ""))
    elif not cat.defined:
        props.append(("category", f"{cid} — undefined", "used here but not in 'categories'"))
    else:
        props.append(("category", f"{cat.name} ({cid})", ""))
        props.append(("supercategory", cat.supercategory or "—", ""))
    x, y, w, h = (float(v) for v in a.bbox[row])
    if math.isfinite(x):
        props.append(("bbox", f"[{num(x)}, {num(y)}, {num(w)}, {num(h)}]",
                      f"x, y, width, height; right {num(x + w)}, bottom {num(y + h)}"))
    else:
        props.append(("bbox", "—", "no bbox in the file"))
    props.append(("area", num(float(a.area[row]), thousands=True), "square pixels, as in the file"))
    crowd = int(a.iscrowd[row])
    props.append(("iscrowd", "1 — crowd region" if crowd else str(crowd), ""))
    props += _segmentation_props(ds, row)
    kp = ds.keypoints_array(row)
    if kp is not None:
        labelled = int((kp[:, 2] > 0).sum())
        props.append(("num_keypoints", f"{int(a.num_keypoints[row])} ({labelled} of {len(kp)} "
                      "labelled)", "num_keypoints as in the file; labelled = v > 0"))
    score = float(a.score[row])
    if math.isfinite(score):
        props.append(("score", f"{score:.3f}", "detection confidence"))
    if len(ds.files) > 1:
        f = ds.files[int(ds.ann_src[row])]
        props.append(("file", f.path.name, str(f.path)))
    return props


def extra_props(record: dict[str, Any], known: set[str]) -> list[Prop]:
    """Fields of a record that the other rows do not show (LVIS extras, attributes…)."""
    return [(str(k), _short(v), _short(v, 2000)) for k, v in record.items() if k not in known]


def image_props(ds: Dataset, image_id: int) -> list[Prop]:
    """The image's metadata from its record and licence."""
    info = ds.image(image_id)
    rec = ds.image_record(image_id)
    props: list[Prop] = [("id", str(image_id), ""), ("file_name", info.file_name or "—", "")]
    if info.width > 0:
        props.append(("size", f"{info.width} × {info.height}", "width × height in pixels"))
    if info.path is not None:
        props.append(("path", str(info.path), str(info.path)))
    props.append(("annotations", str(int(ds.image_ann_count[info.index])), ""))
    tags = tags_of(ds, image_id, rec)  # with the edits (issue 17)
    if tags:
        props.append(("tags", ", ".join(tags), "Edit → Tag Image… (T) changes them"))
    lic = ds.image_license(image_id)
    if lic is not None:
        props.append(("licence", str(lic.get("name", lic.get("id", ""))), ""))
        if lic.get("url"):
            props.append(("licence url", str(lic["url"]), str(lic["url"])))
    elif "license" in rec:
        props.append(("licence", f"id {rec['license']} (not in 'licenses')", ""))
    for key in ("coco_url", "flickr_url", "date_captured"):
        if rec.get(key) not in (None, ""):
            props.append((key, str(rec[key]), str(rec[key])))
    shown = set(_IMAGE_KEYS) | ({"tags"} if isinstance(rec.get("tags"), list) else set())
    for key, title in _LVIS_LISTS.items():  # category ids: shown as names
        ids = rec.get(key)
        if isinstance(ids, list) and all(isinstance(c, int) for c in ids):
            names = [_category_name(ds, c) for c in ids]
            props.append((title, ", ".join(names) if names else "—",
                          "\n".join(f"{n} (id {c})" for n, c in zip(names, ids, strict=True))
                          or f"'{key}' is empty"))
            shown.add(key)
    return props + extra_props(rec, shown)


#: LVIS' per-image category lists: verified absent, and not exhaustively annotated
_LVIS_LISTS = {"neg_category_ids": "absent categories",
               "not_exhaustive_category_ids": "not exhaustive"}


def _category_name(ds: Dataset, cid: int) -> str:
    cat = _category(ds, cid)
    return cat.name if cat is not None and cat.defined else f"id {cid} (not in 'categories')"


