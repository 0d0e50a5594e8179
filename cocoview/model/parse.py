"""Parsing one COCO JSON document into a :class:`FileIndex` (numpy columns + raw geometry
by offset). Opening builds no Python objects for polygon coordinates or keypoints:
those stay bytes in the file, found by ``seg_off``/``seg_len`` and decoded on demand.
See ``docs/decisions/parser.md`` for why the parser looks the way it does; how a file
is opened (cache, child process, helper) is :mod:`cocoview.model.loader`'s.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from cocoview.model import rawspan
from cocoview.model.chunk_worker import Helper, Request
from cocoview.model.chunks import (
    DEFAULTS,
    OPTIONAL,
    RAW_KEYS,
    Chunk,
    Result,
    decode_chunk,
    from_structs,
    wrap,
)
from cocoview.model.columns import (
    SEG_NONE,
    SEG_PANOPTIC,
    AnnColumns,
    ImageColumns,
    constant,
    writable,
)
from cocoview.model.errors import CocoFormatError, Problem, Severity
from cocoview.model.file_index import FileIndex
from cocoview.model.records import (
    ANN_DECODER,
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
from cocoview.model.source import (
    UndecodableValue,
    decode_error,
    decode_value,
    release_pages,
)

NOT_COCO = "not a COCO file: it has none of images / annotations / categories"
NOT_RESULTS = ("not a COCO file: the top-level list holds no results (objects with an "
               "image_id, as a detector's results file does)")
#: records typed-decoded per msgspec call: bounds the structs alive at once (~20 MB)
CHUNK = 50_000
#: with fewer chunks than this the helper process is not worth it
PARALLEL_MIN_CHUNKS = 4
#: ``on_images(images, categories, top_spans)``: a file's images are indexed (and the
#: byte spans of its info and licenses known), its annotations not yet
ImagesReady = Callable[[ImageColumns, list[dict[str, Any]], dict[str, tuple[int, int]]], None]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic GC doubles object-heavy decodes; pause it during a load."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _nonfinite_paths(obj: Any, path: str) -> list[str]:
    """Locations of NaN/Infinity numbers inside a decoded value."""
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


class _RawFields:
    """Offsets and lengths of the raw-kept fields, one row per record."""

    def __init__(self, n: int) -> None:
        # allocated on the first record that has the field: most files lack 3 of the 4
        self.off = {k: constant(n, -1, np.int64) for k in RAW_KEYS}
        self.len = {k: constant(n, 0, np.int32) for k in RAW_KEYS}

    def apply(self, sl: slice, chunk: Chunk, shift: int) -> None:
        for key in RAW_KEYS:
            off = chunk.get(key + "_off")
            if off is None:
                continue
            self.off[key] = writable(self.off[key])
            self.len[key] = writable(self.len[key])
            self.off[key][sl] = np.where(off >= 0, off + shift, -1)
            self.len[key][sl] = chunk.cols[key + "_len"]


def _apply(cols: AnnColumns, raw: _RawFields, sl: slice, chunk: Chunk, shift: int) -> None:
    """Put one chunk's columns into rows ``sl`` (raw offsets moved by ``shift``)."""
    c = chunk.cols
    cols.id[sl] = c["id"]
    cols.image_id[sl] = c["image_id"]
    cols.category_id[sl] = c["category_id"]
    cols.bbox[sl] = c["bbox"]
    cols.area[sl] = c["area"]
    cols.seg_kind[sl] = c["seg_kind"]
    for name in OPTIONAL:
        vals = c.get(name)
        if vals is None:  # absent from the whole chunk
            if getattr(cols, name).strides[0]:  # a real column (some rows have it)
                getattr(cols, name)[sl] = DEFAULTS[name]
            continue
        setattr(cols, name, writable(getattr(cols, name)))
        getattr(cols, name)[sl] = vals
    raw.apply(sl, chunk, shift)


class _Builder:
    def __init__(self, path: Path, data: bytes, step: Callable[[float, str], None],
                 helper: Helper | None = None, on_images: ImagesReady | None = None) -> None:
        self.path = path
        self.data = data
        self.step = step
        #: a helper process that takes half the chunks (it reads the file itself)
        self.helper = helper
        #: told the images and categories as soon as they are indexed (a GUI shows them
        #: while the annotations are still to come; issue 18)
        self.on_images = on_images
        #: byte spans of the small top-level values (info, licenses), once known
        self.top_spans: dict[str, tuple[int, int]] = {}
        self.problems: list[Problem] = []

    def problem(self, sev: Severity, code: str, msg: str, loc: str = "",
                image_id: int | None = None, ann_id: int | None = None) -> None:
        self.problems.append(Problem(sev, code, msg, loc, str(self.path), image_id, ann_id))

    # ----- entry --------------------------------------------------------
    def build(self) -> FileIndex:
        first = _first_byte(self.data)
        if not first:
            raise CocoFormatError(self.path, "the file is empty", 0)
        if first == b"[":
            return self._build_list()
        if first != b"{":
            self._reject_top()
        try:
            doc = FAST_DECODER.decode(self.data)
        except msgspec.ValidationError as exc:
            raise self._shape_error(exc) from None
        except msgspec.DecodeError as exc:
            return self._build_python_json(exc)
        has_annotations = doc.annotations is not None
        if not has_annotations and not len(doc.images) and not len(doc.categories):
            raise CocoFormatError(self.path, NOT_COCO, 0)
        for key, raw in (("images", doc.images), ("categories", doc.categories)):
            if len(raw) and rawspan.first_byte(raw) not in (b"[", b"n"):
                off = int(rawspan.offsets([raw], self.data)[0])
                raise CocoFormatError(self.path, f"'{key}' must be a list, got "
                                      f"{_json_type(rawspan.first_byte(raw))}", off)
        release_pages(self.data, 0, len(self.data))  # the split pass touched every page
        spans = {k: raw for k, raw in (("info", doc.info), ("licenses", doc.licenses)) if len(raw)}
        top_spans = dict(zip(spans, zip(rawspan.offsets(list(spans.values()), self.data).tolist(),
                                        rawspan.lengths(list(spans.values())).tolist(),
                                        strict=True), strict=True))
        self.top_spans = top_spans
        fi = self._index(doc.annotations or [], doc.images, doc.categories, is_list=False)
        fi.top_spans = top_spans
        fi.has_categories_key = len(doc.categories) > 0
        if not has_annotations:
            fi.kind = "image_info"
        return fi

    def _shape_error(self, exc: msgspec.ValidationError) -> CocoFormatError:
        msg = str(exc)
        if "$.annotations" in msg:
            try:
                top = TOP_DECODER.decode(self.data)
            except msgspec.DecodeError as exc:
                return decode_error(self.path, exc, len(self.data))
            raw = top["annotations"]
            off = int(rawspan.offsets([raw], self.data)[0])
            return CocoFormatError(self.path, "'annotations' must be a list, got "
                                   f"{_json_type(rawspan.first_byte(raw))}", off)
        return CocoFormatError(self.path, f"not a COCO document: {msg}", 0)

    def _reject_top(self) -> None:
        head = bytes(self.data[:4])
        if head.startswith(b"\xef\xbb\xbf"):
            raise CocoFormatError(self.path, "the file starts with a UTF-8 byte-order mark, "
                                  "which JSON does not allow (save it as UTF-8 without BOM)", 0)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
            raise CocoFormatError(self.path, "the file is UTF-16 or UTF-32 text; COCO JSON "
                                  "must be UTF-8", 0)
        try:
            obj = msgspec.json.decode(self.data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError,
                RecursionError) as exc:
            try:
                obj = json.loads(bytes(self.data).decode("utf-8"))
            except (ValueError, RecursionError):
                raise decode_error(self.path, exc, len(self.data)) from None
        raise CocoFormatError(
            self.path, f"top-level value is {_json_type_of(obj)}, expected an object or a list", 0
        )

    def _build_python_json(self, exc: msgspec.DecodeError) -> FileIndex:
        """Python's json accepts NaN/Infinity literals (pycocotools does too): re-encode."""
        try:  # decoded as UTF-8 first: json.loads(bytes) would guess UTF-16/32 too
            obj = json.loads(bytes(self.data).decode("utf-8"))
        except (ValueError, RecursionError):
            raise decode_error(self.path, exc, len(self.data)) from None
        found: list[str] = []
        if isinstance(obj, dict):
            for key in ("images", "annotations", "categories"):
                if isinstance(obj.get(key), list):
                    found += _nonfinite_paths(obj[key], key)
        elif isinstance(obj, list):
            found += _nonfinite_paths(obj, "")
        # msgspec writes NaN/Infinity as null: those records then fail their types
        # and become problems through the ordinary per-record path.
        try:
            self.data = msgspec.json.encode(obj)
        except UnicodeEncodeError:  # a lone surrogate escape ("\ud800"): not Unicode text
            raise CocoFormatError(self.path, "not valid Unicode: the file escapes a lone "
                                  "UTF-16 surrogate (e.g. \\ud800)", None) from None
        self.helper = None  # it reads the file, and these are other bytes now
        self.on_images = None  # their offsets would be into the re-encoded bytes
        for where in found[:1000]:
            self.problem(Severity.ERROR, "non-finite-number",
                         "NaN or Infinity is not valid JSON (treated as missing)", where)
        if len(found) > 1000:
            self.problem(Severity.ERROR, "non-finite-number",
                         f"{len(found) - 1000} more NaN/Infinity values")
        self.problem(Severity.WARNING, "not-strict-json",
                     "the file is not strict JSON; records are shown as re-encoded")
        return self.build()

    def _build_list(self) -> FileIndex:
        """A bare top-level list: a results file."""
        try:
            raws = RAW_LIST_DECODER.decode(self.data)
        except msgspec.DecodeError as exc:
            return self._build_python_json(exc)
        n = len(raws)  # _index empties the list as it goes
        fi = self._index(raws, msgspec.Raw(), msgspec.Raw(), is_list=True)
        if n and not len(fi.anns.id) and not fi.captions:
            raise CocoFormatError(self.path, NOT_RESULTS, 0)
        fi.has_categories_key = False
        # results carry no ids: number them 1..n like pycocotools' loadRes
        no_id = fi.anns.id == MISSING_ID
        if no_id.any():
            fi.anns.id = writable(fi.anns.id)
            fi.anns.id[no_id] = fi.anns.ordinal[no_id] + 1
        return fi

    # ----- the index ----------------------------------------------------
    def _index(self, rec_raws: list[msgspec.Raw], images_raw: msgspec.Raw,
               cats_raw: msgspec.Raw, is_list: bool) -> FileIndex:
        data = self.data
        n = len(rec_raws)
        bounds = [(c, min(n, c + CHUNK)) for c in range(0, n, CHUNK)]
        # each chunk's byte span: from its first record's start to its last one's end
        firsts = [rec_raws[c] for c, _ in bounds]
        lasts = [rec_raws[e - 1] for _, e in bounds]
        spans = list(zip(rawspan.offsets(firsts, data).tolist(),
                         (rawspan.offsets(lasts, data) + rawspan.lengths(lasts)).tolist(),
                         strict=True))
        helper = self.helper
        if helper is not None and (len(bounds) < PARALLEL_MIN_CHUNKS or not helper.submit(
                Request(str(self.path), len(data), is_list,
                        [(i, *spans[i], e - c) for i, (c, e) in reversed(list(enumerate(bounds)))]
                        ))):
            helper = None
        # the helper is at work now: the images, and the spans of every record, meanwhile
        self.step(0.3, "indexing images")  # the splitting pass is ~a quarter of the work
        images = self._images(images_raw)
        categories = self._categories(cats_raw)
        if self.on_images is not None and not is_list and len(images):
            self.on_images(images, categories, self.top_spans)
        rec_off = np.empty(n, np.int64)
        rec_len = np.empty(n, np.int32)
        for c, e in bounds:  # piecewise: whole-array temporaries cost ~1 GB at 20 M records
            rec_off[c:e] = rawspan.offsets(rec_raws[c:e], data)
            rec_len[c:e] = rawspan.lengths(rec_raws[c:e])
        rec_raws.clear()  # the spans are all the records' Raw values were needed for
        del firsts, lasts
        cols = AnnColumns.lean(n)
        cols.ordinal = np.arange(n, dtype=np.int64)
        raw = _RawFields(n)
        exact: dict[str, np.ndarray] | None = {
            "bbox64": np.empty((n, 4)), "area64": np.empty(n), "crowd": np.zeros(n, bool)}
        keep = np.ones(n, bool)
        mv = memoryview(data)
        chunk_problems: dict[int, list[Problem]] = {}

        def apply(i: int, chunk: Chunk | None) -> None:
            nonlocal exact
            c, e = bounds[i]
            start, _ = spans[i]
            if chunk is not None and exact is not None:
                for name, arr in exact.items():
                    got = chunk.get(name)
                    if got is not None:
                        arr[c:e] = got
            if chunk is None:  # some record needs the per-record path
                exact = None  # lenient values: the evaluation decodes the file itself
                buf = wrap(mv[start : spans[i][1]])
                mark = len(self.problems)
                chunk = self._salvage_chunk(buf, c, keep[c:e], is_list)
                # kept aside: chunks arrive out of order, problems are listed in file order
                chunk_problems[i] = self.problems[mark:]
                del self.problems[mark:]
            # between two elements of a JSON array there is only a comma and white
            # space, so a chunk is its records' bytes plus brackets: offsets shift by one
            _apply(cols, raw, slice(c, e), chunk, start - 1)

        applied = np.zeros(len(bounds), bool)

        def progress() -> None:
            self.step(0.3 + 0.55 * float(applied.mean()) if len(bounds) else 0.3,
                      "indexing annotations")

        def own(i: int) -> None:
            start, end = spans[i]
            c, e = bounds[i]
            apply(i, decode_chunk(wrap(mv[start:end]), e - c, is_list))
            release_pages(data, start, end)
            applied[i] = True

        from_helper = 0

        def collect(results: list[Result]) -> None:
            nonlocal from_helper
            for r in results:
                if not applied[r.index]:
                    apply(r.index, r.chunk)
                    applied[r.index] = True
                    from_helper += 1

        # this process works from the front, the helper from the back (if there is one)
        for i in range(len(bounds)):
            if helper is not None:
                collect(helper.take())
                if i in helper.claimed and not helper.done:
                    break  # from here on the chunks are the helper's
            if not applied[i]:
                progress()
                own(i)
        while helper is not None and not applied.all() and not helper.done:
            progress()  # also where a cancel is noticed
            collect(helper.take(0.05))
        for i in np.flatnonzero(~applied).tolist():  # the helper failed: do them here
            progress()
            own(i)
        mv.release()
        for i in sorted(chunk_problems):
            self.problems += chunk_problems[i]
        cols.seg_off = raw.off["segmentation"]
        cols.seg_len = raw.len["segmentation"].astype(np.int32, copy=False)
        cols.kp_off = raw.off["keypoints"]
        cols.kp_len = raw.len["keypoints"].astype(np.int32, copy=False)
        fi = FileIndex(path=self.path, data=data, kind="instances", images=images,
                       anns=cols, categories=categories, problems=self.problems,
                       ann_rec_off=rec_off, ann_rec_len=rec_len, is_list=is_list,
                       helper_chunks=from_helper)
        self._special_kinds(fi, raw, keep)
        if exact is not None and fi.kind not in ("panoptic", "captions"):
            fi.exact = exact
        if not keep.all():
            fi.anns = fi.anns.take(np.flatnonzero(keep[fi.anns.ordinal]))
        self.step(0.9, "indexed")
        return fi

    def _salvage_chunk(self, buf: bytes, base: int, keep: np.ndarray, is_list: bool) -> Chunk:
        """A chunk record by record; records that cannot be placed are marked in ``keep``."""
        structs = self._salvage(RAW_LIST_DECODER.decode(buf), base, is_list)
        keep[:] = [s is not None for s in structs]
        return from_structs([s if s is not None else AnnRec(id=0, image_id=0)
                             for s in structs], buf)

    def _salvage(self, raws: list[msgspec.Raw], base: int, is_list: bool) -> list[AnnRec | None]:
        """Record by record: typed where possible, lenient where not; problems for the rest."""
        out: list[AnnRec | None] = []
        for k, raw in enumerate(raws):
            i = base + k
            try:
                rec = ANN_DECODER.decode(raw)
                ids_ok = all(-(2**63) <= v < 2**63 for v in (rec.id, rec.image_id,
                                                             rec.category_id)) \
                    and rec.iscrowd in (0, 1) and -1 <= rec.num_keypoints < 2**31
                if ids_ok and rec.image_id != MISSING_ID and (
                        rec.id != MISSING_ID or is_list or len(rec.segments_info)):
                    out.append(rec)
                    continue
            except (msgspec.ValidationError, RecursionError):
                pass
            try:
                obj = decode_value(raw)
            except (UndecodableValue, RecursionError) as exc:
                loc = f"annotations[{i}]" if not is_list else f"[{i}]"
                why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                self.problem(Severity.ERROR, "record-skipped", f"annotation left out: {why}",
                             loc)
                out.append(None)
                continue
            pan = isinstance(obj, dict) and isinstance(obj.get("segments_info"), list)
            sal = lenient_annotation(obj, require_id=not (is_list or pan),
                                     require_category=False)
            aid = sal.values.get("id", MISSING_ID)
            loc = f"annotations[{i}]" if not is_list else f"[{i}]"
            if aid != MISSING_ID:
                loc += f" (id {aid})"
            for err in sal.errors:
                self.problem(Severity.ERROR, "bad-record", err, loc,
                             ann_id=aid if aid != MISSING_ID else None)
            if not sal.usable:
                self.problem(Severity.ERROR, "record-skipped",
                             "annotation left out: it cannot be placed on an image", loc)
                out.append(None)
                continue
            v = sal.values
            rf = RAW_FIELDS_DECODER.decode(raw)  # Raw values pointing into the file
            kp = obj.get("keypoints")
            kp_ok = isinstance(kp, list) and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in kp)
            empty = msgspec.Raw()
            out.append(AnnRec(
                id=v["id"], image_id=v["image_id"], category_id=v["category_id"],
                bbox=v["bbox"], area=v["area"], iscrowd=v["iscrowd"],
                num_keypoints=v["num_keypoints"], score=v["score"],
                segmentation=rf.segmentation if isinstance(obj.get("segmentation"),
                                                           (list, dict)) else empty,
                keypoints=rf.keypoints if kp_ok else empty,
                caption=rf.caption if isinstance(obj.get("caption"), str) else empty,
                segments_info=rf.segments_info if pan else empty,
            ))
        return out

    def _images(self, raw: msgspec.Raw) -> ImageColumns:
        if len(raw) == 0 or rawspan.is_null(raw):
            e = np.empty(0, np.int64)
            return ImageColumns(e, e.astype(np.int32), e.astype(np.int32), [], e, e, e)
        raws = RAW_LIST_DECODER.decode(raw)
        recs: list[ImageRec] = []
        keep: list[int] = []
        try:
            recs = IMAGE_LIST_DECODER.decode(raw)
            if any(r.id == MISSING_ID or not -(2**63) < r.id < 2**63
                   or not -1 <= r.width < 2**31 or not -1 <= r.height < 2**31 for r in recs):
                raise msgspec.ValidationError("missing id or a size beyond 32 bits")
            keep = list(range(len(recs)))
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            recs, keep = [], []  # record by record: a bad one is a problem, not the end
            for i, r in enumerate(raws):
                loc = f"images[{i}]"
                try:
                    sal = lenient_image(decode_value(r))
                except UndecodableValue as exc:
                    self.problem(Severity.ERROR, "record-skipped", f"image left out: {exc}", loc)
                    continue
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
        k = np.asarray(keep, np.int64)
        return ImageColumns(
            id=np.fromiter(map(attrgetter("id"), recs), np.int64, n),
            width=np.fromiter(map(attrgetter("width"), recs), np.int64, n).astype(np.int32),
            height=np.fromiter(map(attrgetter("height"), recs), np.int64, n).astype(np.int32),
            file_name=list(map(attrgetter("file_name"), recs)),
            rec_off=rawspan.offsets(raws, self.data)[k], rec_len=rawspan.lengths(raws)[k],
            ordinal=k,
        )

    def _categories(self, raw: msgspec.Raw) -> list[dict[str, Any]]:
        if len(raw) == 0 or rawspan.is_null(raw):
            return []
        cats: list[dict[str, Any]] = []
        try:
            decoded = decode_value(raw)
        except UndecodableValue as exc:
            self.problem(Severity.ERROR, "bad-category", f"categories cannot be read: {exc}",
                         "categories")
            return []
        if not isinstance(decoded, list):
            return []
        for i, c in enumerate(decoded):
            cid = c.get("id") if isinstance(c, dict) else None
            if not isinstance(cid, int) or isinstance(cid, bool) or not -(2**63) < cid < 2**63:
                self.problem(Severity.ERROR, "bad-category",
                             "category left out: it needs an integer 'id'", f"categories[{i}]")
                continue
            cats.append(c)
        return cats

    # ----- kinds of file ------------------------------------------------
    def _special_kinds(self, fi: FileIndex, raw: _RawFields, keep: np.ndarray) -> None:
        """Captions, panoptic, keypoints, results, labels: decided from what records hold."""
        cap = (raw.len["caption"] > 0) & keep
        pan = (raw.len["segments_info"] > 0) & keep
        if cap.any():
            fi.kind = "captions"
            fi.caption_ordinals = np.flatnonzero(cap)
            fi.caption_image_ids = fi.anns.image_id[fi.caption_ordinals].copy()
            for i in np.flatnonzero(cap).tolist():
                off, n = int(raw.off["caption"][i]), int(raw.len["caption"][i])
                try:
                    text = decode_value(self.data[off : off + n])
                except UndecodableValue:
                    continue
                fi.captions.setdefault(int(fi.anns.image_id[i]), []).append(text)
            keep &= ~cap
        elif pan.any():
            fi.kind = "panoptic"
            fi.anns = self._panoptic_segments(fi, raw, np.flatnonzero(pan))
            return  # segments' ordinals point at kept records
        elif (fi.anns.kp_off[keep] >= 0).any():
            fi.kind = "keypoints"
        elif fi.is_list:
            fi.kind = "results"
        elif keep.any() and (fi.anns.seg_kind[keep] == SEG_NONE).all() and np.isnan(
                fi.anns.bbox[keep]).all():
            fi.kind = "labels"
        if fi.kind != "captions":
            missing = keep & (fi.anns.category_id == MISSING_ID)
            for j in np.flatnonzero(missing)[:1000].tolist():
                self.problem(Severity.ERROR, "missing-key", "missing required key 'category_id'",
                             f"annotations[{j}] (id {int(fi.anns.id[j])})",
                             ann_id=int(fi.anns.id[j]))

    def _panoptic_segments(self, fi: FileIndex, raw: _RawFields,
                           rows: np.ndarray) -> AnnColumns:
        """Flatten ``segments_info`` so each segment is one row, like an annotation."""
        out: list[tuple[int, int, int, tuple[float, ...], float, int, int, int]] = []
        for ordinal in rows.tolist():
            image_id = int(fi.anns.image_id[ordinal])
            rec = fi.record(ordinal)
            png = rec.get("file_name", "") if isinstance(rec, dict) else ""
            fi.panoptic_png[ordinal] = png if isinstance(png, str) else ""
            segs = rec.get("segments_info") if isinstance(rec, dict) else None
            if not isinstance(segs, list):
                self.problem(Severity.ERROR, "bad-record", "'segments_info' must be a list",
                             f"annotations[{ordinal}]", image_id=image_id)
                continue
            for k, seg in enumerate(segs):
                loc = f"annotations[{ordinal}].segments_info[{k}]"
                if not isinstance(seg, dict):
                    self.problem(Severity.ERROR, "bad-record", "segment must be an object", loc)
                    continue
                sal = lenient_annotation({**seg, "image_id": image_id})
                for err in sal.errors:
                    self.problem(Severity.ERROR, "bad-record", err, loc, image_id=image_id)
                if not sal.usable:
                    continue
                v = sal.values
                out.append((v["id"], image_id, v["category_id"], v["bbox"], v["area"],
                            v["iscrowd"], ordinal, k))
        n = len(out)
        cols = AnnColumns.empty(n)
        if n:
            cols.id = np.array([r[0] for r in out], np.int64)
            cols.image_id = np.array([r[1] for r in out], np.int64)
            cols.category_id = np.array([r[2] for r in out], np.int64)
            cols.bbox = np.array([r[3] for r in out], np.float32).reshape(n, 4)
            cols.area = np.array([r[4] for r in out], np.float32)
            cols.iscrowd = np.array([r[5] for r in out], np.int8)
            cols.ordinal = np.array([r[6] for r in out], np.int64)
            cols.seg_off = np.array([r[7] for r in out], np.int64)  # index in segments_info
        cols.num_keypoints = constant(n, -1, np.int32)
        cols.score = constant(n, np.nan, np.float32)
        cols.kp_off = constant(n, -1, np.int64)
        cols.kp_len = constant(n, 0, np.int32)
        cols.seg_kind[:] = SEG_PANOPTIC
        return cols


#: nesting the loader reports as too deep (msgspec gives up a little beyond it)
MAX_DEPTH = 900


def _too_deep_at(data: Any, block: int = 1 << 26) -> int | None:
    """The byte where the nesting first exceeds :data:`MAX_DEPTH` (brackets inside
    strings are counted too: good enough to point at the place)."""
    depth = 0
    for start in range(0, len(data), block):
        b = np.frombuffer(data[start : start + block], np.uint8)
        step = np.zeros(len(b), np.int64)
        step[(b == ord("[")) | (b == ord("{"))] = 1
        step[(b == ord("]")) | (b == ord("}"))] = -1
        levels = depth + np.cumsum(step)
        over = np.flatnonzero(levels > MAX_DEPTH)
        if len(over):
            return start + int(over[0])
        depth = int(levels[-1]) if len(levels) else depth
    return None


def _first_byte(data: Any) -> bytes:
    """The first byte that is not white space (b"" if there is none), without a copy."""
    n = len(data)
    pos = 0
    while pos < n:
        block = bytes(data[pos : pos + 4096])
        stripped = block.lstrip()
        if stripped:
            return stripped[:1]
        pos += 4096
    return b""


def _json_type_of(obj: object) -> str:
    """JSON's word for a decoded value (never a Python type name such as NoneType)."""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, (int, float)):
        return "a number"
    if isinstance(obj, str):
        return "a string"
    return "a list" if isinstance(obj, list) else "an object"


def _json_type(first: bytes) -> str:
    return {b"{": "an object", b"[": "a list", b'"': "a string", b"t": "a boolean",
            b"f": "a boolean", b"n": "null"}.get(first, "a number")
