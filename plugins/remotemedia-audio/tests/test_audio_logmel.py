"""`audio.LogMel` against librosa (an independent implementation): the streamed rows equal the
whole-signal log-mel spectrogram, whatever the framing."""

from __future__ import annotations

import math
from typing import Any

import librosa
import numpy as np
import pytest

from audio_plugin_testing import ENGINES, cut, run_pipeline
from remotemedia import AudioFrame
from remotemedia_audio.logmel import LogMel
from remotemedia_audio.mel import hz_to_mel, mel_filterbank, mel_to_hz

RATE = 16000


def chirp_and_noise(seconds: float = 1.3, rate: int = RATE) -> np.ndarray[Any, Any]:
    """Noise plus a chirp, float32 within [-1, 1]."""
    t = np.arange(round(seconds * rate)) / rate
    chirp = 0.3 * np.sin(2 * np.pi * (100 + 2000 * t) * t)
    noise = 0.05 * np.random.default_rng(3).standard_normal(t.shape[0])
    return (chirp + noise).astype(np.float32)


def reference(samples: np.ndarray[Any, Any], rate: int, **params: Any) -> np.ndarray[Any, Any]:
    """librosa's log-mel rows for the node's parameters, shape `(rows, n_mels)`."""
    n_fft = params.get("n_fft", 400)
    fmax = params.get("fmax", 0.0) or rate / 2
    mel = librosa.feature.melspectrogram(
        y=samples.astype(np.float64),
        sr=rate,
        n_fft=n_fft,
        hop_length=max(1, round(params.get("hop_ms", 10.0) * rate / 1000)),
        win_length=n_fft,
        window=params.get("window", "hann"),
        center=False,
        power=params.get("power", 2.0),
        n_mels=params.get("n_mels", 80),
        fmin=params.get("fmin", 0.0),
        fmax=fmax,
        htk=params.get("mel_scale", "slaney") == "htk",
        norm="slaney",
    )
    floor = params.get("log_floor", 1e-10)
    return np.asarray(np.log(np.maximum(mel, floor)).T)


def streamed(frames: list[AudioFrame], **params: Any) -> np.ndarray[Any, Any]:
    node = LogMel(**params)
    outputs = [node.process(frame) for frame in frames]
    rows = [out for out in outputs if out is not None]
    n_mels = params.get("n_mels", 80)
    for out in rows:
        assert out.dtype == np.float32
        assert out.ndim == 2
        assert out.shape[0] >= 1
        assert out.shape[1] == n_mels
    return np.concatenate(rows) if rows else np.zeros((0, n_mels), np.float32)


@pytest.mark.parametrize("size", [1, 7, 160, 399, 400, 401, 1000, 4096, 20800])
def test_streamed_rows_equal_librosa_on_the_whole_signal(size: int) -> None:
    samples = chirp_and_noise()
    expected = reference(samples, RATE)
    assert expected.shape == (1 + (samples.shape[0] - 400) // 160, 80)
    np.testing.assert_allclose(streamed(cut(samples, RATE, size)), expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    ("rate", "params"),
    [
        (16000, {"n_mels": 40, "n_fft": 512, "hop_ms": 16.0}),
        (16000, {"n_mels": 64, "fmin": 60.0, "fmax": 7600.0, "mel_scale": "htk"}),
        (22050, {"n_mels": 128, "n_fft": 2048, "hop_ms": 5.0, "window": "hamming"}),
        (8000, {"n_mels": 23, "n_fft": 256, "power": 1.0, "log_floor": 1e-6}),
        (16000, {"n_mels": 20, "n_fft": 64, "hop_ms": 10.0}),  # hop (160) longer than a window
    ],
)
def test_settings_match_librosa(rate: int, params: dict[str, Any]) -> None:
    samples = chirp_and_noise(1.1, rate)
    expected = reference(samples, rate, **params)
    for size in (333, rate // 100):
        got = streamed(cut(samples, rate, size), **params)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_int16_samples_are_read_as_fractions_of_full_scale() -> None:
    samples = np.rint(chirp_and_noise() * 32767).astype(np.int16)
    expected = reference(samples / 32768.0, RATE)
    np.testing.assert_allclose(streamed(cut(samples, RATE, 250)), expected, atol=1e-4, rtol=0)


def test_frames_that_complete_no_row_emit_nothing() -> None:
    node = LogMel()
    silence = np.zeros(100, np.float32)
    assert node.process(AudioFrame(silence, RATE)) is None  # 100 of the 400 samples
    assert node.process(AudioFrame(np.zeros(299, np.float32), RATE)) is None
    rows = node.process(AudioFrame(np.zeros(1, np.float32), RATE))
    assert rows is not None
    assert rows.shape == (1, 80)
    np.testing.assert_array_equal(rows, np.float32(math.log(1e-10)))
    rows = node.process(AudioFrame(np.zeros(480, np.float32), RATE))
    assert rows is not None
    assert rows.shape == (3, 80)


def test_mono_of_shape_n_by_1_is_mono_and_stereo_is_an_error() -> None:
    node = LogMel()
    assert node.process(AudioFrame(np.zeros((400, 1), np.float32), RATE)) is not None
    with pytest.raises(ValueError, match=r"audio.LogMel takes mono audio, .* 2 channels"):
        node.process(AudioFrame(np.zeros((400, 2), np.float32), RATE))


def test_mel_scales_at_known_points() -> None:
    assert float(hz_to_mel(1000.0)) == pytest.approx(15.0)
    assert float(hz_to_mel(6400.0)) == pytest.approx(42.0)
    assert float(hz_to_mel(300.0)) == pytest.approx(4.5)
    assert float(hz_to_mel(700.0, "htk")) == pytest.approx(2595 * math.log10(2))
    hz = np.array([0.0, 50.0, 999.0, 1000.0, 4321.0, 8000.0])
    for scale in ("slaney", "htk"):
        np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz, scale), scale), hz, atol=1e-9)
        np.testing.assert_allclose(hz_to_mel(hz, scale), librosa.hz_to_mel(hz, htk=scale == "htk"))


@pytest.mark.parametrize("scale", ["slaney", "htk"])
def test_filterbank_equals_librosa_filters_mel(scale: str) -> None:
    ours = mel_filterbank(16000, 512, 40, 20.0, 7000.0, scale)
    theirs = librosa.filters.mel(
        sr=16000, n_fft=512, n_mels=40, fmin=20.0, fmax=7000.0, htk=scale == "htk", dtype=np.float64
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_mels": 0}, "n_mels must be an integer"),
        ({"n_fft": 40.5}, "n_fft must be an integer"),
        ({"hop_ms": 0}, "hop_ms must be a number"),
        ({"mel_scale": "bark"}, "mel_scale must be one of slaney, htk"),
        ({"window": "no-such-window"}, "window 'no-such-window' is not a scipy window"),
        ({"log_floor": 0.0}, "log_floor must be a number"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LogMel(**params)


def test_fmax_above_nyquist_is_an_error_at_the_first_frame() -> None:
    node = LogMel(fmax=9000.0)
    with pytest.raises(ValueError, match=r"audio.LogMel at 16000 Hz: .*fmax 9000.0"):
        node.process(AudioFrame(np.zeros(400, np.float32), RATE))


@pytest.mark.parametrize("use_rust", ENGINES)
def test_runs_in_a_pipeline_as_it_runs_alone(use_rust: bool) -> None:
    frames = cut(chirp_and_noise(0.5), RATE, 320)
    outputs = run_pipeline(LogMel(n_mels=40, name="logmel"), frames, use_rust)
    node = LogMel(n_mels=40)
    alone = [rows for rows in map(node.process, frames) if rows is not None]
    assert len(outputs) == len(alone) == len(frames) - 1  # the first frame completes no row
    for got, expected in zip(outputs, alone, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_empty_frames_change_nothing() -> None:
    samples = chirp_and_noise(0.2)
    frames = cut(samples, RATE, 500)
    empty = AudioFrame(np.zeros(0, np.float32), RATE)
    with_empties = [item for frame in frames for item in (empty, frame)]
    np.testing.assert_array_equal(streamed(with_empties), streamed(frames))
