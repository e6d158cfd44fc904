"""Does an array's size change what a run costs? A 64 MiB float32 array against a 64 KiB one
through five nodes with `await pipeline.run([array])`, Rust engine and pure-Python executor.

Nodes: PassThrough -> Forward -> PassThrough -> Forward -> PassThrough, where PassThrough is the
host's built-in Rust node (`PassThroughNode` in the builder) and `Forward` (bench/hopnodes.py)
a custom Python node returning the array unchanged.
- time: median of R runs of each size after a warm-up run; the ratio big / small is 1 when
  nothing is copied (one copy of 64 MiB costs milliseconds, a run of 64 KiB well under one);
- memory: peak RSS growth of this process during one big run: VmHWM (from /proc/self/status)
  after the run minus VmRSS before it, the peak reset beforehand through /proc/self/clear_refs
  (else a thread sampling VmRSS every 100 us is the fallback); the array is made before;
- zero copy: whether the output is a view of the input's memory (`np.shares_memory`).

Prints figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from hopnodes import Forward  # noqa: E402 -- the bench folder is put on the path above
from remotemedia import Pipeline  # noqa: E402
from remotemedia.nodes.base import PassThroughNode  # noqa: E402

MIB = 1 << 20
BIG, SMALL = 64 * MIB, 64 * 1024


def five_nodes() -> Pipeline:
    pipeline = Pipeline(name="media-size")
    for i in range(5):
        node = PassThroughNode if i % 2 == 0 else Forward
        pipeline.add_node(node(name=f"n{i}"))
    return pipeline


def status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return status_kib("VmHWM") <= status_kib("VmRSS") + 64


async def peak_growth_mib(pipeline: Pipeline, array: np.ndarray[Any, Any], use_rust: bool) -> float:
    """How far RSS rose above its level before one run of `array`, in MiB."""
    before = status_kib("VmRSS")
    if reset_peak():
        await pipeline.run([array], use_rust=use_rust)
        return (status_kib("VmHWM") - before) / 1024
    peak, done = before, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, status_kib("VmRSS"))
            time.sleep(0.0001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        await pipeline.run([array], use_rust=use_rust)
    finally:
        done.set()
        sampler.join()
    return (max(peak, status_kib("VmRSS")) - before) / 1024


async def median_seconds(
    pipeline: Pipeline, array: np.ndarray[Any, Any], use_rust: bool, repeat: int
) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        await pipeline.run([array], use_rust=use_rust)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


async def engine(use_rust: bool, big: np.ndarray[Any, Any], small: np.ndarray[Any, Any], r: int):
    pipeline = five_nodes()
    shared = []
    for array in (small, big):  # warm-up, and a check
        (out,) = await pipeline.run([array], use_rust=use_rust)
        assert out.shape == array.shape
        assert out.dtype == array.dtype
        shared.append(np.shares_memory(out, array))
    t_small = await median_seconds(pipeline, small, use_rust, r)
    t_big = await median_seconds(pipeline, big, use_rust, r)
    growth = await peak_growth_mib(pipeline, big, use_rust)
    name = "rust engine    " if use_rust else "python executor"
    copies = "none" if all(shared) else "the output is a copy"
    print(
        f"{name}: 64 KiB {t_small * 1e3:8.3f} ms, 64 MiB {t_big * 1e3:8.3f} ms, "
        f"big / small {t_big / t_small:6.2f} (target <= 3); peak RSS growth in a 64 MiB run "
        f"{max(growth, 0.0):6.1f} MiB (target < 32); copies: {copies}"
    )
    return t_small, t_big


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    big = np.full(BIG // 4, 0.25, dtype=np.float32)  # written, so its pages are resident
    small = np.full(SMALL // 4, 0.25, dtype=np.float32)
    rust = await engine(True, big, small, args.repeat)
    python = await engine(False, big, small, args.repeat)
    print(
        f"rust / python: 64 KiB {rust[0] / python[0]:5.2f}, 64 MiB {rust[1] / python[1]:5.2f}"
        f"   (median of {args.repeat} runs each)"
    )


if __name__ == "__main__":
    asyncio.run(main())
