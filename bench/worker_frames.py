"""Per-frame cost of a worker process (`runtime.isolation: "process"`) against the Rust engine
in this process, on the SDK, side by side in one run.

Method: 20 ms audio frames (`remotemedia.AudioFrame`, 320 float32 samples at 16 kHz, mono, a
fresh array per frame) through three Python nodes (bench/_worker_nodes.py: `Gain` makes a new
array with numpy, `PeakMeter` reads the peak and returns the frame, `Forward` returns it), on
one `Pipeline` per engine: `isolation` unset (the nodes run in this process) and
`runtime["isolation"] = "process"` (they run in the pipeline's worker, kept across runs), and
`runtime["sandbox"]` (that worker confined by Landlock, seccomp and a 2 GiB `memory_mb`).
- start-up: the first `run` of a short stream on a fresh pipeline minus the median of warm runs
  of the same stream (for the worker: its process start, interpreter, imports, node set-up).
- throughput: `await pipeline.run(frames)` of N frames after a warm-up run on the same
  pipeline; time per frame, median of R runs.
- live latency: `pipeline.process(stream)` over an asyncio.Queue, one frame in flight: a frame
  is put and its output awaited before the next is put; put to arrival per frame, p50 and p90,
  after a warm-up in the same stream.
Ratios are process / in_process (issue 11's target: at most 2 per frame) and sandbox / process
(what the sandbox adds: a seccomp filter on every system call). Prints figures and ratios,
never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
# The worker gets this process's sys.path, so it imports the nodes from here too.
sys.path.insert(0, str(BENCH))

from _worker_nodes import Forward, Gain, PeakMeter  # noqa: E402 -- bench/ is put on the path
from remotemedia import AudioFrame, Pipeline  # noqa: E402

RATE = 16_000
SAMPLES = 320  # 20 ms at 16 kHz
PERIOD = 0.020
GAIN = 0.5
ENGINES = ("in_process", "process", "sandbox")


def pipeline(engine: str) -> Pipeline:
    p = Pipeline(name=f"worker-frames-{engine}")
    if engine == "process":
        p.runtime["isolation"] = "process"
    if engine == "sandbox":
        p.runtime["sandbox"] = {"memory_mb": 2048}
    p.add_node(Gain(name="gain", gain=GAIN))
    p.add_node(PeakMeter(name="peak"))
    p.add_node(Forward(name="forward"))
    return p


def frame(i: int) -> AudioFrame:
    t = np.arange(SAMPLES, dtype=np.float32) + np.float32(i * SAMPLES)
    samples = (0.8 * np.sin(t * np.float32(2 * np.pi * 440 / RATE))).astype(np.float32)
    return AudioFrame(samples, RATE, timestamp=i * PERIOD)


def check(out: AudioFrame, inp: AudioFrame) -> None:
    assert isinstance(out, AudioFrame), out
    assert out.samples.shape == (SAMPLES,), out
    assert np.allclose(out.samples, inp.samples * np.float32(GAIN)), "wrong samples"


async def timed_run(p: Pipeline, frames: list[AudioFrame]) -> float:
    t = time.perf_counter()
    out = await p.run(frames)
    dt = time.perf_counter() - t
    assert len(out) == len(frames), len(out)
    check(out[-1], frames[-1])
    return dt


async def startup(p: Pipeline, frames: list[AudioFrame], repeat: int) -> tuple[float, float]:
    """The first run's seconds on a fresh pipeline, and the median of warm runs after it."""
    first = await timed_run(p, frames)
    warm = statistics.median([await timed_run(p, frames) for _ in range(repeat)])
    return first, warm


async def throughput_us(p: Pipeline, frames: list[AudioFrame], repeat: int) -> float:
    """Microseconds per frame of `run(frames)`, median of `repeat` runs after a warm-up run."""
    await timed_run(p, frames)
    runs = [await timed_run(p, frames) for _ in range(repeat)]
    return statistics.median(runs) / len(frames) * 1e6


async def latencies_ns(p: Pipeline, frames: list[AudioFrame], warmup: int) -> list[int]:
    """Put-to-arrival nanoseconds per frame, one in flight, the first `warmup` left out."""
    queue: asyncio.Queue[AudioFrame | None] = asyncio.Queue()

    async def stream() -> AsyncIterator[AudioFrame]:
        while (f := await queue.get()) is not None:
            yield f

    outputs = p.process(stream())
    result: list[int] = []
    for i, f in enumerate(frames):
        t = time.perf_counter_ns()
        queue.put_nowait(f)
        out = await anext(outputs)
        dt = time.perf_counter_ns() - t
        if i == 0:
            check(out, f)
        if i >= warmup:
            result.append(dt)
    queue.put_nowait(None)
    async for _ in outputs:
        raise AssertionError("an output with no input in flight")
    return result


def percentile_us(ns: list[int], q: float) -> float:
    s = sorted(ns)
    return s[min(len(s) - 1, int(len(s) * q))] / 1e3


def bare_calls_us(frames: list[AudioFrame]) -> float:
    """The three nodes called directly, per frame: the nodes' own work, for scale."""
    nodes = [Gain(name="g", gain=GAIN), PeakMeter(name="p"), Forward(name="f")]
    t = time.perf_counter()
    for f in frames:
        for n in nodes:
            f = n.process(f)
    return (time.perf_counter() - t) / len(frames) * 1e6


async def main(args: argparse.Namespace) -> None:
    frames = [frame(i) for i in range(args.frames)]
    live = [frame(i) for i in range(args.warmup + args.live)]
    short = frames[: args.short]
    pipelines = {engine: pipeline(engine) for engine in ENGINES}
    start: dict[str, tuple[float, float]] = {}
    through: dict[str, float] = {}
    lat: dict[str, list[int]] = {}
    try:
        # In-process first: its first run also starts the native runtime, which the worker's
        # first run then does not pay for.
        for engine in ENGINES:
            start[engine] = await startup(pipelines[engine], short, args.repeat)
        for engine in ENGINES:
            through[engine] = await throughput_us(pipelines[engine], frames, args.repeat)
        for engine in ENGINES:
            lat[engine] = await latencies_ns(pipelines[engine], live, args.warmup)
    finally:
        for p in pipelines.values():
            p.close()

    print(
        f"{SAMPLES}-sample float32 frames (20 ms at 16 kHz) through 3 Python nodes "
        f"(Gain, PeakMeter, Forward); the nodes called directly: "
        f"{bare_calls_us(frames):.2f} us/frame"
    )
    in_first, in_warm = start["in_process"]
    for engine in ("process", "sandbox"):
        first, warm = start[engine]
        print(
            f"{engine} worker start-up (first run of {len(short)} frames minus a warm run): "
            f"{(first - warm) * 1e3:.1f} ms (first {first * 1e3:.1f} ms, warm {warm * 1e3:.2f} ms)"
        )
    print(f"in_process first-run extra: {(in_first - in_warm) * 1e3:.1f} ms")
    rows = [(f"throughput, run({args.frames}) us/frame", *(through[e] for e in ENGINES))]
    for label, q in (("p50", 0.5), ("p90", 0.9)):
        rows.append(
            (
                f"live, 1 in flight ({args.live}) {label} us",
                *(percentile_us(lat[e], q) for e in ENGINES),
            )
        )
    print(
        f"{'':<36} {'in_process':>10} {'process':>10} {'sandbox':>10} "
        f"{'process/in_process':>19} {'sandbox/process':>16}"
    )
    for label, a, b, c in rows:
        print(f"{label:<36} {a:10.1f} {b:10.1f} {c:10.1f} {b / a:19.2f} {c / b:16.2f}")
    print("target (issue 11): process / in_process at most 2 per frame")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="frames per throughput run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per median")
    parser.add_argument("--live", type=int, default=1000, help="live frames measured")
    parser.add_argument("--warmup", type=int, default=100, help="live frames before measuring")
    parser.add_argument("--short", type=int, default=50, help="frames of the start-up runs")
    asyncio.run(main(parser.parse_args()))
