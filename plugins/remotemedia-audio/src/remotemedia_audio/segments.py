"""`audio.SegmentWriter`: one WAV file per utterance, cut from audio by speech events."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
import scipy.io.wavfile  # type: ignore[import-untyped]  # scipy ships no type information

from remotemedia import Node
from remotemedia.media import AudioFrame
from remotemedia_audio._common import describe, format_of, number, same_format

_TYPE = "audio.SegmentWriter"
_START, _END = "speech_start", "speech_end"

logger = logging.getLogger(__name__)


class SegmentWriter(Node):
    """Writes the audio of each utterance to its own WAV file and emits where it went.

    Takes a stream of audio frames with speech events between them, as a voice activity
    detector such as `SileroVad` forwards them: `{"event": "speech_start", "time": s}` and
    `{"event": "speech_end", "time": s}` (other keys are ignored). Times are in seconds on the
    frames' clock (their timestamps). An event may come after the frames it refers to, and a
    start may lie before the frame at hand: the last `pre_roll_ms` of audio is kept for that.
    An end that lies past the audio received so far waits for the frames that reach it.

    Per utterance, writes `<directory>/<prefix>_<NNNN>.wav` (numbered from 0001, an existing
    file overwritten) with the samples from `start` to `end`: sample `i` of a frame is at
    `timestamp + i / rate`, and a time maps to the nearest sample index of the stream
    (`round(time * rate)`), so a segment holds `round(end * rate) - round(start * rate)`
    samples, cut the same however the stream is framed. float32 frames are written as IEEE
    float WAV, int16 as 16-bit PCM, with the frames' channels. A start older than the pre-roll
    keeps is moved to the oldest sample kept (logged as a warning); a gap between frames'
    timestamps is not filled.

    Emits `{"segment": "<path>", "start": s, "end": s}` per file, the path joined from
    `directory` as given; audio frames are not forwarded. A stream that ends inside an
    utterance ends it at the end of the audio. Memory holds the pre-roll and the open
    utterance.

    A start while an utterance is open, an end without a start, an end before its start, and
    any other item are node errors naming what was received.

    Parameters (also manifest params):
        directory: Where the files go; made (with its parents) by `initialize` if missing.
        pre_roll_ms: How much audio before the latest frame's end is kept for a late start,
            from 0 to 600000.
        prefix: The start of each file name (no path separators).
    """

    node_type = _TYPE

    def __init__(
        self,
        directory: str,
        pre_roll_ms: float = 1000.0,
        prefix: str = "segment",
        name: str | None = None,
    ) -> None:
        """Creates the node; nothing is written before `initialize`.

        Raises:
            ValueError: An empty directory, a pre-roll out of range, or a prefix that is empty
                or holds a path separator.
        """
        super().__init__(name=name)
        if not isinstance(directory, str) or not directory:
            raise ValueError(f"{_TYPE} directory must be a non-empty string, got {directory!r}")
        if not isinstance(prefix, str) or not prefix or "/" in prefix or "\\" in prefix:
            raise ValueError(f"{_TYPE} prefix must be a file name part, got {prefix!r}")
        self.directory = directory
        self.pre_roll_ms = number(_TYPE, "pre_roll_ms", pre_roll_ms, 0.0, 600000.0)
        self.prefix = prefix
        self._format: AudioFrame | None = None
        self._frames: deque[tuple[int, np.ndarray[Any, Any]]] = deque()  # (first index, samples)
        self._end = 0  # the index after the latest frame's last sample
        self._open: float | None = None  # the open utterance's start time
        self._closing: float | None = None  # its end time, waiting for audio to reach it
        self._written = 0

    @property
    def buffered_seconds(self) -> float:
        """Seconds of audio held (pre-roll and open utterance), per channel."""
        if self._format is None:
            return 0.0
        held = sum(int(samples.shape[0]) for _, samples in self._frames)
        return held / self._format.sample_rate

    def initialize(self) -> None:
        """Makes the directory if it is missing."""
        Path(self.directory).mkdir(parents=True, exist_ok=True)

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[dict[str, Any]]:
        """Emits a segment map per utterance, as soon as its end and its audio have come."""
        async for item in stream:
            for segment in self.take(item):
                yield segment
        for segment in self.finish():
            yield segment

    def take(self, item: Any) -> Iterator[dict[str, Any]]:
        """Takes one item of the stream; yields the segments it completes.

        Raises:
            TypeError: An item that is neither an audio frame nor a map.
            ValueError: A map that is not a speech event, an event out of order, or a frame
                of another rate, channel count or dtype than the first.
        """
        if isinstance(item, AudioFrame):
            yield from self._audio(item)
        elif isinstance(item, dict):
            yield from self._event(item)
        else:
            raise TypeError(
                f"{_TYPE} takes audio frames and speech_start / speech_end event maps, "
                f"got {describe(item)}"
            )
        self._trim()

    def finish(self) -> Iterator[dict[str, Any]]:
        """Ends the stream: an open utterance ends at the end of the audio."""
        if self._open is not None:
            end = self._closing
            if end is None:
                rate = self._format.sample_rate if self._format is not None else 1
                end = max(self._open, self._end / rate)
            yield from self._write(self._open, end)

    def _audio(self, frame: AudioFrame) -> Iterator[dict[str, Any]]:
        if self._format is None:
            self._format = format_of(frame)
        else:
            same_format(_TYPE, self._format, frame)
        first = round(frame.timestamp * frame.sample_rate)
        self._frames.append((first, frame.samples))
        self._end = max(self._end, first + frame.samples.shape[0])
        opened, closing = self._open, self._closing
        reached = closing is not None and self._end >= round(closing * frame.sample_rate)
        if opened is not None and closing is not None and reached:
            yield from self._write(opened, closing)

    def _event(self, item: dict[str, Any]) -> Iterator[dict[str, Any]]:
        event, time = item.get("event"), item.get("time")
        if event not in (_START, _END) or not _is_time(time):
            raise ValueError(
                f"{_TYPE} takes audio frames and speech event maps "
                f'({{"event": "speech_start" or "speech_end", "time": seconds}}), '
                f"got {describe(item)}"
            )
        if event == _START:
            if self._open is not None and self._closing is None:
                raise ValueError(
                    f"{_TYPE} got speech_start at {time} s while the utterance that started "
                    f"at {self._open} s is open"
                )
            if self._open is not None and self._closing is not None:
                yield from self._write(self._open, self._closing)  # with the audio there is
            self._open = float(time)
            return
        if self._open is None or self._closing is not None:
            raise ValueError(f"{_TYPE} got speech_end at {time} s without a speech_start")
        if time < self._open:
            raise ValueError(
                f"{_TYPE} got speech_end at {time} s, before its speech_start at {self._open} s"
            )
        self._closing = float(time)
        rate = self._format.sample_rate if self._format is not None else None
        if rate is not None and self._end >= round(time * rate):
            yield from self._write(self._open, self._closing)

    def _write(self, start: float, end: float) -> Iterator[dict[str, Any]]:
        """Writes [start, end) from the frames kept, ends the utterance, yields its map."""
        self._open = self._closing = None
        if self._format is None:
            logger.warning("%s: no audio for the utterance %s s to %s s", self.name, start, end)
            return
        rate, like = self._format.sample_rate, self._format.samples
        first, last = round(start * rate), round(end * rate)
        kept = self._frames[0][0] if self._frames else self._end
        if first < kept:
            logger.warning(
                "%s: the utterance starts at %s s, before the %s ms of pre-roll kept: "
                "written from %s s",
                self.name,
                start,
                self.pre_roll_ms,
                kept / rate,
            )
            first, start = kept, kept / rate
        if last > self._end:
            last, end = max(first, self._end), max(first, self._end) / rate
        parts = [like]  # the empty format frame: right dtype and channels if nothing overlaps
        for index, samples in self._frames:
            lo = min(max(first - index, 0), samples.shape[0])
            hi = min(max(last - index, 0), samples.shape[0])
            if hi > lo:
                parts.append(samples[lo:hi])
        self._written += 1
        path = Path(self.directory) / f"{self.prefix}_{self._written:04d}.wav"
        scipy.io.wavfile.write(path, rate, np.concatenate(parts))
        yield {"segment": str(path), "start": start, "end": end}

    def _trim(self) -> None:
        """Drops the frames that neither the open utterance nor the pre-roll needs."""
        if self._format is None:
            return
        rate = self._format.sample_rate
        if self._open is not None:
            keep = round(self._open * rate)
        else:
            keep = self._end - round(self.pre_roll_ms * rate / 1000.0)
        while self._frames and self._frames[0][0] + self._frames[0][1].shape[0] <= keep:
            self._frames.popleft()


def _is_time(value: object) -> TypeGuard[int | float]:
    """Whether `value` is a finite number of seconds (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
