"""A helper process that decodes part of a big file's annotations in parallel.

msgspec holds the GIL, so a second thread cannot share a first open's typed
decoding; a second process can. The loader starts this module before its
splitting pass (so the interpreter is up by the time there is work), sends one
request line — the file's path and size and the byte ranges of the chunks it
hands over — and reads results back as they are done (``chunks.encode``).
The helper maps the file read-only, exactly as the loader does; it never writes
anything but its standard output. Any failure of the helper costs only time:
the loader decodes whatever did not come back itself.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import subprocess
import sys
import threading
from queue import Empty, Queue

import msgspec

from cocoview.model import chunks

#: the hidden command-line switch a frozen build (no ``python -m``) dispatches on
FROZEN_FLAG = "--chunk-worker"


class Request(msgspec.Struct):
    path: str
    size: int
    is_list: bool
    #: (chunk index, start, end, record count) per chunk, in the order to work on them
    #: (the loader works from the front, the helper from the back; they meet in between)
    chunks: list[tuple[int, int, int, int]]


def command() -> list[str]:
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: the app itself dispatches
        return [sys.executable, FROZEN_FLAG]
    # -c, not -m: the package imports this module, and runpy warns about that
    return [sys.executable, "-c", "import sys; from cocoview.model.chunk_worker import main; "
            "sys.exit(main())"]


class _Job(msgspec.Struct):
    #: what the request asks for: a load's chunks, or validate's polygons (``polygon_worker``)
    job: str = "chunks"


def main() -> int:
    line = sys.stdin.buffer.readline()
    if not line:
        return 0
    if msgspec.json.decode(line, type=_Job).job != "chunks":
        from cocoview.model import polygon_worker

        return polygon_worker.serve(line, sys.stdin.buffer, sys.stdout.buffer)
    req = msgspec.json.decode(line, type=Request)
    out = sys.stdout.buffer
    with open(req.path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size != req.size:
            return 3  # the file changed under us: the loader does the work itself
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    mv = memoryview(data)
    for index, start, end, count in req.chunks:
        out.write(chunks.encode_claim(index))
        out.flush()
        chunk = chunks.decode_chunk(chunks.wrap(mv[start:end]), count, req.is_list)
        out.write(chunks.encode(index, chunk))
        out.flush()
        if hasattr(mmap, "MADV_DONTNEED"):
            lo = start - start % mmap.PAGESIZE
            with contextlib.suppress(OSError, ValueError):
                data.madvise(mmap.MADV_DONTNEED, lo, end - lo)
    return 0


class Helper:
    """The loader's side: start early, hand over chunks, collect what comes back."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.messages: Queue[chunks.Result | None] = Queue()
        self._reader: threading.Thread | None = None
        #: chunks the helper has started on
        self.claimed: set[int] = set()
        #: the helper has finished or failed: nothing more will come
        self.done = False

    def start(self) -> bool:
        try:
            self.proc = subprocess.Popen(
                command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, close_fds=True)
        except OSError:
            self.proc = None
        return self.proc is not None

    def submit(self, req: msgspec.Struct, payload: bytes = b"") -> bool:
        """Send the request line (and ``payload`` after it); then read what comes back."""
        proc = self.proc
        if proc is None or proc.stdin is None:
            return False
        try:
            proc.stdin.write(msgspec.json.encode(req) + b"\n")
            if payload:
                proc.stdin.write(payload)
            proc.stdin.close()
        except OSError:
            self.close()
            return False
        # the process is handed over: close() may clear self.proc before the thread runs
        self._reader = threading.Thread(target=self._read, args=(proc,), name="chunk-reader",
                                        daemon=True)
        self._reader.start()
        return True

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.stdout is None:
            self.messages.put(None)
            return
        try:
            while (msg := chunks.read(proc.stdout)) is not None:
                self.messages.put(msg)
        except (ValueError, OSError, TypeError):
            pass  # a garbled or broken pipe: what did not arrive is redone by the loader
        finally:
            self.messages.put(None)

    def take(self, timeout: float = 0.0) -> list[chunks.Result]:
        """Finished chunks that have arrived, waiting up to ``timeout`` s for a message."""
        out: list[chunks.Result] = []
        wait = timeout > 0
        while not self.done:
            try:
                msg = self.messages.get(timeout=timeout) if wait else self.messages.get_nowait()
            except Empty:
                break
            wait = False
            if msg is None:
                self.done = True
            elif msg.claim:
                self.claimed.add(msg.index)
            else:
                out.append(msg)
        return out

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None and not proc.stdin.closed:
                proc.stdin.close()
        proc.wait()
        if self._reader is not None:
            self._reader.join()
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
