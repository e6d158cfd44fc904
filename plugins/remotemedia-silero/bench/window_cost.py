"""Per-window cost of SileroVad against the bare model loop, on this machine.

Method: 60 s of 16 kHz audio (white noise at -20 dBFS: the model's cost does not depend on the
content), 1875 windows of 512 samples. Each figure is the best of seven runs (taken in rounds of
every case in turn), divided by the number of windows:
- bare: silero-vad's OnnxWrapper loop written out with numpy (a new input array per window,
  `session.run` with a dict of inputs and the state fed back), the reference the node follows;
- SileroModel.run alone: the node's model call (I/O bindings, no per-window allocation) on
  whole windows, without framing or decisions;
- node: `SileroVad.process` driven by hand over 20 ms frames (320 samples), events included;
- pipeline python / rust: a one-node `Pipeline` of SileroVad, `run(frames)` on each engine;
- then the node's check for NaN and infinite samples alone (`np.isfinite(samples).all()` on
  each 20 ms frame), per frame and as a share of the node's time.

Prints figures and ratios to bare, never pass/fail. Run: `python bench/window_cost.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import onnxruntime

import remotemedia
from remotemedia import AudioFrame, Pipeline
from remotemedia_silero import SileroVad
from remotemedia_silero.model import SileroModel, model_path

RATE, WINDOW, FRAME = 16000, 512, 320
RUNS = 7


def bare(audio: np.ndarray[Any, Any]) -> None:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model_path()), sess_options=options)
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros((1, 64), np.float32)
    rate = np.array(RATE, dtype=np.int64)
    for i in range(0, len(audio) - WINDOW + 1, WINDOW):
        x = np.concatenate([context, audio[None, i : i + WINDOW]], axis=1)
        out, state = session.run(None, {"input": x, "state": state, "sr": rate})
        context = x[..., -64:]
        float(out[0, 0])


def model_alone(audio: np.ndarray[Any, Any]) -> None:
    model = SileroModel(model_path())
    for i in range(0, len(audio) - WINDOW + 1, WINDOW):
        model.window[:] = audio[i : i + WINDOW]
        model.run()


async def _items(frames: list[AudioFrame]) -> AsyncIterator[AudioFrame]:
    for frame in frames:
        yield frame


def node(frames: list[AudioFrame]) -> None:
    vad = SileroVad()

    async def run() -> None:
        vad.initialize()
        async for _ in vad.process(_items(frames)):
            pass
        vad.cleanup()

    asyncio.run(run())


def finite_check(frames: list[AudioFrame]) -> None:
    for frame in frames:
        np.isfinite(frame.samples).all()


def pipeline(frames: list[AudioFrame], use_rust: bool) -> None:
    built = Pipeline("vad")
    built.add_node(SileroVad(name="vad"))
    asyncio.run(built.run(frames, use_rust=use_rust))


def timed(work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(60 * RATE) * 0.1).astype(np.float32)
    frames = [AudioFrame(audio[i : i + FRAME], RATE, i / RATE) for i in range(0, len(audio), FRAME)]
    windows = len(audio) // WINDOW
    cases: list[tuple[str, Callable[[], None]]] = [
        ("bare session.run", lambda: bare(audio)),
        ("SileroModel.run alone", lambda: model_alone(audio)),
        ("node (driven by hand)", lambda: node(frames)),
        ("pipeline, python engine", lambda: pipeline(frames, use_rust=False)),
    ]
    if remotemedia.runtime_available():
        cases.append(("pipeline, rust engine", lambda: pipeline(frames, use_rust=True)))
    # Rounds of every case in turn, the best of each kept: a busy machine slows all alike.
    fastest = [min(timed(work) for _ in range(2)) for _, work in cases]
    for _ in range(RUNS - 2):
        fastest = [min(t, timed(work)) for t, (_, work) in zip(fastest, cases, strict=True)]
    for (label, _), seconds in zip(cases, fastest, strict=True):
        per_window = seconds / windows * 1e6
        print(f"{label:26} {per_window:7.1f} us/window  x{seconds / fastest[0]:.2f}")
    check = min(timed(lambda: finite_check(frames)) for _ in range(RUNS))
    share = check / fastest[2] * 100
    print(f"{'finite check':26} {check / len(frames) * 1e6:7.2f} us/frame   {share:.1f}% of node")


if __name__ == "__main__":
    main()
