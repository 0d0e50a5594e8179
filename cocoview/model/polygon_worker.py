"""Half of ``validate``'s polygon batches in a helper process (issue 18).

Decoding every polygon of train2017 (~860 k annotations, ~43 M numbers) is most of
a validation, and msgspec holds the GIL: a thread cannot share it, a process can.
The helper is the loader's (``chunk_worker``, the same program and hidden flag):
it gets one request line naming the files, then the polygon rows' byte spans as
plain arrays (``chunks.encode``; no pickle), maps the files read-only and works
on the batches from the last one back, announcing each it starts ("claim"). The
validator works from the first one on and takes the helper's results where they
meet (:class:`PolygonHelper`). A batch's result is exactly what
:func:`batch_result` gives in-process — the same function on the same bytes —
so the problems found and the areas are identical whoever decoded a batch; a
helper that fails or never answers costs only time.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
from typing import IO, Any

import msgspec
import numpy as np

from cocoview.model import chunks
from cocoview.model.chunk_worker import Helper
from cocoview.model.masks import polygon_batch

#: the request's ``job``: how ``chunk_worker.main`` tells this work from a load's
JOB = "polygons"


class PolygonRequest(msgspec.Struct):
    job: str
    #: (path, size) of each file, by its index in the dataset
    files: list[tuple[str, int]]
    n_batches: int


#: a batch's result: (clean per polygon, the areas of the eligible clean ones), or None
Outcome = tuple[np.ndarray, np.ndarray] | None


def batch_result(raws: list[Any], eligible: np.ndarray) -> Outcome:
    """One batch of polygon segmentations decoded (``masks.polygon_batch``): which are
    clean, and the shoelace areas of the clean ones that are ``eligible`` (non-crowd, on
    an image of known size), in order; None when the batch needs the one-by-one path."""
    batch = polygon_batch(raws)
    if batch is None:
        return None
    want = batch.clean & eligible
    return batch.clean, batch.areas(want) if want.any() else np.zeros(0)


# ----- the helper's side ---------------------------------------------------------
def serve(line: bytes, stdin: IO[bytes], out: IO[bytes]) -> int:
    """Run a polygon job: ``line`` is its request; the arrays follow on ``stdin``."""
    req = msgspec.json.decode(line, type=PolygonRequest)
    msg = chunks.read(stdin)
    if msg is None or msg.chunk is None:
        return 3
    cols = msg.chunk.cols
    off, end, src = cols["off"], cols["end"], cols["src"]
    eligible, bounds = cols["eligible"], cols["bounds"]
    if len(bounds) != req.n_batches + 1:
        return 3
    views: list[memoryview] = []
    maps: list[mmap.mmap] = []
    for path, size in req.files:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size != size:
                return 3  # the file changed under us: the validator does the work itself
            m = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        if m is not None:
            maps.append(m)
        views.append(memoryview(m) if m is not None else memoryview(b""))
    for index in range(req.n_batches - 1, -1, -1):
        out.write(chunks.encode_claim(index))
        out.flush()
        lo, hi = int(bounds[index]), int(bounds[index + 1])
        raws = [views[s][o:e] for s, o, e in zip(src[lo:hi].tolist(), off[lo:hi].tolist(),
                                                  end[lo:hi].tolist(), strict=True)]
        res = batch_result(raws, eligible[lo:hi])
        del raws
        if res is None:
            out.write(chunks.encode(index, None))
        else:
            out.write(chunks.encode(index, chunks.Chunk(hi - lo, {"clean": res[0],
                                                                   "areas": res[1]})))
        out.flush()
    return 0


# ----- the validator's side -------------------------------------------------------
class PolygonHelper:
    """Hands every polygon batch to a helper process (last first) and gives back the
    results of the batches it reached: :meth:`result` is None for a batch the caller
    should decode itself."""

    def __init__(self, files: list[tuple[str, int]], off: np.ndarray, end: np.ndarray,
                 src: np.ndarray, eligible: np.ndarray, bounds: np.ndarray) -> None:
        self.helper = Helper()
        self.n = len(bounds) - 1
        self._results: dict[int, chunks.Result] = {}
        self._ok = self.helper.start()
        if not self._ok:
            return
        payload = chunks.encode(-1, chunks.Chunk(len(off), {
            "off": np.asarray(off, np.int64), "end": np.asarray(end, np.int64),
            "src": np.asarray(src, np.int64), "eligible": np.asarray(eligible, bool),
            "bounds": np.asarray(bounds, np.int64)}))
        req = PolygonRequest(JOB, files, self.n)
        # the arrays (~15 bytes a polygon) are more than a pipe holds: written by a
        # thread, so this process starts on its own batches at once
        self._writer = threading.Thread(target=self._submit, args=(req, payload),
                                        name="polygon-request", daemon=True)
        self._writer.start()

    def _submit(self, req: PolygonRequest, payload: bytes) -> None:
        if not self.helper.submit(req, payload):
            self._ok = False

    def result(self, index: int) -> tuple[bool, Outcome]:
        """(True, the helper's :func:`batch_result` for batch ``index``), or (False, None)
        when the batch is not the helper's (decode it here)."""
        if not self._ok:
            return False, None
        self._collect(0.0)
        # a batch the helper has started on: wait for it (unless the helper ends first)
        while index not in self._results and index in self.helper.claimed \
                and not self.helper.done and self._ok:
            self._collect(0.05)
        got = self._results.pop(index, None)
        if got is None:
            return False, None
        if got.chunk is None:
            return True, None
        return True, (got.chunk.cols["clean"].astype(bool), got.chunk.cols["areas"])

    def _collect(self, timeout: float) -> None:
        if self.helper._reader is None:  # the request is still being written
            if timeout:
                self._writer.join(timeout)
            return
        for r in self.helper.take(timeout):
            self._results[r.index] = r

    def close(self) -> None:
        self.helper.close()
        with contextlib.suppress(AttributeError):
            self._writer.join()
