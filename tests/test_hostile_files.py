"""Files that are not files, and files that try to exhaust memory."""

from __future__ import annotations

import gzip
import os
import sys
import threading
from pathlib import Path

import pytest

import cocoview
from cocoview.cli import main
from cocoview.model import source
from cocoview.model.errors import CocoFormatError
from cocoview.model.loader import load_file

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")


@posix_only
def test_a_fifo_is_refused_without_blocking(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    done = threading.Event()

    def run() -> None:
        assert main(["stats", str(fifo)]) == 2
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(60)
    if not done.is_set():  # unblock the open so the test process can end
        with open(fifo, "wb"):
            pass
    assert done.is_set(), "opening a FIFO blocked"
    err = capsys.readouterr().err
    assert "FIFO" in err and "not a regular file" in err and str(fifo) in err


@posix_only
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused(device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"{device} is not on this system")
    with pytest.raises(CocoFormatError, match="character device"):
        load_file(device, cache=False)
    with pytest.raises(CocoFormatError, match="character device"):
        source.read_bytes(device)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CocoFormatError, match="is a folder"):
        load_file(tmp_path, cache=False)


def _bomb(path: Path, inflated: int) -> Path:
    """A valid COCO document padded with spaces: ``inflated`` bytes from a few KB."""
    head = b'{"images": [], "annotations": [], "categories": [], "pad": "'
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(head)
        block = b" " * (1 << 20)
        for _ in range(inflated >> 20):
            fh.write(block)
        fh.write(b'"}')
    return path


def test_a_gzip_bomb_stops_at_the_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(source, "GZIP_MIN_LIMIT", 1 << 20)
    monkeypatch.delenv("COCOVIEW_GZIP_MAX_RATIO", raising=False)
    bomb = _bomb(tmp_path / "bomb.json.gz", 24 << 20)
    assert bomb.stat().st_size * 1000 < 24 << 20  # it is one: > 1000x
    with pytest.raises(CocoFormatError, match="gzip bomb") as ei:
        load_file(bomb, cache=False)
    assert "--gzip-max-ratio 0" in str(ei.value) and str(bomb) in str(ei.value)
    # the flag lifts it (and stays as the environment of this process: undone here)
    monkeypatch.setenv("COCOVIEW_GZIP_MAX_RATIO", "100")
    assert main(["stats", str(bomb), "--no-cache", "--gzip-max-ratio", "0"]) == 0
    assert "images" in capsys.readouterr().out
    monkeypatch.setenv("COCOVIEW_GZIP_MAX_RATIO", "0")
    assert cocoview.open(bomb, cache=False).stats()["images"] == 0


def test_an_ordinary_gzip_opens_and_members_concatenate(tmp_path: Path) -> None:
    doc = (b'{"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3}], '
           b'"annotations": [], "categories": [{"id": 1, "name": "x"}]}')
    one = tmp_path / "one.json.gz"
    one.write_bytes(gzip.compress(doc))
    assert bytes(source.read_bytes(one)) == doc
    two = tmp_path / "two.json.gz"  # two members (cat a.gz b.gz), as gzip.decompress reads
    two.write_bytes(gzip.compress(doc[:40]) + gzip.compress(doc[40:]))
    assert bytes(source.read_bytes(two)) == doc
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gzip.compress(doc)[:-12])
    with pytest.raises(CocoFormatError, match="corrupt gzip"):
        source.read_bytes(cut)


def test_a_file_that_grows_while_read_is_an_error(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "growing.json"
    p.write_bytes(b'{"images": []}')
    real_fstat = os.fstat

    def smaller(fd: int) -> os.stat_result:  # as if it grew after the size was taken
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], st.st_size - 4, *st[7:]))

    monkeypatch.setattr(source.os, "fstat", smaller)
    with pytest.raises(CocoFormatError, match="grew while it was read"):
        source.read_bytes(p)
