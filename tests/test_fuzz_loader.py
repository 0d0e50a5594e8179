"""Fuzzing the loader (issue 6): bad input never costs the user anything.

Every damaged document either opens — and then everything the dataset API
offers works on what was opened — or raises the one clear error,
:class:`cocoview.CocoFormatError`, with a byte position inside the file where
the JSON itself is broken. Never another exception, a hang, a crash or
unbounded memory: each check runs in a forked child with a limit on its
address space and on its time, so a segfault, a MemoryError or a hang is
reported as a failure of the example instead of taking pytest down with it.

How many: ``COCOVIEW_FUZZ_EXAMPLES`` (default 1000) examples in total over the
hypothesis tests, split by the shares given to :func:`fuzz`; the seeded
byte-offset tests scale with it too (every offset of the small document is
always tried). By default the examples are derandomized (the same every run)
and a test stops at its first bug; ``COCOVIEW_FUZZ_SEED=<int>`` explores
another part of the space, and with either variable set hypothesis reports
every distinct bug it finds (each shrunk: slow), e.g.::

    COCOVIEW_FUZZ_EXAMPLES=20000 COCOVIEW_FUZZ_SEED=7 pytest tests/test_fuzz_loader.py

Files are written only under pytest's ``tmp_path``; hypothesis keeps no database.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import os
import random
import select
import signal
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from PIL import Image

import cocoview
from cocoview import CocoFormatError
from cocoview.model import loader
from cocoview.model.columns import ANN_COLUMNS
from cocoview.model.dataset import Dataset
from cocoview.model.render import render, render_image
from cocoview.testing.synth import generate_coco
from tests.builders import doc
from tests.fuzz_strategies import (
    REAL_IMAGE,
    REAL_SIZE,
    Damaged,
    Doc,
    coco_documents,
    damaged_documents,
    mutated_documents,
)
from tests.test_parallel_load import use_helper_for_small_files

TOTAL = int(os.environ.get("COCOVIEW_FUZZ_EXAMPLES", "1000"))
ON_DEMAND = "COCOVIEW_FUZZ_EXAMPLES" in os.environ or "COCOVIEW_FUZZ_SEED" in os.environ
SEED = os.environ.get("COCOVIEW_FUZZ_SEED")
SCALE = TOTAL / 1000
#: a check that has said nothing for this long is a hang
CHILD_TIMEOUT = 60.0
#: address space a check may add to what the test process already has
CHILD_MEMORY = 2 << 30

F = TypeVar("F", bound=Callable[..., Any])
Outcome = dict[str, Any]


def fuzz(share: float, shrink: bool = True) -> Callable[[F], F]:
    """Hypothesis settings: ``share`` of the examples, reproducible, nothing written to disk.

    Without ``shrink`` a failing example is reported as found (for tests whose
    examples cost a helper process each: shrinking would take minutes).
    """
    phases = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target) + (
        (Phase.shrink,) if shrink else ())
    s = settings(max_examples=max(1, round(TOTAL * share)), deadline=None, phases=phases,
                 derandomize=SEED is None, database=None,
                 suppress_health_check=list(HealthCheck),
                 # CI stops at the first bug (shrinking each one of several costs minutes)
                 report_multiple_bugs=ON_DEMAND)

    def deco(f: F) -> F:
        f = s(f)
        return seed(int(SEED))(f) if SEED is not None else f

    return deco


# ----- running a check in a child process ----------------------------------------------
def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/status") as fh:
            vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration, ValueError):
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = vm + CHILD_MEMORY
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _unexpected(exc: BaseException) -> Outcome:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}cocoview{os.sep}" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {"bug": type(exc).__name__, "where": where, "message": str(exc)[:500],
            "traceback": text[-4000:]}


def _call(fn: Callable[[Any], Outcome], item: Any) -> Outcome:
    try:
        return fn(item)
    except BaseException as exc:  # everything, MemoryError and RecursionError included
        return _unexpected(exc)


def _child(fn: Callable[[Any], Outcome], items: Sequence[Any], timeout: float) -> list[Outcome]:
    """``fn`` over ``items`` in one forked child, up to the first crash or hang (reported)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 0
        try:
            os.close(r)
            _limit_memory()
            with os.fdopen(w, "wb", buffering=0) as out:
                for x in items:
                    out.write(json.dumps(_call(fn, x), default=str).encode() + b"\n")
        except BaseException:
            status = 70
        finally:
            os._exit(status)
    os.close(w)
    got: list[Outcome] = []
    buf = b""
    with os.fdopen(r, "rb", buffering=0) as fh:
        while True:
            ready, _, _ = select.select([fh], [], [], timeout)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return [*got, {"bug": "Hang", "where": f"no result in {timeout:.0f} s",
                               "message": "", "traceback": ""}]
            block = fh.read(1 << 16)
            if not block:
                break
            buf += block
            *lines, buf = buf.split(b"\n")
            got += [json.loads(line) for line in lines]
    _, status = os.waitpid(pid, 0)
    if len(got) < len(items):
        how = (f"killed by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
               else f"exit status {os.WEXITSTATUS(status)}")
        got.append({"bug": "Crash", "where": how, "message": "the check's process died",
                    "traceback": ""})
    return got


def run_all(fn: Callable[[Any], Outcome], items: Sequence[Any],
            timeout: float = CHILD_TIMEOUT) -> list[Outcome]:
    """One outcome per item; a crash or hang costs only that item (a new child goes on)."""
    if not hasattr(os, "fork"):  # no isolation here: crashes and hangs hit the test itself
        return [_call(fn, x) for x in items]
    out: list[Outcome] = []
    while len(out) < len(items):
        out += _child(fn, items[len(out):], timeout)
    return out


def run_one(fn: Callable[[Any], Outcome], item: Any) -> Outcome:
    return run_all(fn, [item])[0]


_BUG_TYPES: dict[str, type[AssertionError]] = {}


def raise_bug(out: Outcome, context: str = "") -> None:
    """Fail with one exception type per kind and place of bug (hypothesis tells them apart)."""
    if "bug" not in out:
        return
    key = f"{out['bug']}_at_{out['where']}"
    cls = _BUG_TYPES.setdefault(key, type(f"Unexpected_{key}", (AssertionError,), {}))
    raise cls(f"{out['bug']} at {out['where']}: {out['message']}\n{context}\n"
              f"{out['traceback']}")


# ----- the checks (run in the child) -----------------------------------------------------
def _problem_keys(problems: Sequence[cocoview.Problem]) -> list[list[str]]:
    return sorted([str(p.severity), p.code, p.location] for p in problems)


def exercise(ds: Dataset, full: bool = True) -> Outcome:
    """Everything a view or the CLI does with an opened dataset; returns a summary.

    Not ``full``: masks are painted and an image rendered for the first image only
    (the seeded tests on the bigger document open hundreds of 640×480 files).
    """
    problems = ds.problems(check_files=True)
    for p in problems:
        str(p)
        json.dumps(p.to_dict())
    json.dumps(ds.stats())
    ds.warm()
    for f in ds.files:
        f.top_value("info")
        f.top_value("licenses")
    for c in ds.categories:
        ds.category(c.id)
    ids = ds.image_ids.tolist()
    for k, iid in enumerate(ids):
        ds.image(iid)
        ds.image_record(iid)
        ds.image_license(iid)
        ds.annotations(iid)
        ds.captions(iid)
        ov = ds.overlays(iid)
        if full or k == 0:
            ds.image_problems(iid)
            ov.mask_layer()
            ov.mask_layer(opacity=1.0, highlight=-1)
    for row in range(len(ds.anns)):
        ds.annotation_record(row)
        ds.segmentation(row)
        ds.keypoints_array(row)
        ds.seg_kind_name(row)
        if not full:
            continue
        try:
            ds.mask_of_row(row)
        except ValueError as exc:  # the documented refusals: no size, or a size too large
            if "image size unknown" not in str(exc) and "too large" not in str(exc):
                raise
    for aid in sorted(set(ds.anns.id.tolist()))[:100]:
        ds.annotation(aid)
    res = ds.results
    if res is not None:
        for row in range(len(res)):
            res.record(row)
            res.segmentation(row)
            res.keypoints_array(row)
            res.mask(row)
    if ids:
        render_image(ds, ids[0])
        if full:
            render(ds.overlays(ids[-1]), None, layers=("masks", "outlines", "boxes",
                                                       "keypoints", "labels"), note="fuzz")
    return {"outcome": "opened", "images": len(ds), "anns": len(ds.anns), "kinds": ds.kinds,
            "problems": _problem_keys(problems)}


def open_and_exercise(path: Path, cache: bool = False, full: bool = True) -> Outcome:
    try:
        ds = cocoview.open(path, cache=cache)
    except CocoFormatError as exc:
        return {"outcome": "error", "cause": exc.cause, "position": exc.position,
                "message": str(exc), "path_in_message": str(path) in str(exc)}
    return exercise(ds, full)


def open_and_exercise_lightly(path: Path) -> Outcome:
    return open_and_exercise(path, full=False)


def open_twice_with_cache(path: Path) -> Outcome:
    """Opened fresh (and stored in the isolated index cache), then from the cache: both work."""
    first = open_and_exercise(path, cache=True)
    if first["outcome"] == "opened":
        again = open_and_exercise(path, cache=True)
        first["cache_differs"] = again != first
        first["from_cache"] = again
    return first


def strict_json(data: bytes) -> tuple[bool, bool]:
    """(valid RFC 8259 JSON in UTF-8, shaped like a COCO document or a results list)."""

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        # numbers are not needed, only their syntax (and Python's int has a digit limit)
        obj = json.loads(data.decode("utf-8"), parse_constant=no_constants,
                         parse_int=lambda _: 0, parse_float=lambda _: 0.0)
    except (ValueError, RecursionError):
        return False, False
    if isinstance(obj, list):
        return True, True
    if isinstance(obj, dict):
        return True, all(obj.get(k) is None or isinstance(obj.get(k), list)
                         for k in ("images", "annotations", "categories"))
    return True, False


def lenient_json(data: bytes) -> bool:
    """JSON as cocoview opens it: invalid UTF-8 inside strings read as U+FFFD, and the
    NaN/Infinity literals pycocotools accepts (both documented in docs/decisions/parser.md;
    the NaN ones are listed as problems)."""
    try:
        obj = json.loads(data.decode("utf-8", "replace"), parse_int=lambda _: 0,
                         parse_float=lambda _: 0.0)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, list) or (isinstance(obj, dict) and all(
        obj.get(k) is None or isinstance(obj.get(k), list)
        for k in ("images", "annotations", "categories")))


# ----- the expectations (in the test process) -------------------------------------------
def check_outcome(out: Outcome, size: int, context: str = "") -> None:
    """Opened (and everything worked), or the clear error with a position inside the file."""
    raise_bug(out, context)
    if out["outcome"] == "error":
        assert out["path_in_message"], out
        pos = out["position"]
        assert pos is None or 0 <= pos <= size, f"position {pos} outside 0..{size}: {out}"


def check_damaged(out: Outcome, data: bytes) -> str | None:
    """What is wrong with the outcome of opening damaged ``data`` (None: all is well)."""
    if "bug" in out:
        return f"{out['bug']} at {out['where']}: {out['message'][:200]}"
    valid, shaped = strict_json(data)
    if valid and shaped:
        if out["outcome"] != "opened":
            return f"valid JSON, but not opened: {out['message'][:200]}"
        return None
    if out["outcome"] != "error":
        if lenient_json(data):
            return None  # opened as documented: replaced UTF-8, or NaN listed as problems
        return "opened a file that is not valid JSON" if not valid else \
            "opened valid JSON that is not a COCO document"
    pos = out["position"]
    if not valid and pos is None:
        return f"no byte position: {out['message'][:200]}"
    if pos is not None and not 0 <= pos <= len(data):
        return f"position {pos} outside 0..{len(data)}: {out['message'][:200]}"
    return None


def report(failures: list[tuple[str, str]], tried: int) -> None:
    if failures:
        kinds: dict[str, int] = {}
        for _, why in failures:
            kinds[why.split(":")[0][:80]] = kinds.get(why.split(":")[0][:80], 0) + 1
        lines = "\n".join(f"  {what}: {why}" for what, why in failures[:15])
        summary = "\n".join(f"  {n} x {k}" for k, n in sorted(kinds.items(), key=lambda x: -x[1]))
        pytest.fail(f"{len(failures)} of {tried} damaged files went wrong:\n{summary}\n"
                    f"first ones:\n{lines}", pytrace=False)


# ----- fixtures ---------------------------------------------------------------------------
_warm = False


class Workdir:
    """A folder beside a real image (``a.png``); one file name per example, removed after."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.counter = itertools.count()
        root.mkdir(exist_ok=True)
        Image.new("RGB", REAL_SIZE, (10, 200, 30)).save(root / REAL_IMAGE)
        global _warm
        if not _warm:  # every lazy import done here once, not in every child again
            warm = root / "warm.json"
            warm.write_text(json.dumps(doc()))
            open_and_exercise(warm)
            warm.unlink()
            _warm = True

    def path(self, suffix: str = ".json") -> Path:
        return self.root / f"doc{next(self.counter)}{suffix}"

    def write(self, data: bytes, suffix: str = ".json") -> Path:
        p = self.path(suffix)
        p.write_bytes(gzip.compress(data, mtime=0) if suffix.endswith(".gz") else data)
        return p

    def clean(self) -> None:
        for p in self.root.glob("doc*"):
            p.unlink()


@pytest.fixture
def workdir(tmp_path: Path) -> Workdir:
    return Workdir(tmp_path / "work")


@pytest.fixture
def helper_for_small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in test_parallel_load: small files hand chunks to the helper process."""
    use_helper_for_small_files(monkeypatch)


def _floats(a: np.ndarray) -> list[Any]:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in a.ravel().tolist()]


def index_digest(path: Path) -> Outcome:
    """Everything load_file indexed, comparable across processes (or the clear error)."""
    try:
        fi = loader.load_file(path, cache=False)
    except CocoFormatError as exc:
        return {"outcome": "error", "cause": exc.cause, "position": exc.position}
    d: Outcome = {k: _floats(np.asarray(getattr(fi.anns, k))) for k in (*ANN_COLUMNS, "bbox")}
    d.update(outcome="opened", rec_off=fi.ann_rec_off.tolist(), rec_len=fi.ann_rec_len.tolist(),
             images=fi.images.id.tolist(), kind=fi.kind, captions=fi.captions,
             problems=[[p.code, p.location, p.message] for p in fi.problems],
             helper_chunks=fi.helper_chunks)
    d["_fi"] = fi
    return d


def helper_vs_alone(path: Path, full: bool = True) -> Outcome:
    """The index with the helper process equals the one-process index; then exercise it."""
    with_helper = index_digest(path)
    os.environ[loader.WORKERS_ENV] = "0"
    try:
        alone = index_digest(path)
    finally:
        del os.environ[loader.WORKERS_ENV]
    fi = with_helper.pop("_fi", None)
    alone.pop("_fi", None)
    used = with_helper.pop("helper_chunks", 0)
    alone.pop("helper_chunks", None)
    differs = sorted(k for k in set(with_helper) | set(alone)
                     if with_helper.get(k) != alone.get(k))
    out: Outcome = {"outcome": with_helper["outcome"], "helper_chunks": used,
                    "differs": differs, "with_helper": {k: with_helper.get(k) for k in differs},
                    "alone": {k: alone.get(k) for k in differs},
                    "position": with_helper.get("position"),
                    "message": with_helper.get("cause", "")}
    if fi is not None:
        out["summary"] = exercise(Dataset([fi]), full)
    return out


# ----- hypothesis: mutated documents -------------------------------------------------------
@fuzz(0.608)
@given(d=mutated_documents())
def test_mutated_documents_open_or_raise_the_clear_error(d: Doc, workdir: Workdir) -> None:
    """Missing keys, wrong types at every level, extreme numbers, ids beyond 2^63, deep
    nesting, long and strange strings, repeated keys, broken polygons and RLEs: the file
    opens and everything works on it (also after a round trip through the index cache), or
    it raises CocoFormatError."""
    data = d.to_bytes()
    path = workdir.write(data)
    try:
        out = run_one(open_twice_with_cache, path)
    finally:
        workdir.clean()
    check_outcome(out, len(data), repr(d))
    if out["outcome"] == "opened":
        again = out.pop("from_cache")
        raise_bug(again, "opened from the index cache\n" + repr(d))
        assert not out["cache_differs"], f"the cached index differs: {out} != {again}"


@fuzz(0.1)
@given(d=coco_documents())
def test_valid_documents_open_without_errors(d: Doc, workdir: Workdir) -> None:
    """The unmutated documents the fuzzing starts from are fine: every record is indexed."""
    data = d.to_bytes()
    path = workdir.write(data)
    try:
        out = run_one(open_and_exercise, path)
    finally:
        workdir.clean()
    check_outcome(out, len(data), repr(d))
    assert out["outcome"] == "opened", out
    errors = [p for p in out["problems"] if p[0] == "error"]
    assert not errors, errors
    anns = d.tree if d.kind == "results" else d.tree["annotations"]
    if d.kind in ("instances", "keypoints", "results"):
        assert out["anns"] == len(anns)


@fuzz(0.2)
@given(d=damaged_documents())
def test_truncated_or_flipped_documents(d: Damaged, workdir: Workdir) -> None:
    """Cut short or with bytes changed: valid JSON opens, anything else raises
    CocoFormatError with a byte position inside the file."""
    path = workdir.write(d.data)
    try:
        out = run_one(open_and_exercise, path)
    finally:
        workdir.clean()
    raise_bug(out, repr(d))
    why = check_damaged(out, d.data)
    assert why is None, f"{why}\n{out}"


@fuzz(0.08)
@given(d=mutated_documents())
def test_gzip_gives_the_same_outcome(d: Doc, workdir: Workdir) -> None:
    """A ``.json.gz`` of a fuzzed document opens (or fails) exactly as the plain file."""
    data = d.to_bytes()
    plain, packed = workdir.write(data), workdir.write(data, ".json.gz")
    try:
        out_plain, out_gz = run_all(open_and_exercise, [plain, packed])
    finally:
        workdir.clean()
    check_outcome(out_plain, len(data), repr(d))
    check_outcome(out_gz, len(data), "gzip\n" + repr(d))
    for o in (out_plain, out_gz):
        o.pop("message", None)
    assert out_gz == out_plain


def test_mutated_documents_through_the_helper_process(helper_for_small_files: None,
                                                      workdir: Workdir) -> None:
    """Documents of 15-40 records with damage, opened with half the chunks decoded in the
    helper process: the same index (or the same error) as in one process."""
    used: list[int] = []

    @fuzz(0.012, shrink=False)
    @given(d=mutated_documents(coco_documents(min_anns=15, max_anns=40,
                                              kinds=("instances", "keypoints", "results"))))
    def run(d: Doc) -> None:
        data = d.to_bytes()
        path = workdir.write(data)
        try:
            out = run_one(helper_vs_alone, path)
        finally:
            workdir.clean()
        raise_bug(out, repr(d))
        if "summary" in out:
            raise_bug(out["summary"], repr(d))
        assert not out["differs"], f"helper and one process differ: {out}\n{d!r}"
        used.append(out["helper_chunks"])

    run()
    assert any(used), "the helper never took a chunk: the fixture no longer works"


# ----- seeded: truncation and byte flips at many offsets ------------------------------------
def _damage_all(workdir: Workdir, variants: list[tuple[str, bytes]],
                fn: Callable[[Any], Outcome] = open_and_exercise) -> None:
    paths = [workdir.write(data) for _, data in variants]
    try:
        outs = run_all(fn, paths)
    finally:
        workdir.clean()
    failures = []
    for (what, data), out in zip(variants, outs, strict=True):
        why = check_damaged(out, data)
        if why is not None:
            failures.append((what, why))
    report(failures, len(variants))


def _flips(data: bytes, offsets: Sequence[int], rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for off in offsets:
        for mode in ("byte", "bit"):
            new = rng.randrange(256) if mode == "byte" else data[off] ^ (1 << rng.randrange(8))
            if new == data[off]:
                new ^= 0x80
            flipped = bytearray(data)
            flipped[off] = new
            yield f"[{off}] {data[off]:#04x}->{new:#04x}", bytes(flipped)


SMALL = json.dumps(doc()).encode()


def test_truncated_at_every_offset_of_a_small_document(workdir: Workdir) -> None:
    _damage_all(workdir, [(f"cut at {n}", SMALL[:n]) for n in range(len(SMALL))])


def test_bytes_flipped_at_every_offset_of_a_small_document(workdir: Workdir) -> None:
    rng = random.Random(6)
    variants = [v for _ in range(max(1, round(SCALE)))
                for v in _flips(SMALL, range(len(SMALL)), rng)]
    _damage_all(workdir, variants)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("gen") / "gen.json"
    generate_coco(path, n_images=8, n_annotations=80, seed=6)
    return path.read_bytes()


def test_truncated_generated_document_at_seeded_offsets(workdir: Workdir, generated: bytes
                                                        ) -> None:
    rng = random.Random(61)
    cuts = sorted(rng.sample(range(len(generated)), min(len(generated), round(300 * SCALE))))
    _damage_all(workdir, [(f"cut at {n}", generated[:n]) for n in cuts],
                open_and_exercise_lightly)


def test_bytes_flipped_in_generated_document_at_seeded_offsets(workdir: Workdir,
                                                               generated: bytes) -> None:
    rng = random.Random(62)
    offsets = sorted(rng.sample(range(len(generated)), min(len(generated),
                                                           round(150 * SCALE))))
    _damage_all(workdir, list(_flips(generated, offsets, rng)), open_and_exercise_lightly)


def test_damaged_files_through_the_helper_process(helper_for_small_files: None,
                                                  workdir: Workdir, generated: bytes) -> None:
    """Truncated and flipped files with the helper started: the same outcome as alone."""
    rng = random.Random(63)
    n = max(4, round(6 * SCALE))
    cuts = [(f"cut at {c}", generated[:c]) for c in rng.sample(range(len(generated)), n)]
    flips = list(_flips(generated, rng.sample(range(len(generated)), n // 2), rng))
    variants = cuts + flips
    paths = [workdir.write(data) for _, data in variants]
    try:
        outs = run_all(lambda path: helper_vs_alone(path, full=False), paths)
    finally:
        workdir.clean()
    failures = []
    for (what, data), out in zip(variants, outs, strict=True):
        why = check_damaged(out, data)
        if why is None and out["differs"]:
            why = f"helper and one process differ in {out['differs']}"
        if why is None and "bug" in out.get("summary", {}):
            why = check_damaged(out["summary"], data)
        if why is not None:
            failures.append((what, why))
    report(failures, len(variants))


# ----- odd whole files -----------------------------------------------------------------------
@pytest.mark.parametrize(("content", "opens"), [
    (b"[]", True),
    (b"{}", False),
    (b" {}\n", False),
    (b'{"name": "my config", "layers": [1, 2, 3]}', False),
    (b"[1, 2, 3]", False),
    (b'[{"name": "x"}]', False),
    (b"null", False),
    (b'"x"', False),
    (b"1", False),
    (b"-1.5e3", False),
    (b"true", False),
    (b"", False),
    (b" \t\r\n " * 100, False),
    (b"\x00", False),
    (b"\xef\xbb\xbf", False),
], ids=repr)
def test_trivial_documents(workdir: Workdir, content: bytes, opens: bool) -> None:
    for suffix in (".json", ".json.gz"):
        out = run_one(open_and_exercise, workdir.write(content, suffix))
        check_outcome(out, len(content), f"{content!r} as {suffix}")
        assert out["outcome"] == ("opened" if opens else "error"), out
        if not opens:
            assert out["position"] is not None, out


def _same_index(out: Outcome, reference: Outcome) -> bool:
    return all(out.get(k) == reference.get(k) for k in ("outcome", "images", "anns", "kinds"))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32"])
def test_byte_order_marks_and_other_encodings(workdir: Workdir, encoding: str) -> None:
    """Either read as the UTF-8 file would be, or refused with an error that says so.

    The document is an object: an error claiming its top-level value is not one is
    not a clear error.
    """
    text = json.dumps(doc(), ensure_ascii=False)
    reference = run_one(open_and_exercise, workdir.write(text.encode()))
    data = text.encode(encoding)
    out = run_one(open_and_exercise, workdir.write(data))
    check_outcome(out, len(data), encoding)
    if out["outcome"] == "opened":
        assert _same_index(out, reference), (out, reference)
    else:
        assert "expected an object or a list" not in out["cause"], out


DEEP = 100_000


@pytest.mark.parametrize(("content", "valid"), [
    (b"[" * DEEP, False),
    (b"[" * DEEP + b"]" * DEEP, True),
    (b'{"a":' * DEEP, False),
    (b'{"a":' * DEEP + b"1" + b"}" * DEEP, True),
    (b'{"images": ' + b"[" * DEEP, False),
    (b'{"images": ' + b"[" * DEEP + b"]" * DEEP + b"}", True),
    (b'{"annotations": [' + b"[" * DEEP + b"]" * DEEP + b"]}", True),
    (b'{"categories": [{"id": 1, "name": ' + b"[" * DEEP + b"]" * DEEP + b"}]}", True),
    (b'{"info": ' + b"[" * DEEP + b"]" * DEEP + b"}", True),
    (b'{"images": [{"id": 1, "width": 4, "height": 4}], "annotations": [{"id": 1, '
     b'"image_id": 1, "category_id": 1, "segmentation": ' + b"[" * DEEP + b"]" * DEEP + b"}]}",
     True),
    (b'{"area": NaN, "x": ' + b"[" * DEEP + b"]" * DEEP + b"}", False),
    (b"[" * 2000 + b"]" * 2000, True),
    (b'{"images": [], "x": ' + b"[" * 1000 + b"]" * 1000 + b"}", True),
], ids=lambda v: f"{v[:22]!r}...{len(v)}" if isinstance(v, bytes) else str(v))
def test_deep_nesting(workdir: Workdir, content: bytes, valid: bool) -> None:
    """Never a RecursionError or a crash; broken JSON is the clear error with a position."""
    out = run_one(open_and_exercise, workdir.write(content))
    check_outcome(out, len(content), f"{content[:40]!r}... ({len(content)} bytes)")
    if not valid:
        assert out["outcome"] == "error" and out["position"] is not None, out


def test_gzip_edge_cases(workdir: Workdir) -> None:
    cases = [gzip.compress(b""), gzip.compress(b"   "), gzip.compress(b"[]")[:-3], b"\x1f\x8b",
             gzip.compress(gzip.compress(b"[]"))]
    for data in cases:
        p = workdir.path(".json.gz")
        p.write_bytes(data)
        out = run_one(open_and_exercise, p)
        check_outcome(out, 1 << 20, repr(data))
        assert out["outcome"] == "error", out


# ----- the smallest inputs the fuzzing above has found to go wrong -----------------------------
POLY = b'{"images": [{"id": 1, "width": 4, "height": 4}], "annotations": [{"id": 1, "image_id": 1, '
REPRODUCERS = {
    "lone-surrogate-key": rb'{"\ud800": 1}',
    "lone-surrogate-file-name": rb'{"images": [{"id": 1, "file_name": "\ud800"}]}',
    "invalid-utf8-category-name": b'{"categories": [{"id": 1, "name": "\xff"}]}',
    "invalid-utf8-file-name": b'{"images": [{"id": 1, "file_name": "\xff"}]}',
    "invalid-utf8-caption": b'{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, '
                            b'"caption": "\xff"}]}',
    "invalid-utf8-in-info": b'{"info": {"d": "\xff"}}',
    "invalid-utf8-in-annotation": b'{"images": [{"id": 1}], "annotations": [{"id": 1, '
                                  b'"image_id": 1, "note": "\xff"}]}',
    "invalid-utf8-in-key": b'{"\xff": 1}',
    "1e999-iscrowd": b'{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, '
                     b'"iscrowd": 1e999}]}',
    "1e999-result": b"[1e999]",
    "4301-digit-integer-record": b"[1" + b"0" * 4300 + b"]",
    "1e999-image-width": b'{"images": [{"id": 1, "width": 1e999}]}',
    "1e999-in-category": b'{"categories": [{"id": 1, "x": 1e999}]}',
    "1e999-in-image": b'{"images": [{"id": 1, "x": 1e999}]}',
    "1e999-in-polygon": POLY + b'"segmentation": [[1e999, 0, 1, 1, 2, 2]]}]}',
    "iscrowd-2**63": b'{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, '
                     b'"iscrowd": 9223372036854775808}]}',
    "width-2**63": b'{"images": [{"id": 1, "width": 9223372036854775808}]}',
    "polygon-coordinate-10**400": POLY + b'"segmentation": [[1' + b"0" * 400
                                  + b', 0, 1, 1, 2, 2]]}]}',
    "bbox-2**63": POLY + b'"bbox": [0, 0, 0, 9223372036854775808]}]}',
    "bbox-1e300": POLY + b'"bbox": [0, 0, 1e300, 1]}]}',
    "keypoint-1e300": POLY + b'"keypoints": [1e300, 1, 2]}]}',
    "height-2**31-1": b'{"images": [{"id": 1, "width": 1, "height": 2147483647}]}',
    "polygon-coordinate-2**31-1": b'{"images": [{"id": 1, "width": 1, "height": 1}], '
                                  b'"annotations": [{"id": 1, "image_id": 1, '
                                  b'"segmentation": [[0, 0, 0, 0, 0, 2147483647]]}]}',
    "polygon-1e5-no-image-size": b'{"images": [{"id": 1}], "annotations": [{"id": 1, '
                                 b'"image_id": 1, '
                                 b'"segmentation": [[1, 1, 100000, 1, 5, 100000]]}]}',
    "polygon-1e60-no-image-size": b'{"images": [{"id": 1}], "annotations": [{"id": 1, '
                                  b'"image_id": 1, "segmentation": [[1e60, 0, 1, 1, 2, 2]]}]}',
    "file-name-300-chars": b'{"images": [{"id": 1, "file_name": "' + b"x" * 300 + b'"}]}',
    "annotations-not-a-list-then-cut": b'{"annotations": 0,',
}


@pytest.mark.parametrize("name", list(REPRODUCERS))
def test_minimal_reproducers(workdir: Workdir, name: str) -> None:
    """Each opens and works, or is the clear error (with a position if it is not JSON)."""
    data = REPRODUCERS[name]
    out = run_one(open_and_exercise, workdir.write(data))
    check_outcome(out, len(data), repr(data))
    if not strict_json(data)[0] and not lenient_json(data):
        assert out["outcome"] == "error" and out["position"] is not None, out


def image_sizes(path: Path) -> Outcome:
    ds = cocoview.open(path, cache=False)
    return {"sizes": [[ds.image(i).width, ds.image(i).height] for i in ds.image_ids.tolist()],
            "problems": [[p.code, p.location] for p in ds.problems()]}


@pytest.mark.parametrize("width", [2**32 + 12, -(2**40) + 4, 2**31])
def test_image_sizes_beyond_32_bits_are_not_wrapped(workdir: Workdir, width: int) -> None:
    """A width that does not fit is unusable (≤ 0, a problem), never another usable number."""
    data = json.dumps({"images": [{"id": 1, "file_name": "a.png", "width": width,
                                   "height": 4}]}).encode()
    out = run_one(image_sizes, workdir.write(data))
    raise_bug(out)
    got = out["sizes"][0][0]
    assert got <= 0 or got == width, out
