"""Writes never cost the user anything, and the user's files are only ever read.

Tests run as root in CI (where chmod cannot make a folder read-only), so denied
and full-disk writes are simulated where the error would arise.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cocoview
from cocoview.cli import main as cli_main
from cocoview.model import cache as index_cache
from cocoview.model.export import export
from cocoview.model.render import render_image
from cocoview.model.safe_write import WriteError
from cocoview.model.stats import dataset_stats
from cocoview.model.thumbnail import render_thumbnail
from cocoview.model.validate import validate
from cocoview.resources import demo_files

_opens: list[tuple[str, Any, Any]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _opens is not None and isinstance(args[0], (str, bytes, os.PathLike)):
        _opens.append((os.fsdecode(args[0]), args[1], args[2]))


sys.addaudithook(_audit)  # cannot be removed: it records only while _opens is a list


def _writes(path_prefix: Path) -> list[tuple[str, Any, Any]]:
    assert _opens is not None
    out = []
    for p, mode, flags in _opens:
        if not os.path.abspath(p).startswith(str(path_prefix)):
            continue
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
        if writing:
            out.append((p, mode, flags))
    return out


def test_the_users_files_are_opened_read_only(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    global _opens
    src = tmp_path / "user"
    shutil.copytree(demo_files()[0].parents[1], src)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in src.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    out.mkdir()
    files = [src / "annotations" / f.name for f in demo_files()]
    _opens = []
    try:
        for cache in (True, True, False):  # first open (writes the cache), cached, no cache
            ds = cocoview.open(files, images=src / "images", cache=cache)
        dataset_stats(ds)
        validate(ds, check_files=True)
        for iid in ds.image_ids.tolist():
            ds.overlays(iid)
            render_image(ds, iid)
            render_thumbnail(ds, iid, 96)
            for aid in ds.annotation_ids(iid).tolist():
                ds.mask(aid)
        export(ds, ds.image_ids, out / "all.json", "coco")
        assert cli_main(["validate", str(files[0]), "--json"]) in (0, 1)
        assert cli_main(["render", str(files[0]), "--images", str(src / "images"),
                         "--image-id", str(int(ds.image_ids[0])),
                         "--out", str(out / "r.png")]) == 0
        writes = _writes(src)
        read = [p for p, _, _ in _opens if p.startswith(str(src))]
    finally:
        _opens = None
    capsys.readouterr()
    assert read  # the audit saw the reads
    assert writes == []
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in src.rglob("*") if p.is_file()}
    assert after == before  # nothing added, changed or touched in the user's folder


def test_read_only_folder_is_a_clear_error(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ds = cocoview.open(demo_files()[0])

    def denied(*_a: object, **_k: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    target = tmp_path / "x.json"
    with pytest.raises(WriteError, match=r"cannot write .*x\.json: Permission denied"):
        export(ds, ds.image_ids, target, "coco")
    assert list(tmp_path.iterdir()) == []


def test_replacing_an_export_that_fails_keeps_the_old_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = cocoview.open(demo_files()[0])
    target = tmp_path / "ids.txt"
    target.write_text("precious\n")

    def full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(WriteError, match="No space left"):
        export(ds, ds.image_ids, target, "ids", force=True)
    assert target.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ids.txt"]


def test_cache_write_on_a_full_disk_leaves_no_entry(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = demo_files()[0]
    real_save = np.save
    calls = []

    def save(file: Any, arr: Any, **kw: Any) -> None:
        calls.append(1)
        if len(calls) == 3:  # partway through the entry
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(file, arr, **kw)

    monkeypatch.setattr(index_cache.np, "save", save)
    ds = cocoview.open(path)  # the open itself works
    index_cache.wait_pending()  # the entry is written in the background
    assert len(ds.image_ids) > 0
    root = index_cache.cache_dir()
    leftovers = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    assert leftovers == []  # no partial entry, no temporary folder
    monkeypatch.setattr(index_cache.np, "save", real_save)
    ds2 = cocoview.open(path)  # stored properly now, and used next time
    assert np.array_equal(ds2.image_ids, ds.image_ids)
    assert index_cache.load(path) is not None
