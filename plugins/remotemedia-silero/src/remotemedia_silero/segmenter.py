"""`Segmenter`: the decisions of silero-vad's `VADIterator` (silero_vad/utils_vad.py), one
window's speech probability at a time, without the model.

As the reference: speech starts at a window whose probability reaches `threshold`, placed
`speech_pad` before that window's start (not before the stream's start). Speech ends once the
probability has stayed below `threshold - 0.15` (never below 0.01, as silero-vad's
`get_speech_timestamps` guards it: a threshold under 0.16 would otherwise never end speech) for
`min_silence` samples, counted from the end
of the first window below it; a window at or above `threshold` in between cancels the count,
and one in between the two thresholds neither counts nor cancels, so the pauses between words
do not split an utterance. The end is placed `speech_pad` after the start of that first quiet
window. Positions are whole samples from the stream's start, truncated as the reference does.

One departure: a start is never placed before the previous end. With a `speech_pad` longer
than half of `min_silence` plus 32 ms, the padding of two utterances can overlap (the next
start, placed `speech_pad` before its window, would come before the previous end); the start
is then placed at that end, so utterances touch but never overlap. Which windows start
and end speech is the reference's in every case, and at the default parameters (30 ms of pad,
100 ms of silence) no start is ever moved, so the positions are the reference's too.
"""

from __future__ import annotations

from remotemedia_silero.model import SAMPLE_RATE, WINDOW

START = "speech_start"
END = "speech_end"


class Segmenter:
    """Turns window probabilities into speech start and end positions, as `VADIterator`.

    Attributes:
        triggered: Whether an utterance has started and not ended.
    """

    __slots__ = (
        "_current",
        "_last_end",
        "_min_silence",
        "_negative",
        "_pad",
        "_quiet_since",
        "_threshold",
        "triggered",
    )

    def __init__(self, threshold: float, min_silence_ms: int, speech_pad_ms: int) -> None:
        """Creates a segmenter at the start of a stream.

        Args:
            threshold: The probability at which speech starts.
            min_silence_ms: How long the probability must stay below `threshold - 0.15`
                before speech ends.
            speech_pad_ms: How far before the first speech window a start is placed, and
                after the first quiet window's start an end is.
        """
        self._threshold = threshold
        self._negative = max(threshold - 0.15, 0.01)
        self._min_silence = SAMPLE_RATE * min_silence_ms / 1000
        self._pad = SAMPLE_RATE * speech_pad_ms / 1000
        self.triggered = False
        self._quiet_since = 0  # the reference's temp_end; 0 = not counting
        self._current = 0  # samples up to the end of the last window
        self._last_end = 0  # the last end's position; no start is placed before it

    def step(self, probability: float) -> tuple[str, int] | None:
        """Takes the next window's probability.

        Returns:
            `(START, sample)` or `(END, sample)` when this window starts or ends an
            utterance, else `None`. Positions never decrease: a start is at or after the
            previous end, an end after its start. An end may lie beyond the window just taken
            (by up to `speech_pad - min_silence - 32 ms`), and a start with it.
        """
        self._current += WINDOW
        current = self._current
        if probability >= self._threshold:
            self._quiet_since = 0
            if not self.triggered:
                self.triggered = True
                return START, max(int(max(0, current - self._pad - WINDOW)), self._last_end)
            return None
        if probability < self._negative and self.triggered:
            if not self._quiet_since:
                self._quiet_since = current
            if current - self._quiet_since < self._min_silence:
                return None
            end = int(self._quiet_since + self._pad - WINDOW)
            self._quiet_since = 0
            self.triggered = False
            self._last_end = end
            return END, end
        return None
