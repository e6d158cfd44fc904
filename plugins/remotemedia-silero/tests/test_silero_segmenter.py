"""The decision rules without the model: one probability per 512-sample window."""

from __future__ import annotations

from remotemedia_silero.segmenter import END, START, Segmenter


def decisions(
    threshold: float, probabilities: list[float], speech_pad_ms: int = 30
) -> list[tuple[str, int]]:
    segmenter = Segmenter(threshold, min_silence_ms=100, speech_pad_ms=speech_pad_ms)
    return [found for p in probabilities if (found := segmenter.step(p)) is not None]


def test_speech_ends_after_the_minimum_silence_below_the_lower_threshold() -> None:
    # 0.5 starts; 0.4 (between 0.35 and 0.5) neither ends nor cancels; 0.1 counts as quiet.
    found = decisions(0.5, [0.1, 0.9, 0.9, 0.4, 0.9, *[0.1] * 6])
    assert [kind for kind, _ in found] == [START, END]
    start, end = (sample for _, sample in found)
    assert start == 512 - 480  # the speech window's start, 30 ms (480 samples) earlier
    assert end == 5 * 512 + 480  # the first quiet window's start, 30 ms later


def test_a_low_threshold_still_ends_speech() -> None:
    # threshold - 0.15 would be negative: no probability is ever below it. Like silero-vad's
    # get_speech_timestamps, the lower threshold is kept at 0.01 at least.
    found = decisions(0.1, [0.9, 0.9, *[0.001] * 6])
    assert [kind for kind, _ in found] == [START, END]
    assert decisions(0.1, [0.9, 0.9, *[0.05] * 6]) == [(START, 0)]


def test_an_end_can_lie_past_the_window_that_decides_it() -> None:
    # 200 ms (3200 samples) of pad: the end is placed 3200 samples after the first quiet
    # window's start (2 * 512); the fifth quiet window, ending at 7 * 512, decides it.
    found = decisions(0.5, [0.9, 0.9, *[0.1] * 5], speech_pad_ms=200)
    assert found == [(START, 0), (END, 2 * 512 + 3200)]
    assert found[1][1] - 7 * 512 == 640  # 40 ms past the audio that decided it


def test_a_start_is_never_placed_before_the_previous_end() -> None:
    # The second start (window 8, ending at 8 * 512) would be placed 3200 + 512 samples
    # earlier, at 384: before the first end at 4224. It is placed at that end instead.
    speech = [0.9, 0.9, *[0.1] * 5]
    found = decisions(0.5, speech * 2, speech_pad_ms=200)
    assert found == [(START, 0), (END, 4224), (START, 4224), (END, 9 * 512 + 3200)]


def test_at_the_default_pad_no_start_is_moved() -> None:
    # The shortest gap the rules allow, speech in the window right after an end, still leaves
    # the second start (6 * 512 - 480) well after the first end (512 + 480).
    speech = [0.9, *[0.1] * 5]
    found = decisions(0.5, speech * 2)
    assert found == [(START, 0), (END, 512 + 480), (START, 6 * 512 - 480), (END, 7 * 512 + 480)]
