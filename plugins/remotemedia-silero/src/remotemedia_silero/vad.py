"""`SileroVad`: forwards audio frames and inserts speech start and end events between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from remotemedia import AudioFrame, Node
from remotemedia_silero.model import SAMPLE_RATE, WINDOW, SileroModel, model_path
from remotemedia_silero.segmenter import END, Segmenter

_INT16_SCALE = np.float32(1 / 32768)


def _copy_float32(window: np.ndarray[Any, Any], samples: np.ndarray[Any, Any]) -> None:
    np.copyto(window, samples)


def _copy_int16(window: np.ndarray[Any, Any], samples: np.ndarray[Any, Any]) -> None:
    # int16 times a float32 scalar is float32 (NEP 50), written straight into the window.
    np.multiply(samples, _INT16_SCALE, out=window)


class SileroVad(Node):
    """Voice activity detection with the Silero VAD model, on a stream of 16 kHz mono audio.

    Every audio frame is forwarded unchanged, in order; after the frame in which it was
    detected comes `{"event": "speech_start", "time": s}` or `{"event": "speech_end",
    "time": s}`. Starts and ends alternate, starting with a start; an utterance still open at
    the end of the stream ends there. Decisions are silero-vad's `VADIterator`'s (see
    `remotemedia_silero.segmenter`) on the model's 512-sample windows, which straddle frames:
    the result does not depend on how the audio is cut into frames.

    Times are in seconds on the frames' clock: the first frame's timestamp plus the position
    in samples (over 16000) from the start of the stream. Later frames' timestamps are not
    read: frames are taken as contiguous, so a gap or jitter in their timestamps does not move
    the times. A time never points past the audio received so far (a `speech_pad_ms` longer
    than the minimum silence plus one window would otherwise put an end there).

    At the end of the stream, samples short of a whole window are zero-padded to one, as
    silero-vad's own offline functions do, so speech in the last 32 ms is not lost.

    Frames are float32 or int16 (scaled by 1/32768), mono, 16 kHz; another rate or channel
    count is an error that names the node which converts it (`audio.Resample`,
    `audio.Downmix`), and an item that is not an audio frame is an error.

    Parameters (also manifest params):
        threshold: The speech probability (0 to 1) at which speech starts; it ends below
            `threshold - 0.15` (at least 0.01).
        min_silence_ms: How long the probability must stay below that before speech ends.
        speech_pad_ms: How far a start is placed before the first speech window, and an end
            after the start of the first quiet one.
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
            ValueError: A threshold outside (0, 1], or a negative duration.
        """
        super().__init__(name=name)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"SileroVad threshold must be in (0, 1], got {threshold}")
        for key, value in (("min_silence_ms", min_silence_ms), ("speech_pad_ms", speech_pad_ms)):
            if value < 0:
                raise ValueError(f"SileroVad {key} must be 0 or more, got {value}")
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
        """Forwards each frame, then the events its windows produced; at the end, the events
        of the zero-padded last window and the end of an open utterance.

        Raises:
            TypeError: An item that is not an audio frame.
            ValueError: A frame that is not 16 kHz mono.
            RuntimeError: `initialize` was not called.
        """
        model = self._model
        if model is None:
            raise RuntimeError("SileroVad.process called before initialize()")
        model.reset()
        window, run = model.window, model.run
        segmenter = Segmenter(self.threshold, self.min_silence_ms, self.speech_pad_ms)
        step = segmenter.step
        events: list[tuple[str, int]] = []  # this frame's; usually none
        origin: float | None = None
        received = 0  # samples in the stream so far
        filled = 0  # samples of the next window already in `window`

        async for item in stream:
            samples = self._samples(item)
            if origin is None:
                origin = item.timestamp
            copy = _copy_int16 if samples.dtype.kind == "i" else _copy_float32
            count = samples.shape[0]
            received += count
            at = 0
            while count - at >= WINDOW - filled:
                copy(window[filled:], samples[at : at + WINDOW - filled])
                at += WINDOW - filled
                filled = 0
                found = step(run())
                if found is not None:
                    events.append(found)
            if at < count:
                copy(window[filled : filled + count - at], samples[at:])
                filled += count - at
            yield item
            if events:
                for kind, sample in events:
                    yield self._event(kind, origin, min(sample, received))
                events.clear()

        if origin is None:
            return
        if filled:
            window[filled:] = 0.0
            found = step(run())
            if found is not None:
                yield self._event(found[0], origin, min(found[1], received))
        if segmenter.triggered:
            yield self._event(END, origin, received)

    def _samples(self, item: Any) -> np.ndarray[Any, Any]:
        """A frame's samples as a 1-d array (a view), after checking the frame."""
        if not isinstance(item, AudioFrame):
            raise TypeError(
                f"SileroVad takes audio frames (remotemedia.AudioFrame), got {type(item).__name__}"
            )
        if item.sample_rate != SAMPLE_RATE:
            raise ValueError(
                f"SileroVad takes 16000 Hz audio, got a frame at {item.sample_rate} Hz: "
                "put an audio.Resample node {rate = 16000} before it"
            )
        samples = item.samples
        if samples.ndim == 2:
            if samples.shape[1] != 1:
                raise ValueError(
                    f"SileroVad takes mono audio, got a frame of {samples.shape[1]} channels: "
                    "put an audio.Downmix node before it"
                )
            samples = samples[:, 0]
        return samples

    @staticmethod
    def _event(kind: str, origin: float, sample: int) -> dict[str, Any]:
        return {"event": kind, "time": origin + sample / SAMPLE_RATE}
