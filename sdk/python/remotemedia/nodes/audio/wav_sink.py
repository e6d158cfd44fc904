"""`audio.WavSink {path}`: the host's built-in, byte for byte
(host/src/node/builtin/audio/wav_sink.rs)."""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import PurePath
from typing import IO, TYPE_CHECKING, Any

from remotemedia.node import Node
from remotemedia.nodes.audio._common import (
    Format,
    check_format,
    expect_audio,
    os_error_text,
    same_format,
    string_param,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from remotemedia.media import AudioFrame
    from remotemedia.nodes.audio._wav import WavWriter

NAME = "audio.WavSink"

_TEMP_COUNTER = itertools.count()
"""Tells apart the temporary files of the sinks of one process."""


def temp_path(path: str) -> str:
    """The temporary file for `path`: hidden, beside it, unique to this process and sink."""
    pure = PurePath(path)
    return str(pure.with_name(f".{pure.name}.{os.getpid()}.{next(_TEMP_COUNTER)}.part"))


class WavSink(Node):
    """Writes audio frames to a WAV file (int16 -> 16-bit PCM, float32 -> 32-bit float), in
    place at the end; emits one summary map.

    The first frame sets the format; a frame of another rate, channel count or dtype is a
    `ValueError` naming both formats, anything but an audio frame a `TypeError`. Frames are
    written one after another (timestamps are not looked at) to a temporary file beside
    `path` (`.NAME.PID.N.part`), renamed to `path` at the end of the stream; a run that fails
    or is cancelled leaves `path` as it was. At the end it emits `{"path", "sample_rate",
    "channels", "dtype", "samples" (per channel), "duration" (seconds)}`; with no frames at
    all no file is written, the format fields are null and a warning is logged. The bytes are
    those the host's built-in of the same name writes.
    """

    node_type = NAME

    def __init__(self, path: str, name: str | None = None) -> None:
        """Creates the node.

        Args:
            path: The WAV file to write; relative to the working directory.
            name: The node id; defaults to the type name.

        Raises:
            TypeError: `path` is not a string.
            ValueError: `path` is empty or does not name a file.
        """
        super().__init__(name=name)
        self.path = string_param(NAME, "path", path)
        if PurePath(path).name in ("", ".."):
            raise ValueError(f"{NAME} parameter path must name a file")
        self._file: tuple[IO[bytes], str] | None = None  # the open temporary file, its path
        self._writer: WavWriter | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The constructor parameters, as a manifest writes them."""
        return {"path": self.path}

    def _error(self, what: str, error: OSError) -> OSError:
        return OSError(f"{NAME}: {what} {self.path}: {os_error_text(error)}")

    def _write(self, frame: AudioFrame, fmt: Format) -> None:
        from remotemedia.nodes.audio._samples import interleaved  # noqa: PLC0415 -- numpy
        from remotemedia.nodes.audio._wav import WavWriter  # noqa: PLC0415 -- numpy

        writer = self._writer
        if writer is None:
            if fmt.channels > 0xFFFF:
                raise ValueError(
                    f"{NAME}: a WAV file holds at most 65535 channels, got {fmt.channels}"
                )
            temp = temp_path(self.path)
            try:
                file = open(temp, "xb")  # noqa: SIM115 -- open until the end of the stream
            except OSError as e:
                raise self._error("cannot create a temporary file for", e) from None
            # Kept before the header is written, so that a failure removes the file.
            self._file = (file, temp)
            try:
                writer = self._writer = WavWriter(file, fmt.channels, fmt.rate, fmt.dtype)
            except OSError as e:
                raise self._error("cannot write", e) from None
        try:
            writer.write(interleaved(frame))
        except OSError as e:
            raise self._error("cannot write", e) from None
        except ValueError as e:
            raise ValueError(f"{NAME}: cannot write {self.path}: {e}") from None

    def _finish(self) -> None:
        """Completes the header and renames the file into place."""
        if self._file is None or self._writer is None:
            import logging  # noqa: PLC0415 -- only to warn, which is rare

            logging.getLogger(__name__).warning(
                "%s: no audio arrived; %s not written", NAME, self.path
            )
            return
        file, temp = self._file
        try:
            self._writer.finalize()
            file.close()
        except OSError as e:
            raise self._error("cannot write", e) from None
        try:
            os.replace(temp, self.path)
        except OSError as e:
            raise self._error("cannot rename the temporary file to", e) from None
        self._file = self._writer = None

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[dict[str, Any]]:
        """Writes the stream, and at its end puts the file in place.

        Args:
            stream: Audio frames of one format.

        Yields:
            The summary map, once, at the end.

        Raises:
            TypeError: An item is not an audio frame.
            ValueError: The format changed mid-stream.
            OSError: The file cannot be written.
        """
        fmt: Format | None = None
        samples = 0
        try:
            async for item in stream:
                frame = expect_audio(NAME, item)
                fmt = check_format(NAME, fmt, frame, same_format)  # the same as the first
                self._write(frame, fmt)
                samples += int(frame.samples.shape[0])
            self._finish()
        except BaseException:
            self.cleanup()
            raise
        yield {
            "path": self.path,
            "sample_rate": fmt.rate if fmt else None,
            "channels": fmt.channels if fmt else None,
            "dtype": fmt.dtype if fmt else None,
            "samples": samples,
            "duration": samples / fmt.rate if fmt else 0.0,
        }

    def cleanup(self) -> None:
        """Removes the temporary file of a stream that did not end."""
        if self._file is not None:
            file, temp = self._file
            self._file = self._writer = None
            with contextlib.suppress(OSError):  # a failed close changes nothing: it goes
                file.close()
            with contextlib.suppress(FileNotFoundError):
                os.remove(temp)
