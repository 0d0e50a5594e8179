"""First-open benchmark: how fast and how lean is opening a COCO file?

Generates a synthetic COCO file for a preset (``cocoview.testing.synth``) into
``bench-data/`` at the repository root if it is missing, then opens it with
each tool in a fresh subprocess, so that every peak-memory figure is that
tool's own:

* ``bytes``        reading the file into memory, gunzipped for ``.gz`` (the
                   floor for any loader);
* ``msgspec``      decoding it into Python dicts with msgspec (the floor for a
                   dict-based loader);
* ``pycocotools``  ``pycocotools.coco.COCO(path)``;
* ``hotcoco``      ``hotcoco.COCO(path)`` (if installed);
* ``cocoview``     ``cocoview.open(path)``.

For each it prints the wall time of the open alone (``time.perf_counter``
around the call) and, in MiB: ``peak`` the process's peak RSS (``ru_maxrss``)
after the open, plus the peak of any helper process it started (``helper MiB``);
``+peak`` its increase over ``ru_maxrss`` just before the open;
``open +MiB`` the open's own transient (VmHWM reset just before the call, minus
the RSS then; exact even when an import peaked higher); and the RSS still held
afterwards. The
tools that can also decode masks are timed per image on the same random
images: ``[mask(a) for a in annotations(image)]``, and for cocoview also
``ds.overlays(image_id)`` (on a second, disjoint sample, so that neither
warms the other's caches).

Usage::

    python benchmarks/bench_open.py [--preset val2017|train2017|lvis|objects365]
        [--file PATH] [--quick] [--skip-pycocotools] [--skip-hotcoco] [--repeat N]

A tool that is missing, or a cocoview method that is not written yet, prints
``n/a`` with the reason instead of failing the run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "bench-data"
RESULT_TAG = "BENCH_RESULT "
TIME_GOAL = 1 / 6  # cocoview open time ≤ 1/6 of pycocotools'
PEAK_GOAL = 1 / 3  # cocoview peak RSS ≤ 1/3 of pycocotools'
OPEN_TOOLS = ("bytes", "msgspec", "pycocotools", "hotcoco", "cocoview", "cocoview-cached")
#: the index cache used by the cocoview runs: emptied before the first (cold) open,
#: which fills it; the cached run then opens from it
BENCH_CACHE = REPO / "bench-data" / ".index-cache"
PER_IMAGE_KEYS = ("masks", "overlays", "anns_per_image")
PRESET_NAMES = ("tiny", "val2017", "train2017", "keypoints_val2017", "lvis", "objects365")


# --------------------------------------------------------------------------- helpers


def _peak_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux: ru_maxrss in KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def _children_peak_mb() -> float:
    """Peak RSS of the largest finished child process of this one, in MiB (0: none)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def _rss_mb() -> float:
    """Current resident set size in MiB (``nan`` where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _reset_hwm() -> bool:
    """Reset this process's peak-RSS mark (Linux ≥ 4.0); False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _hwm_mb() -> float:
    """Peak RSS since the last reset (VmHWM), in MiB; ``nan`` without /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _measure_open(opener: Callable[[], Any], res: dict[str, Any]) -> Any:
    """Time ``opener()`` and record the memory figures around it into ``res``.

    ``peak_mb`` is the process's peak RSS (``ru_maxrss``) and ``before_mb``
    the same just before the open. Because an import can peak above the RSS
    held when the open starts, ``open_hwm_mb`` also gives the open's own
    transient: the VmHWM mark, reset just before the call, minus the RSS then.
    """
    before = _peak_mb()
    rss_before = _rss_mb()
    hwm_ok = _reset_hwm()
    t = time.perf_counter()
    obj = opener()
    res["open_s"] = time.perf_counter() - t
    res["peak_mb"] = max(before, _peak_mb())  # the reset may lower ru_maxrss too
    # helper processes (cocoview's first open of a big file starts one): their peak
    # is added to the tool's, as if both peaked at the same moment (an upper bound)
    res["helper_peak_mb"] = _children_peak_mb()
    res["peak_mb"] += res["helper_peak_mb"]
    res["before_mb"] = before
    res["rss_before_mb"] = rss_before
    res["open_hwm_mb"] = (_hwm_mb() - rss_before) if hwm_ok else float("nan")
    res["rss_after_mb"] = _rss_mb()
    return obj


def _load_synth() -> ModuleType:
    """``cocoview.testing.synth``, loaded from its file if the package cannot import yet."""
    sys.path.insert(0, str(REPO))
    try:
        from cocoview.testing import synth

        return synth
    except Exception:  # the package root may be mid-rewrite; synth stands alone
        spec = importlib.util.spec_from_file_location(
            "_cocoview_synth", REPO / "cocoview" / "model" / "synth.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module


def _read(path: str) -> bytes:
    """The file's JSON bytes (gunzipped for ``.gz``)."""
    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        import gzip

        data = gzip.decompress(data)
    return data


def _percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _timings(fn: Callable[[int], Any], ids: Sequence[int]) -> dict[str, float]:
    """Call ``fn`` on each id; median/p95/max in ms."""
    ms = []
    for iid in ids:
        t = time.perf_counter()
        fn(iid)
        ms.append((time.perf_counter() - t) * 1000)
    return {
        "median_ms": statistics.median(ms),
        "p95_ms": _percentile(ms, 95),
        "max_ms": max(ms),
        "n": len(ms),
    }


def _samples(all_ids: Sequence[int], n: int, seed: int) -> tuple[list[int], list[int]]:
    """Two disjoint seeded samples of ``n`` image ids (fewer if the set is small)."""
    import numpy as np

    ids = np.sort(np.asarray(list(all_ids), dtype=np.int64))
    n = min(n, len(ids) // 2)
    if n == 0:  # fewer than two images: time them all, twice
        return ids.tolist(), ids.tolist()
    chosen = ids[np.random.default_rng(seed).choice(len(ids), size=2 * n, replace=False)]
    return chosen[:n].tolist(), chosen[n:].tolist()


# --------------------------------------------------------------------------- worker


def _worker(tool: str, path: str, samples: int, seed: int, preset: str | None) -> dict[str, Any]:
    """Run one tool in this (fresh) process and return its figures."""
    res: dict[str, Any] = {"tool": tool}
    t_imp = time.perf_counter()
    if tool == "generate":
        synth = _load_synth()
        res["import_s"] = time.perf_counter() - t_imp
        name, _, style = (preset or "val2017").partition(":")  # "train2017:cvat"
        res["summary"] = _measure_open(
            lambda: synth.generate_preset(name, path, style=style or "coco"), res)
        return res
    if tool == "bytes":

        def opener() -> Any:
            return _read(path)
    elif tool == "msgspec":
        import msgspec

        def opener() -> Any:
            return msgspec.json.decode(_read(path))
    elif tool == "pycocotools":
        from pycocotools.coco import COCO

        def opener() -> Any:
            with contextlib.redirect_stdout(io.StringIO()):  # it prints progress
                return COCO(path)
    elif tool == "hotcoco":
        import hotcoco

        res["version"] = getattr(hotcoco, "__version__", "?")

        def opener() -> Any:
            return hotcoco.COCO(path)
    elif tool in ("cocoview", "cocoview-cached"):
        sys.path.insert(0, str(REPO))
        os.environ["COCOVIEW_CACHE_DIR"] = str(BENCH_CACHE)
        if tool == "cocoview":
            import shutil

            shutil.rmtree(BENCH_CACHE, ignore_errors=True)
        import cocoview

        res["version"] = getattr(cocoview, "__version__", "?")
        if not hasattr(cocoview, "open"):
            raise AttributeError("cocoview has no open() yet")

        def opener() -> Any:
            return cocoview.open(path)
    else:
        raise ValueError(f"unknown tool {tool}")
    res["import_s"] = time.perf_counter() - t_imp
    obj = _measure_open(opener, res)
    if tool == "cocoview-cached":
        res.update(_filter_times(obj))
    if samples > 0:
        res.update(_per_image(tool, obj, samples, seed))
    return res


def _filter_times(ds: Any) -> dict[str, Any]:
    """A one-category filter (the most common category): first call and median of 5, ms."""
    try:
        import numpy as np

        from cocoview.model.filters import ImageFilter, image_mask

        cats, counts = np.unique(ds.anns.category_id, return_counts=True)
        flt = ImageFilter(categories=(int(cats[np.argmax(counts)]),))
        t = time.perf_counter()
        image_mask(ds, flt)
        first = (time.perf_counter() - t) * 1000
        times = []
        for _ in range(5):
            t = time.perf_counter()
            image_mask(ds, flt)
            times.append((time.perf_counter() - t) * 1000)
        return {"filter_first_ms": first, "filter_ms": statistics.median(times)}
    except Exception as exc:
        return {"filter_error": f"{type(exc).__name__}: {exc}"}


def _per_image(tool: str, obj: Any, samples: int, seed: int) -> dict[str, Any]:
    """Per-image mask (and overlay) decode timings for the tools that decode masks."""
    out: dict[str, Any] = {}
    if tool == "pycocotools":
        masks_ids, _ = _samples(obj.getImgIds(), samples, seed)

        def masks(iid: int) -> list[Any]:
            return [obj.annToMask(a) for a in obj.loadAnns(obj.getAnnIds(imgIds=[iid]))]

        out["anns_per_image"] = statistics.fmean(len(obj.getAnnIds(imgIds=[i])) for i in masks_ids)
        out["masks"] = _timings(masks, masks_ids)
    elif tool == "hotcoco":
        masks_ids, _ = _samples(obj.get_img_ids(), samples, seed)

        def masks(iid: int) -> list[Any]:
            return [obj.ann_to_mask(a) for a in obj.load_anns(obj.get_ann_ids(img_ids=[iid]))]

        out["anns_per_image"] = statistics.fmean(
            len(obj.get_ann_ids(img_ids=[i])) for i in masks_ids
        )
        try:
            out["masks"] = _timings(masks, masks_ids)
        except Exception as exc:
            out["masks_error"] = f"{type(exc).__name__}: {exc}"
    elif tool in ("cocoview", "cocoview-cached"):
        try:
            masks_ids, overlay_ids = _samples(obj.image_ids.tolist(), samples, seed)
        except Exception as exc:
            out["masks_error"] = out["overlays_error"] = f"{type(exc).__name__}: {exc}"
            return out
        try:
            out["anns_per_image"] = statistics.fmean(len(obj.annotation_ids(i)) for i in masks_ids)
            out["masks"] = _timings(
                lambda iid: [obj.mask(a) for a in obj.annotation_ids(iid).tolist()], masks_ids
            )
        except Exception as exc:
            out["masks_error"] = f"{type(exc).__name__}: {exc}"
        try:
            out["overlays"] = _timings(obj.overlays, overlay_ids)
        except Exception as exc:
            out["overlays_error"] = f"{type(exc).__name__}: {exc}"
    return out


def _worker_main(argv: list[str]) -> int:
    """Entry point of a worker subprocess: prints one tagged JSON line."""
    p = argparse.ArgumentParser()
    p.add_argument("tool")
    p.add_argument("path")
    p.add_argument("--samples", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset")
    p.add_argument("--mem-limit-mb", type=float, default=0)
    a = p.parse_args(argv)
    if a.mem_limit_mb > 0:  # a MemoryError beats the OOM killer taking the machine down
        limit = int(a.mem_limit_mb * 1024 * 1024)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        res = _worker(a.tool, a.path, a.samples, a.seed, a.preset)
    except BaseException as exc:
        res = {"tool": a.tool, "error": f"{type(exc).__name__}: {exc}".strip()[:300]}
    sys.stdout.flush()
    print(RESULT_TAG + json.dumps(res), flush=True)
    return 0


# --------------------------------------------------------------------------- driver


def _run(
    tool: str, path: Path, *, samples: int = 0, seed: int = 0, preset: str | None = None,
    mem_limit_mb: float = 0, timeout: float = 3600,
) -> dict[str, Any]:  # fmt: skip
    """Run one tool in a fresh subprocess and parse its result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", tool, str(path),
           "--samples", str(samples), "--seed", str(seed),
           "--mem-limit-mb", str(mem_limit_mb)]  # fmt: skip
    if preset:
        cmd += ["--preset", preset]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"tool": tool, "error": f"exit {proc.returncode}: {tail}"[:300]}


def _warm_cache(path: Path) -> float:
    """Read the file once so every tool starts with it in the page cache.

    Small reads keep this process lean: a child started with vfork/exec
    inherits its parent's peak RSS as the floor of its own ``ru_maxrss``.
    """
    t = time.perf_counter()
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass
    return time.perf_counter() - t


def _fmt(v: float | None, spec: str = ".2f") -> str:
    return "n/a" if v is None else format(v, spec)


def _ratio_line(label: str, a: dict[str, Any], b: dict[str, Any], goals: bool) -> str:
    """``a/b`` for open time and peak RSS (and the increase), with the goals if asked."""
    if "open_s" not in a or "open_s" not in b:
        missing = a if "open_s" not in a else b
        return f"  {label:<26} n/a ({missing['tool']}: {missing.get('error', 'not run')})"
    rt = a["open_s"] / b["open_s"]
    rp = a["peak_mb"] / b["peak_mb"]
    ri = a["open_hwm_mb"] / b["open_hwm_mb"] if b["open_hwm_mb"] > 0 else float("nan")
    line = f"  {label:<26} time {rt:6.3f}"
    if goals:
        line += f" (goal ≤ {TIME_GOAL:.3f} {'OK' if rt <= TIME_GOAL else 'MISS'})"
    line += f"   peak {rp:6.3f}"
    if goals:
        line += f" (goal ≤ {PEAK_GOAL:.3f} {'OK' if rp <= PEAK_GOAL else 'MISS'})"
    return line + f"   open +MiB {ri:6.3f}"


def _per_image_lines(res: dict[str, Any]) -> list[str]:
    lines = []
    for key in ("masks", "overlays"):
        if res["tool"] != "cocoview" and key == "overlays":
            continue
        label = f"  {res['tool']:<16} {key:<9}"
        if key in res:
            t = res[key]
            lines.append(
                f"{label} median {t['median_ms']:8.2f} ms   p95 {t['p95_ms']:8.2f} ms   "
                f"max {t['max_ms']:8.2f} ms   ({t['n']} images)"
            )
        elif f"{key}_error" in res:
            lines.append(f"{label} n/a ({res[f'{key}_error']})")
        elif "error" in res:
            lines.append(f"{label} n/a ({res['error']})")
    return lines


def _mem_total_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return _worker_main(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # No synth import here (numpy would raise this process's peak RSS, which the
    # workers inherit as their ru_maxrss floor); the generator checks the name.
    p.add_argument("--preset", help=f"{', '.join(PRESET_NAMES)} (default val2017)")
    p.add_argument("--file", type=Path, help="benchmark this file instead of a preset")
    p.add_argument("--quick", action="store_true", help="val2017, 50 images per-image, < 1 min")
    p.add_argument("--skip-pycocotools", action="store_true")
    p.add_argument("--skip-hotcoco", action="store_true")
    p.add_argument("--skip-floors", action="store_true", help="skip the bytes/msgspec lines")
    p.add_argument("--samples", type=int, help="images for per-image timings (default 300)")
    p.add_argument("--repeat", type=int, default=1, help="opens per tool; best time is shown")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mem-limit-gb", type=float, default=round(0.85 * _mem_total_mb() / 1024, 1),
                   help="address-space limit per worker (0: none)")  # fmt: skip
    p.add_argument("--json", type=Path, help="also write the results here")
    a = p.parse_args(argv)
    samples = a.samples if a.samples is not None else (50 if a.quick else 300)
    preset = a.preset or "val2017"

    results: dict[str, Any] = {"machine": platform.platform(), "python": sys.version.split()[0]}
    if a.file:
        path = a.file.resolve()
        if not path.exists():
            p.error(f"{path} does not exist")
        preset = path.name
    else:
        path = DATA_DIR / f"{preset}.json"
        if not path.exists():
            print(f"generating {preset} into {path} ...", flush=True)
            gen = _run("generate", path, preset=preset)
            if "error" in gen:
                print(f"generation failed: {gen['error']}")
                return 1
            results["generate"] = gen
            print(
                f"  generated in {gen['open_s']:.1f} s, peak RSS {gen['peak_mb']:.0f} MiB, "
                f"{gen['summary']['bytes'] / 1e6:,.1f} MB on disk"
            )
    size_mb = path.stat().st_size / 1e6
    warm = _warm_cache(path)
    cpus = os.cpu_count()
    print(f"\n{preset}: {path} ({size_mb:,.1f} MB; cache warmed in {warm:.2f} s)")
    print(f"python {results['python']} on {results['machine']}, {cpus} CPUs")

    mem_limit_mb = a.mem_limit_gb * 1024
    tools = [t for t in OPEN_TOOLS
             if not (a.skip_pycocotools and t == "pycocotools")
             and not (a.skip_hotcoco and t == "hotcoco")
             and not (a.skip_floors and t in ("bytes", "msgspec"))]  # fmt: skip
    runs: dict[str, dict[str, Any]] = {}
    print(
        f"\n{'tool':<16}{'open s':>9}{'peak MiB':>10}{'+peak MiB':>11}{'open +MiB':>11}"
        f"{'RSS after':>11}{'import s':>10}{'helper MiB':>12}"
    )
    for tool in tools:
        first = _run(tool, path, samples=samples, seed=a.seed, mem_limit_mb=mem_limit_mb)
        best = first
        for _ in range(a.repeat - 1):
            r = _run(tool, path, seed=a.seed, mem_limit_mb=mem_limit_mb)
            if "open_s" in r and r["open_s"] < best.get("open_s", float("inf")):
                per_image = {k: v for k, v in first.items() if k.startswith(PER_IMAGE_KEYS)}
                best = {**r, **per_image}
        runs[tool] = best
        if "open_s" in best:
            print(
                f"{tool:<16}{best['open_s']:9.2f}{best['peak_mb']:10.0f}"
                f"{best['peak_mb'] - best['before_mb']:11.0f}{best['open_hwm_mb']:11.0f}"
                f"{best['rss_after_mb']:11.0f}"
                f"{best['import_s']:10.2f}{best.get('helper_peak_mb', 0):12.0f}"
            )
        else:
            print(f"{tool:<16}{'n/a':>9}   ({best.get('error', 'not run')})")
    results["runs"] = runs

    cv = runs.get("cocoview", {"tool": "cocoview", "error": "not run"})
    print("\nratios (cocoview = first open, which also writes the index cache; "
          "< 1 is better)")
    for other in ("pycocotools", "hotcoco"):
        if other in runs:
            print(_ratio_line(f"cocoview/{other}", cv, runs[other], goals=other == "pycocotools"))
    if "cocoview-cached" in runs and "hotcoco" in runs:
        print(_ratio_line("cocoview-cached/hotcoco", runs["cocoview-cached"], runs["hotcoco"],
                          goals=False))
        print("  goals (issue 5): first open ≤ 1.5 × hotcoco's time and ≤ its peak; "
              "cached open ≤ 1/3 of hotcoco's time, < 400 MB")

    if samples > 0:
        ref = next((r for r in runs.values() if "anns_per_image" in r), None)
        n_img = ref["masks"]["n"] if ref and "masks" in ref else samples
        print(f"\nper image ({n_img} random images, seed {a.seed}; "
              f"mean annotations per image "
              f"{_fmt(ref['anns_per_image'] if ref else None)})")  # fmt: skip
        for tool in ("pycocotools", "hotcoco", "cocoview", "cocoview-cached"):
            if tool in runs:
                for line in _per_image_lines(runs[tool]):
                    print(line)
    if a.json:
        a.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
