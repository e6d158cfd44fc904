"""A WAV file written as its samples come, under a temporary name until it is complete."""

from __future__ import annotations

import contextlib
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

RIFF_LIMIT = 0xFFFFFFFF
"""The largest RIFF chunk size: a RIFF WAV file is at most 4 GiB + 8 bytes."""

PARTIAL_SUFFIX = ".part"
"""Appended to a file's final name while it is being written."""


class WavStream:
    """One WAV file, streamed: a header with placeholder sizes, then samples appended as they
    come, then the sizes patched and the file renamed from `<path>.part` to `<path>`.

    The layout is the one `scipy.io.wavfile.write` gives the same samples, byte for byte:
    int16 as PCM (format 1, a 16-byte `fmt ` chunk), float32 as IEEE float (format 3, an
    18-byte `fmt ` chunk with `cbSize` 0 and the `fact` chunk with the sample-frame count that
    the spec asks of non-PCM formats), then `data`. Sample sizes are even: no pad byte.

    Memory holds none of the samples: each write is flushed to the file. The file takes at
    most `capacity` sample frames: the most that keep the RIFF size within 32 bits.
    """

    def __init__(self, path: Path, rate: int, channels: int, dtype: np.dtype[Any]) -> None:
        """Creates `<path>.part` (replacing any) and writes the header.

        Raises:
            ValueError: A dtype other than int16 or float32.
            OSError: The file cannot be made.
        """
        if (dtype.kind, dtype.itemsize) not in (("i", 2), ("f", 4)):
            raise ValueError(f"WAV streams take int16 or float32 samples, got {dtype}")
        self.path = path
        self.partial = path.with_name(path.name + PARTIAL_SUFFIX)
        self.frames = 0  # sample frames written
        self._dtype = dtype.newbyteorder("<")
        self._block = channels * dtype.itemsize
        pcm = dtype.kind == "i"
        tag, bits = (1 if pcm else 3), dtype.itemsize * 8
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * self._block, self._block, bits)
        fmt += b"" if pcm else b"\x00\x00"  # cbSize, for non-PCM formats
        header = b"RIFF\x00\x00\x00\x00WAVEfmt " + struct.pack("<I", len(fmt)) + fmt
        self._fact = None if pcm else len(header) + 8  # where the fact chunk's count goes
        header += b"" if pcm else b"fact" + struct.pack("<II", 4, 0)
        self._header = len(header) + 8
        self.capacity = (RIFF_LIMIT - (self._header - 8)) // self._block
        self._file: BinaryIO | None = open(self.partial, "wb")  # noqa: SIM115  # closed by end/abort
        self._file.write(header + b"data\x00\x00\x00\x00")

    def write(self, samples: np.ndarray[Any, Any]) -> None:
        """Appends sample frames (shape `(n,)` or `(n, channels)`, at most `capacity` in all).

        Raises:
            ValueError: The file would pass `capacity`, or is already ended.
        """
        if self._file is None:
            raise ValueError(f"{self.partial} is already closed")
        count = int(samples.shape[0])
        if self.frames + count > self.capacity:
            raise ValueError(f"{self.partial} would pass the {self.capacity} frames of a WAV")
        self._file.write(np.ascontiguousarray(samples, dtype=self._dtype).tobytes())
        self._file.flush()  # on disk as they come, not held in a buffer
        self.frames += count

    def end(self, frames: int | None = None) -> None:
        """Keeps the first `frames` sample frames (all if `None`), patches the sizes and
        renames the file to its final name, replacing any file there."""
        file = self._file
        if file is None:
            raise ValueError(f"{self.partial} is already closed")
        try:
            if frames is not None and frames < self.frames:
                self.frames = max(frames, 0)
                file.truncate(self._header + self.frames * self._block)
            size = self.frames * self._block
            file.seek(4)
            file.write(struct.pack("<I", self._header - 8 + size))
            if self._fact is not None:
                file.seek(self._fact)
                file.write(struct.pack("<I", self.frames))
            file.seek(self._header - 4)
            file.write(struct.pack("<I", size))
            file.close()
            os.replace(self.partial, self.path)
        except BaseException:
            self.abort()
            raise
        self._file = None

    def abort(self) -> None:
        """Closes and removes the temporary file, if it is still open; never raises OSError."""
        file, self._file = self._file, None
        if file is None:
            return
        with contextlib.suppress(OSError):
            file.close()
        with contextlib.suppress(OSError):
            self.partial.unlink(missing_ok=True)
