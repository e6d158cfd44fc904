"""`audio.Resample {rate}`: the host's built-in's contract (host/src/node/builtin/audio/
resample.rs), with a numpy resampler of the same alignment and length (`_resampler`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from remotemedia.node import Node
from remotemedia.nodes.arithmetic import brief, value_kind
from remotemedia.nodes.audio._common import (
    Format,
    check_format,
    expect_audio,
    same_layout,
    time_at,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from remotemedia.media import AudioFrame
    from remotemedia.nodes.audio._resampler import SincResampler

NAME = "audio.Resample"

MAX_RATE = 768_000
"""The highest rate in or out."""

MAX_FACTOR = 256
"""The most the two rates may differ by."""

MAX_CHANNELS = 1024
"""The most channels a stream may have."""


def _resampler(rate_in: int, rate_out: int, channels: int) -> SincResampler:
    """A resampler for the stream, within the host's limits.

    Raises:
        ValueError: Rates or channels beyond the limits, in the host's words.
    """
    hi, lo = max(rate_in, rate_out), min(rate_in, rate_out)
    if rate_in > MAX_RATE or hi > lo * MAX_FACTOR:
        raise ValueError(
            f"{NAME}: cannot resample {rate_in} Hz to {rate_out} Hz: rates go up to "
            f"{MAX_RATE} Hz and may differ by a factor of at most {MAX_FACTOR}"
        )
    if channels > MAX_CHANNELS:
        raise ValueError(f"{NAME}: cannot resample {channels} channels; at most {MAX_CHANNELS}")
    from remotemedia.nodes.audio._resampler import SincResampler  # noqa: PLC0415 -- numpy

    g = math.gcd(rate_in, rate_out)
    return SincResampler(rate_out // g, rate_in // g, rate_out, channels)


class Resample(Node):
    """Resamples audio to rate (float32 out), delay removed and tail flushed: N seconds in,
    N seconds out.

    A windowed-sinc resampler (Kaiser window, 32 zero crossings each side, cut at 92% of the
    lower rate's Nyquist frequency) keeps its state across frames, so the output does not
    depend on how the stream is cut. Output sample 0 is input sample 0's instant, and at the
    end of the stream the filter's tail is sent, up to `round(n * rate / input rate)` samples
    for `n` in. int16 input is divided by 32768; output is float32, stamped with the first
    frame's timestamp plus the samples sent before. A stream already at `rate` passes through
    as float32 with its own timestamps. Rates go up to 768000 Hz and may differ by a factor of
    at most 256, a stream has at most 1024 channels, and a change of rate or channels is a
    `ValueError`, as on the host's built-in of the same name. That one runs rubato's resampler:
    the outputs agree in length, alignment and timestamps, and in samples to about -60 dB for
    a 1 kHz tone from 48 kHz to 16 kHz, not bit for bit.
    """

    node_type = NAME

    def __init__(self, rate: int, name: str | None = None) -> None:
        """Creates the node.

        Args:
            rate: The output sample rate in Hz, 1 to 768000.
            name: The node id; defaults to the type name.

        Raises:
            TypeError: `rate` is not an integer.
            ValueError: `rate` is out of range.
        """
        super().__init__(name=name)
        if isinstance(rate, bool) or not isinstance(rate, int):
            raise TypeError(
                f"{NAME} parameter rate must be an integer, got {value_kind(rate)} {brief(rate)}"
            )
        if not 1 <= rate <= MAX_RATE:
            raise ValueError(f"{NAME} parameter rate must be between 1 and {MAX_RATE}, got {rate}")
        self.rate = int(rate)

    @property
    def params(self) -> dict[str, Any]:
        """The constructor parameters, as a manifest writes them."""
        return {"rate": self.rate}

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[AudioFrame]:
        """Resamples the stream.

        Args:
            stream: Audio frames of one rate and channel count (the dtype may change).

        Yields:
            float32 frames at `rate`: at most one per input frame, and the tail at the end.

        Raises:
            TypeError: An item is not an audio frame.
            ValueError: The rate or channels changed, or are beyond the limits.
        """
        from remotemedia.nodes.audio._samples import make_frame, to_f32  # noqa: PLC0415 -- numpy

        first: Format | None = None
        resampler: SincResampler | None = None
        start, sent = 0.0, 0
        async for item in stream:
            frame = expect_audio(NAME, item)
            now = check_format(NAME, first, frame, same_layout)
            is_first, first = first is None, first or now
            if now.rate == self.rate:
                if now.dtype == "float32":
                    yield frame
                else:
                    yield make_frame(NAME, to_f32(frame), self.rate, frame.timestamp)
                continue
            if is_first:
                start = frame.timestamp
                resampler = _resampler(now.rate, self.rate, now.channels)
            if resampler is None:
                continue
            out = resampler.push(to_f32(frame))
            if len(out):
                yield make_frame(NAME, out, self.rate, time_at(start, sent, self.rate))
                sent += len(out)
        if resampler is not None:
            tail = resampler.flush()
            if len(tail):
                yield make_frame(NAME, tail, self.rate, time_at(start, sent, self.rate))
