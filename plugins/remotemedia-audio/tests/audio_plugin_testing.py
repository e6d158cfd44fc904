"""Helpers of the remotemedia-audio tests (a uniquely named module: several test trees share
one pytest run, so no conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import numpy as np
import pyloudnorm

from remotemedia import AudioFrame, Node, Pipeline

HANG_GUARD = 120.0
"""Seconds after which a run counts as hung: a guard, never a speed check."""

ENGINES = (False, True)
"""`use_rust` values: the pure-Python reference executor, then the native engine."""


def cut(
    samples: np.ndarray[Any, Any], rate: int, size: int, start: float = 0.0
) -> list[AudioFrame]:
    """`samples` as consecutive frames of `size` samples (the last may be shorter), each
    stamped with its start time; the arrays handed out are read-only, as a host may hand them."""
    frames = []
    for at in range(0, samples.shape[0], size):
        part = samples[at : at + size].copy()
        part.flags.writeable = False
        frames.append(AudioFrame(part, rate, start + at / rate))
    return frames


def joined(frames: Iterable[AudioFrame]) -> np.ndarray[Any, Any]:
    """The samples of consecutive frames, end to end."""
    return np.concatenate([frame.samples for frame in frames])


def noise_at(
    lufs: float, seconds: float, rate: int, channels: int = 1, seed: int = 0
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Gaussian noise of `channels` channels (shape `(n,)` for 1) scaled to `lufs` as
    pyloudnorm measures it."""
    rng = np.random.default_rng(seed)
    shape = (round(seconds * rate), channels) if channels > 1 else (round(seconds * rate),)
    noise = rng.standard_normal(shape) * 0.05
    measured = float(pyloudnorm.Meter(rate).integrated_loudness(noise))
    return np.asarray(noise * 10.0 ** ((lufs - measured) / 20.0), dtype=np.float64)


def run(coroutine: Any) -> Any:
    """Runs a coroutine to its end in a fresh event loop, failing if it hangs."""

    async def guarded() -> Any:
        return await asyncio.wait_for(coroutine, timeout=HANG_GUARD)

    return asyncio.run(guarded())


def run_pipeline(node: Node, items: list[Any], use_rust: bool) -> list[Any]:
    """The outputs of a pipeline of the one node, on the engine `use_rust` picks."""
    pipeline = Pipeline("audio-plugin-test")
    pipeline.add_node(node)
    outputs: list[Any] = run(pipeline.run(items, use_rust=use_rust))
    return outputs


def run_streaming(node: Node, items: Iterable[Any]) -> list[Any]:
    """Drives a streaming node (async generator `process`) directly, with its lifecycle."""

    async def feed() -> AsyncIterator[Any]:
        for item in items:
            yield item

    async def drive() -> list[Any]:
        node.initialize()
        try:
            return [output async for output in node.process(feed())]
        finally:
            node.cleanup()

    outputs: list[Any] = run(drive())
    return outputs


def ramp(
    seconds: float, dtype: type[np.generic], channels: int = 1, rate: int = 8000
) -> np.ndarray[Any, Any]:
    """Samples that are all different (within 8 s at 8 kHz), so a file shows which it holds;
    a second channel is the first negated."""
    n = round(seconds * rate)
    if dtype is np.int16:
        values = (np.arange(n) % 65536 - 32768).astype(np.int16)
    else:
        values = (np.arange(n) / n).astype(np.float32)
    return values if channels == 1 else np.stack([values, -values], axis=1)
