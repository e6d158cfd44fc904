"""Test audio for the SileroVad tests: speech spoken by espeak-ng at 16 kHz, frames, noise, and
a plain reference loop (silero-vad's OnnxWrapper and VADIterator, written out with numpy).

A helper module, not a test module (the tests import it by this unique name; no conftest).
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import subprocess
import tempfile
import wave
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

from remotemedia import AudioFrame, Node
from remotemedia_silero.model import model_path

try:
    from scipy.signal import resample_poly
except ImportError:  # numpy-only resampling below
    resample_poly = None

RATE = 16000
ESPEAK = shutil.which("espeak-ng")

# No commas: espeak pauses ~250 ms at one, long enough to split an utterance by design.
PHRASES = (
    "the quick brown fox jumps over the lazy dog",
    "voice activity detection finds the speech in a stream",
    "remote media runs pipelines of nodes",
)


def _resample(samples: np.ndarray[Any, Any], source: int) -> np.ndarray[Any, Any]:
    """`samples` (float64) from `source` Hz to 16 kHz."""
    if resample_poly is not None:
        gcd = np.gcd(RATE, source)
        return np.asarray(resample_poly(samples, RATE // gcd, source // gcd))
    # Band-limited by the FFT: keep the bins below the new Nyquist frequency.
    count = round(len(samples) * RATE / source)
    spectrum = np.fft.rfft(samples)[: count // 2 + 1]
    return np.fft.irfft(spectrum, count) * (count / len(samples))


@functools.cache
def spoken(phrase: str) -> np.ndarray[Any, Any]:
    """`phrase` spoken by espeak-ng: float32 at 16 kHz, trimmed to its first and last sound."""
    assert ESPEAK is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run([ESPEAK, "-w", str(path), phrase], check=True, capture_output=True)
        with wave.open(str(path)) as file:
            assert (file.getnchannels(), file.getsampwidth()) == (1, 2)
            source = file.getframerate()
            raw = np.frombuffer(file.readframes(file.getnframes()), dtype="<i2")
    audio = _resample(raw / 32768.0, source)
    loud = np.flatnonzero(np.abs(audio) > 0.02 * np.abs(audio).max())
    return audio[loud[0] : loud[-1] + 1].astype(np.float32)


def speech_with_pauses(
    phrases: Sequence[str] = PHRASES, pause: float = 1.0, lead: float = 0.5
) -> tuple[np.ndarray[Any, Any], list[tuple[float, float]]]:
    """The phrases `pause` seconds apart after `lead` seconds of silence, and the same after.

    Returns:
        The samples, and each phrase's (start, end) in seconds from the first sample.
    """
    parts: list[np.ndarray[Any, Any]] = [np.zeros(round(lead * RATE), np.float32)]
    placed: list[tuple[float, float]] = []
    at = len(parts[0])
    for i, phrase in enumerate(phrases):
        if i:
            parts.append(np.zeros(round(pause * RATE), np.float32))
            at += len(parts[-1])
        voice = spoken(phrase)
        parts.append(voice)
        placed.append((at / RATE, (at + len(voice)) / RATE))
        at += len(voice)
    parts.append(np.zeros(round(lead * RATE), np.float32))
    return np.concatenate(parts), placed


def noise(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray[Any, Any]:
    """White noise with an RMS level of `dbfs` decibels below full scale."""
    rng = np.random.default_rng(seed)
    level = 10 ** (dbfs / 20)
    return (rng.standard_normal(round(seconds * RATE)) * level).astype(np.float32)


def frames(
    samples: np.ndarray[Any, Any], size: int, start: float = 0.0, rate: int = RATE
) -> list[AudioFrame]:
    """`samples` cut into frames of `size` samples (the last may be shorter), timestamped."""
    return [
        AudioFrame(samples[i : i + size], rate, start + i / rate)
        for i in range(0, len(samples), size)
    ]


def events(outputs: Iterable[Any]) -> list[tuple[str, float]]:
    """The (event, time) pairs among a node's outputs, in order."""
    return [(o["event"], o["time"]) for o in outputs if isinstance(o, dict)]


async def _stream(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def drive(node: Node, items: Iterable[Any]) -> list[Any]:
    """Runs a streaming node by hand, as an executor does: initialize, process, cleanup."""

    async def run() -> list[Any]:
        node.initialize()
        try:
            return [out async for out in node.process(_stream(items))]
        finally:
            node.cleanup()

    return asyncio.run(run())


def reference_events(
    samples: np.ndarray[Any, Any],
    threshold: float = 0.5,
    min_silence_ms: int = 100,
    speech_pad_ms: int = 30,
) -> list[tuple[str, int]]:
    """silero-vad's OnnxWrapper and VADIterator on whole windows, written out plainly: a new
    input array per window, `session.run` with a dict. Sample positions, as the reference
    places them (a start may come before the previous end; an end may lie past the audio)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model_path()), sess_options=options)
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros((1, 64), np.float32)
    rate = np.array(RATE, dtype=np.int64)
    min_silence, pad = RATE * min_silence_ms / 1000, RATE * speech_pad_ms / 1000
    triggered, temp_end, current = False, 0, 0
    found: list[tuple[str, int]] = []
    for i in range(0, len(samples) - 511, 512):
        x = np.concatenate([context, samples[None, i : i + 512]], axis=1)
        out, state = session.run(None, {"input": x, "state": state, "sr": rate})
        context = x[..., -64:]
        prob = float(out.item())
        current += 512
        if prob >= threshold and temp_end:
            temp_end = 0
        if prob >= threshold and not triggered:
            triggered = True
            found.append(("speech_start", int(max(0, current - pad - 512))))
            continue
        if prob < threshold - 0.15 and triggered:
            if not temp_end:
                temp_end = current
            if current - temp_end >= min_silence:
                found.append(("speech_end", int(temp_end + pad - 512)))
                temp_end, triggered = 0, False
    return found
