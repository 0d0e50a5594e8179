"""Synthetic COCO-format annotation files at any scale.

The generator imitates the shape of the real files (COCO 2017 instances and
person keypoints, LVIS v1, Objects365) so that the loader, the benchmarks and
the GUI can be exercised on realistic data without downloading anything:

* top-level keys in COCO order, ``images`` before ``annotations``;
* the 80 official categories with their non-contiguous ids 1–90 and a
  long-tailed instance distribution (person ≈ 30 %);
* polygons with two decimals (≈ 5 % multi-part), ``bbox`` equal to the
  polygon extent and ``area`` equal to the exact shoelace area;
* ≈ 1 % crowd annotations as *uncompressed* RLE whose counts sum to h·w, with
  ids of the official ``900000000000 + category·10⁸ + image_id`` form
  (``900100xxxxxx`` for person, above 2³²);
* annotations in random image order, so a loader cannot rely on sorting;
* a writing style (:data:`STYLES`: COCO's compact two-decimal form, a CVAT-like
  one, a pretty-printed full-precision dump) that changes key order, whitespace,
  number forms, polygon density and extra fields, not the statistics.

Output is streamed chunk by chunk (``msgspec`` encodes each chunk), so memory
stays bounded even for the 20-million-annotation ``objects365`` preset. The
result is deterministic for a given seed. A path ending in ``.gz`` is written
gzip-compressed.

This module is pure Python + numpy + msgspec (never Qt) and has no
package-relative imports, so benchmarks can load it straight from its file.

CLI::

    python -m cocoview.testing.synth PRESET OUT.json [--seed N]
    python -m cocoview.testing.synth OUT.json --images N --annotations N [--keypoints]
        [--boxes-only] [--categories N] [--seed N]
"""

from __future__ import annotations

import argparse
import gzip
import math
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import numpy as np

__all__ = [
    "COCO_CATEGORIES",
    "KEYPOINT_NAMES",
    "PRESETS",
    "SKELETON",
    "STYLES",
    "Style",
    "generate_coco",
    "generate_preset",
    "generate_results",
    "main",
]

ProgressFn = Callable[[str, int, int], None]
"""``progress(stage, done, total)`` with stage ``"images"`` or ``"annotations"``."""

# (id, name, supercategory) of the 80 official COCO 2017 categories.
COCO_CATEGORIES: tuple[tuple[int, str, str], ...] = (
    (1, "person", "person"),
    (2, "bicycle", "vehicle"),
    (3, "car", "vehicle"),
    (4, "motorcycle", "vehicle"),
    (5, "airplane", "vehicle"),
    (6, "bus", "vehicle"),
    (7, "train", "vehicle"),
    (8, "truck", "vehicle"),
    (9, "boat", "vehicle"),
    (10, "traffic light", "outdoor"),
    (11, "fire hydrant", "outdoor"),
    (13, "stop sign", "outdoor"),
    (14, "parking meter", "outdoor"),
    (15, "bench", "outdoor"),
    (16, "bird", "animal"),
    (17, "cat", "animal"),
    (18, "dog", "animal"),
    (19, "horse", "animal"),
    (20, "sheep", "animal"),
    (21, "cow", "animal"),
    (22, "elephant", "animal"),
    (23, "bear", "animal"),
    (24, "zebra", "animal"),
    (25, "giraffe", "animal"),
    (27, "backpack", "accessory"),
    (28, "umbrella", "accessory"),
    (31, "handbag", "accessory"),
    (32, "tie", "accessory"),
    (33, "suitcase", "accessory"),
    (34, "frisbee", "sports"),
    (35, "skis", "sports"),
    (36, "snowboard", "sports"),
    (37, "sports ball", "sports"),
    (38, "kite", "sports"),
    (39, "baseball bat", "sports"),
    (40, "baseball glove", "sports"),
    (41, "skateboard", "sports"),
    (42, "surfboard", "sports"),
    (43, "tennis racket", "sports"),
    (44, "bottle", "kitchen"),
    (46, "wine glass", "kitchen"),
    (47, "cup", "kitchen"),
    (48, "fork", "kitchen"),
    (49, "knife", "kitchen"),
    (50, "spoon", "kitchen"),
    (51, "bowl", "kitchen"),
    (52, "banana", "food"),
    (53, "apple", "food"),
    (54, "sandwich", "food"),
    (55, "orange", "food"),
    (56, "broccoli", "food"),
    (57, "carrot", "food"),
    (58, "hot dog", "food"),
    (59, "pizza", "food"),
    (60, "donut", "food"),
    (61, "cake", "food"),
    (62, "chair", "furniture"),
    (63, "couch", "furniture"),
    (64, "potted plant", "furniture"),
    (65, "bed", "furniture"),
    (67, "dining table", "furniture"),
    (70, "toilet", "furniture"),
    (72, "tv", "electronic"),
    (73, "laptop", "electronic"),
    (74, "mouse", "electronic"),
    (75, "remote", "electronic"),
    (76, "keyboard", "electronic"),
    (77, "cell phone", "electronic"),
    (78, "microwave", "appliance"),
    (79, "oven", "appliance"),
    (80, "toaster", "appliance"),
    (81, "sink", "appliance"),
    (82, "refrigerator", "appliance"),
    (84, "book", "indoor"),
    (85, "clock", "indoor"),
    (86, "vase", "indoor"),
    (87, "scissors", "indoor"),
    (88, "teddy bear", "indoor"),
    (89, "hair drier", "indoor"),
    (90, "toothbrush", "indoor"),
)

# Approximate train2017 instance counts, in the order of COCO_CATEGORIES: the
# relative weights of the long-tailed category distribution.
_COCO_INSTANCE_WEIGHTS: tuple[int, ...] = (
    262465, 7113, 43867, 8725, 5135, 6069, 4571, 9973, 10759, 12884,
    1865, 1983, 1285, 9838, 10806, 4768, 5508, 6587, 9509, 8147,
    5513, 1294, 5303, 5131, 8720, 11431, 12354, 6496, 6192, 2682,
    6646, 2685, 6347, 9076, 3276, 3747, 5543, 6126, 4812, 24342,
    7913, 20650, 5479, 7770, 6165, 14358, 9458, 5851, 4373, 6399,
    7308, 7852, 2918, 5821, 7179, 6353, 38491, 5779, 8652, 4192,
    15714, 4157, 5805, 4970, 2262, 5703, 2855, 6434, 1673, 3334,
    225, 5610, 2637, 24715, 6334, 6613, 1481, 4793, 198, 1954,
)  # fmt: skip

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

# The official 1-based COCO person skeleton (19 edges).
SKELETON: tuple[tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13),
    (6, 7), (6, 8), (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3),
    (2, 4), (3, 5), (4, 6), (5, 7),
)  # fmt: skip

# A standing person in box-normalised coordinates, one row per keypoint.
@dataclass(frozen=True)
class Style:
    """How a file is written, apart from what it holds: what real exporters vary.

    A benchmark that reads only one generator's shape measures that shape (issue 18:
    another generator's longer polygons and other number formatting made the first
    open 1.76 × hotcoco's time against 1.4 ×). The styles keep the content's
    statistics and change the writing."""

    name: str = "coco"
    points: float = 1.0  # × the polygon point count (COCO's median is ~30 numbers)
    decimals: int | None = 2  # coordinate rounding; None: full float64 repr (17 digits)
    exponent_area: bool = False  # "area":1.234567e+03, as some exporters print floats
    key_order: tuple[str, ...] | None = None  # annotation keys in this order (the rest after)
    indent: int | None = None  # msgspec.json.format: 0 = ", " and ": " on one line; 2 = pretty
    extra: tuple[tuple[str, Any], ...] = ()  # fields every annotation also has
    crowd_fraction: float | None = None  # None: the preset's


#: the writing styles the scale benchmark sweeps (``--style``)
STYLES: dict[str, Style] = {
    "coco": Style(),
    # CVAT-like: id first, attributes on every object, one decimal, denser polygons,
    # Python-json separators
    "cvat": Style("cvat", points=1.35, decimals=1, indent=0,
                  key_order=("id", "image_id", "category_id", "segmentation", "area", "bbox",
                             "iscrowd"),
                  extra=(("attributes", {"occluded": False, "rotation": 0.0}),)),
    # a notebook's json.dump(indent=2) of float64 arrays: full precision, exponents,
    # keys sorted, more crowd RLEs
    "pretty": Style("pretty", points=1.2, decimals=None, exponent_area=True, indent=2,
                    key_order=("area", "bbox", "category_id", "id", "image_id", "iscrowd",
                               "segmentation"), crowd_fraction=0.03),
}


_KEYPOINT_TEMPLATE = np.array(
    [
        (0.50, 0.07), (0.54, 0.05), (0.46, 0.05), (0.58, 0.07), (0.42, 0.07),
        (0.68, 0.21), (0.32, 0.21), (0.76, 0.37), (0.24, 0.37),
        (0.80, 0.52), (0.20, 0.52), (0.61, 0.54), (0.39, 0.54),
        (0.62, 0.75), (0.38, 0.75), (0.62, 0.95), (0.38, 0.95),
    ]
)  # fmt: skip

_LICENSES: list[dict[str, Any]] = [
    {"url": "http://creativecommons.org/licenses/by-nc-sa/2.0/", "id": 1,
     "name": "Attribution-NonCommercial-ShareAlike License"},
    {"url": "http://creativecommons.org/licenses/by-nc/2.0/", "id": 2,
     "name": "Attribution-NonCommercial License"},
    {"url": "http://creativecommons.org/licenses/by-nc-nd/2.0/", "id": 3,
     "name": "Attribution-NonCommercial-NoDerivs License"},
    {"url": "http://creativecommons.org/licenses/by/2.0/", "id": 4,
     "name": "Attribution License"},
    {"url": "http://creativecommons.org/licenses/by-sa/2.0/", "id": 5,
     "name": "Attribution-ShareAlike License"},
    {"url": "http://creativecommons.org/licenses/by-nd/2.0/", "id": 6,
     "name": "Attribution-NoDerivs License"},
    {"url": "http://flickr.com/commons/usage/", "id": 7,
     "name": "No known copyright restrictions"},
    {"url": "http://www.usa.gov/copyright.shtml", "id": 8,
     "name": "United States Government Work"},
]  # fmt: skip

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"n_images": 50, "n_annotations": 365, "split": "tiny"},
    "val2017": {"n_images": 5_000, "n_annotations": 36_781, "split": "val2017"},
    "train2017": {"n_images": 118_287, "n_annotations": 860_001, "split": "train2017"},
    "keypoints_val2017": {
        "n_images": 5_000,
        "n_annotations": 11_004,
        "keypoints": True,
        "empty_fraction": 0.46,
        "split": "val2017",
    },
    "lvis": {
        "n_images": 100_170,
        "n_annotations": 1_270_141,
        "n_categories": 1_203,
        "crowd_fraction": 0.0,
        "lvis": True,
        "split": "train2017",
    },
    "objects365": {
        "n_images": 2_000_000,
        "n_annotations": 20_000_000,
        "n_categories": 365,
        "boxes_only": True,
        "split": "objects365",
    },
}
"""Keyword arguments of :func:`generate_coco` for each named preset."""

_CHUNK = 10_000
_CROWD_ID_BASE = 900_000_000_000
_MAX_ANN_ID_GAP = 2  # non-crowd ids are 1 + 2·k + {0, 1}: unique, not contiguous


# --------------------------------------------------------------------------- output


class _Sink:
    """A byte sink over a plain or gzip file that counts uncompressed bytes."""

    def __init__(self, path: Path, compress: bool) -> None:
        self._raw: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._gz: gzip.GzipFile | None = None
        self._out: BinaryIO = self._raw
        if compress:
            # mtime=0 and no file name keep the output byte-for-byte deterministic.
            self._gz = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, compresslevel=3, mtime=0
            )
            self._out = self._gz  # type: ignore[assignment]
        self.written = 0

    def write(self, data: bytes) -> None:
        """Write ``data`` and count it."""
        self._out.write(data)
        self.written += len(data)

    def close(self) -> None:
        """Flush and close the files."""
        if self._gz is not None:
            self._gz.close()
        self._raw.close()


def _write_array(sink: _Sink, chunks: Iterable[bytes]) -> None:
    """Write a JSON array whose elements come as encoded ``[...]`` chunks."""
    sink.write(b"[")
    first = True
    for encoded in chunks:
        body = encoded[1:-1]
        if not body:
            continue
        if not first:
            sink.write(b",")
        sink.write(body)
        first = False
    sink.write(b"]")


# --------------------------------------------------------------------------- plan


def _category_table(
    n_categories: int, keypoints: bool, lvis: bool
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The category dicts (COCO key order) and their instance weights (sum 1)."""
    if keypoints:
        cats = [{
            "supercategory": "person", "id": 1, "name": "person",
            "keypoints": list(KEYPOINT_NAMES),
            "skeleton": [list(e) for e in SKELETON],
        }]  # fmt: skip
        return cats, np.ones(1)
    rng = np.random.default_rng(12345)  # fixed: the table must not depend on the seed
    if lvis:
        # LVIS v1 has 337 rare, 461 common and 405 frequent categories; give
        # each band instance weights that land it in its image-count bin.
        n_r = round(n_categories * 337 / 1203)
        n_c = round(n_categories * 461 / 1203)
        n_f = n_categories - n_r - n_c
        w_r = rng.uniform(1.5, 8.0, n_r)
        w_c = rng.uniform(14.0, 90.0, n_c)
        w_f = 150.0 + 2.0e5 / (np.arange(n_f) + 1.0) ** 1.1
        weights = np.concatenate([w_f, w_c, w_r])
        band = ["f"] * n_f + ["c"] * n_c + ["r"] * n_r
        order = rng.permutation(n_categories)  # bands interleaved over the ids
        weights = weights[order]
        cats = []
        for i, k in enumerate(order):
            name = f"object_{i + 1:04d}"
            cats.append({
                "frequency": band[k], "id": i + 1,
                "synset": f"{name}.n.01", "synonyms": [name],
                "def": f"synthetic LVIS-style category {i + 1}", "name": name,
                "image_count": 0, "instance_count": 0,
            })  # fmt: skip
        return cats, weights / weights.sum()
    cats = []
    weights_list: list[float] = []
    for i in range(n_categories):
        if i < len(COCO_CATEGORIES):
            cid, name, sup = COCO_CATEGORIES[i]
            w = float(_COCO_INSTANCE_WEIGHTS[i])
        else:
            cid, name, sup = 90 + i - len(COCO_CATEGORIES) + 1, f"class_{i + 1:04d}", "synthetic"
            w = 2.0e4 / (i - len(COCO_CATEGORIES) + 2) ** 0.9
        cats.append({"supercategory": sup, "id": cid, "name": name})
        weights_list.append(w)
    weights = np.asarray(weights_list)
    return cats, weights / weights.sum()


def _image_sizes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """COCO-like (width, height): mostly 640 × 360..640, some portrait, a few others."""
    kind = rng.random(n)
    width = np.full(n, 640, dtype=np.int32)
    height = np.full(n, 480, dtype=np.int32)
    common = np.array([480, 427, 426, 428, 425, 424, 429, 360, 640, 512, 400, 423])
    p_common = np.array([45, 18, 6, 5, 4, 3, 2, 4, 4, 3, 3, 3], dtype=float)
    p_common /= p_common.sum()
    land = kind < 0.74
    k = int(land.sum())
    h = rng.choice(common, size=k, p=p_common)
    free = rng.random(k) < 0.15
    h[free] = rng.integers(360, 641, int(free.sum()))
    height[land] = h
    port = (kind >= 0.74) & (kind < 0.94)
    k = int(port.sum())
    w = rng.choice(common[:8], size=k, p=p_common[:8] / p_common[:8].sum())
    free = rng.random(k) < 0.15
    w[free] = rng.integers(360, 640, int(free.sum()))
    width[port] = w
    height[port] = 640
    other = kind >= 0.94
    k = int(other.sum())
    width[other] = rng.integers(200, 641, k)
    height[other] = rng.integers(150, 641, k)
    return width, height


def _image_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique random image ids, below 600,000 as in COCO while that is roomy enough."""
    bound = 600_000 if n <= 200_000 else 3 * n
    return rng.choice(bound - 1, size=n, replace=False).astype(np.int64) + 1


def _per_image_counts(
    rng: np.random.Generator, n_images: int, n_annotations: int, empty_fraction: float
) -> np.ndarray:
    """Annotations per image: ``empty_fraction`` empty, the rest ≥ 1, long-tailed."""
    counts = np.zeros(n_images, dtype=np.int64)
    if n_images == 0 or n_annotations == 0:
        return counts
    n_full = min(n_annotations, max(1, round(n_images * (1.0 - empty_fraction))))
    full = rng.choice(n_images, size=n_full, replace=False)
    weights = rng.gamma(0.8, 1.0, n_full) + 1e-9
    counts[full] = 1 + rng.multinomial(n_annotations - n_full, weights / weights.sum())
    return counts


# --------------------------------------------------------------------------- geometry


def _boxes(
    rng: np.random.Generator, width: np.ndarray, height: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random object boxes (x, y, w, h) inside their images, log-normal in size."""
    n = width.shape[0]
    side = np.exp(rng.normal(math.log(scale), 1.05, n))
    aspect = np.exp(rng.normal(0.0, 0.55, n))
    w = np.clip(side * np.sqrt(aspect), 2.0, width)
    h = np.clip(side / np.sqrt(aspect), 2.0, height)
    x = rng.random(n) * (width - w)
    y = rng.random(n) * (height - h)
    return x, y, w, h


def _polygons(
    rng: np.random.Generator, width: np.ndarray, height: np.ndarray,
    style: Style = STYLES["coco"],
) -> tuple[list[list[list[float]]], np.ndarray, np.ndarray]:
    """Star-shaped (hence simple) polygons, ≈ 5 % multi-part, coordinates to 2 decimals.

    Returns the segmentations, the bboxes (n × 4, from the rounded coordinates)
    and the exact shoelace areas.
    """
    n = width.shape[0]
    bx, by, bw, bh = _boxes(rng, width.astype(float), height.astype(float), 55.0)
    multi = (rng.random(n) < 0.05) & (bw >= 12) & (bh >= 12)
    nparts = np.where(multi, rng.integers(2, 5, n), 1)
    perimeter = 2.0 * (bw + bh)
    npts = np.clip(np.rint(3.0 + style.points * perimeter
                           / (18.5 * np.exp(rng.normal(0.0, 0.45, n)))), 3, 400)
    # One "shape" per part; parts are slices of the box along its longer side.
    shape_ann = np.repeat(np.arange(n), nparts)
    ns = shape_ann.shape[0]
    first_shape = np.cumsum(nparts) - nparts
    part = np.arange(ns) - first_shape[shape_ann]
    p = nparts[shape_ann].astype(float)
    wide = bw >= bh
    along_x = wide[shape_ann]
    long_len = np.where(wide, bw, bh)[shape_ann]
    short_len = np.where(wide, bh, bw)[shape_ann]
    long_org = np.where(wide, bx, by)[shape_ann]
    short_org = np.where(wide, by, bx)[shape_ann]
    slot = long_len / p
    gap = np.where(p > 1, 0.12 * slot, 0.0)
    s_long_org = long_org + part * slot + gap / 2
    s_long_len = slot - gap
    frac = np.where(p > 1, rng.uniform(0.55, 1.0, ns), 1.0)
    s_short_len = short_len * frac
    s_short_org = short_org + rng.random(ns) * (short_len - s_short_len)
    sx = np.where(along_x, s_long_org, s_short_org)
    sy = np.where(along_x, s_short_org, s_long_org)
    sw = np.where(along_x, s_long_len, s_short_len)
    sh = np.where(along_x, s_short_len, s_long_len)
    m = np.maximum(3, npts[shape_ann] // p).astype(np.int64)
    starts = np.cumsum(m) - m
    total = int(m.sum())
    seg = np.repeat(np.arange(ns), m)
    k = np.arange(total) - starts[seg]
    mm = m[seg].astype(float)
    phase = rng.random(ns) * 2 * np.pi
    theta = 2 * np.pi * (k + rng.uniform(-0.35, 0.35, total)) / mm + phase[seg]
    a2, a3 = rng.uniform(0.0, 0.25, ns), rng.uniform(0.0, 0.15, ns)
    f2, f3 = rng.random(ns) * 2 * np.pi, rng.random(ns) * 2 * np.pi
    r = (
        1.0
        + a2[seg] * np.cos(2 * theta + f2[seg])
        + a3[seg] * np.cos(3 * theta + f3[seg])
        + rng.normal(0.0, 0.05, total)
    )
    r = np.maximum(r, 0.2)
    ux, uy = r * np.cos(theta), r * np.sin(theta)
    lo_x, hi_x = np.minimum.reduceat(ux, starts), np.maximum.reduceat(ux, starts)
    lo_y, hi_y = np.minimum.reduceat(uy, starts), np.maximum.reduceat(uy, starts)
    x = sx[seg] + (ux - lo_x[seg]) / (hi_x - lo_x)[seg] * sw[seg]
    y = sy[seg] + (uy - lo_y[seg]) / (hi_y - lo_y)[seg] * sh[seg]
    if style.decimals is not None:
        x, y = np.round(x, style.decimals), np.round(y, style.decimals)
    # Exact extent and shoelace area of the rounded coordinates.
    nxt = np.arange(1, total + 1)
    nxt[starts + m - 1] = starts
    cross = x * y[nxt] - x[nxt] * y
    shape_area = np.abs(np.add.reduceat(cross, starts)) / 2.0
    area = np.round(np.add.reduceat(shape_area, first_shape), 5)
    xmin = np.minimum.reduceat(np.minimum.reduceat(x, starts), first_shape)
    xmax = np.maximum.reduceat(np.maximum.reduceat(x, starts), first_shape)
    ymin = np.minimum.reduceat(np.minimum.reduceat(y, starts), first_shape)
    ymax = np.maximum.reduceat(np.maximum.reduceat(y, starts), first_shape)
    bw_, bh_ = xmax - xmin, ymax - ymin
    if style.decimals is not None:
        bw_, bh_ = np.round(bw_, style.decimals), np.round(bh_, style.decimals)
    bbox = np.stack([xmin, ymin, bw_, bh_], axis=1)
    xy = np.empty(2 * total)
    xy[0::2], xy[1::2] = x, y
    flat = xy.tolist()
    bounds = (2 * starts).tolist()
    ends = (2 * (starts + m)).tolist()
    segs: list[list[list[float]]] = []
    shape_i = 0
    for count in nparts.tolist():
        segs.append([flat[bounds[j] : ends[j]] for j in range(shape_i, shape_i + count)])
        shape_i += count
    return segs, bbox, area


def _crowd_rle(rng: np.random.Generator, w: int, h: int) -> tuple[list[int], list[float], int]:
    """A large blob as an uncompressed column-major RLE: (counts, bbox, area)."""
    bw = int(rng.integers(max(4, w // 5), w + 1))
    bh = int(rng.integers(max(4, h // 6), h + 1))
    x0 = int(rng.integers(0, w - bw + 1))
    y0 = int(rng.integers(0, h - bh + 1))
    t = np.linspace(0.0, 1.0, bw)

    def profile() -> np.ndarray:
        wave = np.zeros(bw)
        for freq in (1.0, 2.5, 6.0):
            wave += rng.uniform(0.0, 0.12 / freq**0.5) * np.sin(
                2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)
            )
        wave += np.cumsum(rng.normal(0.0, 0.01, bw))
        return wave

    top = np.rint(y0 + bh * np.clip(0.18 + profile(), 0.0, 0.45)).astype(np.int64)
    bot = np.rint(y0 + bh * np.clip(0.88 + profile(), 0.55, 1.0)).astype(np.int64)
    top, bot = np.clip(top, 0, h - 2), np.clip(bot, 0, h)
    bot = np.maximum(bot, top + 2)
    keep = rng.random(bw) >= 0.03  # a few empty columns
    keep[0] = keep[-1] = True
    cols = np.flatnonzero(keep)
    top, bot = top[cols], bot[cols]
    base = (x0 + cols) * h
    # Often a hole over a range of columns, splitting their runs in two.
    ncols = cols.shape[0]
    hole = np.zeros(ncols, dtype=bool)
    if rng.random() < 0.6:
        a = int(rng.integers(0, ncols))
        hole[a : a + int(rng.integers(ncols // 10 + 1, ncols // 3 + 2))] = True
    hole &= bot - top >= 6
    mid = (top + bot) // 2
    half = np.maximum(1, (bot - top) // 8)
    runs_s = np.concatenate([base + top, (base + mid + half)[hole]])
    runs_e = np.concatenate([np.where(hole, base + mid - half, base + bot), (base + bot)[hole]])
    by_start = np.argsort(runs_s, kind="stable")
    runs_s, runs_e = runs_s[by_start], runs_e[by_start]
    toggles = np.empty(2 * runs_s.shape[0], dtype=np.int64)
    toggles[0::2], toggles[1::2] = runs_s, runs_e
    # A run ending where the next starts (bottom → top of next column): merge.
    same = np.flatnonzero(toggles[1:-1:2] == toggles[2::2])
    if same.size:
        drop = np.concatenate([2 * same + 1, 2 * same + 2])
        toggles = np.delete(toggles, drop)
    counts = np.diff(np.concatenate([[0], toggles, [h * w]]))
    area = int((runs_e - runs_s).sum())
    bbox = [
        float(x0 + cols[0]),
        float(top.min()),
        float(cols[-1] - cols[0] + 1),
        float(bot.max() - top.min()),
    ]
    return counts.tolist(), bbox, area


def _keypoints(
    rng: np.random.Generator, bbox: np.ndarray, width: np.ndarray, height: np.ndarray
) -> tuple[list[list[int]], list[int]]:
    """COCO person keypoints (x, y, v)·17 inside each bbox, and ``num_keypoints``."""
    n = bbox.shape[0]
    if n == 0:
        return [], []
    u = _KEYPOINT_TEMPLATE[None, :, :] + rng.normal(0.0, 0.035, (n, 17, 2))
    flip = rng.random(n) < 0.5
    u[flip, :, 0] = 1.0 - u[flip, :, 0]
    u = np.clip(u, 0.0, 1.0)
    x = np.floor(bbox[:, 0:1] + u[:, :, 0] * bbox[:, 2:3])
    y = np.floor(bbox[:, 1:2] + u[:, :, 1] * bbox[:, 3:4])
    x = np.clip(x, 0, (width - 1)[:, None])
    y = np.clip(y, 0, (height - 1)[:, None])
    small = bbox[:, 2] * bbox[:, 3] < 32 * 32
    any_labelled = rng.random(n) < np.where(small, 0.12, 0.85)
    p_label = np.asarray(rng.uniform(0.35, 1.0, n))
    labelled = any_labelled[:, None] & (rng.random((n, 17)) < p_label[:, None])
    v = np.where(labelled, np.where(rng.random((n, 17)) < 0.8, 2, 1), 0)
    kp = np.zeros((n, 17, 3), dtype=np.int64)
    kp[:, :, 0] = np.where(v > 0, x, 0)
    kp[:, :, 1] = np.where(v > 0, y, 0)
    kp[:, :, 2] = v
    return kp.reshape(n, 51).tolist(), (v > 0).sum(axis=1).tolist()


# --------------------------------------------------------------------------- main


def _date(rng: np.random.Generator, n: int) -> list[str]:
    """COCO-like ``date_captured`` strings."""
    day = rng.integers(1, 29, n).tolist()
    month = rng.integers(1, 13, n).tolist()
    year = rng.integers(2009, 2014, n).tolist()
    hms = rng.integers(0, 86400, n).tolist()
    return [
        f"{y}-{mo:02d}-{d:02d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        for y, mo, d, s in zip(year, month, day, hms, strict=True)
    ]


_AREA = re.compile(rb'"area":(-?[0-9]+(?:\.[0-9]+)?)')


class _StyledEncoder:
    """msgspec's encoder, then the style's number forms and whitespace."""

    def __init__(self, style: Style) -> None:
        self.style = style
        self._enc = msgspec.json.Encoder()

    def encode(self, obj: Any, annotations: bool = False) -> bytes:
        out = self._enc.encode(obj)
        if annotations and self.style.exponent_area:
            out = _AREA.sub(lambda m: b'"area":%.10e' % float(m.group(1)), out)
        if self.style.indent is not None:
            out = msgspec.json.format(out, indent=self.style.indent)
        return out


def generate_coco(
    path: str | Path,
    *,
    n_images: int,
    n_annotations: int,
    n_categories: int = 80,
    seed: int = 0,
    crowd_fraction: float = 0.01,
    keypoints: bool = False,
    boxes_only: bool = False,
    progress: ProgressFn | None = None,
    lvis: bool = False,
    empty_fraction: float = 0.01,
    shuffle: bool = True,
    split: str = "synthetic",
    style: Style | str = "coco",
) -> dict[str, Any]:
    """Write a realistic synthetic COCO file to ``path`` (gzip if it ends in ``.gz``).

    ``keypoints`` makes a person_keypoints file (one category, person);
    ``boxes_only`` writes ``segmentation: []``; ``lvis`` adds the LVIS v1
    extras (``neg_category_ids``/``not_exhaustive_category_ids`` on images,
    ``frequency``/``synset``/``image_count``/``instance_count`` on categories,
    no ``iscrowd`` key, as in the real files). ``shuffle=False`` writes the
    annotations in image order. ``style`` (a :class:`Style` or a name in
    :data:`STYLES`) changes how the file is written, not what it holds. Returns a
    summary dict (images, annotations, crowd, categories, bytes on disk, json_bytes
    uncompressed, seconds).
    """
    t0 = time.perf_counter()
    path = Path(path)
    if n_images < 0 or n_annotations < 0:
        raise ValueError("n_images and n_annotations must be ≥ 0")
    if n_annotations and not n_images:
        raise ValueError("annotations need at least one image")
    if keypoints:
        n_categories = 1
    if not 1 <= n_categories <= 100_000:
        raise ValueError("n_categories must be between 1 and 100,000")
    if isinstance(style, str):
        try:
            style = STYLES[style]
        except KeyError:
            raise ValueError(f"unknown style {style!r}; choose from {', '.join(STYLES)}") from None
    if style.crowd_fraction is not None:
        crowd_fraction = style.crowd_fraction
    if lvis:
        crowd_fraction = 0.0
    cats, weights = _category_table(n_categories, keypoints, lvis)
    cat_ids = np.array([c["id"] for c in cats], dtype=np.int64)

    # ---- the plan: per image sizes/ids/counts, per annotation image/category/crowd
    rng = np.random.default_rng([seed, 1])
    image_ids = _image_ids(rng, n_images)
    width, height = _image_sizes(rng, n_images)
    counts = _per_image_counts(rng, n_images, n_annotations, empty_fraction)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    ann_image = np.repeat(np.arange(n_images, dtype=np.int32), counts)
    ann_cat = np.empty(n_annotations, dtype=np.int32 if n_categories > 32000 else np.int16)
    dominant = rng.choice(n_categories, size=n_images, p=weights)
    block = 1_000_000
    for s in range(0, n_annotations, block):
        e = min(s + block, n_annotations)
        own = rng.random(e - s) < 0.5  # half follow the image's dominant category
        ann_cat[s:e] = np.where(
            own, dominant[ann_image[s:e]], rng.choice(n_categories, size=e - s, p=weights)
        )
    ann_crowd = rng.random(n_annotations) < crowd_fraction
    crowd_pos = np.flatnonzero(ann_crowd)
    if crowd_pos.size:
        # At most one crowd region per (image, category), as in COCO (unique ids).
        key = ann_image[crowd_pos].astype(np.int64) * n_categories + ann_cat[crowd_pos]
        _, first = np.unique(key, return_index=True)
        dup = np.setdiff1d(np.arange(crowd_pos.size), first)
        ann_crowd[crowd_pos[dup]] = False
    order = np.arange(n_annotations, dtype=np.int32 if n_annotations < 2**31 else np.int64)
    if shuffle:
        rng.shuffle(order)
    crowd_ids_ok = n_images == 0 or int(image_ids.max()) < 100_000_000

    if lvis:
        inst = np.bincount(ann_cat, minlength=n_categories)
        pairs = np.unique(ann_image.astype(np.int64) * n_categories + ann_cat)
        imgs_per_cat = np.bincount(pairs % n_categories, minlength=n_categories)
        for c, ni, nimg in zip(cats, inst.tolist(), imgs_per_cat.tolist(), strict=True):
            c["instance_count"], c["image_count"] = ni, nimg
            c["frequency"] = "r" if nimg <= 10 else "c" if nimg <= 100 else "f"

    encoder = _StyledEncoder(style)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    sink = _Sink(tmp, compress=path.name.endswith(".gz"))
    try:
        info = {
            "description": f"cocoview synthetic COCO-style dataset ({split})",
            "url": "https://example.invalid/cocoview-synthetic",
            "version": "1.0",
            "year": 2017,
            "contributor": "cocoview.testing.synth",
            "date_created": "2017/09/01",
        }
        sink.write(b'{"info":' + encoder.encode(info))
        sink.write(b',"licenses":' + encoder.encode(_LICENSES))
        sink.write(b',"images":')

        def image_chunks() -> Iterable[bytes]:
            for ci, s in enumerate(range(0, n_images, _CHUNK)):
                e = min(s + _CHUNK, n_images)
                crng = np.random.default_rng([seed, 2, ci])
                ids = image_ids[s:e].tolist()
                lic = crng.integers(1, 9, e - s).tolist()
                farm = crng.integers(1, 10, e - s).tolist()
                server = crng.integers(1000, 9000, e - s).tolist()
                photo = crng.integers(10**9, 10**10, e - s).tolist()
                secret = crng.integers(0, 2**40, e - s).tolist()
                dates = _date(crng, e - s)
                out = []
                for i, (iid, w, h) in enumerate(
                    zip(ids, width[s:e].tolist(), height[s:e].tolist(), strict=True)
                ):
                    fn = f"{iid:012d}.jpg"
                    img: dict[str, Any] = {
                        "license": lic[i], "file_name": fn,
                        "coco_url": f"http://images.synthetic.invalid/{split}/{fn}",
                        "height": h, "width": w, "date_captured": dates[i],
                        "flickr_url": f"http://farm{farm[i]}.synthetic.invalid/{server[i]}/"
                                      f"{photo[i]}_{secret[i]:010x}_z.jpg",
                        "id": iid,
                    }  # fmt: skip
                    if lvis:
                        present = np.unique(ann_cat[offsets[s + i] : offsets[s + i + 1]])
                        cand = crng.integers(0, n_categories, int(crng.poisson(4.0)))
                        neg = np.setdiff1d(cand, present)
                        img["neg_category_ids"] = cat_ids[neg].tolist()
                        partial: list[int] = []
                        if present.size and crng.random() < 0.12:
                            pick = crng.choice(present, size=min(present.size, 2), replace=False)
                            partial = np.sort(cat_ids[pick]).tolist()
                        img["not_exhaustive_category_ids"] = partial
                    out.append(img)
                yield encoder.encode(out)
                if progress is not None:
                    progress("images", e, n_images)

        _write_array(sink, image_chunks())
        sink.write(b',"annotations":')

        def annotation_chunks() -> Iterable[bytes]:
            for ci, s in enumerate(range(0, n_annotations, _CHUNK)):
                e = min(s + _CHUNK, n_annotations)
                yield encoder.encode(_styled(style, _annotation_chunk(
                    np.random.default_rng([seed, 3, ci]), order[s:e].astype(np.int64),
                    ann_image, ann_cat, ann_crowd, image_ids, width, height, cat_ids,
                    seed=seed, keypoints=keypoints, boxes_only=boxes_only, lvis=lvis,
                    crowd_ids_ok=crowd_ids_ok, style=style)), annotations=True)  # fmt: skip
                if progress is not None:
                    progress("annotations", e, n_annotations)

        _write_array(sink, annotation_chunks())
        sink.write(b',"categories":' + encoder.encode(cats) + b"}")
    except BaseException:
        sink.close()
        tmp.unlink(missing_ok=True)
        raise
    sink.close()
    tmp.replace(path)
    return {
        "path": str(path),
        "images": n_images,
        "annotations": n_annotations,
        "crowd": int(ann_crowd.sum()),
        "categories": n_categories,
        "bytes": path.stat().st_size,
        "json_bytes": sink.written,
        "seconds": time.perf_counter() - t0,
    }


def _annotation_chunk(
    rng: np.random.Generator,
    pos: np.ndarray,
    ann_image: np.ndarray,
    ann_cat: np.ndarray,
    ann_crowd: np.ndarray,
    image_ids: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    cat_ids: np.ndarray,
    *,
    seed: int,
    keypoints: bool,
    boxes_only: bool,
    lvis: bool,
    crowd_ids_ok: bool,
    style: Style = STYLES["coco"],
) -> list[dict[str, Any]]:
    """The annotation dicts for plan positions ``pos`` (in that order)."""
    n = pos.shape[0]
    img = ann_image[pos]
    iid = image_ids[img]
    cid = cat_ids[ann_cat[pos]]
    crowd = ann_crowd[pos]
    W, H = width[img], height[img]
    # Unique, non-contiguous ids derived from the plan position.
    jitter = ((pos * 2654435761 + seed) >> 7) & 1
    ids = 1 + _MAX_ANN_ID_GAP * pos + jitter
    if crowd_ids_ok and not boxes_only:
        ids = np.where(crowd, _CROWD_ID_BASE + cid * 100_000_000 + iid, ids)
    out: list[dict[str, Any]] = [{}] * n
    iid_l, cid_l, id_l = iid.tolist(), cid.tolist(), ids.tolist()

    if boxes_only:
        bx, by, bw, bh = _boxes(rng, W.astype(float), H.astype(float), 55.0)
        bbox = np.round(np.stack([bx, by, bw, bh], axis=1), 2)
        area = np.round(bbox[:, 2] * bbox[:, 3], 4).tolist()
        bbox_l = bbox.tolist()
        crowd_l = crowd.astype(np.int64).tolist()
        for i in range(n):
            out[i] = {"segmentation": [], "area": area[i], "iscrowd": crowd_l[i],
                      "image_id": iid_l[i], "bbox": bbox_l[i], "category_id": cid_l[i],
                      "id": id_l[i]}  # fmt: skip
        return out

    poly = np.flatnonzero(~crowd)
    segs, bbox, area_a = _polygons(rng, W[poly], H[poly], style)
    bbox_l, area_l = bbox.tolist(), area_a.tolist()
    kps: list[list[int]] = []
    nkp: list[int] = []
    if keypoints:
        kps, nkp = _keypoints(rng, bbox, W[poly], H[poly])
    for j, i in enumerate(poly.tolist()):
        if keypoints:
            out[i] = {"segmentation": segs[j], "num_keypoints": nkp[j], "area": area_l[j],
                      "iscrowd": 0, "keypoints": kps[j], "image_id": iid_l[i],
                      "bbox": bbox_l[j], "category_id": cid_l[i], "id": id_l[i]}  # fmt: skip
        elif lvis:
            out[i] = {"area": area_l[j], "id": id_l[i], "segmentation": segs[j],
                      "image_id": iid_l[i], "bbox": bbox_l[j],
                      "category_id": cid_l[i]}  # fmt: skip
        else:
            out[i] = {"segmentation": segs[j], "area": area_l[j], "iscrowd": 0,
                      "image_id": iid_l[i], "bbox": bbox_l[j], "category_id": cid_l[i],
                      "id": id_l[i]}  # fmt: skip
    for i in np.flatnonzero(crowd).tolist():
        w, h = int(W[i]), int(H[i])
        counts, cbox, carea = _crowd_rle(rng, w, h)
        ann: dict[str, Any] = {"segmentation": {"counts": counts, "size": [h, w]}}
        if keypoints:
            ann["num_keypoints"] = 0
        ann["area"] = carea
        ann["iscrowd"] = 1
        if keypoints:
            ann["keypoints"] = [0] * 51
        ann.update(image_id=iid_l[i], bbox=cbox, category_id=cid_l[i], id=id_l[i])
        out[i] = ann
    return out


def _styled(style: Style, out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The style's extra fields and key order on a chunk of annotation dicts."""
    if style.extra:
        for ann in out:
            ann.update(style.extra)
    if style.key_order is not None:
        out = [{**{k: a[k] for k in style.key_order if k in a}, **a} for a in out]
    return out


def generate_preset(
    name: str, path: str | Path, seed: int = 0, progress: ProgressFn | None = None,
    style: Style | str = "coco",
) -> dict[str, Any]:
    """Generate the named preset (see :data:`PRESETS`) into ``path``, written in ``style``."""
    try:
        kwargs = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}") from None
    return generate_coco(path, seed=seed, progress=progress, style=style, **kwargs)


class _GtBox(msgspec.Struct):
    image_id: int
    category_id: int
    bbox: list[float]
    iscrowd: int = 0


class _GtDoc(msgspec.Struct):
    images: list[dict[str, Any]]
    annotations: list[_GtBox]
    categories: list[dict[str, Any]]


#: detections per ground-truth annotation when not told: 95,413 on the val2017 preset
RESULTS_PER_ANNOTATION = 95_413 / 36_781


def generate_results(
    gt_path: str | Path,
    path: str | Path,
    *,
    n_detections: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Write a detection results file (bbox, score) for the ground truth at ``gt_path``.

    Like a detector's output: most ground-truth boxes are found once, jittered
    (a few of them under another category), some twice; the rest are
    background boxes on random images, with lower scores. ``n_detections``
    defaults to ``RESULTS_PER_ANNOTATION`` per annotation (val2017: 95,413).
    Deterministic for a given seed. Returns a summary dict.
    """
    t0 = time.perf_counter()
    raw = Path(gt_path).read_bytes()
    if str(gt_path).endswith(".gz"):
        raw = gzip.decompress(raw)
    gt = msgspec.json.decode(raw, type=_GtDoc)
    del raw
    anns = [a for a in gt.annotations if not a.iscrowd and len(a.bbox) == 4]
    n_gt = len(anns)
    n = round(len(gt.annotations) * RESULTS_PER_ANNOTATION) if n_detections is None \
        else n_detections
    if n < 0:
        raise ValueError("n_detections must be ≥ 0")
    rng = np.random.default_rng([seed, 7])
    box = np.array([a.bbox for a in anns], np.float64).reshape(-1, 4)
    ann_img = np.array([a.image_id for a in anns], np.int64)
    ann_cat = np.array([a.category_id for a in anns], np.int64)
    img_ids = np.array([int(i["id"]) for i in gt.images], np.int64)
    img_w = np.array([float(i.get("width", 640)) for i in gt.images])
    img_h = np.array([float(i.get("height", 480)) for i in gt.images])
    cat_ids = np.array([int(c["id"]) for c in gt.categories], np.int64)
    n_fg = min(int(n * 0.65), n) if n_gt else 0
    n_bg = n - n_fg
    # foreground: each ground truth found about once, some twice, jittered by ~10 % of its size
    src = np.concatenate([rng.permutation(n_gt)[: min(n_fg, n_gt)],
                          rng.integers(0, max(n_gt, 1), max(n_fg - n_gt, 0))]) if n_fg else \
        np.empty(0, np.int64)
    b = box[src]
    wh = np.maximum(b[:, 2:], 1.0)
    jitter = rng.normal(0.0, 0.12, (len(src), 4)) * np.concatenate([wh, wh], axis=1)
    fg = b + jitter
    fg[:, 2:] = np.maximum(fg[:, 2:], 1.0)
    fg[:, :2] = np.maximum(fg[:, :2], 0.0)
    fg_cat = ann_cat[src].copy()
    wrong = rng.random(len(src)) < 0.08
    if len(cat_ids):
        fg_cat[wrong] = cat_ids[rng.integers(0, len(cat_ids), int(wrong.sum()))]
    fg_score = rng.beta(4.0, 1.5, len(src))
    # background: random boxes on random images
    bi = rng.integers(0, max(len(img_ids), 1), n_bg)
    bw = np.maximum(rng.lognormal(3.3, 0.9, n_bg), 2.0)
    bh = np.maximum(rng.lognormal(3.3, 0.9, n_bg), 2.0)
    if len(img_ids):
        bw, bh = np.minimum(bw, img_w[bi]), np.minimum(bh, img_h[bi])
        bx = rng.random(n_bg) * np.maximum(img_w[bi] - bw, 0.0)
        by = rng.random(n_bg) * np.maximum(img_h[bi] - bh, 0.0)
        bg_img = img_ids[bi]
    else:
        bx = by = np.zeros(n_bg)
        bg_img = np.zeros(n_bg, np.int64)
    bg = np.stack([bx, by, bw, bh], axis=1)
    bg_cat = cat_ids[rng.integers(0, len(cat_ids), n_bg)] if len(cat_ids) else \
        np.ones(n_bg, np.int64)
    bg_score = rng.beta(1.2, 4.0, n_bg)
    image = np.concatenate([ann_img[src], bg_img])
    order = np.argsort(image, kind="stable")  # detectors write results image by image
    image = image[order]
    boxes = np.round(np.concatenate([fg, bg])[order], 2)
    cats = np.concatenate([fg_cat, bg_cat])[order]
    scores = np.round(np.concatenate([fg_score, bg_score])[order], 5)
    out = Path(path)
    sink = _Sink(out, out.suffix == ".gz")
    try:
        def chunks() -> Iterable[bytes]:
            for s in range(0, n, _CHUNK):
                e = min(s + _CHUNK, n)
                yield msgspec.json.encode([
                    {"image_id": i, "category_id": c, "bbox": bb, "score": sc}
                    for i, c, bb, sc in zip(image[s:e].tolist(), cats[s:e].tolist(),
                                            boxes[s:e].tolist(), scores[s:e].tolist(),
                                            strict=True)])
        _write_array(sink, chunks())
    finally:
        sink.close()
    return {"path": str(out), "detections": n, "bytes": out.stat().st_size,
            "seconds": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m cocoview.testing.synth",
        description="Write a synthetic COCO-format annotation file "
        f"(presets: {', '.join(PRESETS)}).",
    )
    parser.add_argument("target", nargs="+", metavar="[PRESET] OUT.json",
                        help="a preset name and the output path, or only the output path "
                        "with --images and --annotations")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int)
    parser.add_argument("--annotations", type=int)
    parser.add_argument("--categories", type=int, default=80)
    parser.add_argument("--crowd-fraction", type=float, default=0.01)
    parser.add_argument("--keypoints", action="store_true")
    parser.add_argument("--boxes-only", action="store_true")
    parser.add_argument("--lvis", action="store_true")
    parser.add_argument(
        "--ordered",
        action="store_true",
        help="write annotations in image order instead of shuffled",
    )
    parser.add_argument("--style", default="coco", choices=sorted(STYLES),
                        help="how the file is written (number forms, key order, whitespace, "
                        "polygon density, extra fields); the content's statistics stay")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if len(args.target) > 2:
        parser.error("expected [PRESET] OUT.json")

    def report(stage: str, done: int, total: int) -> None:
        if not args.quiet and (done == total or done % 200_000 == 0):
            print(
                f"\r{stage}: {done:,}/{total:,}",
                end="\n" if done == total else "",
                file=sys.stderr,
                flush=True,
            )

    if len(args.target) == 2:
        preset, out = args.target
        if preset not in PRESETS:
            parser.error(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        summary = generate_preset(preset, out, seed=args.seed, progress=report, style=args.style)
    else:
        (out,) = args.target
        if out in PRESETS:
            parser.error("missing output path after the preset name")
        if args.images is None or args.annotations is None:
            parser.error("give a PRESET, or --images and --annotations")
        summary = generate_coco(
            out, n_images=args.images, n_annotations=args.annotations,
            n_categories=args.categories, seed=args.seed,
            crowd_fraction=args.crowd_fraction, keypoints=args.keypoints,
            boxes_only=args.boxes_only, lvis=args.lvis, shuffle=not args.ordered,
            progress=report, style=args.style,
        )  # fmt: skip
    print(
        f"wrote {summary['path']}: {summary['images']:,} images, "
        f"{summary['annotations']:,} annotations ({summary['crowd']:,} crowd), "
        f"{summary['bytes'] / 1e6:,.1f} MB in {summary['seconds']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
