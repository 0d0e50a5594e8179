"""Hypothesis strategies for fuzzing the loader: small valid COCO documents and their damage.

A document is built as a Python tree, mutated (keys deleted, values replaced by
hostile ones at any level, keys repeated, geometry broken) and written by
:func:`encode`, which — unlike ``json.dumps`` — can repeat a key, write
``NaN``/``Infinity`` and put arbitrary bytes (invalid JSON, invalid UTF-8,
100,000 levels of ``[``) where a value belongs.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from hypothesis import strategies as st

from cocoview.model.rle import counts_to_string

KINDS = ("instances", "instances", "instances", "keypoints", "captions", "panoptic", "results")
#: the first image's file exists (a real PNG written by the tests): checks and render read it
REAL_IMAGE = "a.png"
REAL_SIZE = (12, 9)

Path_ = tuple[Any, ...]  # keys (dict), indices (list, Pairs) from the root


class Tok:
    """Bytes written as they are where a value belongs (may be invalid JSON)."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        r = self.raw
        if len(r) > 60:
            return f"Tok({r[:30]!r}...{r[-10:]!r}, {len(r)} bytes)"
        return f"Tok({r!r})"


class Pairs:
    """A JSON object that may repeat a key (json.dumps cannot write one)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs

    def __repr__(self) -> str:
        return f"Pairs({self.pairs!r})"


# ----- writing ----------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    ensure_ascii: bool = True
    item_sep: bytes = b","
    key_sep: bytes = b":"


def encode(obj: Any, layout: Layout | None = None) -> bytes:
    out: list[bytes] = []
    _write(obj, layout or Layout(), out)
    return b"".join(out)


def _scalar(v: Any, layout: Layout) -> bytes:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=layout.ensure_ascii).encode("utf-8", "surrogatepass")
    # bool before int; floats: NaN/Infinity as Python writes them (pycocotools reads them)
    return json.dumps(v).encode()


def _write(v: Any, layout: Layout, out: list[bytes]) -> None:
    if isinstance(v, Tok):
        out.append(v.raw)
    elif isinstance(v, (dict, Pairs)):
        items = v.pairs if isinstance(v, Pairs) else list(v.items())
        out.append(b"{")
        for k, (key, x) in enumerate(items):
            if k:
                out.append(layout.item_sep)
            out.append(_scalar(key, layout))
            out.append(layout.key_sep)
            _write(x, layout, out)
        out.append(b"}")
    elif isinstance(v, list):
        out.append(b"[")
        for k, x in enumerate(v):
            if k:
                out.append(layout.item_sep)
            _write(x, layout, out)
        out.append(b"]")
    else:
        out.append(_scalar(v, layout))


LAYOUTS = st.builds(
    Layout,
    ensure_ascii=st.booleans(),
    item_sep=st.sampled_from([b",", b", ", b",\n  ", b"\t,\r\n"]),
    key_sep=st.sampled_from([b":", b": ", b" :\n"]),
)


# ----- hostile values -----------------------------------------------------------------
BIG_INTS = [2**31 - 1, 2**31, 2**32 + 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64 + 5, -(2**63),
            -(2**63) - 1, -(2**63) + 1, 10**30, -(10**30), 10**400]
FLOATS = [0.5, -0.0, 1e308, -1e308, 5e-324, 1.5, 1e-7, float("nan"), float("inf"),
          float("-inf")]
NUMBERS: list[Any] = [0, -1, 1, *BIG_INTS, *FLOATS]
NUMBER_TOKENS = [b"1e999", b"-1e999", b"1E400", b"-0", b"0.0000000000000000000000000001",
                 b"123456789012345678901234567890.5", b"1" + b"0" * 5000, b"-" + b"9" * 400,
                 b"NaN", b"-Infinity"]
BROKEN = [b"", b"[1,", b"tru", b'"unterminated', b'"a\x01b"', b'"\xff\xfe"',
          b'"\xed\xa0\x80"', b'"\\ud800"', b'"\\u0000"', b"{,}", b"[,]", b"01", b"+1",
          b"'x'", b"\x00", b'"\\x"', b"[1 2]"]
SPECIAL_STRINGS = ["", " ", "\x00", "a\nb", "\u2028", "\ufeff", "\u202eabc", "😀" * 3,
                   "名前", "../x.json", "/", ".", "C:\\x", "a" * 300, "\\u0000", '"}]{["']


STRINGS: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(SPECIAL_STRINGS),
    st.text(st.characters(codec="utf-8"), max_size=24),
    st.integers(1_000, 100_000).map(lambda n: "x" * n),
    st.integers(1_000, 50_000).map(lambda n: "é\x01😀" * n),
)
_DEPTH = st.one_of(st.integers(1, 3_000), st.just(100_000))
DEEP_NESTING: st.SearchStrategy[Tok] = st.one_of(
    _DEPTH.map(lambda n: Tok(b"[" * n + b"]" * n)),
    _DEPTH.map(lambda n: Tok(b'{"a":' * n + b"1" + b"}" * n)),
    _DEPTH.map(lambda n: Tok(b"[" * n)),  # never closed
    _DEPTH.map(lambda n: Tok(b"[{" * n)),
)
NUMBERS_ST: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(NUMBER_TOKENS).map(Tok),
    st.integers(),
    st.floats(),
)
#: anything, of any type, where a value of some other type (or size) belongs
HOSTILE: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from([None, True, False]),
    NUMBERS_ST,
    STRINGS,
    st.sampled_from([[], {}, [[]], [None], {"": None}, [1, 2, 3], [1, 2, 3, 4, 5],
                     {"size": [1, 1]}, ["a", "b"]]).map(copy.deepcopy),
    st.lists(st.floats(-1e3, 1e3) | st.integers(-(2**70), 2**70), max_size=9),
    DEEP_NESTING,
    st.sampled_from(BROKEN).map(Tok),
)


# ----- valid documents ------------------------------------------------------------------
@cache
def _coord(limit: int) -> st.SearchStrategy[float]:
    return st.integers(0, limit * 10).map(lambda v: v / 10)


@cache
def _polygons(w: int, h: int) -> st.SearchStrategy[list[list[float]]]:
    point = st.tuples(_coord(w), _coord(h))
    part = st.lists(point, min_size=3, max_size=6).map(lambda ps: [c for p in ps for c in p])
    return st.lists(part, min_size=1, max_size=2)


def _runs(total: int, cuts: list[int]) -> list[int]:
    """Valid uncompressed counts: runs that sum to ``total``."""
    edges = [0, *sorted(cuts), total]
    return [b - a for a, b in itertools.pairwise(edges)]


def _compressed(counts: list[int]) -> str:
    return counts_to_string(np.asarray(counts, np.int64))


@cache
def _rles(h: int, w: int) -> st.SearchStrategy[dict[str, Any]]:
    counts = st.lists(st.integers(0, h * w), max_size=6).map(lambda c: _runs(h * w, c))
    return st.one_of(counts.map(lambda c: {"size": [h, w], "counts": c}),
                     counts.map(lambda c: {"size": [h, w], "counts": _compressed(c)}))


def _with_size(value: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(st.integers(0, 20), st.integers(0, 20)).map(
        lambda hw: {"size": list(hw), "counts": copy.deepcopy(value)})


_ODD = st.lists(st.floats(-5, 30, allow_nan=False), min_size=1, max_size=13)
_COUNTS = st.lists(st.integers(-(2**40), 2**40) | st.integers(-5, 50), max_size=8)
#: segmentations pycocotools mishandles or that are simply wrong
BAD_GEOMETRY: st.SearchStrategy[Any] = st.one_of(
    st.lists(_ODD, min_size=0, max_size=3),  # odd counts, too few points
    st.lists(st.lists(st.sampled_from([1.0, 2.0, float("nan"), float("inf")]),
                      min_size=6, max_size=8), min_size=1, max_size=2),
    _ODD,  # a flat list of numbers
    st.sampled_from([[[1, 2, 3, 4]], [[]], []]),  # 4 numbers: pycocotools reads a box
    _COUNTS.flatmap(_with_size),  # negative counts, or not summing to h·w
    st.sampled_from([[2**31 - 1, 2**31 - 1], [100_000, 100_000], [-1, 5], [0, 0],
                     [1.5, 2], ["1", "2"], [3], [2**63, 1]])
    .map(lambda s: {"size": s, "counts": [1, 2]}),
    st.text(st.characters(min_codepoint=32, max_codepoint=130), max_size=12)
    .flatmap(_with_size),  # corrupt compressed counts
    st.sampled_from([{"counts": [1]}, {"size": [4, 4]}, {}, {"size": [4, 4], "counts": None}])
    .map(copy.deepcopy),
    HOSTILE,
)


@dataclass
class Doc:
    """A document tree, how it was damaged, and how it is written."""

    kind: str
    tree: Any
    log: list[str] = field(default_factory=list)
    layout: Layout = Layout()

    def to_bytes(self) -> bytes:
        return encode(self.tree, self.layout)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis prints this, short
        p.text(repr(self))

    def __repr__(self) -> str:
        text = self.to_bytes()
        shown = text if len(text) <= 1500 else text[:1000] + b" ... " + text[-300:]
        return (f"Doc(kind={self.kind!r}, {len(text)} bytes, mutations={self.log!r},\n"
                f"    text={shown!r})")


@st.composite
def coco_documents(draw: st.DrawFn, min_anns: int = 0, max_anns: int = 6,
                   kinds: tuple[str, ...] = KINDS) -> Doc:
    """A small valid COCO document of one kind (instances, keypoints, captions, ...)."""
    kind = draw(st.sampled_from(kinds))
    n_img = draw(st.integers(1, 3))
    ids = draw(st.lists(st.integers(1, 40) | st.sampled_from([4294967297, 2**62]),
                        min_size=n_img, max_size=n_img, unique=True))
    images: list[dict[str, Any]] = []
    for k, iid in enumerate(ids):
        if k == 0:  # the real image's size
            images.append({"id": iid, "file_name": REAL_IMAGE, "width": REAL_SIZE[0],
                           "height": REAL_SIZE[1], "license": 1})
            continue
        images.append({"id": iid, "file_name": f"sub/img{k}.jpg",
                       "width": draw(st.integers(1, 48)), "height": draw(st.integers(1, 48)),
                       "license": 1})
    n_cat = draw(st.integers(1, 3))
    cats: list[dict[str, Any]] = [{"id": c, "name": f"cat{c}", "supercategory": "thing"}
                                  for c in range(1, n_cat + 1)]
    if kind == "keypoints":
        cats[0]["keypoints"] = ["nose", "left_eye", "right_eye"]
        cats[0]["skeleton"] = [[1, 2], [1, 3]]
    if kind == "panoptic":
        for c in cats:
            c["isthing"] = c["id"] % 2
            c["color"] = [(40 * c["id"]) % 256, 100, 200]
    anns = []
    n_ann = draw(st.integers(min_anns, max_anns))
    for i in range(n_ann):
        img = draw(st.sampled_from(images))
        w, h = img["width"], img["height"]
        cid = draw(st.integers(1, n_cat))
        x, y = draw(_coord(w)), draw(_coord(h))
        bbox = [x, y, draw(_coord(w)), draw(_coord(h))]
        a: dict[str, Any] = {"id": 1000 + i, "image_id": img["id"], "category_id": cid}
        if kind == "captions":
            anns.append({"id": 1000 + i, "image_id": img["id"],
                         "caption": draw(st.sampled_from(["A cat.", "Two dogs on a sofa."]))})
            continue
        if kind == "panoptic":
            segs = [{"id": 1 + j + 5 * i, "category_id": draw(st.integers(1, n_cat)),
                     "bbox": bbox, "area": draw(st.integers(0, 100)), "iscrowd": 0}
                    for j in range(draw(st.integers(0, 3)))]
            anns.append({"image_id": img["id"], "file_name": f"{i}.png", "segments_info": segs})
            continue
        crowd = draw(st.integers(0, 4)) == 0
        seg_kind = "rle" if crowd else draw(st.sampled_from(["poly", "poly", "rle", "none",
                                                             "empty"]))
        a.update({"bbox": bbox, "area": draw(st.integers(0, w * h)), "iscrowd": int(crowd)})
        if seg_kind == "poly":
            a["segmentation"] = draw(_polygons(w, h))
        elif seg_kind == "rle":
            a["segmentation"] = draw(_rles(h, w))
        elif seg_kind == "empty":
            a["segmentation"] = []
        if kind == "keypoints" and cid == 1:
            kp: list[float] = []
            for _ in range(3):
                kp += [draw(_coord(w)), draw(_coord(h)), draw(st.integers(0, 2))]
            a["keypoints"] = kp
            a["num_keypoints"] = sum(1 for v in kp[2::3] if v > 0)
        if kind == "results":
            del a["id"]
            a["score"] = draw(st.floats(0, 1))
        anns.append(a)
    if kind == "results":
        return Doc(kind, anns)
    tree = {"info": {"description": "fuzz", "year": 2026},
            "licenses": [{"id": 1, "name": "CC BY", "url": "http://x"}],
            "images": images, "annotations": anns, "categories": cats}
    return Doc(kind, tree)


# ----- damage ---------------------------------------------------------------------------
def _paths(tree: Any) -> Iterator[Path_]:
    """Every value's path (lists of numbers: only the list, its first and last element)."""
    stack: list[tuple[Any, Path_]] = [(tree, ())]
    while stack:
        v, p = stack.pop()
        yield p
        if isinstance(v, dict):
            stack.extend((x, (*p, k)) for k, x in v.items())
        elif isinstance(v, list):
            if v and all(isinstance(x, (int, float)) for x in v):
                stack.extend((v[i], (*p, i)) for i in sorted({0, len(v) - 1}))
            else:
                stack.extend((x, (*p, i)) for i, x in enumerate(v))


def _get(tree: Any, path: Path_) -> Any:
    for k in path:
        tree = tree[k]
    return tree


def _set(tree: Any, path: Path_, value: Any) -> Any:
    """``tree`` with the value at ``path`` replaced (a new root if ``path`` is empty)."""
    if not path:
        return value
    _get(tree, path[:-1])[path[-1]] = value
    return tree


def _show(path: Path_) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path) or "<root>"


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 70 else s[:55] + f"...({len(s)} chars)"


COCO_KEYS = ["id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation",
             "keypoints", "num_keypoints", "score", "caption", "segments_info", "file_name",
             "width", "height", "name", "supercategory", "skeleton", "images", "annotations",
             "categories", "info", "licenses", "size", "counts", "license", "color", "isthing"]
KEYS = st.sampled_from(COCO_KEYS) | STRINGS
MUTATIONS = ("delete", "replace", "replace", "add", "number", "number", "geometry", "string",
             "duplicate")


@st.composite
def mutated_documents(draw: st.DrawFn, base: st.SearchStrategy[Doc] | None = None,
                      max_mutations: int = 4) -> Doc:
    """A valid document with 1..``max_mutations`` pieces of damage, each logged."""
    doc = draw(base if base is not None else coco_documents())
    tree = copy.deepcopy(doc.tree)
    log: list[str] = []
    kinds = sorted(draw(st.lists(st.sampled_from(MUTATIONS), min_size=1,
                                 max_size=max_mutations)),
                   key=lambda m: m == "duplicate")  # keys repeated last: Pairs are leaves
    for kind in kinds:
        paths = list(_paths(tree))  # Pairs and Tok are leaves: never inside one
        dict_paths = [p for p in paths if isinstance(_get(tree, p), dict)]
        if kind == "delete":
            inner = [p for p in paths if p]
            if not inner:
                continue
            p = draw(st.sampled_from(inner))
            parent = _get(tree, p[:-1])
            del parent[p[-1]]
            log.append(f"delete {_show(p)}")
        elif kind == "replace":
            p = draw(st.sampled_from(paths))
            v = draw(HOSTILE)
            tree = _set(tree, p, v)
            log.append(f"{_show(p)} = {_short(v)}")
        elif kind == "add":
            if not dict_paths:
                continue
            p = draw(st.sampled_from(dict_paths))
            key = draw(KEYS)
            v = draw(HOSTILE)
            _get(tree, p)[key] = v
            log.append(f"{_show(p)}[{key!r:.40}] = {_short(v)}")
        elif kind == "number":
            num = [p for p in paths if isinstance(_get(tree, p), (int, float))]
            if not num:
                continue
            p = draw(st.sampled_from(num))
            v = draw(NUMBERS_ST)
            tree = _set(tree, p, v)
            log.append(f"{_show(p)} = {_short(v)}")
        elif kind == "geometry":
            owners = [p for p in dict_paths if "image_id" in _get(tree, p)
                      or "segmentation" in _get(tree, p)]
            if not owners:
                continue
            p = draw(st.sampled_from(owners))
            v = draw(BAD_GEOMETRY)
            _get(tree, p)["segmentation"] = v
            log.append(f"{_show(p)}.segmentation = {_short(v)}")
        elif kind == "string":
            strs = [p for p in paths if isinstance(_get(tree, p), str)]
            if not strs:
                continue
            p = draw(st.sampled_from(strs))
            v = draw(STRINGS)
            tree = _set(tree, p, v)
            log.append(f"{_show(p)} = {_short(v)}")
        elif kind == "duplicate":
            owners = [p for p in dict_paths if _get(tree, p)]
            if not owners:
                continue
            p = draw(st.sampled_from(owners))
            obj = _get(tree, p)
            key = draw(st.sampled_from(sorted(obj)))
            v = draw(st.just(obj[key]) | HOSTILE)
            pairs = list(obj.items())
            at = draw(st.integers(0, len(pairs)))
            pairs.insert(at, (key, copy.deepcopy(v)))
            tree = _set(tree, p, Pairs(pairs))
            log.append(f"{_show(p)}: key {key!r} twice, other value {_short(v)}")
    return Doc(doc.kind, tree, log, draw(LAYOUTS))


@dataclass
class Damaged:
    """The bytes of a valid document after truncation or byte flips."""

    data: bytes
    what: str

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def __repr__(self) -> str:
        return f"Damaged({self.what}, data={self.data[:1500]!r})"


@st.composite
def damaged_documents(draw: st.DrawFn) -> Damaged:
    """A valid document's bytes cut short, or with 1..3 bytes replaced / bits flipped."""
    doc = draw(coco_documents())
    data = bytearray(doc.to_bytes())
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data) - 1))
        return Damaged(bytes(data[:cut]), f"{doc.kind}, {len(data)} bytes cut at {cut}")
    done = []
    for _ in range(draw(st.integers(1, 3))):
        off = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            new = data[off] ^ (1 << draw(st.integers(0, 7)))
        else:
            new = draw(st.integers(0, 255))
        done.append(f"[{off}] {data[off]:#04x}->{new:#04x}")
        data[off] = new
    return Damaged(bytes(data), f"{doc.kind}, bytes changed: {', '.join(done)}")
