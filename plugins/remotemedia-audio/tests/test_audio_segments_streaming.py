"""`audio.SegmentWriter` streams each file to disk: bounded memory, a temporary name until the
file is complete, no file left by a failed or cancelled run, spans that are always real."""

from __future__ import annotations

import asyncio
import io
import logging
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.io.wavfile

from audio_plugin_testing import HANG_GUARD, cut, ramp, run_streaming
from remotemedia import AudioFrame
from remotemedia_audio import _wavstream
from remotemedia_audio.segments import SegmentWriter

RATE = 8000


def start(time: float) -> dict[str, Any]:
    return {"event": "speech_start", "time": time}


def end(time: float) -> dict[str, Any]:
    return {"event": "speech_end", "time": time}


def files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def scipy_bytes(samples: np.ndarray[Any, Any]) -> bytes:
    buffer = io.BytesIO()
    scipy.io.wavfile.write(buffer, RATE, samples)
    return buffer.getvalue()


# Memory and streaming.


def test_memory_holds_the_pre_roll_through_a_ten_minute_utterance(tmp_path: Path) -> None:
    node = SegmentWriter(str(tmp_path), pre_roll_ms=300.0)
    node.initialize()
    size, frames = 160, 10 * 60 * 50  # 20 ms frames for 10 minutes
    bound = 0.3 + size / RATE
    assert list(node.take(start(0.0))) == []
    for i in range(frames):
        samples = np.full(size, i % 30000, dtype=np.int16)
        assert list(node.take(AudioFrame(samples, RATE, i * size / RATE))) == []
        assert node.buffered_seconds <= bound
    held = sum(int(samples.shape[0]) for _, samples in node._frames)
    assert held <= bound * RATE
    assert len(node._runs) == 1  # a contiguous stream needs no position per frame
    partial = Path(str(node.partial_path))
    assert partial.stat().st_size == 44 + frames * size * 2
    [out] = list(node.take(end(600.0)))
    assert (out["start"], out["end"]) == (0.0, 600.0)
    data = scipy.io.wavfile.read(out["segment"], mmap=True)[1]
    assert data.shape == (frames * size,)
    assert (data[::size] == np.arange(frames) % 30000).all()


def test_the_file_has_a_temporary_name_until_the_utterance_ends(tmp_path: Path) -> None:
    node = SegmentWriter(str(tmp_path))
    node.initialize()
    frames = cut(ramp(2.0, np.float32), RATE, 400)
    assert node.partial_path is None
    for item in [*frames[:5], start(0.1)]:
        assert list(node.take(item)) == []
    partial = tmp_path / "segment_0001.wav.part"
    assert node.partial_path == str(partial)
    assert files(tmp_path) == ["segment_0001.wav.part"]
    size = partial.stat().st_size
    for frame in frames[5:10]:
        assert list(node.take(frame)) == []
        assert partial.stat().st_size > size  # appended as frames come
        size = partial.stat().st_size
    [out] = list(node.take(end(0.45)))  # late: the file is cut back from 0.5 s
    assert files(tmp_path) == ["segment_0001.wav"]
    assert node.partial_path is None
    data = scipy.io.wavfile.read(out["segment"])[1]
    np.testing.assert_array_equal(data, ramp(2.0, np.float32)[800:3600])


@pytest.mark.parametrize(
    ("dtype", "channels"), [(np.int16, 1), (np.int16, 2), (np.float32, 1), (np.float32, 2)]
)
def test_files_are_byte_for_byte_what_scipy_writes(
    tmp_path: Path, dtype: type[np.generic], channels: int
) -> None:
    samples = ramp(2.0, dtype, channels)
    items = [*cut(samples, RATE, 333)[:10], start(0.2), end(0.35), *cut(samples, RATE, 333)[10:]]
    [out] = run_streaming(SegmentWriter(str(tmp_path)), items)
    written = Path(out["segment"]).read_bytes()
    assert written == scipy_bytes(samples[1600:2800])
    if dtype is np.float32:
        assert written[38:50] == b"fact\x04\x00\x00\x00" + (1200).to_bytes(4, "little")
    else:
        with wave.open(out["segment"], "rb") as reader:
            assert (reader.getnchannels(), reader.getsampwidth()) == (channels, 2)
            assert (reader.getframerate(), reader.getnframes()) == (RATE, 1200)
            read = np.frombuffer(reader.readframes(1200), dtype="<i2")
        np.testing.assert_array_equal(read.reshape(samples[1600:2800].shape), samples[1600:2800])


def test_a_late_end_cuts_the_file_back_across_gaps(tmp_path: Path) -> None:
    samples = ramp(3.0, np.int16)
    frames = [f for f in cut(samples, RATE, 400) if not 1.0 <= f.timestamp < 1.5]
    outputs = []
    for stop in (0.8, 1.2, 2.0):
        items = [*frames[:3], start(0.2), *frames[3:], end(stop)]  # the end after all audio
        [out] = run_streaming(SegmentWriter(str(tmp_path / str(stop))), items)
        outputs.append(scipy.io.wavfile.read(out["segment"])[1])
    np.testing.assert_array_equal(outputs[0], samples[1600:6400])
    np.testing.assert_array_equal(outputs[1], samples[1600:8000])  # the gap is not filled
    np.testing.assert_array_equal(outputs[2], np.r_[samples[1600:8000], samples[12000:16000]])


def test_audio_going_back_in_time_is_not_written_twice(tmp_path: Path) -> None:
    samples = ramp(1.0, np.int16)
    frames = cut(samples, RATE, 800)
    items = [frames[0], start(0.0), frames[1], frames[1], frames[2], end(0.3)]
    [out] = run_streaming(SegmentWriter(str(tmp_path)), items)
    np.testing.assert_array_equal(scipy.io.wavfile.read(out["segment"])[1], samples[:2400])


@pytest.mark.parametrize(("dtype", "header"), [(np.int16, 44), (np.float32, 58)])
def test_an_utterance_past_what_a_wav_holds_goes_on_in_the_next_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    dtype: type[np.generic],
    header: int,
) -> None:
    itemsize = np.dtype(dtype).itemsize
    monkeypatch.setattr(_wavstream, "RIFF_LIMIT", header - 8 + RATE * itemsize)  # 1 s a file
    samples = ramp(4.0, dtype)
    items = [*cut(samples, RATE, 300)[:2], start(0.05), *cut(samples, RATE, 300)[2:], end(3.5)]
    with caplog.at_level(logging.WARNING):
        outputs = run_streaming(SegmentWriter(str(tmp_path)), items)
    spans = [(0.05, 1.05), (1.05, 2.05), (2.05, 3.05), (3.05, 3.5)]
    got = [time for out in outputs for time in (out["start"], out["end"])]
    assert got == pytest.approx([time for span in spans for time in span])
    for out, (first, last) in zip(outputs, spans, strict=True):
        data = scipy.io.wavfile.read(out["segment"])[1]
        np.testing.assert_array_equal(data, samples[round(first * RATE) : round(last * RATE)])
    assert files(tmp_path) == [f"segment_000{i}.wav" for i in range(1, 5)]
    assert "reached the 4 GiB a WAV file holds at 1.05 s" in caplog.text


# Cancellation and errors.


async def consume(node: SegmentWriter, items: list[Any], hang: bool) -> list[Any]:
    async def feed() -> AsyncIterator[Any]:
        for item in items:
            yield item
        if hang:
            await asyncio.Event().wait()

    return [out async for out in node.process(feed())]


def test_a_run_cancelled_inside_an_utterance_leaves_no_file(tmp_path: Path) -> None:
    node = SegmentWriter(str(tmp_path))
    node.initialize()
    items = [*cut(ramp(1.0, np.int16), RATE, 160)[:10], start(0.05)]
    items += cut(ramp(1.0, np.int16), RATE, 160)[10:]

    async def main() -> None:
        task = asyncio.create_task(consume(node, items, hang=True))
        async with asyncio.timeout(HANG_GUARD):
            while not (tmp_path / "segment_0001.wav.part").exists() or node._end < RATE:
                await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert files(tmp_path) == []
    node.cleanup()


def test_a_consumer_that_stops_inside_an_utterance_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_wavstream, "RIFF_LIMIT", 36 + 2 * RATE)  # a split every second
    node = SegmentWriter(str(tmp_path))
    node.initialize()
    items = [start(0.0), *cut(ramp(3.0, np.int16), RATE, 160)]

    async def main() -> None:
        outputs = node.process(_aiter(items))
        first = await anext(outputs)
        assert first["end"] == 1.0
        assert files(tmp_path) == ["segment_0001.wav", "segment_0002.wav.part"]
        await outputs.aclose()  # GeneratorExit inside the generator

    asyncio.run(main())
    assert files(tmp_path) == ["segment_0001.wav"]


async def _aiter(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def test_a_run_that_fails_inside_an_utterance_leaves_no_file(tmp_path: Path) -> None:
    items: list[Any] = [*cut(ramp(1.0, np.int16), RATE, 160)[:10], start(0.05)]
    items.append(AudioFrame(np.zeros(160, np.float32), RATE, 0.2))
    with pytest.raises(ValueError, match="dtype changed"):
        run_streaming(SegmentWriter(str(tmp_path)), items)
    assert files(tmp_path) == []


def test_cleanup_removes_the_file_of_an_open_utterance(tmp_path: Path) -> None:
    node = SegmentWriter(str(tmp_path))
    node.initialize()
    for item in [start(0.0), *cut(ramp(0.5, np.float32), RATE, 160)]:
        assert list(node.take(item)) == []
    assert files(tmp_path) == ["segment_0001.wav.part"]
    node.cleanup()
    assert files(tmp_path) == []


# Starts and ends outside the audio.


def test_a_start_before_the_stream_is_moved_to_its_first_sample(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    samples = ramp(2.0, np.float32)
    items = [*cut(samples, RATE, 160, start=10.0), start(5.0), end(10.5)]
    with caplog.at_level(logging.WARNING):
        [out] = run_streaming(SegmentWriter(str(tmp_path), pre_roll_ms=60000.0), items)
    assert (out["start"], out["end"]) == (10.0, 10.5)
    np.testing.assert_array_equal(scipy.io.wavfile.read(out["segment"])[1], samples[:4000])
    assert "starts at 5.0 s, before the stream's first sample at 10.0 s" in caplog.text


def test_a_start_before_any_audio_is_moved_to_the_first_sample(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    samples = ramp(1.0, np.int16)
    items = [start(-1.0), *cut(samples, RATE, 160, start=0.25), end(0.75)]
    with caplog.at_level(logging.WARNING):
        [out] = run_streaming(SegmentWriter(str(tmp_path)), items)
    assert (out["start"], out["end"]) == (0.25, 0.75)
    np.testing.assert_array_equal(scipy.io.wavfile.read(out["segment"])[1], samples[:4000])
    assert "before the stream's first sample at 0.25 s" in caplog.text


MOVED = (
    r"speech_end at 0.5 s, not after the utterance's start at 1.0 s "
    r"\(its speech_start at -5.0 s, moved into the audio\)"
)


@pytest.mark.parametrize(
    ("events", "match"),
    [
        # Moved to 0 s, then to the pre-roll kept at 1 s: past the end.
        ([start(-5.0), end(0.5)], MOVED),
        ([start(1.5), end(1.5)], r"speech_end at 1.5 s, not after the utterance's start at 1.5 s$"),
        ([start(1.8), end(1.80001)], "speech_end at 1.80001 s, not after"),  # under a sample
    ],
)
def test_an_end_not_after_the_start_is_an_error(
    tmp_path: Path, events: list[dict[str, Any]], match: str
) -> None:
    items = [*cut(ramp(2.0, np.int16), RATE, 160), *events]
    with pytest.raises(ValueError, match=match):
        run_streaming(SegmentWriter(str(tmp_path)), items)
    assert files(tmp_path) == []


def test_an_utterance_past_the_end_of_the_stream_writes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    items = [*cut(ramp(2.0, np.int16), RATE, 160), start(100.0), end(200.0)]
    with caplog.at_level(logging.WARNING):
        assert run_streaming(SegmentWriter(str(tmp_path)), items) == []
    assert files(tmp_path) == []
    assert "starts at 100.0 s, at or past the end of the audio at 2.0 s" in caplog.text


def test_an_end_past_the_stream_ends_the_file_with_the_audio(tmp_path: Path) -> None:
    samples = ramp(2.0, np.int16)
    items = [*cut(samples, RATE, 160), start(1.5), end(200.0)]
    [out] = run_streaming(SegmentWriter(str(tmp_path)), items)
    assert (out["start"], out["end"]) == (1.5, 2.0)
    np.testing.assert_array_equal(scipy.io.wavfile.read(out["segment"])[1], samples[12000:])


# The directory.


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_file_given_as_the_directory_is_an_error(tmp_path: Path, below: str) -> None:
    path = tmp_path / "taken"
    path.write_text("not a directory")
    directory = path / below if below else path
    with pytest.raises(NotADirectoryError, match=f"'{directory}' is not a directory"):
        SegmentWriter(str(directory)).initialize()
