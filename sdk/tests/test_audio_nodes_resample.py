"""`audio.Resample` on both engines: the host's built-in (rubato) and the SDK's numpy resampler
keep one contract (output aligned with the input, N seconds in give N seconds out, float32,
timestamps from the first frame, the same limits and errors); the SDK's is close to the ideal
tone whatever the framing, and close to the host's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _engines import run_async
from remotemedia.errors import NodeError
from remotemedia.media import AudioFrame
from remotemedia.nodes import Resample
from remotemedia.pipeline import Pipeline

ENGINES = [True, False]
ENGINE_IDS = ["rust", "python"]

EDGE = 50
"""Samples left out at each end when comparing with a tone: the filter sees the silence around
the stream there."""

Samples = np.ndarray[Any, Any]


def run(rate: int, inputs: list[Any], *, use_rust: bool) -> list[Any]:
    pipeline = Pipeline("resample")
    pipeline.add_node(Resample(rate, name="resample"))
    outputs: list[Any] = run_async(pipeline.run(inputs, use_rust=use_rust))
    return outputs


def tone(rate: int, n: int, freq: float = 1000.0, channels: int = 1) -> Samples:
    """`n` samples of `0.5 sin(2 pi freq t)`, each channel shifted by a radian more,
    `(n, channels)` float64."""
    t = np.arange(n)[:, None] / rate
    return 0.5 * np.sin(2 * np.pi * freq * t + np.arange(channels)[None, :])


def cut(samples: Samples, rate: int, lengths: list[int], start: float = 0.0) -> list[AudioFrame]:
    """Frames of `samples` of the given lengths in turn (the last repeated), as float32."""
    frames, at, i = [], 0, 0
    while at < len(samples):
        n = lengths[min(i, len(lengths) - 1)]
        part = samples[at : at + n].astype(np.float32)
        frames.append(
            AudioFrame(part[:, 0] if part.shape[1] == 1 else part, rate, start + at / rate)
        )
        at, i = at + n, i + 1
    return frames


def joined(frames: list[AudioFrame]) -> Samples:
    return np.concatenate([f.samples.reshape(len(f.samples), -1) for f in frames])


def level_db(error: Samples, reference: Samples) -> float:
    """The error's level against the reference's, in dB."""
    return float(20 * np.log10(np.sqrt(np.mean(error**2)) / np.sqrt(np.mean(reference**2))))


def test_a_tone_48k_to_16k_in_20ms_frames_is_close_to_the_ideal_and_to_the_host() -> None:
    frames = cut(tone(48000, 48000), 48000, [960])
    python = joined(run(16000, frames, use_rust=False))
    rust = joined(run(16000, frames, use_rust=True))
    ideal = tone(16000, 16000)
    assert python.shape == rust.shape == ideal.shape
    inner = slice(EDGE, -EDGE)
    assert level_db(python[inner] - ideal[inner], ideal[inner]) < -50  # measured: -119 dB
    assert level_db(python - rust, ideal) < -45  # measured: -60 dB (rubato's own error)


@pytest.mark.parametrize(
    ("rate_in", "rate_out", "channels"),
    [(16000, 48000, 2), (44100, 16000, 1), (22050, 48000, 2), (8000, 11025, 1), (44100, 48000, 3)],
)
def test_other_ratios_are_close_to_the_ideal_on_every_channel(
    rate_in: int, rate_out: int, channels: int
) -> None:
    frames = cut(tone(rate_in, rate_in // 2, 440, channels), rate_in, [round(rate_in * 0.02)])
    out = joined(run(rate_out, frames, use_rust=False))
    ideal = tone(rate_out, len(out), 440, channels)
    assert abs(len(out) - rate_out / 2) <= 0.5
    for c in range(channels):
        inner = slice(EDGE, -EDGE)
        assert level_db(out[inner, c] - ideal[inner, c], ideal[inner, c]) < -80  # about -100


@pytest.mark.parametrize("lengths", [[48000], [7], [1, 0, 1000, 3, 4096], [959, 961]])
def test_the_output_does_not_depend_on_the_framing(lengths: list[int]) -> None:
    samples = tone(48000, 48000, 1000, 2)
    reference = joined(run(16000, cut(samples, 48000, [960]), use_rust=False))
    out = joined(run(16000, cut(samples, 48000, lengths), use_rust=False))
    assert out.tobytes() == reference.tobytes()


CASES = [
    (48000, 16000, 1, 960),
    (16000, 48000, 2, 320),
    (44100, 16000, 1, 441),
    (22050, 48000, 2, 1000),
    (8000, 11025, 1, 7),
    (44100, 22050, 1, 100),
    (256, 65536, 1, 50),
    (65536, 256, 1, 4096),
    (48000, 44100, 9, 480),
]


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
@pytest.mark.parametrize(("rate_in", "rate_out", "channels", "frame"), CASES)
def test_n_samples_in_give_round_n_times_the_ratio_out_stamped_from_the_first_frame(
    use_rust: bool, rate_in: int, rate_out: int, channels: int, frame: int
) -> None:
    for n in (1, 1001, 3 * rate_in // 7):
        frames = cut(tone(rate_in, n, 50, channels), rate_in, [frame], start=3.0)
        out = run(rate_out, frames, use_rust=use_rust)
        expected = (n * rate_out + rate_in // 2) // rate_in
        assert sum(len(f.samples) for f in out) == expected, (n, out)
        sent = 0
        for f in out:
            assert (f.sample_rate, f.channels, f.samples.dtype.name) == (
                rate_out,
                channels,
                "float32",
            )
            assert f.timestamp == pytest.approx(3.0 + sent / rate_out, abs=1e-9)
            sent += len(f.samples)


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_no_samples_give_no_output(use_rust: bool) -> None:
    assert run(16000, [], use_rust=use_rust) == []
    empty = AudioFrame(np.zeros((0, 2), np.float32), 48000, 1.0)
    assert run(16000, [empty, empty], use_rust=use_rust) == []


def test_the_same_rate_passes_through_as_float32_with_its_own_timestamps() -> None:
    floats = AudioFrame(np.array([[0.25, -0.5]], np.float32), 16000, 7.0)
    ints = AudioFrame(np.array([[-32768, 16384], [0, 1]], np.int16), 16000, 2.0)
    outputs = {use: run(16000, [floats, ints], use_rust=use) for use in ENGINES}
    python = outputs[False]
    assert python[0] is floats
    assert python[1].samples.dtype == np.float32
    assert python[1].samples.tolist() == [[-1.0, 0.5], [0.0, 1 / 32768]]
    assert (python[1].timestamp, python[1].channels) == (2.0, 2)
    assert outputs[True] == python


def test_int16_input_is_scaled_and_may_alternate_with_float32() -> None:
    samples = tone(48000, 9600)
    ints = (samples * 32768).round().astype(np.int16)
    frames = [
        AudioFrame(ints[i : i + 960, 0], 48000, i / 48000)
        if i % 1920
        else AudioFrame((ints[i : i + 960, 0] / 32768).astype(np.float32), 48000, i / 48000)
        for i in range(0, len(ints), 960)
    ]
    mixed = joined(run(16000, frames, use_rust=False))
    as_floats = joined(run(16000, cut(ints / 32768, 48000, [960]), use_rust=False))
    assert mixed.tobytes() == as_floats.tobytes()


LIMITS = [
    (
        16000,
        [AudioFrame(np.zeros(4, np.float32), 8_000_000)],
        "cannot resample 8000000 Hz to 16000 Hz",
    ),
    (16000, [AudioFrame(np.zeros(4, np.float32), 16)], "cannot resample 16 Hz to 16000 Hz"),
    (16000, [AudioFrame(np.zeros((1, 2000), np.float32), 8000)], "cannot resample 2000 channels"),
]


@pytest.mark.parametrize(("rate", "inputs", "expected"), LIMITS)
def test_limits_fail_alike_on_both_engines(rate: int, inputs: list[Any], expected: str) -> None:
    errors = []
    for use_rust in ENGINES:
        with pytest.raises(NodeError) as caught:
            run(rate, inputs, use_rust=use_rust)
        errors.append((caught.value.error_type, caught.value.message))
    assert errors[0] == errors[1]
    assert errors[1][0] == "ValueError"
    assert errors[1][1].startswith(f"audio.Resample: {expected}")
