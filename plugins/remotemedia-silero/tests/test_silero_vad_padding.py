"""SileroVad with a speech_pad_ms long enough to place an end past the audio received so far,
or a start before the previous end: times independent of framing, utterances never overlapping.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import silero_speech as speech
from remotemedia import AudioFrame
from remotemedia_silero import SileroVad

pytestmark = pytest.mark.skipif(speech.ESPEAK is None, reason="espeak-ng is not installed")

FRAME_20MS = 320
# An end is placed 200 ms after the first quiet window's start and found 160 ms after it (once
# 100 ms of silence, counted in whole windows from its end, has passed): 40 ms past the audio
# received when it is found.
LONG_PAD = {"speech_pad_ms": 200, "min_silence_ms": 100}


def _outputs(audio: np.ndarray[Any, Any], size: int, **params: Any) -> list[Any]:
    return speech.drive(SileroVad(**params), speech.frames(audio, size))


def _in_seconds(found: list[tuple[str, int]]) -> list[tuple[str, float]]:
    return [(kind, sample / speech.RATE) for kind, sample in found]


@pytest.mark.parametrize(
    "size", [160, 7, FRAME_20MS, None], ids=["10ms", "7-samples", "20ms", "whole-stream"]
)
def test_times_with_a_long_pad_do_not_depend_on_the_frame_size(size: int | None) -> None:
    audio, _ = speech.speech_with_pauses()
    found = speech.events(_outputs(audio, size or len(audio), **LONG_PAD))
    # The reference's positions: nothing was cut short to the audio received so far.
    expected = speech.reference_events(audio, speech_pad_ms=200, min_silence_ms=100)
    assert found == _in_seconds(expected)
    assert [kind for kind, _ in found] == ["speech_start", "speech_end"] * 3


@pytest.mark.parametrize("size", [7, FRAME_20MS], ids=["7-samples", "20ms"])
def test_an_event_waits_for_the_frame_that_reaches_its_time(size: int) -> None:
    audio, _ = speech.speech_with_pauses()
    heard, late = 0.0, []  # the end of the audio forwarded so far; how far behind each event
    for item in _outputs(audio, size, **LONG_PAD):
        if isinstance(item, AudioFrame):
            heard = item.timestamp + item.duration
        else:
            late.append(heard - item["time"])
    assert len(late) == 6
    # Never past the audio forwarded; a start within the pad, the window and a frame of it.
    assert all(-1e-9 <= lag <= 0.2 + 0.032 + size / speech.RATE for lag in late)
    # Each end lies 40 ms past the window that decides it: it waits for, and comes right
    # after, the frame that reaches it.
    assert all(lag < size / speech.RATE for lag in late[1::2])


@pytest.mark.parametrize("size", [7, FRAME_20MS, None], ids=["7-samples", "20ms", "whole"])
def test_an_end_past_the_end_of_the_stream_is_placed_at_the_stream_end(size: int | None) -> None:
    audio, placed = speech.speech_with_pauses()
    cut = audio[: round((placed[0][1] + 0.25) * speech.RATE) + 5]  # 0.25 s into the pause
    params = {"speech_pad_ms": 600, "min_silence_ms": 100}
    found = speech.events(_outputs(cut, size or len(cut), **params))
    reference = speech.reference_events(cut, speech_pad_ms=600, min_silence_ms=100)
    assert reference[-1][1] > len(cut)  # the reference would place it past the audio
    assert found == [(found[0][0], found[0][1]), ("speech_end", len(cut) / speech.RATE)]


@pytest.mark.parametrize("size", [7, FRAME_20MS], ids=["7-samples", "20ms"])
def test_utterances_never_overlap_a_start_moves_to_the_previous_end(size: int) -> None:
    audio, _ = speech.speech_with_pauses()
    found = speech.events(_outputs(audio, size, speech_pad_ms=600, min_silence_ms=100))
    reference = _in_seconds(speech.reference_events(audio, speech_pad_ms=600))
    # The same decisions as the reference, whose padded utterances overlap across the 1 s
    # pauses; each start is moved to the previous end, the rest is the reference's.
    assert [kind for kind, _ in found] == [kind for kind, _ in reference]
    assert all(reference[i][1] < reference[i - 1][1] for i in range(2, len(reference), 2))
    expected = [
        (kind, max(time, reference[i - 1][1]) if i and kind == "speech_start" else time)
        for i, (kind, time) in enumerate(reference)
    ]
    assert found[:-1] == expected[:-1]
    assert found[-1][1] == min(expected[-1][1], len(audio) / speech.RATE)
    times = [time for _, time in found]
    assert times == sorted(times)


def test_an_utterance_left_empty_at_the_end_of_the_stream_is_left_out() -> None:
    # The second phrase starts 1 s after the first; with 1.5 s of pad its start would move to
    # the first one's end, beyond a stream cut 0.3 s into it: both would sit at its end.
    audio, placed = speech.speech_with_pauses()
    cut = audio[: round((placed[1][0] + 0.3) * speech.RATE)]
    reference = speech.reference_events(cut, speech_pad_ms=1500)
    assert [kind for kind, _ in reference] == ["speech_start", "speech_end", "speech_start"]
    assert reference[1][1] > len(cut)  # the first end, where the second start would move
    found = speech.events(_outputs(cut, FRAME_20MS, speech_pad_ms=1500, min_silence_ms=100))
    assert [kind for kind, _ in found] == ["speech_start", "speech_end"]
    assert found[-1][1] == len(cut) / speech.RATE
