"""Typed record shapes for the fast decode, and the lenient per-record fallback.

The fast path decodes a whole file into these ``msgspec`` structs in one pass;
geometry stays ``Raw`` (bytes in the file), never Python floats. Any type
surprise in any record makes msgspec reject the whole document; the loader then
decodes record by record and uses :func:`lenient_annotation` /
:func:`lenient_image` on the ones that still fail, turning each surprise into a
problem instead of an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import Raw

#: Sentinel for an id that is absent (no valid COCO id is this value).
MISSING_ID = -(2**63)
INT64_MAX = 2**63 - 1
NAN = float("nan")


class AnnRec(msgspec.Struct, gc=False):
    """One element of ``annotations`` (instances, keypoints, captions, panoptic, results)."""

    id: int = MISSING_ID
    image_id: int = MISSING_ID
    category_id: int = MISSING_ID
    bbox: tuple[float, float, float, float] = (NAN, NAN, NAN, NAN)
    area: float = NAN
    iscrowd: int = 0
    num_keypoints: int = -1
    score: float = NAN
    segmentation: Raw = Raw()
    keypoints: Raw = Raw()
    caption: Raw = Raw()
    segments_info: Raw = Raw()


class ImageRec(msgspec.Struct, gc=False):
    id: int = MISSING_ID
    file_name: str = ""
    width: int = -1
    height: int = -1


class FastDoc(msgspec.Struct, gc=False):
    """A COCO document split into raw parts: one pass, no values built but the splits."""

    info: Raw = Raw()
    licenses: Raw = Raw()
    images: Raw = Raw()
    annotations: list[Raw] | None = None
    categories: Raw = Raw()


class RawFields(msgspec.Struct, gc=False):
    """The raw-kept fields of an annotation, for records salvaged one by one."""

    segmentation: Raw = Raw()
    keypoints: Raw = Raw()
    caption: Raw = Raw()
    segments_info: Raw = Raw()


ANN_DECODER = msgspec.json.Decoder(AnnRec)
RAW_FIELDS_DECODER = msgspec.json.Decoder(RawFields)
ANN_LIST_DECODER = msgspec.json.Decoder(list[AnnRec])
IMAGE_LIST_DECODER = msgspec.json.Decoder(list[ImageRec])
RAW_LIST_DECODER = msgspec.json.Decoder(list[Raw])
TOP_DECODER = msgspec.json.Decoder(dict[str, Raw])
FAST_DECODER = msgspec.json.Decoder(FastDoc)


@dataclass
class Lenient:
    """Field values salvaged from a damaged record, and what was wrong with it."""

    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    usable: bool = True


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool))


def _id_value(rec: dict[str, Any], key: str, out: Lenient, required: bool) -> int:
    if key not in rec:
        if required:
            out.errors.append(f"missing required key '{key}'")
            out.usable = False
        return MISSING_ID
    v = rec[key]
    if isinstance(v, float) and v.is_integer() and abs(v) <= INT64_MAX:
        out.errors.append(f"'{key}' is a float ({v!r}), expected an integer")
        return int(v)
    if not _is_int(v):
        out.errors.append(f"'{key}' must be an integer, got {type(v).__name__} {_short(v)}")
        out.usable = False
        return MISSING_ID
    if not -INT64_MAX <= v <= INT64_MAX:
        out.errors.append(f"'{key}' {v} does not fit in 64 bits")
        out.usable = False
        return MISSING_ID
    return int(v)


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _finite(v: Any) -> bool:
    try:
        return _num(v) and math.isfinite(v)
    except OverflowError:  # an integer beyond double range
        return False


def lenient_annotation(rec: Any, *, require_id: bool = True,
                       require_category: bool = True) -> Lenient:
    """Salvage an annotation; ``usable`` is False when it cannot be placed at all."""
    out = Lenient(values={})
    if not isinstance(rec, dict):
        out.errors.append(f"annotation must be an object, got {type(rec).__name__}")
        out.usable = False
        return out
    vals = out.values
    vals["id"] = _id_value(rec, "id", out, require_id)
    vals["image_id"] = _id_value(rec, "image_id", out, True)
    vals["category_id"] = _id_value(rec, "category_id", out, require_category)
    bbox = rec.get("bbox")
    vals["bbox"] = (NAN, NAN, NAN, NAN)
    if bbox is not None:
        if isinstance(bbox, list) and len(bbox) == 4 and all(_finite(x) for x in bbox):
            vals["bbox"] = tuple(float(x) for x in bbox)
        else:
            out.errors.append(f"'bbox' must be a list of 4 finite numbers, got {_short(bbox)}")
    area = rec.get("area")
    vals["area"] = NAN
    if area is not None:
        if _finite(area):
            vals["area"] = float(area)
        else:
            out.errors.append(f"'area' must be a finite number, got {_short(area)}")
    crowd = rec.get("iscrowd", 0)
    vals["iscrowd"] = 0
    if crowd in (0, 1) and (_is_int(crowd) or isinstance(crowd, bool)):
        vals["iscrowd"] = int(crowd)
    else:
        out.errors.append(f"'iscrowd' must be 0 or 1, got {_short(crowd)}")
    nk = rec.get("num_keypoints", -1)
    vals["num_keypoints"] = -1
    if _is_int(nk) and -1 <= nk < 2**31:
        vals["num_keypoints"] = int(nk)
    else:
        out.errors.append(f"'num_keypoints' must be a non-negative integer, got {_short(nk)}")
    score = rec.get("score")
    vals["score"] = NAN
    if score is not None:
        if _finite(score):
            vals["score"] = float(score)
        else:
            out.errors.append(f"'score' must be a finite number, got {_short(score)}")
    seg = rec.get("segmentation")
    if seg is not None and not isinstance(seg, (list, dict)):
        out.errors.append(f"'segmentation' must be a list or an object, got {_short(seg)}")
    kp = rec.get("keypoints")
    if kp is not None and not (isinstance(kp, list) and all(_num(x) for x in kp)):
        out.errors.append(f"'keypoints' must be a list of numbers, got {_short(kp)}")
    return out


def lenient_image(rec: Any) -> Lenient:
    out = Lenient(values={})
    if not isinstance(rec, dict):
        out.errors.append(f"image must be an object, got {type(rec).__name__}")
        out.usable = False
        return out
    vals = out.values
    vals["id"] = _id_value(rec, "id", out, True)
    fn = rec.get("file_name", "")
    if not isinstance(fn, str):
        out.errors.append(f"'file_name' must be a string, got {_short(fn)}")
        fn = ""
    vals["file_name"] = fn
    for key in ("width", "height"):
        v = rec.get(key, -1)
        integral = _is_int(v) or (isinstance(v, float) and v.is_integer())
        if integral and 0 <= v < 2**31:
            vals[key] = int(v)
        else:
            out.errors.append(f"'{key}' must be a non-negative integer, got {_short(v)}")
            vals[key] = -1
    return out
