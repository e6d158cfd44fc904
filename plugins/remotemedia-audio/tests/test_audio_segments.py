"""`audio.SegmentWriter`: one WAV file per utterance, sample-accurate on the frames' clock."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io.wavfile

from audio_plugin_testing import ENGINES, cut, ramp, run_pipeline, run_streaming
from remotemedia import AudioFrame
from remotemedia_audio.segments import SegmentWriter

RATE = 8000


def with_events(
    frames: list[AudioFrame], utterances: list[tuple[float, float]], delay: float
) -> list[Any]:
    """The frames with each utterance's events after the frame in which the event's time plus
    `delay` (a detector's lag) falls; events still pending at the end come after the last."""
    events = sorted(
        [(start, "speech_start") for start, _ in utterances]
        + [(end, "speech_end") for _, end in utterances]
    )
    items: list[Any] = []
    for frame in frames:
        items.append(frame)
        while events and events[0][0] + delay <= frame.timestamp + frame.duration:
            time, event = events.pop(0)
            items.append({"event": event, "time": time})
    items += [{"event": event, "time": time} for time, event in events]
    return items


def read(path: str) -> np.ndarray[Any, Any]:
    rate, data = scipy.io.wavfile.read(path)
    assert rate == RATE
    return np.asarray(data)


def expected(samples: np.ndarray[Any, Any], start: float, end: float) -> np.ndarray[Any, Any]:
    return samples[round(start * RATE) : round(end * RATE)]


UTTERANCES = [(0.5, 1.25), (1.9, 3.1234), (3.3, 4.0)]


@pytest.mark.parametrize("size", [80, 160, 333, 1600])
@pytest.mark.parametrize(("dtype", "channels"), [(np.float32, 1), (np.int16, 1), (np.float32, 2)])
def test_each_utterance_is_written_sample_accurately(
    tmp_path: Path, size: int, dtype: type[np.generic], channels: int
) -> None:
    samples = ramp(5.0, dtype, channels)
    items = with_events(cut(samples, RATE, size), UTTERANCES, delay=0.3)
    outputs = run_streaming(SegmentWriter(str(tmp_path / "out")), items)
    assert [(out["start"], out["end"]) for out in outputs] == UTTERANCES
    for i, (out, (start, end)) in enumerate(zip(outputs, UTTERANCES, strict=True), start=1):
        assert out["segment"] == str(tmp_path / "out" / f"segment_{i:04d}.wav")
        data = read(out["segment"])
        assert data.dtype == dtype
        np.testing.assert_array_equal(data, expected(samples, start, end))


def test_frames_stamped_from_a_later_start_are_cut_on_their_clock(tmp_path: Path) -> None:
    samples = ramp(3.0, np.float32)
    items = with_events(cut(samples, RATE, 256, start=10.0), [(10.4, 11.5)], delay=0.2)
    [out] = run_streaming(SegmentWriter(str(tmp_path)), items)
    assert (out["start"], out["end"]) == (10.4, 11.5)
    np.testing.assert_array_equal(read(out["segment"]), expected(samples, 0.4, 1.5))


def test_a_stream_that_ends_inside_speech_closes_at_its_end(tmp_path: Path) -> None:
    samples = ramp(2.0, np.int16)
    items = [*cut(samples, RATE, 400)[:5], {"event": "speech_start", "time": 0.1}]
    items += cut(samples, RATE, 400)[5:]
    [out] = run_streaming(SegmentWriter(str(tmp_path)), items)
    assert (out["start"], out["end"]) == (0.1, 2.0)
    np.testing.assert_array_equal(read(out["segment"]), samples[800:])


def test_an_end_past_the_audio_waits_for_the_frames_that_reach_it(tmp_path: Path) -> None:
    samples = ramp(2.0, np.float32)
    frames = cut(samples, RATE, 800)
    start, end = {"event": "speech_start", "time": 0.2}, {"event": "speech_end", "time": 1.5}
    outputs = []
    node = SegmentWriter(str(tmp_path))
    node.initialize()
    for item in [frames[0], start, end, *frames[1:]]:
        outputs.append(list(node.take(item)))
    # Frames are 100 ms: written with the 15th frame (item 16), the one that ends at 1.5 s.
    assert [len(out) for out in outputs] == [0] * 16 + [1] + [0] * 5
    np.testing.assert_array_equal(read(outputs[16][0]["segment"]), expected(samples, 0.2, 1.5))
    assert list(node.finish()) == []


def test_a_start_older_than_the_pre_roll_begins_at_the_oldest_sample_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    samples = ramp(3.0, np.float32)
    items = with_events(cut(samples, RATE, 160), [(1.0, 2.0)], delay=0.5)
    with caplog.at_level(logging.WARNING):
        [out] = run_streaming(SegmentWriter(str(tmp_path), pre_roll_ms=200.0), items)
    # The start came with the frame ending at 1.5 s: 200 ms of pre-roll keep from 1.3 s.
    assert (out["start"], out["end"]) == (1.3, 2.0)
    np.testing.assert_array_equal(read(out["segment"]), expected(samples, 1.3, 2.0))
    assert "before the 200.0 ms of pre-roll kept" in caplog.text


def test_memory_holds_the_pre_roll_while_idle(tmp_path: Path) -> None:
    node = SegmentWriter(str(tmp_path), pre_roll_ms=500.0)
    node.initialize()
    for frame in cut(ramp(6.0, np.int16), RATE, 200):
        assert list(node.take(frame)) == []
        assert node.buffered_seconds <= 0.5 + 200 / RATE
    assert node.buffered_seconds >= 0.5


def test_float32_is_written_as_ieee_float_and_int16_as_pcm(tmp_path: Path) -> None:
    tags = {}
    for dtype in (np.float32, np.int16):
        items = with_events(cut(ramp(1.0, dtype), RATE, 160), [(0.1, 0.5)], delay=0.1)
        directory = tmp_path / np.dtype(dtype).name
        [out] = run_streaming(SegmentWriter(str(directory), prefix="utt"), items)
        assert Path(out["segment"]).name == "utt_0001.wav"
        header = Path(out["segment"]).read_bytes()[:22]
        assert header[:4] == b"RIFF"
        assert header[8:16] == b"WAVEfmt "
        tags[dtype] = int.from_bytes(header[20:22], "little")
    assert tags == {np.float32: 3, np.int16: 1}  # WAVE_FORMAT_IEEE_FLOAT, WAVE_FORMAT_PCM


def test_the_directory_is_made_with_its_parents(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "b" / "c"
    SegmentWriter(str(directory)).initialize()
    assert directory.is_dir()


@pytest.mark.parametrize(
    ("item", "error", "match"),
    [
        (42, TypeError, "got a int"),
        ("speech", TypeError, "got a str"),
        (np.zeros(3, np.float32), TypeError, r"got an array of dtype float32 and shape \(3,\)"),
        ({"event": "speech_pause", "time": 1.0}, ValueError, "got a map .*speech_pause"),
        ({"event": "speech_start"}, ValueError, "got a map {'event': 'speech_start'}"),
        ({"event": "speech_start", "time": "1"}, ValueError, "got a map"),
        ({"text": "hello"}, ValueError, "got a map {'text': 'hello'}"),
    ],
)
def test_items_other_than_audio_and_speech_events_are_errors(
    tmp_path: Path, item: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=f"audio.SegmentWriter takes audio frames .*{match}"):
        run_streaming(SegmentWriter(str(tmp_path)), [AudioFrame(ramp(0.1, np.int16), RATE), item])


@pytest.mark.parametrize(
    ("events", "match"),
    [
        ([("speech_end", 0.5)], "speech_end at 0.5 s without a speech_start"),
        ([("speech_start", 0.1), ("speech_start", 0.3)], "speech_start at 0.3 s while"),
        ([("speech_start", 0.4), ("speech_end", 0.2)], "speech_end at 0.2 s, before its"),
    ],
)
def test_events_out_of_order_are_errors(
    tmp_path: Path, events: list[tuple[str, float]], match: str
) -> None:
    items: list[Any] = [AudioFrame(ramp(1.0, np.int16), RATE)]
    items += [{"event": event, "time": time} for event, time in events]
    with pytest.raises(ValueError, match=match):
        run_streaming(SegmentWriter(str(tmp_path)), items)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"directory": ""}, "directory must be a non-empty string"),
        ({"directory": "d", "prefix": "a/b"}, "prefix must be a file name part"),
        ({"directory": "d", "pre_roll_ms": -1.0}, "pre_roll_ms must be a number"),
    ],
)
def test_bad_parameters_are_refused(params: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SegmentWriter(**params)


@pytest.mark.parametrize("use_rust", ENGINES)
def test_runs_in_a_pipeline(tmp_path: Path, use_rust: bool) -> None:
    samples = ramp(5.0, np.int16)
    items = with_events(cut(samples, RATE, 160), UTTERANCES, delay=0.3)
    outputs = run_pipeline(SegmentWriter(str(tmp_path), name="segments"), items, use_rust)
    assert [(out["start"], out["end"]) for out in outputs] == UTTERANCES
    for out, (start, end) in zip(outputs, UTTERANCES, strict=True):
        np.testing.assert_array_equal(read(out["segment"]), expected(samples, start, end))
