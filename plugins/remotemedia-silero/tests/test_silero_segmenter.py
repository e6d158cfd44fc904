"""The decision rules without the model: one probability per 512-sample window."""

from __future__ import annotations

from remotemedia_silero.segmenter import END, START, Segmenter


def decisions(threshold: float, probabilities: list[float]) -> list[tuple[str, int]]:
    segmenter = Segmenter(threshold, min_silence_ms=100, speech_pad_ms=30)
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
