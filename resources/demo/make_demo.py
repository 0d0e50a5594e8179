"""Rebuild the bundled cocoview demo dataset from the shared real-data folder.

Usage (from anywhere)::

    python resources/demo/make_demo.py [SRC] [--check]

``SRC`` defaults to ``../shared/data/real`` relative to the repository root. The
script writes ``annotations/``, ``images/`` and ``NOTICE.md`` next to itself,
then verifies the result with pycocotools and Pillow and prints a summary.
``--check`` only verifies the files already present. Output is deterministic.

Every image and annotation object is copied unchanged from its source file, with
one exception: in ``instances_demo.json`` the mmpose person annotations lose
their ``keypoints``/``num_keypoints`` keys, as in COCO's own split, where
``instances_*.json`` and ``person_keypoints_*.json`` hold the same person
annotations (same ids) and only the latter carries keypoints.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "data" / "real"
MAX_BYTES = 5 * 1024 * 1024
KEYPOINT_KEYS = ("keypoints", "num_keypoints")

Json = dict[str, Any]


@dataclass(frozen=True)
class Origin:
    """Where a file (or a folder of images) lives in a public repository."""

    repo: str
    path: str
    commit: str
    licence: str

    def cell(self) -> str:
        """Markdown cell: repository, path, commit, licence."""
        return f"`{self.repo}` `{self.path}` @ `{self.commit}` ({self.licence})"


@dataclass(frozen=True)
class Source:
    """One source annotation file in SRC, its image folder, and their origins."""

    key: str
    annotation: str  # path relative to SRC
    images: str  # folder relative to SRC that file_name is relative to
    ann_origin: Origin
    img_origin: Origin  # path is the folder prefix of the image files
    note: str


DETVISGUI = ("Chien-Hung/DetVisGUI", "39f703b", "MIT")
MMDET = ("open-mmlab/mmdetection", "2f2f6ab", "Apache-2.0")
MMPOSE = ("open-mmlab/mmpose", "759b39c", "Apache-2.0")
PANOPTICAPI = ("cocodataset/panopticapi", "7bb4655", "BSD-2-Clause")


def _origin(repo: tuple[str, str, str], path: str) -> Origin:
    return Origin(repo[0], path, repo[1], repo[2])


SOURCES: tuple[Source, ...] = (
    Source(
        key="detvisgui",
        annotation="detvisgui/data/coco/annotations/instances_val2017.json",
        images="detvisgui/data/coco/val2017",
        ann_origin=_origin(DETVISGUI, "data/coco/annotations/instances_val2017.json"),
        img_origin=_origin(DETVISGUI, "data/coco/val2017/"),
        note="official instances_val2017 subset: all 12 images and 61 annotations "
        "(the orphan file 000000502136.jpg, absent from the json, is not used)",
    ),
    Source(
        key="mmdet_coco_dummy",
        annotation="mmdet_coco_dummy/annotations/instances_val2017.json",
        images="mmdet_coco_dummy/val2017",
        ann_origin=_origin(MMDET, "tests/data/coco_dummy/annotations/instances_val2017.json"),
        # mmdetection's own copy of the image is not readable; this is the same val2017 file
        img_origin=_origin(DETVISGUI, "data/test_images/"),
        note="official instances_val2017 subset: image 139 and its 20 annotations only "
        "(image 255917 and its crowd RLE are left out: that image file is missing)",
    ),
    Source(
        key="mmpose",
        annotation="mmpose/coco/test_coco.json",
        images="mmpose/coco",
        ann_origin=_origin(MMPOSE, "tests/data/coco/test_coco.json"),
        img_origin=_origin(MMPOSE, "tests/data/coco/"),
        note="official person_keypoints_val2017 subset: 4 images, 14 persons (image 785's "
        "annotation equals the official excerpt in continental/hybrid_learning @ 5cd3937)",
    ),
    Source(
        key="panopticapi",
        annotation="panopticapi/sample_data/panoptic_coco_detection_format.json",
        images="panopticapi/sample_data/input_images",
        ann_origin=_origin(PANOPTICAPI, "sample_data/panoptic_coco_detection_format.json"),
        img_origin=_origin(PANOPTICAPI, "sample_data/input_images/"),
        note="official COCO panoptic val2017 sample in detection format (compressed RLE): "
        "the 43 thing annotations (category ids 1-90, 3 of them iscrowd) are used, the 7 "
        "stuff annotations (category ids 125-193) are left out",
    ),
)


def load(path: Path) -> Json:
    """Read one JSON file."""
    with path.open(encoding="utf-8") as f:
        data: Json = json.load(f)
    return data


def strip_keypoints(ann: Json) -> Json:
    """Return the instances view of a person_keypoints annotation (key order kept)."""
    return {k: v for k, v in ann.items() if k not in KEYPOINT_KEYS}


def is_multipart(ann: Json) -> bool:
    """True for a polygon annotation with more than one part."""
    seg = ann.get("segmentation")
    return isinstance(seg, list) and len(seg) > 1


@dataclass
class Demo:
    """The assembled demo: both datasets, image files by name, source key by image id."""

    instances: Json
    keypoints: Json
    files: dict[str, Path]
    origin: dict[int, str]


def build(src: Path) -> Demo:
    """Assemble the instances and keypoints datasets from the sources in ``src``."""
    data = {s.key: load(src / s.annotation) for s in SOURCES}
    base = data["detvisgui"]
    official = {c["id"]: (c["name"], c["supercategory"]) for c in base["categories"]}
    licences = {lic["id"]: (lic["name"], lic["url"]) for lic in base["licenses"]}
    for key, d in data.items():
        if {lic["id"]: (lic["name"], lic["url"]) for lic in d["licenses"]} != licences:
            raise ValueError(f"{key}: licenses table differs from the official one")
        for c in d["categories"]:
            if c["id"] in official and (c["name"], c["supercategory"]) != official[c["id"]]:
                raise ValueError(f"{key}: category {c['id']} differs from the official one")

    images: dict[int, Json] = {}
    files: dict[str, Path] = {}
    origin: dict[int, str] = {}
    anns: list[Json] = []
    kp_images: list[Json] = []
    kp_anns: list[Json] = []
    for s in SOURCES:
        d = data[s.key]
        folder = src / s.images
        present = {im["id"] for im in d["images"] if (folder / im["file_name"]).is_file()}
        chosen = [
            a for a in d["annotations"] if a["image_id"] in present and a["category_id"] in official
        ]
        used = {a["image_id"] for a in chosen}
        for im in d["images"]:
            if im["id"] not in used:
                continue
            if im["id"] in images:
                raise ValueError(f"{s.key}: image {im['id']} appears in two sources")
            images[im["id"]] = im
            origin[im["id"]] = s.key
            files[im["file_name"]] = folder / im["file_name"]
        if s.key == "mmpose":
            kp_images.extend(im for im in d["images"] if im["id"] in used)
            kp_anns.extend(chosen)
            chosen = [strip_keypoints(a) for a in chosen]
        anns.extend(chosen)

    ids = [a["id"] for a in anns]
    if len(set(ids)) != len(ids):
        raise ValueError("annotation ids collide across sources")
    order = sorted(images)
    rank = {image_id: i for i, image_id in enumerate(order)}
    instances: Json = {
        "info": base["info"],
        "licenses": base["licenses"],
        "images": [images[i] for i in order],
        "annotations": sorted(anns, key=lambda a: rank[a["image_id"]]),
        "categories": base["categories"],
    }
    keypoints: Json = {
        "info": base["info"],
        "licenses": base["licenses"],
        "images": sorted(kp_images, key=lambda im: rank[im["id"]]),
        "annotations": sorted(kp_anns, key=lambda a: rank[a["image_id"]]),
        "categories": data["mmpose"]["categories"],
    }
    return Demo(instances, keypoints, files, origin)


def dumps(dataset: Json) -> str:
    """Serialise a COCO dict with one list item per line (valid, diff-friendly JSON)."""
    out = ["{"]
    keys = list(dataset)
    for n, key in enumerate(keys):
        value = dataset[key]
        tail = "," if n < len(keys) - 1 else ""
        if isinstance(value, list) and value:
            items = [json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in value]
            out.append(f'"{key}":[')
            out.append(",\n".join(items))
            out.append(f"]{tail}")
        else:
            compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            out.append(f'"{key}":{compact}{tail}')
    out.append("}")
    return "\n".join(out) + "\n"


def notice(demo: Demo) -> str:
    """Render NOTICE.md: provenance of every source file and the licence of every image."""
    instances, keypoints = demo.instances, demo.keypoints
    licences = {lic["id"]: lic for lic in instances["licenses"]}
    by_key = {s.key: s for s in SOURCES}
    lines = [
        "# cocoview demo dataset: provenance and licences",
        "",
        "Generated by `make_demo.py` from real COCO data collected in the shared",
        "`data/real/` folder (see its README). Do not edit by hand; rerun the script.",
        "",
        "- **Annotations:** COCO annotations © COCO Consortium, licensed under",
        "  [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/). Annotation objects are",
        "  copied unchanged; in `instances_demo.json` the mmpose person annotations have",
        "  their `keypoints`/`num_keypoints` keys removed (they are kept, unchanged, in",
        "  `person_keypoints_demo.json`), as in COCO's own instances/person_keypoints split.",
        "- **Images:** each image is a Flickr photo distributed by COCO under the licence",
        "  given by its `license` id in the `licenses` table (listed per image below).",
        "  The files are copied byte for byte.",
        "- **Repositories:** the files were taken from the public repositories below; the",
        "  repository licence applies to the repository, the COCO terms above to the data.",
        "",
        "## Source files",
        "",
        "| annotation file (repository, path, commit, repo licence) | images from | use |",
        "|---|---|---|",
    ]
    for s in SOURCES:
        lines.append(f"| {s.ann_origin.cell()} | {s.img_origin.cell()} | {s.note} |")
    lines += [
        "",
        "The `info`, `licenses` and 80 `categories` of both files are those of the official",
        "COCO 2017 file (DetVisGUI copy); the person category with keypoint names and the",
        "1-based skeleton comes from the mmpose file.",
        "",
        "## Images",
        "",
        "Images under a NonCommercial (NC) licence may not be used commercially; all images,",
        "including NoDerivs (ND) ones, are shipped unmodified.",
        "",
        "| id | file | taken from | licence | flickr_url | coco_url |",
        "|---|---|---|---|---|---|",
    ]
    for im in instances["images"]:
        lic = licences[im["license"]]
        src = by_key[demo.origin[im["id"]]].img_origin
        lines.append(
            f"| {im['id']} | `{im['file_name']}` | `{src.repo}` `{src.path}{im['file_name']}` "
            f"@ `{src.commit}` ({src.licence}) "
            f"| [{lic['name']}]({lic['url']}) (id {lic['id']}) "
            f"| {im.get('flickr_url') or '-'} | {im.get('coco_url') or '-'} |"
        )
    kp_ids = ", ".join(str(im["id"]) for im in keypoints["images"])
    lines += ["", f"`person_keypoints_demo.json` covers images {kp_ids}.", ""]
    return "\n".join(lines)


def write(src: Path, out: Path) -> None:
    """Build the demo into ``out``."""
    demo = build(src)
    ann_dir, img_dir = out / "annotations", out / "images"
    ann_dir.mkdir(parents=True, exist_ok=True)
    img_dir.mkdir(parents=True, exist_ok=True)
    for stale in img_dir.iterdir():
        if stale.name not in demo.files:
            stale.unlink()
    for name, path in sorted(demo.files.items()):
        target = img_dir / name
        if not (target.is_file() and filecmp.cmp(path, target, shallow=False)):
            shutil.copyfile(path, target)
    (ann_dir / "instances_demo.json").write_text(dumps(demo.instances), encoding="utf-8")
    (ann_dir / "person_keypoints_demo.json").write_text(dumps(demo.keypoints), encoding="utf-8")
    (out / "NOTICE.md").write_text(notice(demo), encoding="utf-8")


def verify(src: Path | None, out: Path) -> dict[str, Any]:
    """Check the demo with pycocotools and Pillow; return summary counts."""
    from PIL import Image
    from pycocotools.coco import COCO

    ann_dir, img_dir = out / "annotations", out / "images"
    inst_path = ann_dir / "instances_demo.json"
    kp_path = ann_dir / "person_keypoints_demo.json"
    inst, kp = load(inst_path), load(kp_path)
    summary: dict[str, Any] = {}
    for name, path in (("instances", inst_path), ("keypoints", kp_path)):
        coco = COCO(str(path))
        for ann in coco.dataset["annotations"]:
            if int(coco.annToMask(ann).sum()) == 0:
                raise AssertionError(f"{name}: annotation {ann['id']} has an empty mask")
        summary[f"{name}_images"] = len(coco.imgs)
        summary[f"{name}_annotations"] = len(coco.anns)

    licence_ids = {lic["id"] for lic in inst["licenses"]}
    cat_ids = {c["id"] for c in inst["categories"]}
    with_anns = {a["image_id"] for a in inst["annotations"]}
    for im in inst["images"]:
        path = img_dir / im["file_name"]
        with Image.open(path) as pil:
            pil.load()
            if pil.size != (im["width"], im["height"]):
                raise AssertionError(f"{path.name}: size {pil.size} != json")
        if im["license"] not in licence_ids:
            raise AssertionError(f"image {im['id']}: license id does not resolve")
        if im["id"] not in with_anns:
            raise AssertionError(f"image {im['id']}: no annotations")
    if {p.name for p in img_dir.iterdir()} != {im["file_name"] for im in inst["images"]}:
        raise AssertionError("images/ does not match the instances file")
    if any(a["category_id"] not in cat_ids for a in inst["annotations"]):
        raise AssertionError("instances: unresolved category id")
    inst_imgs = {im["id"]: im for im in inst["images"]}
    if any(inst_imgs.get(im["id"]) != im for im in kp["images"]):
        raise AssertionError("keypoints images are not a subset of the instances images")
    inst_anns = {a["id"]: a for a in inst["annotations"]}
    for a in kp["annotations"]:
        if inst_anns.get(a["id"]) != strip_keypoints(a):
            raise AssertionError(f"keypoint annotation {a['id']} differs from instances")
    for d in (inst, kp):
        ids = [a["id"] for a in d["annotations"]]
        if len(ids) != len(set(ids)):
            raise AssertionError("duplicate annotation ids")

    if src is not None:  # every object equals its source object
        pool: dict[tuple[int, int], Json] = {}
        for s in SOURCES:
            d = load(src / s.annotation)
            pool.update({(a["image_id"], a["id"]): a for a in d["annotations"]})
            for im in d["images"]:
                if im["id"] in inst_imgs and inst_imgs[im["id"]] != im:
                    raise AssertionError(f"image {im['id']} differs from {s.key}")
                if im["id"] in inst_imgs and (src / s.images / im["file_name"]).is_file():
                    copy = img_dir / im["file_name"]
                    if not filecmp.cmp(src / s.images / im["file_name"], copy, shallow=False):
                        raise AssertionError(f"{copy.name} is not a byte copy")
        for a in inst["annotations"]:
            if strip_keypoints(pool[(a["image_id"], a["id"])]) != a:
                raise AssertionError(f"annotation {a['id']} differs from its source")
        for a in kp["annotations"]:
            if pool[(a["image_id"], a["id"])] != a:
                raise AssertionError(f"keypoint annotation {a['id']} differs from its source")

    anns = inst["annotations"]
    polys = [a for a in anns if isinstance(a["segmentation"], list)]
    rles = [a for a in anns if isinstance(a["segmentation"], dict)]
    crowd = [a for a in rles if a["iscrowd"] == 1]
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    if total > MAX_BYTES:
        raise AssertionError(f"demo is {total} bytes, over {MAX_BYTES}")
    summary.update(
        polygons=len(polys),
        multipart_polygons=sum(is_multipart(a) for a in polys),
        compressed_rles=sum(isinstance(a["segmentation"]["counts"], str) for a in rles),
        crowd_rles_with_image=len(crowd),
        crowd_rle_images=sorted({a["image_id"] for a in crowd}),
        keypoint_persons=len(kp["annotations"]),
        keypoint_persons_with_points=sum(a["num_keypoints"] > 0 for a in kp["annotations"]),
        keypoint_images=[im["id"] for im in kp["images"]],
        categories_used=len({a["category_id"] for a in anns}),
        total_bytes=total,
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC, help="real-data folder")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument("--check", action="store_true", help="only verify the existing demo")
    args = parser.parse_args(argv)
    src: Path = args.src.resolve()
    has_src = (src / SOURCES[0].annotation).is_file()
    if not args.check:
        if not has_src:
            parser.error(f"no real data at {src}")
        write(src, args.out)
    summary = verify(src if has_src else None, args.out)
    for key, value in summary.items():
        print(f"{key:30} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
