"""`audio.WavSource {path, frame_ms = 20}`: the host's built-in, frame for frame
(host/src/node/builtin/audio/wav_source.rs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from remotemedia.node import Node
from remotemedia.nodes.audio._common import frame_len, frame_ms_param, string_param, time_at

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from remotemedia.media import AudioFrame
    from remotemedia.nodes.audio._wav import WavReader

NAME = "audio.WavSource"

_READABLE = "readable are 8, 16, 24 and 32-bit integer and 32-bit float"


def open_wav(path: str) -> WavReader:
    """Opens `path` as a WAV file the node can read.

    Raises:
        OSError: It cannot be read, is not WAV, or holds samples of another depth; in the
            host's words.
    """
    from remotemedia.nodes.audio._wav import WavError, WavReader  # noqa: PLC0415 -- numpy

    try:
        reader = WavReader(path)
    except WavError as e:
        raise OSError(f"{NAME}: cannot read WAV file {path}: {e}") from None
    if reader.rate == 0:
        reader.close()
        raise OSError(f"{NAME}: WAV file {path} has a sample rate of 0")
    container = reader.bytes_per_sample * 8
    if container != reader.bits:
        # As the host: such samples sit in the container's high bytes, where hound (and so
        # the host) would read the low ones; both refuse them.
        reader.close()
        raise OSError(
            f"{NAME}: WAV file {path} holds {reader.bits}-bit samples in {container}-bit "
            "containers, which this reader cannot decode; convert it to plain 16, 24 or "
            "32-bit PCM or 32-bit float"
        )
    depth = (reader.is_float, reader.bits)
    if depth not in ((False, 8), (False, 16), (False, 24), (False, 32), (True, 32)):
        reader.close()
        kind = "float" if reader.is_float else "integer"
        raise OSError(
            f"{NAME}: WAV file {path} holds {reader.bits}-bit {kind} samples; {_READABLE}"
        )
    return reader


class WavSource(Node):
    """Source: streams a WAV file as audio frames of frame_ms (16-bit -> int16, float ->
    float32, other depths -> float32).

    The file is read as it goes, a frame at a time, never whole. 16-bit PCM becomes int16
    frames and 32-bit float becomes float32 frames, bit for bit; 8, 24 and 32-bit integers
    become float32 divided by 2^(bits-1). WAVE_FORMAT_EXTENSIBLE files are read too. Frames
    are `round(rate * frame_ms / 1000)` samples per channel, stamped `sample index / rate`;
    the last may be shorter. A file with no samples gives one empty frame, so its format still
    reaches the nodes downstream. The file is opened by `initialize`: a file that cannot be
    read is an `OSError` naming it, in the words of the host's built-in of the same name.
    """

    node_type = NAME
    is_source: ClassVar[bool] = True

    def __init__(self, path: str, frame_ms: float = 20, name: str | None = None) -> None:
        """Creates the node; the file is opened by `initialize`.

        Args:
            path: The WAV file to read; relative to the working directory.
            frame_ms: The frame length in milliseconds, above 0 and up to 60000.
            name: The node id; defaults to the type name.

        Raises:
            TypeError: A parameter of the wrong type.
            ValueError: An empty path, or `frame_ms` out of range.
        """
        super().__init__(name=name)
        self.path = string_param(NAME, "path", path)
        self._ms = frame_ms_param(NAME, frame_ms)
        self.frame_ms = frame_ms
        self._reader: WavReader | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The constructor parameters, as a manifest writes them."""
        return {"path": self.path, "frame_ms": self.frame_ms}

    def initialize(self) -> None:
        """Opens the file.

        Raises:
            OSError: It cannot be read as WAV.
        """
        self.cleanup()
        self._reader = open_wav(self.path)

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[AudioFrame]:
        """Streams the file; the input stream is not read (a source takes no input).

        Args:
            stream: The node's input stream, always empty for a source.

        Yields:
            The file's frames, in order.

        Raises:
            OSError: The file cannot be read to its end.
        """
        from remotemedia.nodes.audio._samples import make_frame  # noqa: PLC0415 -- numpy
        from remotemedia.nodes.audio._wav import WavError  # noqa: PLC0415 -- numpy

        reader = self._reader if self._reader is not None else open_wav(self.path)
        self._reader = reader
        size = frame_len(reader.rate, self._ms)
        position, emitted = 0, False
        while position < reader.frames or not emitted:
            try:
                samples = reader.read(size)
            except WavError as e:
                raise OSError(f"{NAME}: reading {self.path}: {e}") from None
            # A rate of 0 has no times: the frame's own check reports it.
            at = time_at(0.0, position, reader.rate) if reader.rate else 0.0
            yield make_frame(NAME, samples, reader.rate, at)
            position += len(samples)
            emitted = True
        self.cleanup()

    def cleanup(self) -> None:
        """Closes the file, if open."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
