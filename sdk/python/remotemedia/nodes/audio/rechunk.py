"""`audio.Rechunk {frame_ms = 20}`: the host's built-in, frame for frame
(host/src/node/builtin/audio/rechunk.rs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from remotemedia.node import Node
from remotemedia.nodes.audio._common import (
    Format,
    check_format,
    expect_audio,
    frame_len,
    frame_ms_param,
    same_format,
    time_at,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from remotemedia.media import AudioFrame

NAME = "audio.Rechunk"


class Rechunk(Node):
    """Re-cuts audio into frames of frame_ms; the last may be shorter. Timestamps run on from
    the first frame.

    Frames are `round(rate * frame_ms / 1000)` samples per channel (at least one); what is
    left at the end of the stream goes out as a last, shorter frame. Samples keep their dtype
    and values. Timestamps run on from the first frame's, one sample at a time, whatever later
    frames carry: the node makes a stream continuous. A change of rate, channels or dtype is a
    `ValueError` naming both formats, anything but an audio frame a `TypeError`.

    A streaming node (`process` takes the whole stream), since it must know where the stream
    ends. The host's built-in of the same name gives the same frames.
    """

    node_type = NAME

    def __init__(self, frame_ms: float = 20, name: str | None = None) -> None:
        """Creates the node.

        Args:
            frame_ms: The frame length in milliseconds, above 0 and up to 60000.
            name: The node id; defaults to the type name.

        Raises:
            TypeError: `frame_ms` is not a number.
            ValueError: `frame_ms` is out of range.
        """
        super().__init__(name=name)
        self._ms = frame_ms_param(NAME, frame_ms)
        self.frame_ms = frame_ms

    @property
    def params(self) -> dict[str, Any]:
        """The constructor parameters, as a manifest writes them."""
        return {"frame_ms": self.frame_ms}

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[AudioFrame]:
        """Re-cuts the stream.

        Args:
            stream: Audio frames of one format.

        Yields:
            Frames of `frame_ms`, and at the end the rest, if any.

        Raises:
            TypeError: An item is not an audio frame.
            ValueError: The format changed mid-stream.
        """
        import numpy as np  # noqa: PLC0415 -- numpy, not at discovery

        from remotemedia.nodes.audio._samples import (  # noqa: PLC0415 -- as numpy
            interleaved,
            make_frame,
        )

        first: Format | None = None
        start, sent, size = 0.0, 0, 0
        pending: Any = None  # (n, channels) samples not yet sent
        async for item in stream:
            frame = expect_audio(NAME, item)
            if first is None:
                start = frame.timestamp
            first = check_format(NAME, first, frame, same_format)  # the same as the first
            size = frame_len(first.rate, self._ms)
            samples = interleaved(frame)
            pending = samples if pending is None else np.concatenate((pending, samples))
            at = 0
            while len(pending) - at >= size:
                yield make_frame(
                    NAME, pending[at : at + size], first.rate, time_at(start, sent, first.rate)
                )
                sent += size
                at += size
            pending = pending[at:]
        if first is not None and pending is not None and len(pending):
            yield make_frame(NAME, pending, first.rate, time_at(start, sent, first.rate))
