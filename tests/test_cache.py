"""The index cache: hits, misses after a change, corrupt and foreign entries, --no-cache."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cocoview
from cocoview.cli import main
from cocoview.model import cache
from cocoview.model.cache_info import cache_dir
from cocoview.model.loader import load_file
from tests.builders import doc, write
from tests.conftest import DEMO

INST = DEMO / "annotations" / "instances_demo.json"


def _open(*args: Any, **kw: Any) -> cocoview.Dataset:
    """``cocoview.open`` and the background write of its cache entry."""
    ds = cocoview.open(*args, **kw)
    cache.wait_pending()
    return ds


def _same(a: cocoview.Dataset, b: cocoview.Dataset) -> None:
    for k in ("id", "image_id", "category_id", "area", "iscrowd", "seg_kind", "seg_off",
              "kp_off", "ordinal"):
        assert np.array_equal(getattr(a.anns, k), getattr(b.anns, k)), k
    assert np.array_equal(np.nan_to_num(a.anns.bbox), np.nan_to_num(b.anns.bbox))
    assert np.array_equal(a.image_ids, b.image_ids)
    assert np.array_equal(a.ann_order, b.ann_order)
    assert np.array_equal(a.ann_image_row, b.ann_image_row)
    assert a.image_file_names == b.image_file_names
    for iid in a.image_ids[:5].tolist():
        assert a.annotations(iid) == b.annotations(iid)
        for aid in a.annotation_ids(iid).tolist():
            assert np.array_equal(a.mask(aid), b.mask(aid))
    assert [str(p) for p in a.problems()] == [str(p) for p in b.problems()]


def test_second_open_is_a_cache_hit(tmp_path: Path) -> None:
    src = tmp_path / "inst.json"
    src.write_bytes(INST.read_bytes())
    cold = _open(src)
    entry = cache.entry_dir(src)
    assert (entry / "meta.json").is_file()
    hit = cache.load(src)
    assert hit is not None and isinstance(hit.data, cache.FileBytes)
    warm = _open(src)
    assert isinstance(warm.files[0].data, cache.FileBytes)  # nothing parsed, nothing read whole
    _same(cold, warm)
    assert warm.image_record(139) == cold.image_record(139)
    assert warm.image_license(139) == cold.image_license(139)  # top-level keys read on demand


def test_changed_file_is_reindexed(tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", doc())
    _open(p)
    d = doc()
    d["annotations"][0]["category_id"] = 2  # same size, other content
    p.write_text(json.dumps(d))
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the mtime unchanged…
    assert cache.load(p) is None  # …the content fingerprint differs
    ds = _open(p)
    assert ds.anns.category_id[ds.ann_row(10)] == 2


def test_corrupt_entries_are_ignored_and_rebuilt(tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", doc())
    _open(p)
    entry = cache.entry_dir(p)
    col = entry / "ann_id.npy"
    col.write_bytes(col.read_bytes()[:40])  # truncated
    assert cache.load(p) is None
    assert not entry.exists()  # removed, not trusted
    ds = _open(p)
    assert ds.anns.id.tolist() == [10, 11, 4294967297]
    (entry / "meta.json").write_text("{not json")
    assert cache.load(p) is None
    _open(p)
    pickled = entry / "ann_id.npy"
    np.save(pickled, np.array([object()], dtype=object), allow_pickle=True)
    assert cache.load(p) is None  # object arrays would need pickle: refused


def test_other_format_version_is_rebuilt(tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", doc())
    _open(p)
    meta_path = cache.entry_dir(p) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = cache.FORMAT_VERSION + 1
    meta_path.write_text(json.dumps(meta))
    assert cache.load(p) is None
    _open(p)
    assert json.loads(meta_path.read_text())["format"] == cache.FORMAT_VERSION


def test_no_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write(tmp_path / "a.json", doc())
    _open(p, cache=False)
    assert not cache.entry_dir(p).exists()
    assert main(["stats", str(p), "--no-cache"]) == 0
    assert not cache.entry_dir(p).exists()
    _open(p)
    assert cache.entry_dir(p).exists()
    fi = load_file(p, cache=False)
    assert not fi.cached  # an entry exists but was not used
    before = sorted(x.name for x in cache.entry_dir(p).iterdir())
    _open(p, cache=False)
    assert sorted(x.name for x in cache.entry_dir(p).iterdir()) == before  # nor written


def test_gzip_and_results_and_panoptic_roundtrip(tmp_path: Path) -> None:
    gz = tmp_path / "a.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(doc()).encode()))
    _same(_open(gz), _open(gz))
    assert cache.load(gz, gzip.decompress(gz.read_bytes())) is not None
    from tests.conftest import REAL

    pan = REAL / "panopticapi" / "sample_data" / "panoptic_examples.json"
    copy = tmp_path / "panoptic_examples.json"
    copy.write_bytes(pan.read_bytes())
    (tmp_path / "panoptic_examples").symlink_to(pan.parent / "panoptic_examples")
    a, b = _open(copy), _open(copy)
    assert isinstance(b.files[0].data, cache.FileBytes)
    assert b.kinds == ["panoptic"] and b.files[0].panoptic_png == a.files[0].panoptic_png
    _same(a, b)


def test_nan_files_are_not_cached(tmp_path: Path) -> None:
    d = doc()
    d["annotations"][0]["area"] = float("nan")
    p = tmp_path / "nan.json"
    p.write_text(json.dumps(d))
    _open(p)
    assert not cache.entry_dir(p).exists()  # offsets would point into re-encoded bytes


def test_cache_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write(tmp_path / "a.json", doc())
    _open(p)
    assert main(["cache", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["path"] == str(cache_dir()) and info["bytes"] > 0
    assert main(["cache", "--clear"]) == 0
    assert "cleared" in capsys.readouterr().out
    assert not cache.entry_dir(p).exists()


def test_truncated_source_after_hit_gives_clear_error(tmp_path: Path) -> None:
    p = write(tmp_path / "a.json", doc())
    _open(p)
    ds = _open(p)  # from the cache: geometry read by offset, on demand
    p.write_bytes(p.read_bytes()[:50])  # the file is cut while the dataset is open
    with pytest.raises(Exception) as ei:
        ds.annotations(1)
    assert not isinstance(ei.value, (SystemError, MemoryError))


def test_file_bytes_without_pread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(bytes(range(256)) * 4)
    fb = cache.FileBytes(p, 1024)
    with_pread = [fb[0:10], fb[250:260], fb[1020:2000], fb[5:5]]
    monkeypatch.delattr(os, "pread")
    assert [fb[0:10], fb[250:260], fb[1020:2000], fb[5:5]] == with_pread
    assert with_pread[2] == bytes([252, 253, 254, 255]) and with_pread[3] == b""


def _same_size_other_mapping(tmp_path: Path) -> tuple[bytes, bytes, int]:
    """Two documents of one size that differ in one annotation's image, away from
    every sampled spot of the fingerprint: (A, B, the annotation's id)."""
    images = [{"id": i, "file_name": f"{i:06d}.jpg", "width": 640, "height": 480}
              for i in range(1, 10)]
    anns = [{"id": k, "image_id": 1 + k % 9, "category_id": 1, "bbox": [1, 2, 30, 40],
             "area": 1200, "iscrowd": 0} for k in range(1, 40001)]
    d = {"images": images, "annotations": anns,
         "categories": [{"id": 1, "name": "thing"}]}
    a = json.dumps(d).encode()
    n = len(a)
    spots = [0, max(n - cache._SAMPLE, 0)] + [n * k // 9 for k in range(1, 9)]
    for k in range(20000, 40001):
        needle = f'{{"id": {k}, "image_id": {1 + k % 9},'.encode()
        at = a.find(needle)
        if all(not (s - 100 <= at <= s + cache._SAMPLE + 100) for s in spots):
            other = 1 + (k + 1) % 9
            b = a.replace(needle, f'{{"id": {k}, "image_id": {other},'.encode())
            assert len(b) == n and b != a
            return a, b, k
    raise AssertionError("no annotation away from the samples")


@pytest.mark.parametrize("how", ["in place", "moved over"])
def test_same_size_same_mtime_replacement_is_not_served_stale(tmp_path: Path,
                                                              how: str) -> None:
    a, b, ann_id = _same_size_other_mapping(tmp_path)
    p = tmp_path / "inst.json"
    p.write_bytes(a)
    first = _open(p)
    before = first.anns.image_id[first.ann_row(ann_id)]
    st = p.stat()
    if how == "in place":  # cat B > f
        with open(p, "r+b") as fh:
            fh.write(b)
    else:  # mv B f: another inode
        other = tmp_path / "b.json"
        other.write_bytes(b)
        os.replace(other, p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    while p.stat().st_ctime_ns == st.st_ctime_ns:  # a coarse clock: the same tick
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (p.stat().st_size, p.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert cache.load(p) is None
    again = _open(p)
    assert again.anns.image_id[again.ann_row(ann_id)] != before
    assert again.anns.image_id[again.ann_row(ann_id)] == json.loads(b)["annotations"][
        ann_id - 1]["image_id"]
