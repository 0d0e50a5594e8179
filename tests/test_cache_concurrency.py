"""Many processes, one cache: concurrent opens of one file all succeed, alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cocoview.testing.synth import generate_coco

PROCESSES = 8
ROUNDS = 3


def test_concurrent_opens_with_an_empty_cache_all_succeed(tmp_path: Path) -> None:
    src = tmp_path / "inst.json"
    generate_coco(src, n_images=1500, n_annotations=20000, seed=3)
    env = dict(os.environ, COCOVIEW_CACHE_DIR=str(tmp_path / "cache"))
    outputs: set[str] = set()
    for rnd in range(ROUNDS):
        env["COCOVIEW_CACHE_DIR"] = str(tmp_path / f"cache{rnd}")  # empty each round
        procs = [subprocess.Popen([sys.executable, "-m", "cocoview", "stats", str(src)],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(PROCESSES)]
        # and one that clears the cache while they open
        clear = subprocess.run([sys.executable, "-m", "cocoview", "cache", "--clear"],
                               env=env, capture_output=True, text=True, timeout=300)
        assert clear.returncode == 0, clear.stderr
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            assert err == ""
            outputs.add(out)
    assert len(outputs) == 1
    assert "20,000" in outputs.pop()
