"""`audio.SegmentWriter`: one WAV file per utterance, cut from audio by speech events."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from remotemedia import Node
from remotemedia_audio._common import describe, format_of, number, same_format

if TYPE_CHECKING:
    import numpy as np

    from remotemedia.media import AudioFrame
    from remotemedia_audio._wavstream import WavStream

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
    float WAV, int16 as 16-bit PCM, with the frames' channels. A gap between frames'
    timestamps is not filled; the samples of a frame that lie before audio already written
    to the file are left out (a file never goes back in time).

    The file is streamed: made as `<name>.wav.part` once the audio reaches its start,
    appended to as frames come, cut back when the end comes (it may come late), its sizes
    patched, and renamed to `<name>.wav` when complete; a run that fails or is cancelled
    removes the `.part` file. Memory holds the pre-roll and one pair of numbers per gap in
    the open file's audio, however long the utterance. A RIFF WAV holds at most 4 GiB of
    data: an utterance that reaches that goes on in the next file (a warning), each file with
    its own map, so a late end before that file's start leaves it unwritten (a warning) and
    the file before it longer than the utterance.

    A start before the stream's first sample is moved to that sample, and a start older than
    the pre-roll to the oldest sample kept (each a warning); the emitted `start` and `end`
    are the span of the file. Emits `{"segment": "<path>", "start": s, "end": s}` per file,
    the path joined from `directory` as given; audio frames are not forwarded. A stream that
    ends inside an utterance ends it at the end of the audio; an utterance that starts at or
    past the end of the audio writes nothing (a warning).

    A start while an utterance is open, an end without a start, an end before its start or
    not at least a sample after the (moved) start, and any other item are node errors naming
    what was received.

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
        self._origin: int | None = None  # the index of the stream's first sample
        self._end = 0  # the index after the latest frame's last sample
        self._start: float | None = None  # the open utterance's start time, as received
        self._first: int | None = None  # its first index, moved into the audio; None: no audio
        self._closing: float | None = None  # its end time, waiting for audio to reach it
        self._file: WavStream | None = None  # the file being written
        self._file_start = 0.0  # the time the open file starts at, as emitted
        self._to = 0  # the index after the open file's last sample
        self._runs: list[tuple[int, int]] = []  # (index, position in the file) after each gap
        self._written = 0

    @property
    def buffered_seconds(self) -> float:
        """Seconds of audio held in memory (the pre-roll), per channel."""
        if self._format is None:
            return 0.0
        held = sum(int(samples.shape[0]) for _, samples in self._frames)
        return held / self._format.sample_rate

    @property
    def partial_path(self) -> str | None:
        """The temporary name of the file being written, if one is."""
        return None if self._file is None else str(self._file.partial)

    def initialize(self) -> None:
        """Makes the directory if it is missing.

        Raises:
            NotADirectoryError: The path, or a parent of it, is a file.
        """
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as error:
            raise NotADirectoryError(
                f"{_TYPE} directory {self.directory!r} is not a directory "
                f"({error.filename!r} is a file or in the way)"
            ) from error

    def cleanup(self) -> None:
        """Removes the temporary file of an utterance left unfinished."""
        self._discard()

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[dict[str, Any]]:
        """Emits a segment map per file, as soon as its end and its audio have come."""
        try:
            async for item in stream:
                for segment in self.take(item):
                    yield segment
            for segment in self.finish():
                yield segment
        finally:  # an error, GeneratorExit or CancelledError: no partial file is left
            self._discard()

    def take(self, item: Any) -> Iterator[dict[str, Any]]:
        """Takes one item of the stream; yields the segments it completes.

        Raises:
            TypeError: An item that is neither an audio frame nor a map.
            ValueError: A map that is not a speech event, an event out of order, or a frame
                of another rate, channel count or dtype than the first.
        """
        from remotemedia.media import AudioFrame  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

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
        if self._start is None:
            return
        if self._format is None or self._first is None:
            logger.warning("%s: no audio for the utterance from %s s", self.name, self._start)
            self._discard()
            return
        rate = self._format.sample_rate
        end, last = self._end / rate, self._end
        if self._closing is not None and round(self._closing * rate) <= self._end:
            end, last = self._closing, round(self._closing * rate)
        if self._file is None:
            logger.warning(
                "%s: the utterance starts at %s s, at or past the end of the audio at %s s: "
                "no file written",
                self.name,
                self._start,
                self._end / rate,
            )
            self._discard()
            return
        yield from self._complete(end, last)

    def _audio(self, frame: AudioFrame) -> Iterator[dict[str, Any]]:
        if self._format is None:
            self._format = format_of(frame)
        else:
            same_format(_TYPE, self._format, frame)
        first = round(frame.timestamp * frame.sample_rate)
        self._frames.append((first, frame.samples))
        self._end = max(self._end, first + frame.samples.shape[0])
        if self._origin is None:
            self._origin = first
        if self._start is not None and self._first is None:
            self._place(self._start)
        yield from self._feed([(first, frame.samples)])
        closing = self._closing
        if closing is not None and self._end >= round(closing * frame.sample_rate):
            yield from self._complete(closing, round(closing * frame.sample_rate))

    def _event(self, item: dict[str, Any]) -> Iterator[dict[str, Any]]:
        event, time = item.get("event"), item.get("time")
        if event not in (_START, _END) or not _is_time(time):
            raise ValueError(
                f"{_TYPE} takes audio frames and speech event maps "
                f'({{"event": "speech_start" or "speech_end", "time": seconds}}), '
                f"got {describe(item)}"
            )
        if event == _START:
            if self._start is not None and self._closing is None:
                raise ValueError(
                    f"{_TYPE} got speech_start at {time} s while the utterance that started "
                    f"at {self._start} s is open"
                )
            yield from self.finish()  # an utterance whose end the audio has not reached
            self._start = float(time)
            if self._format is not None:
                self._place(self._start)
                yield from self._feed(())
            return
        if self._start is None or self._closing is not None:
            raise ValueError(f"{_TYPE} got speech_end at {time} s without a speech_start")
        if time < self._start:
            raise ValueError(
                f"{_TYPE} got speech_end at {time} s, before its speech_start at {self._start} s"
            )
        self._closing = float(time)
        if self._format is None or self._first is None:
            return
        last = round(time * self._format.sample_rate)
        if last <= self._first:
            start, requested = self._file_start, self._start
            self._discard()
            moved = f" (its speech_start at {requested} s, moved into the audio)"
            raise ValueError(
                f"{_TYPE} got speech_end at {time} s, not after the utterance's start at "
                f"{start} s{moved if start != requested else ''}"
            )
        if self._end >= last:
            yield from self._complete(float(time), last)

    def _place(self, start: float) -> None:
        """Sets the utterance's first index: `start`, moved into the stream and the pre-roll."""
        assert self._format is not None
        assert self._origin is not None
        rate = self._format.sample_rate
        first = round(start * rate)
        if first < self._origin:
            logger.warning(
                "%s: the utterance starts at %s s, before the stream's first sample at %s s: "
                "written from there",
                self.name,
                start,
                self._origin / rate,
            )
            first = self._origin
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
            first = kept
        self._first = first
        self._file_start = start if first == round(start * rate) else first / rate

    def _feed(self, parts: Iterable[tuple[int, np.ndarray[Any, Any]]]) -> Iterator[dict[str, Any]]:
        """Appends the samples of `parts` that the open utterance takes to its file, opening
        the file (with the pre-roll kept) once the audio reaches the utterance's start."""
        if self._format is None or self._first is None or self._end <= self._first:
            return
        if self._file is None:
            self._open(self._first, self._file_start)
            parts = list(self._frames)
        rate = self._format.sample_rate
        stop = None if self._closing is None else round(self._closing * rate)
        for index, samples in parts:
            lo, hi = max(index, self._to), index + samples.shape[0]
            hi = hi if stop is None else min(hi, stop)
            while hi > lo:
                assert self._file is not None
                if self._file.frames >= self._file.capacity:
                    yield from self._split()
                    continue
                count = min(hi - lo, self._file.capacity - self._file.frames)
                if lo != self._to:
                    self._runs.append((lo, self._file.frames))
                self._file.write(samples[lo - index : lo - index + count])
                lo = self._to = lo + count

    def _open(self, first: int, start: float) -> None:
        from remotemedia_audio._wavstream import WavStream  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

        assert self._format is not None
        self._written += 1
        path = Path(self.directory) / f"{self.prefix}_{self._written:04d}.wav"
        channels = self._format.channels
        self._file = WavStream(path, self._format.sample_rate, channels, self._format.samples.dtype)
        self._file_start, self._to, self._runs = start, first, [(first, 0)]

    def _split(self) -> Iterator[dict[str, Any]]:
        """Ends the full file at the audio written and goes on in the next."""
        assert self._file is not None
        assert self._format is not None
        file, at = self._file, self._to / self._format.sample_rate
        logger.warning(
            "%s: the utterance from %s s reached the 4 GiB a WAV file holds at %s s: "
            "it goes on in the next file",
            self.name,
            self._start,
            at,
        )
        start, self._file = self._file_start, None
        file.end()
        self._open(self._to, at)
        yield {"segment": str(file.path), "start": start, "end": at}

    def _complete(self, end: float, last: int) -> Iterator[dict[str, Any]]:
        """Ends the utterance at `end` (index `last`): cuts its file there and renames it."""
        file, start, runs = self._file, self._file_start, self._runs
        self._file = None
        self._discard()
        if file is None:
            return
        if last <= runs[0][0]:  # an end that came late, before the file a split began
            logger.warning(
                "%s: the utterance ends at %s s, before the file begun at %s s: no file",
                self.name,
                end,
                start,
            )
            file.abort()
            return
        # The file's samples rise in time, jumping at each run: count those before `last`.
        after = [position for index, position in runs if index >= last]
        index, position = max(run for run in runs if run[0] < last)
        file.end(min(position + (last - index), after[0] if after else file.frames))
        yield {"segment": str(file.path), "start": start, "end": end}

    def _discard(self) -> None:
        """Forgets the open utterance, removing its unfinished file."""
        if self._file is not None:
            self._file.abort()
        self._file = None
        self._start = self._first = self._closing = None
        self._runs = []

    def _trim(self) -> None:
        """Drops the frames older than the pre-roll (written already, or never needed)."""
        if self._format is None:
            return
        keep = self._end - round(self.pre_roll_ms * self._format.sample_rate / 1000.0)
        while self._frames and self._frames[0][0] + self._frames[0][1].shape[0] <= keep:
            self._frames.popleft()


def _is_time(value: object) -> TypeGuard[int | float]:
    """Whether `value` is a finite number of seconds (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
