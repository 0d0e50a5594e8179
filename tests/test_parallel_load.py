"""A first open that hands chunks to a helper process gives exactly the one-process index.

The thresholds are lowered so that small files use the helper (real files only
do from 64 MB on); every comparison is against the same file opened with
``COCOVIEW_WORKERS=0``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cocoview.model import chunk_worker, chunks, loader, parse
from cocoview.model.columns import ANN_COLUMNS
from cocoview.testing.synth import generate_coco
from tests.builders import doc
from tests.conftest import real_sets, set_id


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    use_helper_for_small_files(monkeypatch)


def use_helper_for_small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small thresholds, and this process waits for the helper's first result.

    On a small file this process would otherwise be done before the helper has
    started; waiting (for a message, not for a time) makes the split deterministic.
    """
    monkeypatch.setattr(parse, "CHUNK", 7)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parse, "PARALLEL_MIN_CHUNKS", 2)
    monkeypatch.delenv(loader.WORKERS_ENV, raising=False)
    started: list[chunk_worker.Helper] = []
    real_start, real_decode = chunk_worker.Helper.start, parse.decode_chunk

    def start(self: chunk_worker.Helper) -> bool:
        started.append(self)
        return real_start(self)

    def decode(buf: bytes, count: int, is_list: bool) -> chunks.Chunk | None:
        helper = started[-1] if started else None
        deadline = time.monotonic() + 30
        while (helper is not None and helper._reader is not None and helper._reader.is_alive()
               and not any(m is None or m.chunk is not None for m in list(helper.messages.queue))
               and time.monotonic() < deadline):
            helper._reader.join(0.01)  # until a finished chunk (or the end) has arrived
        return real_decode(buf, count, is_list)

    monkeypatch.setattr(chunk_worker.Helper, "start", start)
    monkeypatch.setattr(parse, "decode_chunk", decode)


def _alone(path: Path, monkeypatch: pytest.MonkeyPatch) -> loader.FileIndex:
    with monkeypatch.context() as m:
        m.setenv(loader.WORKERS_ENV, "0")
        return loader.load_file(path, cache=False)


def assert_same(a: loader.FileIndex, b: loader.FileIndex) -> None:
    for k in (*ANN_COLUMNS, "bbox"):
        x, y = getattr(a.anns, k), getattr(b.anns, k)
        assert x.dtype == y.dtype, k
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), k
    assert np.array_equal(a.ann_rec_off, b.ann_rec_off)
    assert np.array_equal(a.ann_rec_len, b.ann_rec_len)
    assert np.array_equal(a.images.id, b.images.id)
    assert a.kind == b.kind
    assert a.captions == b.captions
    assert [(p.code, p.location, p.message) for p in a.problems] == [
        (p.code, p.location, p.message) for p in b.problems]


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    path = tmp_path / "gen.json"
    generate_coco(path, n_images=40, n_annotations=300, seed=3)
    return path


def test_helper_takes_chunks_and_the_index_is_identical(
        parallel: None, generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fi = loader.load_file(generated, cache=False)
    assert fi.helper_chunks > 0  # the helper really did part of the work
    alone = _alone(generated, monkeypatch)
    assert alone.helper_chunks == 0
    assert_same(fi, alone)


def test_bad_records_in_the_helpers_chunks(parallel: None, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    d = doc()
    good = d["annotations"][0]
    anns = [{**good, "id": 100 + i} for i in range(60)]
    # damage at the back, where the helper starts
    anns[-1]["bbox"] = "oops"
    anns[-3].pop("image_id")
    anns[-5]["id"] = 2**70
    anns[-9]["area"] = {"x": 1}
    d["annotations"] = anns
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    fi = loader.load_file(path, cache=False)
    assert fi.helper_chunks > 0
    alone = _alone(path, monkeypatch)
    assert_same(fi, alone)
    assert {p.code for p in fi.problems} >= {"bad-record", "record-skipped"}
    assert len(fi.anns) == 58  # no image id, id beyond 64 bits: left out


@pytest.mark.parametrize("script", [
    "import sys; sys.exit(1)",  # dies at once
    "print('garbage')",  # speaks nonsense
    "import sys; sys.stdin.readline(); sys.stdout.write('{\"index\": 0, \"claim\": true}\\n')",
])
def test_a_failing_helper_costs_only_time(parallel: None, generated: Path, script: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunk_worker, "command", lambda: [sys.executable, "-c", script])
    fi = loader.load_file(generated, cache=False)
    assert fi.helper_chunks == 0
    assert_same(fi, _alone(generated, monkeypatch))


def test_no_helper_program_at_all(parallel: None, generated: Path,
                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(chunk_worker, "command", lambda: [str(tmp_path / "missing")])
    fi = loader.load_file(generated, cache=False)
    assert_same(fi, _alone(generated, monkeypatch))


def test_cancel_stops_the_helper(parallel: None, generated: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    helpers: list[chunk_worker.Helper] = []
    real_start = chunk_worker.Helper.start

    def spy(self: chunk_worker.Helper) -> bool:
        helpers.append(self)
        ok = real_start(self)
        self.spied = self.proc  # type: ignore[attr-defined]
        return ok

    monkeypatch.setattr(chunk_worker.Helper, "start", spy)
    steps: list[str] = []

    def cancelled() -> bool:
        return "indexing annotations" in steps

    with pytest.raises(loader.Cancelled):
        loader.load_file(generated, progress=lambda f, what: steps.append(what),
                         cancelled=cancelled, cache=False)
    assert helpers
    proc = helpers[0].spied  # type: ignore[attr-defined]
    assert proc.returncode is not None  # killed and reaped, not left running
    assert helpers[0].proc is None


def test_nan_file_is_not_handed_to_the_helper(parallel: None, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    d = doc()
    d["annotations"] = [{**d["annotations"][0], "id": 100 + i} for i in range(30)]
    text = json.dumps(d).replace('"area": 80.0', '"area": NaN', 1)
    path = tmp_path / "nan.json"
    path.write_text(text)
    fi = loader.load_file(path, cache=False)
    assert fi.helper_chunks == 0  # the re-encoded bytes are not the file the helper reads
    assert_same(fi, _alone(path, monkeypatch))


def test_result_round_trip() -> None:
    buf = chunks.wrap(b'{"id": 1, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], '
                      b'"segmentation": [[1, 2, 3, 4, 5, 6]], "score": 0.5}')
    chunk = chunks.decode_chunk(buf, 1, is_list=False)
    assert chunk is not None
    import io

    stream = io.BytesIO(chunks.encode(5, chunk) + chunks.encode(6, None)
                        + chunks.encode_claim(7))
    got = chunks.read(stream)
    assert got is not None and got.index == 5 and got.chunk is not None
    assert got.chunk.cols.keys() == chunk.cols.keys()
    for k, v in chunk.cols.items():
        assert np.array_equal(got.chunk.cols[k], v, equal_nan=v.dtype.kind == "f")
    failed, claim = chunks.read(stream), chunks.read(stream)
    assert failed is not None and failed.chunk is None and not failed.claim
    assert claim is not None and claim.claim and claim.index == 7
    assert chunks.read(stream) is None
    with pytest.raises(ValueError):
        chunks.read(io.BytesIO(b'{"index": 1, "n": 1, "arrays": [["id", "|O", [1]]]}\n'))


SETS = [x for x in real_sets() if x[1]["kind"] != "image_info"]


@pytest.mark.parametrize("item", SETS, ids=[set_id(x) for x in SETS])
def test_every_real_set(parallel: None, item: tuple[Path, dict],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    root, s = item
    path = root / s["annotation"]
    fi = loader.load_file(path, cache=False)
    assert_same(fi, _alone(path, monkeypatch))


def test_the_frozen_apps_dispatch(parallel: None, generated: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundle has no ``python -m``: the app itself runs the helper on a hidden flag."""
    monkeypatch.setattr(chunk_worker, "command",
                        lambda: [sys.executable, "-m", "cocoview", chunk_worker.FROZEN_FLAG])
    fi = loader.load_file(generated, cache=False)
    assert fi.helper_chunks > 0
    assert_same(fi, _alone(generated, monkeypatch))
