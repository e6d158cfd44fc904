"""`SileroVad`: forwards audio frames and inserts speech start and end events between them."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from remotemedia import Node
from remotemedia_silero.model import SAMPLE_RATE, WINDOW, SileroModel, model_path
from remotemedia_silero.segmenter import END, START, Segmenter

_MAX_MS = 60000  # the longest min_silence_ms and speech_pad_ms: a minute


class SileroVad(Node):
    """Voice activity detection with the Silero VAD model, on a stream of 16 kHz mono audio.

    Every audio frame is forwarded unchanged, in order; after the frame in which it was
    detected comes `{"event": "speech_start", "time": s}` or `{"event": "speech_end",
    "time": s}`. Starts and ends alternate, starting with a start; an utterance still open at
    the end of the stream ends there. Decisions are silero-vad's `VADIterator`'s (see
    `remotemedia_silero.segmenter`) on the model's 512-sample windows, which straddle frames:
    the events and their times do not depend on how the audio is cut into frames (only which
    frame an event follows does).

    Times are in seconds on the frames' clock: the first frame's timestamp plus the position
    in samples (over 16000) from the start of the stream. Later frames' timestamps are not
    read: frames are taken as contiguous, so a gap or jitter in their timestamps does not move
    the times. An event comes after the first frame that reaches its time: an end placed
    beyond the audio received so far (when `speech_pad_ms` exceeds `min_silence_ms` plus
    32 ms) waits for the frame that reaches it, and at the end of the stream is placed at the
    stream's end. A start is never before the previous end (see
    `remotemedia_silero.segmenter`), so utterances never overlap.

    At the end of the stream, samples short of a whole window are zero-padded to one, as
    silero-vad's own offline functions do, so speech in the last 32 ms is not lost.

    Frames are float32 or int16 (scaled by 1/32768), mono, 16 kHz; another rate or channel
    count is an error that names the node which converts it (`audio.Resample`,
    `audio.Downmix`), an item that is not an audio frame is an error, and so is a float frame
    with a NaN or infinite sample.

    Parameters (also manifest params):
        threshold: The speech probability (0 to 1) at which speech starts; it ends below
            `threshold - 0.15` (at least 0.01).
        min_silence_ms: How long the probability must stay below that before speech ends;
            an integer from 0 to 60000.
        speech_pad_ms: How far a start is placed before the first speech window, and an end
            after the start of the first quiet one; an integer from 0 to 60000.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        min_silence_ms: int = 100,
        speech_pad_ms: int = 30,
        name: str | None = None,
    ) -> None:
        """Creates the node; the model is loaded by `initialize`.

        Raises:
            ValueError: A threshold that is not a number in (0, 1], or a duration that is not
                an integer from 0 to 60000; the message names the parameter.
        """
        super().__init__(name=name)
        if (
            not isinstance(threshold, int | float)
            or isinstance(threshold, bool)
            or not 0.0 < threshold <= 1.0
        ):
            raise ValueError(f"SileroVad threshold must be a number in (0, 1], got {threshold!r}")
        for key, value in (("min_silence_ms", min_silence_ms), ("speech_pad_ms", speech_pad_ms)):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_MS:
                raise ValueError(
                    f"SileroVad {key} must be an integer from 0 to {_MAX_MS}, got {value!r}"
                )
        self.threshold = threshold
        self.min_silence_ms = min_silence_ms
        self.speech_pad_ms = speech_pad_ms
        self._model: SileroModel | None = None

    def initialize(self) -> None:
        """Loads the model.

        Raises:
            FileNotFoundError: The model is not installed; the message says to run
                `pip install --no-deps silero-vad`.
        """
        self._model = SileroModel(model_path())

    def cleanup(self) -> None:
        """Releases the model."""
        self._model = None

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Forwards each frame, then the events decided so far whose time it reaches; at the
        end, the events of the zero-padded last window and the end of an open utterance, and
        any still waiting, placed at most at the stream's end.

        Raises:
            TypeError: An item that is not an audio frame.
            ValueError: A frame that is not 16 kHz mono, or has a NaN or infinite sample.
            RuntimeError: `initialize` was not called.
        """
        model = self._model
        if model is None:
            raise RuntimeError("SileroVad.process called before initialize()")
        # The frame helpers need numpy: imported when the node runs, not with this module,
        # which plugin discovery imports for the class and its parameters.
        from remotemedia_silero import _frames  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

        mono_samples, copy_int16, copy_float32 = (
            _frames.mono_samples,
            _frames.copy_int16,
            _frames.copy_float32,
        )
        model.reset()
        window, run = model.window, model.run
        segmenter = Segmenter(self.threshold, self.min_silence_ms, self.speech_pad_ms)
        step = segmenter.step
        # Decided, not yet emitted: after the current frame, or once the audio reaches them.
        # Their positions never decrease, so the first is always the next due.
        pending: deque[tuple[str, int]] = deque()
        origin: float | None = None
        received = 0  # samples in the stream so far
        filled = 0  # samples of the next window already in `window`

        async for item in stream:
            samples = mono_samples(self.name, item)
            if origin is None:
                origin = item.timestamp
            copy = copy_int16 if samples.dtype.kind == "i" else copy_float32
            count = samples.shape[0]
            received += count
            at = 0
            while count - at >= WINDOW - filled:
                copy(window[filled:], samples[at : at + WINDOW - filled])
                at += WINDOW - filled
                filled = 0
                found = step(run())
                if found is not None:
                    pending.append(found)
            if at < count:
                copy(window[filled : filled + count - at], samples[at:])
                filled += count - at
            yield item
            while pending and pending[0][1] <= received:
                kind, sample = pending.popleft()
                yield self._event(kind, origin, sample)

        if origin is None:
            return
        if filled:
            window[filled:] = 0.0
            found = step(run())
            if found is not None:
                pending.append(found)
        if segmenter.triggered:
            pending.append((END, received))
        last = [(kind, min(sample, received)) for kind, sample in pending]
        if last[-2:] == [(START, received), (END, received)]:
            # A start moved to a previous end beyond the stream's end: that utterance, ended
            # at the stream's end, already covers this one's audio, which would be empty.
            del last[-2:]
        for kind, sample in last:
            yield self._event(kind, origin, sample)

    @staticmethod
    def _event(kind: str, origin: float, sample: int) -> dict[str, Any]:
        return {"event": kind, "time": origin + sample / SAMPLE_RATE}
