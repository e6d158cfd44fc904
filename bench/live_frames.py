"""The live path: one 20 ms audio frame in flight, push to arrival, Rust engine against the
pure-Python executor in the same run.

Method (as ../shared/notes/peer-bench.md measures its peers): a `remotemedia.AudioFrame` of 960
float32 samples at 48 kHz through five nodes with `Pipeline.process()`, one frame in flight: the
stream is an async generator over an asyncio.Queue; a frame is put on the queue and its output
awaited before the next is put. Latency = put to arrival, per frame, after a warm-up.
- chain: PassThrough -> Forward -> PassThrough -> Forward -> PassThrough, where PassThrough is
  the host's built-in Rust node (`PassThroughNode` in the builder) and `Forward`
  (bench/hopnodes.py) a custom Python node returning the frame unchanged. On the Rust engine
  a chain like this is driven on the caller's thread.
- fan-out: PassThrough -> {Forward -> PassThrough, Forward -> PassThrough}, the same five
  nodes in two branches; a frame is done when both sinks have emitted it. On the Rust engine
  this shape runs on the host's threads (`Session`).
Each unpaced (a frame as soon as the last came out) and paced (a frame every 20 ms, as a live
source sends them).
- CLI: `remotemedia-host run <manifest> --input -` as a subprocess on PassThrough ->
  PassThroughNode (runtime_hint "python") -> PassThrough; one `{"$audio": ...}` JSON line (the
  same frame, DESIGN section 4) written, its output line read before the next is written.
  Reference: a Python subprocess reading the same lines on its event loop, running three
  `PassThroughNode`s on the Python executor (`process(use_rust=False)`) and writing each output.

Prints figures and ratios (rust / python: below 1 is faster), never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from hopnodes import Forward  # noqa: E402 -- the bench folder is put on the path above
from remotemedia import AudioFrame, Pipeline  # noqa: E402
from remotemedia.media import to_json_form  # noqa: E402
from remotemedia.nodes.base import PassThroughNode  # noqa: E402

RATE = 48_000
SAMPLES = 960  # 20 ms at 48 kHz
PERIOD = 0.020


def chain() -> Pipeline:
    pipeline = Pipeline(name="live-chain")
    for i in range(5):
        node = PassThroughNode if i % 2 == 0 else Forward
        pipeline.add_node(node(name=f"n{i}"))
    return pipeline


def fan_out() -> Pipeline:
    pipeline = Pipeline(name="live-fan-out")
    head = pipeline.add_node(PassThroughNode(name="head"))
    for branch in ("a", "b"):
        py = pipeline.add_node(Forward(name=f"py_{branch}"))
        tail = pipeline.add_node(PassThroughNode(name=f"tail_{branch}"))
        pipeline.connect(head, py)
        pipeline.connect(py, tail)
    return pipeline


def percentiles(ns: list[int]) -> tuple[float, float]:
    """p50 and p99 in microseconds (nearest rank)."""
    s = sorted(ns)
    return s[len(s) // 2] / 1e3, s[min(len(s) - 1, int(len(s) * 0.99))] / 1e3


async def frame_latencies(
    pipeline: Pipeline, use_rust: bool, frames: int, warmup: int, period: float, sinks: int
) -> list[int]:
    """Put-to-arrival nanoseconds of `frames` frames, one in flight, after `warmup` more."""
    queue: asyncio.Queue[AudioFrame | None] = asyncio.Queue()

    async def stream() -> AsyncIterator[AudioFrame]:
        while (frame := await queue.get()) is not None:
            yield frame

    samples = np.linspace(-0.5, 0.5, SAMPLES, dtype=np.float32)
    outputs = pipeline.process(stream(), use_rust=use_rust)
    latencies: list[int] = []
    tick = time.perf_counter()
    for i in range(warmup + frames):
        frame = AudioFrame(samples, RATE, timestamp=i * PERIOD)
        if period:
            tick += period
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))
        t = time.perf_counter_ns()
        queue.put_nowait(frame)
        for _ in range(sinks):
            out = await anext(outputs)
        dt = time.perf_counter_ns() - t
        if i == 0:
            assert isinstance(out, AudioFrame), out
            assert out.samples.shape == (SAMPLES,), out
            assert np.shares_memory(out.samples, samples), "the frame's samples were copied"
        if i >= warmup:
            latencies.append(dt)
    queue.put_nowait(None)
    async for _ in outputs:
        raise AssertionError("an output with no input in flight")
    return latencies


def bare_calls_us(repeat: int = 100_000) -> float:
    """What calling the two Python nodes costs per frame, for scale."""
    a, b = Forward(name="a"), Forward(name="b")
    frame = AudioFrame(np.zeros(SAMPLES, np.float32), RATE)
    t = time.perf_counter()
    for _ in range(repeat):
        b.process(a.process(frame))
    return (time.perf_counter() - t) / repeat * 1e6


def row(label: str, rust: list[int], python: list[int]) -> None:
    (r50, r99), (p50, p99) = percentiles(rust), percentiles(python)
    print(
        f"{label:<28} rust p50 {r50:7.1f} p99 {r99:8.1f} us | python p50 {p50:7.1f} p99 "
        f"{p99:8.1f} us | rust/python p50 {r50 / p50:5.2f} p99 {r99 / p99:5.2f}"
    )


async def in_process(frames: int, paced: int) -> None:
    for name, make, sinks in (("chain", chain, 1), ("fan-out", fan_out, 2)):
        for label, n, warmup, period in (
            (f"{name}, unpaced ({frames})", frames, 300, 0.0),
            (f"{name}, paced 20 ms ({paced})", paced, 25, PERIOD),
        ):
            rust = await frame_latencies(make(), True, n, warmup, period, sinks)
            python = await frame_latencies(make(), False, n, warmup, period, sinks)
            row(label, rust, python)


REFERENCE = """
import asyncio, json, sys
from remotemedia import Pipeline
from remotemedia.media import from_json_form, to_json_form
from remotemedia.nodes.base import PassThroughNode

async def main():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async def items():
        while line := await reader.readline():
            yield from_json_form(json.loads(line))
    pipeline = Pipeline(name="reference")
    for i in range(3):
        pipeline.add_node(PassThroughNode(name=f"p{i}"))
    out = sys.stdout
    async for item in pipeline.process(items(), use_rust=False):
        out.write(json.dumps(to_json_form(item), separators=(",", ":")) + "\\n")
        out.flush()

asyncio.run(main())
"""


def line_latencies(command: list[str], line: str, lines: int, warmup: int) -> list[int]:
    """Write-to-read nanoseconds of `lines` JSON lines through a subprocess, one in flight."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    # Buffered both ways (an unbuffered pipe's readline reads a byte per system call).
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    assert proc.stdout is not None
    data = line.encode()
    latencies: list[int] = []
    try:
        for i in range(warmup + lines):
            t = time.perf_counter_ns()
            proc.stdin.write(data)
            proc.stdin.flush()
            out = proc.stdout.readline()
            dt = time.perf_counter_ns() - t
            if i == 0:
                assert json.loads(out)["$audio"]["data"] == json.loads(line)["$audio"]["data"]
            if i >= warmup:
                latencies.append(dt)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return latencies


def cli(host: str, venv: str, lines: int) -> None:
    frame = AudioFrame(np.linspace(-0.5, 0.5, SAMPLES, dtype=np.float32), RATE)
    line = json.dumps(to_json_form(frame), separators=(",", ":")) + "\n"
    doc = {
        "version": "v1",
        "nodes": [
            {"id": "a", "node_type": "PassThrough"},
            {"id": "py", "node_type": "PassThroughNode", "runtime_hint": "python"},
            {"id": "c", "node_type": "PassThrough"},
        ],
    }
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.json"
        manifest.write_text(json.dumps(doc))
        command = [host, "run", str(manifest), "--input", "-", "--python-env", venv]
        rust = line_latencies(command, line, lines, 200)
    python = line_latencies([sys.executable, "-c", REFERENCE], line, lines, 200)
    row(f"CLI stdin->stdout ({lines})", rust, python)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default=".venv/bin/remotemedia-host")
    parser.add_argument("--venv", default=".venv")
    parser.add_argument("--frames", type=int, default=3000, help="unpaced frames measured")
    parser.add_argument("--paced", type=int, default=250, help="paced frames measured")
    args = parser.parse_args()
    print(
        f"one {SAMPLES}-sample float32 frame in flight through 5 nodes (3 Rust PassThrough, "
        f"2 Python Forward returning the frame); bare calls of the 2 Python nodes: "
        f"{bare_calls_us():.2f} us"
    )
    asyncio.run(in_process(args.frames, args.paced))
    print(
        "targets (issue 9): unpaced rust/python p50 <= 0.5 and rust p50 < 15 us; "
        "paced rust/python p99 <= 1"
    )
    print(
        "CLI: PassThrough -> PassThroughNode (python) -> PassThrough, one $audio JSON line in "
        "flight; python = a subprocess on the Python executor, same lines"
    )
    cli(args.host, args.venv, args.frames)


if __name__ == "__main__":
    main()
