"""SileroVad driven by hand: utterances found, stream order, state across frames, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import silero_speech as speech
from remotemedia import AudioFrame
from remotemedia_silero import SileroVad, model

needs_espeak = pytest.mark.skipif(speech.ESPEAK is None, reason="espeak-ng is not installed")

FRAME_20MS = 320


def _speech_events(size: int = FRAME_20MS, **params: Any) -> list[tuple[str, float]]:
    audio, _ = speech.speech_with_pauses()
    return speech.events(speech.drive(SileroVad(**params), speech.frames(audio, size)))


@needs_espeak
def test_utterances_are_found_where_they_were_placed() -> None:
    _, placed = speech.speech_with_pauses()
    found = _speech_events()
    # One start and one end per phrase: the pauses between words do not split a phrase.
    assert [kind for kind, _ in found] == ["speech_start", "speech_end"] * len(placed)
    for (start, end), (_, found_start), (_, found_end) in zip(
        placed, found[::2], found[1::2], strict=True
    ):
        assert found_start == pytest.approx(start, abs=0.3)
        assert found_end == pytest.approx(end, abs=0.3)


@needs_espeak
def test_events_are_those_of_the_reference_vad_iterator() -> None:
    audio, _ = speech.speech_with_pauses()
    expected = [(kind, sample / speech.RATE) for kind, sample in speech.reference_events(audio)]
    assert _speech_events() == expected


@needs_espeak
@pytest.mark.parametrize("size", [160, 512, 1000], ids=["10ms", "32ms", "1000-samples"])
def test_events_do_not_depend_on_the_frame_size(size: int) -> None:
    assert _speech_events(size) == _speech_events(FRAME_20MS)


@needs_espeak
def test_int16_frames_give_the_events_of_the_same_samples_as_float32() -> None:
    audio, _ = speech.speech_with_pauses()
    quantized = np.round(audio * 32767).astype(np.int16)
    as_int16 = speech.drive(SileroVad(), speech.frames(quantized, FRAME_20MS))
    as_float = speech.drive(SileroVad(), speech.frames(quantized / np.float32(32768), FRAME_20MS))
    assert speech.events(as_int16) == speech.events(as_float)
    assert len(speech.events(as_int16)) == 6


@needs_espeak
def test_parameters_change_the_decisions() -> None:
    # A minimum silence longer than the 1 s pauses joins the three phrases into one utterance.
    found = _speech_events(min_silence_ms=1500)
    assert [kind for kind, _ in found] == ["speech_start", "speech_end"]


@pytest.mark.parametrize(
    "samples",
    [np.zeros(5 * speech.RATE, np.float32), speech.noise(5.0, dbfs=-60.0)],
    ids=["silence", "noise-60dBFS"],
)
def test_silence_and_faint_noise_give_no_events(samples: np.ndarray[Any, Any]) -> None:
    inputs = speech.frames(samples, FRAME_20MS)
    assert speech.drive(SileroVad(), inputs) == inputs


@needs_espeak
def test_every_frame_is_forwarded_unchanged_in_order_with_events_after_their_frame() -> None:
    audio, _ = speech.speech_with_pauses()
    audio.setflags(write=False)  # as the host hands over shared memory
    inputs = speech.frames(audio, FRAME_20MS)
    outputs = speech.drive(SileroVad(), inputs)
    forwarded = [item for item in outputs if isinstance(item, AudioFrame)]
    assert len(forwarded) == len(inputs)
    assert all(out is frame for out, frame in zip(forwarded, inputs, strict=True))
    assert np.array_equal(np.concatenate([f.samples for f in forwarded]), audio)
    heard = 0.0  # the end of the audio forwarded so far
    for item in outputs:
        if isinstance(item, AudioFrame):
            heard = item.timestamp + item.duration
            continue
        # After the audio it describes, and no later than the window, minimum silence and
        # frame that it takes to tell.
        assert 0.0 <= heard - item["time"] <= 0.2


@needs_espeak
def test_times_count_from_the_first_frames_timestamp() -> None:
    audio, _ = speech.speech_with_pauses()
    shifted = speech.drive(SileroVad(), speech.frames(audio, FRAME_20MS, start=12.5))
    expected = _speech_events()
    assert [kind for kind, _ in speech.events(shifted)] == [kind for kind, _ in expected]
    times = [time for _, time in speech.events(shifted)]
    assert times == pytest.approx([time + 12.5 for _, time in expected])


@needs_espeak
def test_an_utterance_open_at_the_end_ends_with_the_stream() -> None:
    audio, placed = speech.speech_with_pauses()
    cut = audio[: round((placed[1][0] + 1.0) * speech.RATE) + 100]  # not whole windows
    found = speech.events(speech.drive(SileroVad(), speech.frames(cut, FRAME_20MS)))
    assert [kind for kind, _ in found] == ["speech_start", "speech_end"] * 2
    assert found[-1][1] == len(cut) / speech.RATE


@needs_espeak
def test_a_node_starts_each_stream_afresh() -> None:
    audio, _ = speech.speech_with_pauses()
    inputs = speech.frames(audio, FRAME_20MS)
    node = SileroVad()
    first = speech.events(speech.drive(node, inputs[:200]))  # stops inside the second phrase
    assert speech.events(speech.drive(node, inputs)) == _speech_events()
    assert first[-1][0] == "speech_end"


def test_mono_frames_of_shape_n_by_1_and_empty_frames_are_accepted() -> None:
    samples = speech.noise(1.0, dbfs=-60.0)
    inputs = [
        AudioFrame(np.zeros(0, np.float32), speech.RATE, 0.0),
        AudioFrame(samples.reshape(-1, 1), speech.RATE, 0.0),
    ]
    assert speech.drive(SileroVad(), inputs) == inputs


def test_an_empty_stream_gives_nothing() -> None:
    assert speech.drive(SileroVad(), []) == []


@pytest.mark.parametrize(
    ("item", "error", "names"),
    [
        (AudioFrame(np.zeros(480, np.float32), 48000), ValueError, "audio.Resample"),
        (AudioFrame(np.zeros((320, 2), np.int16), 16000), ValueError, "audio.Downmix"),
        (np.zeros(320, np.float32), TypeError, "audio frames"),
        ({"event": "speech_start", "time": 0.0}, TypeError, "audio frames"),
    ],
    ids=["48kHz", "stereo", "array", "map"],
)
def test_input_that_is_not_16khz_mono_audio_is_a_named_error(
    item: Any, error: type[Exception], names: str
) -> None:
    good = AudioFrame(np.zeros(320, np.float32), speech.RATE)
    with pytest.raises(error, match=names):
        speech.drive(SileroVad(), [good, item])


def test_a_missing_model_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "DISTRIBUTION", "remotemedia-silero-no-such-distribution")
    with pytest.raises(FileNotFoundError, match="pip install --no-deps silero-vad"):
        SileroVad().initialize()


@pytest.mark.parametrize(
    "params",
    [
        {"threshold": 0.0},
        {"threshold": 1.5},
        {"threshold": float("nan")},
        {"threshold": True},
        {"min_silence_ms": -1},
        {"min_silence_ms": 60001},
        {"min_silence_ms": 100.0},
        {"speech_pad_ms": -5},
        {"speech_pad_ms": 1e9},
        {"speech_pad_ms": 10**9},
        {"speech_pad_ms": 30.5},
        {"speech_pad_ms": True},
    ],
    ids=[
        "threshold-0",
        "threshold-1.5",
        "threshold-nan",
        "threshold-bool",
        "min_silence-negative",
        "min_silence-over-a-minute",
        "min_silence-float",
        "speech_pad-negative",
        "speech_pad-1e9",
        "speech_pad-10**9",
        "speech_pad-fraction",
        "speech_pad-bool",
    ],
)
def test_parameters_out_of_range_are_rejected(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(params))):
        SileroVad(**params)


def test_durations_from_0_to_a_minute_are_accepted() -> None:
    for value in (0, 60000):
        node = SileroVad(min_silence_ms=value, speech_pad_ms=value)
        assert (node.min_silence_ms, node.speech_pad_ms) == (value, value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_a_frame_with_non_finite_samples_is_an_error_naming_it(bad: float) -> None:
    good = AudioFrame(np.zeros(320, np.float32), speech.RATE, 5.0)
    samples = np.zeros(320, np.float32)
    samples[[0, 100, 319]] = bad
    broken = AudioFrame(samples, speech.RATE, 5.02)
    with pytest.raises(ValueError, match=r"SileroVad 'vad' .* at 5\.02 s with 3 of 320 samples"):
        speech.drive(SileroVad(name="vad"), [good, broken])
    column = AudioFrame(samples.reshape(-1, 1), speech.RATE, 7.0)  # (n, 1) is checked too
    with pytest.raises(ValueError, match=r"at 7\.0 s with 3 of 320 samples NaN or infinite"):
        speech.drive(SileroVad(), [column])
