"""One COCO JSON file → a compact index (numpy columns + raw geometry by offset).

Opening builds no Python objects for polygon coordinates or keypoints: those
stay bytes in the file, found by ``seg_off``/``seg_len`` and decoded on demand.
See ``docs/decisions/parser.md`` for why the fast path looks the way it does.
"""

from __future__ import annotations

import gc
import json
import math
from itertools import chain
from operator import attrgetter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from cocoview.model import rawspan
from cocoview.model.errors import CocoFormatError, Problem, Severity
from cocoview.model.records import (
    ANN_DECODER,
    ANN_LIST_DECODER,
    FAST_DECODER,
    IMAGE_LIST_DECODER,
    MISSING_ID,
    RAW_FIELDS_DECODER,
    RAW_LIST_DECODER,
    TOP_DECODER,
    AnnRec,
    ImageRec,
    lenient_annotation,
    lenient_image,
)
from cocoview.model.source import decode_error, read_bytes

Progress = Callable[[float, str], None]

# segmentation kinds
SEG_NONE = 0  # no segmentation key (or null)
SEG_POLYGON = 1
SEG_RLE = 2  # compressed counts string
SEG_RLE_RAW = 3  # uncompressed counts list
SEG_EMPTY = 4  # segmentation: []
SEG_INVALID = 5
SEG_PANOPTIC = 6
SEG_KIND_NAMES = {
    SEG_NONE: "none",
    SEG_POLYGON: "polygon",
    SEG_RLE: "rle",
    SEG_RLE_RAW: "rle-uncompressed",
    SEG_EMPTY: "empty",
    SEG_INVALID: "invalid",
    SEG_PANOPTIC: "panoptic",
}

ANN_COLUMNS: dict[str, Any] = {
    "id": np.int64,
    "image_id": np.int64,
    "category_id": np.int64,
    "area": np.float64,
    "iscrowd": np.int8,
    "num_keypoints": np.int32,
    "score": np.float32,
    "seg_kind": np.int8,
    "seg_off": np.int64,
    "seg_len": np.int64,
    "kp_off": np.int64,
    "kp_len": np.int64,
    "ordinal": np.int64,
}


@dataclass
class AnnColumns:
    """Annotation columns in file order (only usable records)."""

    id: np.ndarray
    image_id: np.ndarray
    category_id: np.ndarray
    bbox: np.ndarray  # (n, 4) float64, NaN where absent
    area: np.ndarray
    iscrowd: np.ndarray
    num_keypoints: np.ndarray
    score: np.ndarray
    seg_kind: np.ndarray
    seg_off: np.ndarray
    seg_len: np.ndarray
    kp_off: np.ndarray
    kp_len: np.ndarray
    ordinal: np.ndarray  # index in the file's annotations array
    # For SEG_PANOPTIC rows ``seg_off`` is the index in the record's segments_info.

    @classmethod
    def empty(cls, n: int = 0) -> AnnColumns:
        cols = {k: np.zeros(n, dt) for k, dt in ANN_COLUMNS.items()}
        return cls(bbox=np.full((n, 4), np.nan), **cols)

    def __len__(self) -> int:
        return len(self.id)

    def take(self, idx: np.ndarray) -> AnnColumns:
        return AnnColumns(**{k: getattr(self, k)[idx] for k in (*ANN_COLUMNS, "bbox")})

    @staticmethod
    def concat(parts: list[AnnColumns]) -> AnnColumns:
        if not parts:
            return AnnColumns.empty()
        return AnnColumns(
            **{k: np.concatenate([getattr(p, k) for p in parts]) for k in (*ANN_COLUMNS, "bbox")}
        )


@dataclass
class ImageColumns:
    id: np.ndarray
    width: np.ndarray
    height: np.ndarray
    file_name: list[str]
    rec_off: np.ndarray
    rec_len: np.ndarray
    ordinal: np.ndarray

    def __len__(self) -> int:
        return len(self.id)


@dataclass
class FileIndex:
    """Everything cocoview knows about one file after opening it."""

    path: Path
    data: bytes
    kind: str
    images: ImageColumns
    anns: AnnColumns
    categories: list[dict[str, Any]]
    problems: list[Problem] = field(default_factory=list)
    #: exact record spans in file order (-1 = not yet located)
    ann_rec_off: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ann_rec_len: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    n_records: int = 0
    is_list: bool = False  # a bare top-level list (results files)
    has_categories_key: bool = True
    #: panoptic: per annotation record, (png file_name, segments_info offsets)
    panoptic_png: dict[int, str] = field(default_factory=dict)
    captions: dict[int, list[str]] = field(default_factory=dict)
    _top: dict[str, msgspec.Raw] | None = None
    _array_start: int | None = None

    # ----- raw access ---------------------------------------------------
    def top(self) -> dict[str, msgspec.Raw]:
        """Top-level keys → raw values (scanned once, on first use)."""
        if self._top is None:
            self._top = {} if self.is_list else TOP_DECODER.decode(self.data)
        return self._top

    def raw(self, off: int, length: int) -> bytes:
        return self.data[off : off + length] if off >= 0 else b""

    def _annotations_array_start(self) -> int:
        if self._array_start is None:
            if self.is_list:
                start = self.data.index(b"[")
            else:
                arr = self.top()["annotations"]
                start = rawspan.offsets([arr], self.data)[0]
            self._array_start = rawspan.next_value_start(self.data, start + 1)
        return self._array_start

    def record_span(self, ordinal: int) -> tuple[int, int]:
        """Exact byte span of the ``ordinal``-th annotation record, located on demand.

        In the fast path only each record's segmentation is located at open time;
        a record's bounds are found by scanning forward from the previous
        record's segmentation, which is known to lie outside any string.
        """
        off = int(self.ann_rec_off[ordinal])
        if off >= 0:
            return off, int(self.ann_rec_len[ordinal])
        data = self.data
        if ordinal == 0:
            start = self._annotations_array_start()
        else:
            prev_end = rawspan.close_of_container(data, self._anchor_end(ordinal - 1))
            start = rawspan.next_value_start(data, prev_end + 1)
        end = rawspan.close_of_container(data, self._anchor_end(ordinal)) + 1
        self.ann_rec_off[ordinal] = start
        self.ann_rec_len[ordinal] = end - start
        return start, end - start

    def _anchor_end(self, ordinal: int) -> int:
        return int(self._anchor_off[ordinal] + self._anchor_len[ordinal])

    _anchor_off: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    _anchor_len: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def record(self, ordinal: int) -> Any:
        off, length = self.record_span(ordinal)
        return msgspec.json.decode(self.data[off : off + length])

    def image_record(self, row: int) -> Any:
        off, length = int(self.images.rec_off[row]), int(self.images.rec_len[row])
        return msgspec.json.decode(self.data[off : off + length])


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic GC doubles dict/struct-heavy decodes; pause it during a load."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Cancelled(Exception):
    """The caller's cancel callback asked the load to stop."""


def load_file(
    path: str | Path,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> FileIndex:
    """Open one COCO-style JSON file (``.json`` or ``.json.gz``)."""
    p = Path(path)

    def step(frac: float, what: str) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled(str(p))
        if progress is not None:
            progress(frac, what)

    step(0.0, f"reading {p.name}")
    data = read_bytes(p)
    step(0.15, f"parsing {p.name}")
    with _gc_paused():
        return _Builder(p, data, step).build()


def _nonfinite_problems(obj: Any, path: str) -> list[str]:
    """Locations of NaN/Infinity numbers inside a decoded record."""
    out: list[str] = []
    stack: list[tuple[Any, str]] = [(obj, path)]
    while stack:
        v, where = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            out.append(where)
        elif isinstance(v, dict):
            stack.extend((x, f"{where}.{k}") for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, f"{where}[{i}]") for i, x in enumerate(v))
    return out


class _Builder:
    def __init__(self, path: Path, data: bytes, step: Callable[[float, str], None]) -> None:
        self.path = path
        self.data = data
        self.step = step
        self.problems: list[Problem] = []

    def problem(self, sev: Severity, code: str, msg: str, loc: str = "",
                image_id: int | None = None, ann_id: int | None = None) -> None:
        self.problems.append(Problem(sev, code, msg, loc, str(self.path), image_id, ann_id))

    # ------------------------------------------------------------------
    def build(self) -> FileIndex:
        data = self.data
        first = data.lstrip()[:1]
        if first == b"[":
            return self._build_list()
        if first != b"{":
            self._reject_top()
        try:
            doc = FAST_DECODER.decode(data)
        except msgspec.ValidationError:
            return self._build_slow()
        except msgspec.DecodeError as exc:
            return self._build_python_json(exc)
        self.step(0.6, "indexing")
        if doc.annotations is None:
            doc.annotations = []
            has_annotations = False
        else:
            has_annotations = True
        try:
            anns, seg_raws, kp_raws = self._columns_from_structs(doc.annotations)
        except OverflowError:  # an id beyond 64 bits
            return self._build_slow()
        if (rawspan.lengths(seg_raws) == 0).any():
            # anchor-less records: locate every record exactly instead
            return self._build_slow(doc)
        if len(anns) and ((anns.id == MISSING_ID).any() or (anns.image_id == MISSING_ID).any()):
            return self._build_slow()
        fi = self._finish(doc.images, doc.categories, anns, seg_raws, kp_raws,
                          doc.annotations, rec_spans=None, n_records=len(doc.annotations),
                          is_list=False, has_annotations=has_annotations)
        fi.has_categories_key = len(doc.categories) > 0
        return fi

    def _reject_top(self) -> None:
        try:
            obj = msgspec.json.decode(self.data)
        except msgspec.DecodeError as exc:
            try:
                obj = json.loads(self.data)
            except (ValueError, RecursionError):
                raise decode_error(self.path, exc, len(self.data)) from None
        raise CocoFormatError(
            self.path, f"top-level value is {type(obj).__name__}, expected an object or a list", 0
        )

    def _build_python_json(self, exc: msgspec.DecodeError) -> FileIndex:
        """Python's json accepts NaN/Infinity literals; re-encode and go on."""
        try:
            obj = json.loads(self.data)
        except (ValueError, RecursionError):
            raise decode_error(self.path, exc, len(self.data)) from None
        nonfinite: list[str] = []
        if isinstance(obj, dict):
            for key in ("images", "annotations", "categories"):
                if isinstance(obj.get(key), list):
                    nonfinite += _nonfinite_problems(obj[key], key)
        elif isinstance(obj, list):
            nonfinite += _nonfinite_problems(obj, "")
        # msgspec writes NaN/Infinity as null: the records then fail their types
        # and become problems through the ordinary lenient path.
        self.data = msgspec.json.encode(obj)
        for where in nonfinite[:1000]:
            self.problem(Severity.ERROR, "non-finite-number",
                         "NaN or Infinity is not valid JSON (treated as missing)", where)
        if len(nonfinite) > 1000:
            self.problem(Severity.ERROR, "non-finite-number",
                         f"{len(nonfinite) - 1000} more NaN/Infinity values")
        self.problem(Severity.WARNING, "not-strict-json",
                     "file is not strict JSON; annotations are shown as re-encoded")
        return self.build()

    # ------------------------------------------------------------------
    def _top_raw(self) -> dict[str, msgspec.Raw]:
        try:
            return TOP_DECODER.decode(self.data)
        except msgspec.ValidationError as exc:
            raise CocoFormatError(self.path, f"not a COCO document: {exc}", 0) from None
        except msgspec.DecodeError as exc:
            raise decode_error(self.path, exc, len(self.data)) from None

    def _build_slow(self, doc: Any = None) -> FileIndex:
        """Record-by-record decode: exact spans, and problems instead of exceptions."""
        top = self._top_raw()
        for key in ("images", "annotations", "categories"):
            raw = top.get(key)
            if raw is not None and rawspan.first_byte(raw) not in (b"[", b"n"):
                got = {b"{": "an object", b'"': "a string"}.get(rawspan.first_byte(raw),
                                                                 "not a list")
                off = int(rawspan.offsets([raw], self.data)[0])
                raise CocoFormatError(self.path, f"'{key}' must be a list, got {got}", off)
        ann_raw = top.get("annotations")
        has_annotations = ann_raw is not None and not rawspan.is_null(ann_raw)
        rec_raws = RAW_LIST_DECODER.decode(ann_raw) if ann_raw is not None and \
            has_annotations else []
        structs, keep = self._decode_records(rec_raws, "annotations")
        anns, seg_raws, kp_raws = self._columns_from_structs(structs)
        spans = (rawspan.offsets(rec_raws, self.data), rawspan.lengths(rec_raws))
        anns = anns.take(np.asarray(keep, np.int64)) if len(keep) != len(structs) else anns
        seg_raws = [seg_raws[i] for i in keep]
        kp_raws = [kp_raws[i] for i in keep]
        structs = [structs[i] for i in keep]
        imgs = top.get("images", msgspec.Raw())
        cats = top.get("categories", msgspec.Raw())
        fi = self._finish(imgs, cats, anns, seg_raws, kp_raws, structs, rec_spans=spans,
                          n_records=len(rec_raws), is_list=False,
                          has_annotations=has_annotations)
        fi.has_categories_key = "categories" in top
        fi._top = top
        return fi

    def _decode_records(self, raws: list[msgspec.Raw], where: str,
                        is_result: bool = False) -> tuple[list[AnnRec], list[int]]:
        """Typed decode record by record; lenient salvage where that fails."""
        structs: list[AnnRec] = []
        keep: list[int] = []
        for i, raw in enumerate(raws):
            try:
                rec = ANN_DECODER.decode(raw)
                ok = rec.id != MISSING_ID or is_result or len(rec.segments_info) > 0
                if not all(-(2**63) <= v < 2**63 for v in (rec.id, rec.image_id,
                                                             rec.category_id)):
                    raise msgspec.ValidationError("id out of range")
                if ok and rec.image_id != MISSING_ID:
                    structs.append(rec)
                    keep.append(i)
                    continue
            except msgspec.ValidationError:
                pass
            except msgspec.DecodeError:  # cannot happen for a Raw from a valid doc
                pass
            obj = msgspec.json.decode(raw)
            sal = lenient_annotation(obj, require_id=not is_result,
                                     require_category=False)
            loc = f"{where}[{i}]"
            aid = sal.values.get("id") if isinstance(obj, dict) else None
            if aid is not None and aid != MISSING_ID:
                loc += f" (id {aid})"
            for err in sal.errors:
                self.problem(Severity.ERROR, "bad-record", err, loc,
                             ann_id=aid if aid != MISSING_ID else None)
            if not sal.usable:
                self.problem(Severity.ERROR, "record-skipped",
                             "annotation left out: it cannot be placed", loc)
                structs.append(AnnRec())
                continue
            v = sal.values
            rf = RAW_FIELDS_DECODER.decode(raw)  # Raw values that point into the file
            seg_ok = isinstance(obj.get("segmentation"), (list, dict))
            kp = obj.get("keypoints")
            kp_ok = isinstance(kp, list) and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in kp)
            structs.append(AnnRec(
                id=v["id"], image_id=v["image_id"], category_id=v["category_id"],
                bbox=v["bbox"], area=v["area"], iscrowd=v["iscrowd"],
                num_keypoints=v["num_keypoints"], score=v["score"],
                segmentation=rf.segmentation if seg_ok else msgspec.Raw(),
                keypoints=rf.keypoints if kp_ok else msgspec.Raw(),
                caption=rf.caption if isinstance(obj.get("caption"), str) else msgspec.Raw(),
                segments_info=rf.segments_info if isinstance(obj.get("segments_info"), list)
                else msgspec.Raw(),
            ))
            keep.append(i)
        return structs, keep

    # ------------------------------------------------------------------
    def _columns_from_structs(
        self, recs: list[AnnRec]
    ) -> tuple[AnnColumns, list[msgspec.Raw], list[msgspec.Raw]]:
        n = len(recs)
        cols = AnnColumns.empty(n)

        def col(name: str, dtype: Any) -> np.ndarray:
            # map + attrgetter run in C: ~3x faster than a comprehension
            return np.fromiter(map(attrgetter(name), recs), dtype, n)

        cols.id = col("id", np.int64)
        cols.image_id = col("image_id", np.int64)
        cols.category_id = col("category_id", np.int64)
        cols.bbox = np.fromiter(chain.from_iterable(map(attrgetter("bbox"), recs)), np.float64,
                                4 * n).reshape(n, 4)
        cols.area = col("area", np.float64)
        cols.iscrowd = col("iscrowd", np.int64).astype(np.int8)
        cols.num_keypoints = col("num_keypoints", np.int64).astype(np.int32)
        cols.score = col("score", np.float64).astype(np.float32)
        cols.ordinal = np.arange(n, dtype=np.int64)
        seg_raws = list(map(attrgetter("segmentation"), recs))
        kp_raws = list(map(attrgetter("keypoints"), recs))
        return cols, seg_raws, kp_raws

    def _seg_kinds(self, seg_off: np.ndarray, seg_len: np.ndarray,
                   seg_raws: list[msgspec.Raw]) -> np.ndarray:
        data = np.frombuffer(self.data, np.uint8)
        n = len(seg_off)
        kind = np.full(n, SEG_INVALID, np.int8)
        present = seg_off >= 0
        kind[~present] = SEG_NONE
        first = np.zeros(n, np.uint8)
        first[present] = data[seg_off[present]]
        kind[first == ord("n")] = SEG_NONE  # null
        is_list = first == ord("[")
        if is_list.any():
            idx = np.flatnonzero(is_list)
            second = data[np.minimum(seg_off[idx] + 1, len(data) - 1)]
            empty = second == ord("]")
            ws = np.isin(second, np.frombuffer(b" \t\r\n", np.uint8))
            for j in idx[ws]:  # rare: "[ ]" or pretty-printed lists
                empty[np.searchsorted(idx, j)] = bytes(seg_raws[j]).replace(b" ", b"").replace(
                    b"\n", b"").replace(b"\t", b"").replace(b"\r", b"") == b"[]"
            kind[idx] = np.where(empty, SEG_EMPTY, SEG_POLYGON)
        for j in np.flatnonzero(first == ord("{")):
            raw = bytes(seg_raws[j])
            k = raw.find(b'"counts"')
            if k < 0:
                continue
            k = raw.find(b":", k) + 1
            while k < len(raw) and raw[k] in b" \t\r\n":
                k += 1
            c = raw[k : k + 1]
            kind[j] = SEG_RLE if c == b'"' else SEG_RLE_RAW if c == b"[" else SEG_INVALID
        return kind

    def _images(self, raw: msgspec.Raw) -> ImageColumns:
        if len(raw) == 0 or rawspan.is_null(raw):
            e = np.empty(0, np.int64)
            return ImageColumns(e, e.astype(np.int32), e.astype(np.int32), [], e, e, e)
        if rawspan.first_byte(raw) != b"[":
            off = int(rawspan.offsets([raw], self.data)[0])
            raise CocoFormatError(self.path, "'images' must be a list", off)
        raws = RAW_LIST_DECODER.decode(raw)
        try:
            recs = IMAGE_LIST_DECODER.decode(raw)
            if any(r.id == MISSING_ID or not -(2**63) < r.id < 2**63 for r in recs):
                raise msgspec.ValidationError("missing id")
            keep = list(range(len(recs)))
        except msgspec.ValidationError:
            recs, keep = [], []
            for i, r in enumerate(raws):
                obj = msgspec.json.decode(r)
                sal = lenient_image(obj)
                loc = f"images[{i}]"
                if sal.values.get("id", MISSING_ID) != MISSING_ID:
                    loc += f" (id {sal.values['id']})"
                for err in sal.errors:
                    self.problem(Severity.ERROR, "bad-record", err, loc)
                if not sal.usable:
                    self.problem(Severity.ERROR, "record-skipped",
                                 "image left out: it has no usable id", loc)
                    continue
                recs.append(ImageRec(**sal.values))
                keep.append(i)
        n = len(recs)
        offs = rawspan.offsets(raws, self.data)
        lens = rawspan.lengths(raws)
        k = np.asarray(keep, np.int64)
        return ImageColumns(
            id=np.fromiter([r.id for r in recs], np.int64, n),
            width=np.fromiter([r.width for r in recs], np.int64, n).astype(np.int32),
            height=np.fromiter([r.height for r in recs], np.int64, n).astype(np.int32),
            file_name=[r.file_name for r in recs],
            rec_off=offs[k], rec_len=lens[k], ordinal=k,
        )

    def _categories(self, raw: msgspec.Raw) -> list[dict[str, Any]]:
        if len(raw) == 0 or rawspan.is_null(raw):
            return []
        obj = msgspec.json.decode(raw)
        if not isinstance(obj, list):
            off = int(rawspan.offsets([raw], self.data)[0])
            raise CocoFormatError(self.path, "'categories' must be a list", off)
        cats: list[dict[str, Any]] = []
        for i, c in enumerate(obj):
            cid = c.get("id") if isinstance(c, dict) else None
            if not isinstance(cid, int) or isinstance(cid, bool) or not -(2**63) < cid < 2**63:
                self.problem(Severity.ERROR, "bad-category",
                             "category left out: it needs an integer 'id'", f"categories[{i}]")
                continue
            cats.append(c)
        return cats

    def _finish(self, images_raw: msgspec.Raw, cats_raw: msgspec.Raw, anns: AnnColumns,
                seg_raws: list[msgspec.Raw], kp_raws: list[msgspec.Raw], structs: list[AnnRec],
                rec_spans: tuple[np.ndarray, np.ndarray] | None, n_records: int,
                is_list: bool, has_annotations: bool) -> FileIndex:
        self.step(0.7, "indexing geometry")
        anns.seg_off = rawspan.offsets(seg_raws, self.data)
        anns.seg_len = rawspan.lengths(seg_raws)
        anns.kp_off = rawspan.offsets(kp_raws, self.data)
        anns.kp_len = rawspan.lengths(kp_raws)
        anns.seg_kind = self._seg_kinds(anns.seg_off, anns.seg_len, seg_raws)
        images = self._images(images_raw)
        self.step(0.85, "categories")
        categories = self._categories(cats_raw)
        if rec_spans is None:
            rec_off = np.full(n_records, -1, np.int64)
            rec_len = np.full(n_records, -1, np.int64)
        else:
            rec_off, rec_len = rec_spans
        fi = FileIndex(path=self.path, data=self.data, kind="instances", images=images,
                       anns=anns, categories=categories, problems=self.problems,
                       ann_rec_off=rec_off, ann_rec_len=rec_len, n_records=n_records,
                       is_list=is_list)
        fi._anchor_off = anns.seg_off.copy()
        fi._anchor_len = anns.seg_len.copy()
        self._special_kinds(fi, structs, has_annotations)
        self.step(1.0, "done")
        return fi

    def _special_kinds(self, fi: FileIndex, structs: list[AnnRec],
                       has_annotations: bool) -> None:
        """Captions, panoptic, keypoints, image-info: decided from what the records hold."""
        if not has_annotations and not fi.is_list:
            fi.kind = "image_info"
            return
        n = len(structs)
        cap = np.fromiter(map(len, map(attrgetter("caption"), structs)), np.int64, n) > 0
        pan = np.fromiter(map(len, map(attrgetter("segments_info"), structs)), np.int64, n) > 0
        if cap.any():
            fi.kind = "captions"
            for i in np.flatnonzero(cap):
                s = structs[i]
                text = msgspec.json.decode(s.caption)
                if isinstance(text, str):
                    fi.captions.setdefault(s.image_id, []).append(text)
            fi.anns = fi.anns.take(np.flatnonzero(~cap))
        elif pan.any():
            fi.kind = "panoptic"
            fi.anns = self._panoptic_segments(fi, structs)
        elif (fi.anns.kp_off >= 0).any():
            fi.kind = "keypoints"
        elif fi.is_list:
            fi.kind = "results"
        elif len(fi.anns) and (fi.anns.seg_kind == SEG_NONE).all() and np.isnan(
                fi.anns.bbox).all():
            fi.kind = "labels"
        if fi.kind not in ("captions", "panoptic") and len(fi.anns):
            self._check_categories_present(fi)

    def _check_categories_present(self, fi: FileIndex) -> None:
        missing = fi.anns.category_id == MISSING_ID
        for j in np.flatnonzero(missing)[:1000]:
            self.problem(Severity.ERROR, "missing-key", "missing required key 'category_id'",
                         f"annotations[{int(fi.anns.ordinal[j])}] (id {int(fi.anns.id[j])})",
                         ann_id=int(fi.anns.id[j]))

    def _panoptic_segments(self, fi: FileIndex, structs: list[AnnRec]) -> AnnColumns:
        """Flatten ``segments_info`` so each segment is one row, like an annotation."""
        rows: list[tuple[int, int, int, tuple[float, ...], float, int, int]] = []
        for row, s in enumerate(structs):
            if not len(s.segments_info):
                continue
            ordinal = int(fi.anns.ordinal[row])
            rec = msgspec.json.decode(self._record_bytes(fi, ordinal))
            png = rec.get("file_name", "") if isinstance(rec, dict) else ""
            fi.panoptic_png[ordinal] = png if isinstance(png, str) else ""
            segs = msgspec.json.decode(s.segments_info)
            for k, seg in enumerate(segs):
                sal = lenient_annotation({**seg, "image_id": s.image_id})
                loc = f"annotations[{ordinal}].segments_info[{k}]"
                for err in sal.errors:
                    self.problem(Severity.ERROR, "bad-record", err, loc, image_id=s.image_id)
                if not sal.usable:
                    continue
                v = sal.values
                rows.append((v["id"], s.image_id, v["category_id"], v["bbox"], v["area"],
                             v["iscrowd"], ordinal * 65536 + k))
        n = len(rows)
        cols = AnnColumns.empty(n)
        if n:
            cols.id = np.array([r[0] for r in rows], np.int64)
            cols.image_id = np.array([r[1] for r in rows], np.int64)
            cols.category_id = np.array([r[2] for r in rows], np.int64)
            cols.bbox = np.array([r[3] for r in rows], np.float64).reshape(n, 4)
            cols.area = np.array([r[4] for r in rows], np.float64)
            cols.iscrowd = np.array([r[5] for r in rows], np.int8)
            code = np.array([r[6] for r in rows], np.int64)
            cols.ordinal = code // 65536
            cols.seg_off = code % 65536  # segment index inside segments_info
            cols.seg_len[:] = 0
            cols.num_keypoints[:] = -1
            cols.score[:] = np.nan
            cols.kp_off[:] = -1
            cols.seg_kind[:] = SEG_PANOPTIC
        return cols

    def _record_bytes(self, fi: FileIndex, ordinal: int) -> bytes:
        off, length = fi.record_span(ordinal)
        return fi.data[off : off + length]

    # ------------------------------------------------------------------
    def _build_list(self) -> FileIndex:
        """A bare top-level list: a results file (or a bare category list)."""
        try:
            raws = RAW_LIST_DECODER.decode(self.data)
        except msgspec.DecodeError as exc:
            return self._build_python_json(exc)
        try:
            structs = ANN_LIST_DECODER.decode(self.data)
            keep = list(range(len(structs)))
            if any(not -(2**63) < s.image_id < 2**63 or s.image_id == MISSING_ID
                   for s in structs):
                raise msgspec.ValidationError("bad image id")
        except msgspec.ValidationError:
            structs, keep = self._decode_records(raws, "", is_result=True)
            structs = [structs[i] for i in keep] if len(structs) != len(keep) else structs
        anns, seg_raws, kp_raws = self._columns_from_structs(structs)
        anns.ordinal = np.asarray(keep, np.int64)
        spans = (rawspan.offsets(raws, self.data), rawspan.lengths(raws))
        # results carry no ids: number them 1..n like pycocotools' loadRes
        no_id = anns.id == MISSING_ID
        anns.id[no_id] = anns.ordinal[no_id] + 1
        fi = self._finish(msgspec.Raw(), msgspec.Raw(), anns, seg_raws, kp_raws, structs,
                          rec_spans=spans, n_records=len(raws), is_list=True,
                          has_annotations=True)
        fi.has_categories_key = False
        return fi
