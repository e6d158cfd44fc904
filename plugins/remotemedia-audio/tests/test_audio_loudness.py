"""`audio.LoudnessNormalize` and the streaming BS.1770 meter it follows, checked against
pyloudnorm's own measurement of the output."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyloudnorm
import pytest

from audio_plugin_testing import ENGINES, cut, joined, noise_at, run_pipeline
from remotemedia import AudioFrame
from remotemedia.manifest.validate import validate
from remotemedia_audio.loudness import LoudnessNormalize
from remotemedia_audio.meter import StreamingMeter

SETTLE = 3.0
"""Seconds after which the defaults (500 ms smoothing) are within hundredths of an LU."""


def normalise(frames: list[AudioFrame], **params: Any) -> list[AudioFrame]:
    node = LoudnessNormalize(**params)
    return [node.process(frame) for frame in frames]


def loudness_after(samples: np.ndarray[Any, Any], rate: int, seconds: float) -> float:
    values = samples.astype(np.float64)
    if samples.dtype == np.int16:
        values /= 32768.0
    return float(pyloudnorm.Meter(rate).integrated_loudness(values[round(seconds * rate) :]))


@pytest.mark.parametrize(
    ("rate", "channels", "dtype"),
    [(48000, 1, np.float32), (44100, 2, np.float32), (16000, 1, np.int16), (48000, 2, np.int16)],
)
def test_signal_at_minus_30_reaches_the_target_after_settling(
    rate: int, channels: int, dtype: type[np.generic]
) -> None:
    signal = noise_at(-30.0, 12.0, rate, channels)
    if dtype is np.int16:
        samples = np.rint(signal * 32768).astype(np.int16)
    else:
        samples = signal.astype(np.float32)
    frames = cut(samples, rate, rate // 50)
    out = normalise(frames, target_lufs=-23.0)
    assert [(f.timestamp, f.sample_rate, f.samples.shape) for f in out] == [
        (f.timestamp, f.sample_rate, f.samples.shape) for f in frames
    ]
    assert all(f.samples.dtype == dtype for f in out)
    assert loudness_after(joined(out), rate, SETTLE) == pytest.approx(-23.0, abs=0.5)


def test_silence_stays_silence() -> None:
    node = LoudnessNormalize()
    frames = cut(np.zeros(48000 * 5, dtype=np.float32), 48000, 480)
    out = [node.process(frame) for frame in frames]
    assert not joined(out).any()
    assert node.gain_db == 0.0


def test_leading_silence_stays_silent_and_the_speech_after_it_is_normalised() -> None:
    rate = 16000
    signal = np.concatenate([np.zeros(2 * rate), noise_at(-30.0, 10.0, rate)]).astype(np.float32)
    out = joined(normalise(cut(signal, rate, 320)))
    assert not out[: 2 * rate].any()
    assert loudness_after(out, rate, 2.0 + SETTLE) == pytest.approx(-23.0, abs=0.5)


def test_noise_under_the_gate_gets_no_gain_and_quiet_noise_at_most_max_gain() -> None:
    rate = 16000
    under_gate = noise_at(-75.0, 4.0, rate).astype(np.float32)
    out = joined(normalise(cut(under_gate, rate, 160)))
    np.testing.assert_array_equal(out, under_gate)
    quiet = noise_at(-60.0, 6.0, rate).astype(np.float32)
    node = LoudnessNormalize(max_gain_db=20.0)
    out = joined([node.process(frame) for frame in cut(quiet, rate, 160)])
    assert node.gain_db == pytest.approx(20.0, abs=0.01)
    assert loudness_after(out, rate, SETTLE) == pytest.approx(-40.0, abs=0.2)


@pytest.mark.parametrize("channels", [1, 2])
def test_frame_size_barely_changes_the_result(channels: int) -> None:
    rate = 48000
    signal = noise_at(-30.0, 8.0, rate, channels).astype(np.float32)
    results = [joined(normalise(cut(signal, rate, size))) for size in (97, 480, 4096, 48000)]
    levels = [loudness_after(out, rate, SETTLE) for out in results]
    settled = round(SETTLE * rate)
    assert max(levels) - min(levels) < 0.1
    for out in results[1:]:
        # Only the first seconds differ (the gain moves in other steps); settled, they agree.
        np.testing.assert_allclose(out[settled:], results[0][settled:], atol=1e-3)


def test_stereo_channels_get_the_same_gain() -> None:
    rate = 44100
    left = noise_at(-35.0, 6.0, rate)
    signal = np.stack([left, 0.5 * left], axis=1).astype(np.float32)
    out = joined(normalise(cut(signal, rate, 1024)))
    loud = np.abs(out[:, 0]) > 1e-3
    np.testing.assert_allclose(out[loud, 1] / out[loud, 0], 0.5, rtol=1e-3)


def test_gain_ramps_without_steps() -> None:
    rate = 16000
    t = np.arange(8 * rate) / rate
    tone = (0.02 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = joined(normalise(cut(tone, rate, 160)))
    crest = np.abs(tone) > 0.01  # where the ratio out/in is well defined
    gain = out[crest] / tone[crest]
    assert gain.max() > 2.0  # the tone was brought up
    # Neighbouring samples' gains differ by far less than a step of 0.05 dB (0.6 %) would make.
    assert np.abs(np.diff(gain)).max() < 0.003 * gain.max()


@pytest.mark.parametrize(
    ("dtype", "ceiling_db"), [(np.float32, -1.0), (np.float32, 0.0), (np.int16, 0.0)]
)
def test_output_never_passes_the_ceiling(dtype: type[np.generic], ceiling_db: float) -> None:
    rate = 16000
    quiet = noise_at(-45.0, 4.0, rate)  # lets the gain rise towards +30 dB ...
    burst = noise_at(-3.0, 1.0, rate, seed=1)  # ... then a burst at full scale
    signal = np.clip(np.concatenate([quiet, burst, quiet]), -1.0, 32767 / 32768)
    samples = np.rint(signal * 32768).astype(np.int16) if dtype is np.int16 else signal
    samples = samples.astype(dtype)
    out = joined(normalise(cut(samples, rate, 320), target_lufs=-5.0, ceiling_db=ceiling_db))
    if dtype is np.int16:
        assert out.dtype == np.int16
        # Saturated, never wrapped round: every output sample has its input's sign or is 0.
        assert np.all(np.sign(out.astype(np.int32)) * np.sign(samples.astype(np.int32)) >= 0)
    else:
        assert np.abs(out).max() <= 10.0 ** (ceiling_db / 20.0) + 1e-7


@pytest.mark.parametrize("size", [7, 480, 1000, 480000])
def test_streaming_meter_matches_pyloudnorm(size: int) -> None:
    rate = 48000
    rng = np.random.default_rng(1)
    signal = rng.standard_normal((10 * rate, 2)) * 0.05
    signal[:, 0] *= np.linspace(0.1, 1.0, 10 * rate)
    signal[3 * rate : 4 * rate] *= 1e-4  # quiet blocks for the relative gate to drop
    meter = StreamingMeter(rate, 2)
    for at in range(0, signal.shape[0], size):
        meter.add(signal[at : at + size])
    expected = pyloudnorm.Meter(rate).integrated_loudness(signal)
    assert meter.integrated() == pytest.approx(expected, abs=0.01)


def test_meter_has_no_loudness_before_its_first_block() -> None:
    meter = StreamingMeter(16000, 1)
    meter.add(np.full((6399, 1), 0.5))
    assert meter.integrated() is None
    meter.add(np.full((1, 1), 0.5))
    assert meter.integrated() is not None


@pytest.mark.parametrize(
    "params",
    [
        {"target_lufs": 3.0},
        {"target_lufs": "loud"},
        {"target_lufs": True},
        {"max_gain_db": -1.0},
        {"smoothing_ms": float("nan")},
        {"ceiling_db": 0.5},
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any]) -> None:
    key = next(iter(params))
    with pytest.raises(ValueError, match=f"audio.LoudnessNormalize {key} must be a number"):
        LoudnessNormalize(**params)


@pytest.mark.parametrize(
    ("second", "error", "match"),
    [
        (3, TypeError, "takes audio frames, got a int"),
        (AudioFrame(np.zeros(160, np.float32), 8000), ValueError, "sample rate changed"),
        (AudioFrame(np.zeros((160, 2), np.float32), 16000), ValueError, "channel count changed"),
        (AudioFrame(np.zeros(160, np.int16), 16000), ValueError, "dtype changed"),
    ],
)
def test_items_that_do_not_fit_the_stream_are_errors(
    second: Any, error: type[Exception], match: str
) -> None:
    node = LoudnessNormalize()
    node.process(AudioFrame(np.zeros(160, np.float32), 16000))
    with pytest.raises(error, match=match):
        node.process(second)


def test_more_than_five_channels_are_refused() -> None:
    with pytest.raises(ValueError, match="1 to 5 channels"):
        LoudnessNormalize().process(AudioFrame(np.zeros((160, 6), np.float32), 16000))


@pytest.mark.parametrize("use_rust", ENGINES)
def test_runs_in_a_pipeline_as_it_runs_alone(use_rust: bool) -> None:
    rate = 16000
    frames = cut(noise_at(-30.0, 3.0, rate).astype(np.float32), rate, 1600)
    alone = normalise(frames, target_lufs=-20.0)
    outputs = run_pipeline(LoudnessNormalize(target_lufs=-20.0, name="norm"), frames, use_rust)
    assert outputs == alone


def test_validate_checks_the_plugin_nodes_parameters() -> None:
    doc = {
        "version": "v1",
        "nodes": [
            {"id": "norm", "node_type": "audio.LoudnessNormalize", "params": {"target_lufs": "x"}},
            {"id": "mel", "node_type": "audio.LogMel", "params": {"n_mel": 40}},
            {"id": "segments", "node_type": "audio.SegmentWriter"},
        ],
    }
    assert validate(doc) == [
        'nodes[0].params.target_lufs: expected a number, got string "x"',
        'nodes[1].params.n_mel: unknown parameter "n_mel" (did you mean "n_mels"?)',
        'nodes[2].params: missing required parameter "directory" (string)',
    ]


@pytest.mark.parametrize("shape", [(0,), (0, 2)])
def test_empty_frames_pass_through(shape: tuple[int, ...]) -> None:
    empty = AudioFrame(np.zeros(shape, np.int16), 16000, 1.5)
    assert LoudnessNormalize().process(empty) == empty
