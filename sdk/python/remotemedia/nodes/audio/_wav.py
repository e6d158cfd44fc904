"""WAV files, read as they go and written as `hound` (the host's WAV library) writes them.

Reading parses RIFF here (the stdlib's `wave` reads only integer PCM): the `fmt ` chunk as
PCMWAVEFORMAT, WAVEFORMATEX, IEEE float or WAVE_FORMAT_EXTENSIBLE, other chunks skipped (with
their pad byte), and the header checks and messages of hound 3.5, so a file one engine refuses
the other refuses in the same words. Samples are decoded a frame at a time from a buffered file.

Writing produces hound's bytes: a 44-byte header (PCMWAVEFORMAT) for up to two channels of
16-bit samples, else a 68-byte WAVE_FORMAT_EXTENSIBLE one (so always for 32-bit float); the
RIFF and data sizes are filled in at the end.
"""

from __future__ import annotations

import struct
from typing import IO, Any

import numpy as np

from remotemedia.nodes.audio._common import os_error_text

Samples = np.ndarray[Any, Any]

SHORT_READ = "Failed to read enough bytes."
"""hound's message for a file that ends early."""

TOO_WIDE = "The sample has more bits than the destination type."
UNSUPPORTED = "The wave format of the file is not supported."

PCM, IEEE_FLOAT, EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_GUID_TAIL = bytes(
    [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
)
SUBTYPE_PCM = bytes([0x01, 0x00]) + _GUID_TAIL
SUBTYPE_IEEE_FLOAT = bytes([0x03, 0x00]) + _GUID_TAIL

MAX_DATA_BYTES = 0xFFFF_FFFF
"""RIFF sizes are 32-bit: what a WAV file can hold."""


class WavError(Exception):
    """A file that is not a WAV file this module can read, in hound's words."""


def _ill_formed(reason: str) -> WavError:
    return WavError(f"Ill-formed WAVE file: {reason}")


class WavReader:
    """An open WAV file, read a few samples at a time.

    Attributes:
        channels: Interleaved channels.
        rate: Samples per second.
        bits: Valid bits per sample.
        is_float: Whether samples are IEEE floats.
        frames: Samples per channel in the file.
    """

    def __init__(self, path: str) -> None:
        """Opens `path` and reads its header, up to the samples.

        Raises:
            WavError: The file cannot be opened or read, or is not a WAV file hound reads.
        """
        try:
            self._file: IO[bytes] = open(path, "rb")  # noqa: SIM115 -- kept open to stream
        except OSError as e:
            raise WavError(os_error_text(e)) from None
        try:
            self._read_header()
        except BaseException:
            self._file.close()
            raise
        self._left = self.frames * self.channels

    def _read(self, count: int) -> bytes:
        try:
            data = self._file.read(count)
        except OSError as e:
            raise WavError(os_error_text(e)) from None
        if len(data) < count:
            raise WavError(SHORT_READ)
        return data

    def _skip(self, count: int) -> None:
        while count > 0:
            count -= len(self._read(min(count, 1 << 16)))

    def _read_header(self) -> None:
        if self._read(4) != b"RIFF":
            raise _ill_formed("no RIFF tag found")
        self._read(4)
        if self._read(4) != b"WAVE":
            raise _ill_formed("no WAVE tag found")
        have_fmt = False
        while True:
            kind, length = struct.unpack("<4sI", self._read(8))
            if kind == b"data":
                if not have_fmt:
                    raise _ill_formed("missing fmt chunk")
                break
            if kind == b"fmt ":
                self._read_fmt(length)
                have_fmt = True
            else:
                self._skip(length)
            self._skip(length & 1)  # chunks are padded to an even length
        samples = length // self.bytes_per_sample
        if samples * self.bytes_per_sample != length:
            raise _ill_formed("data chunk length is not a multiple of sample size")
        if samples % self.channels:
            raise _ill_formed("invalid data chunk length")
        self.frames = samples // self.channels

    def _read_fmt(self, length: int) -> None:
        if length < 16:
            raise _ill_formed("invalid fmt chunk size")
        tag, channels, rate, per_second, align, bits = struct.unpack("<HHIIHH", self._read(16))
        if channels == 0:
            raise _ill_formed("file contains zero channels")
        size = align // channels
        if bits > size * 8:
            raise _ill_formed("sample bits exceeds size of sample")
        if per_second != align * rate:
            raise _ill_formed("inconsistent fmt chunk")
        if bits % 8:
            raise _ill_formed("bits per sample is not a multiple of 8")
        if bits == 0:
            raise _ill_formed("bits per sample is 0")
        read = 16
        is_float = False
        if tag == PCM:
            if length not in (16, 18, 40):
                raise _ill_formed("unexpected fmt chunk size")
            if length > 16:
                self._read(2)  # cbSize, meaningless for PCM
                read += 2
                if bits not in (8, 16, 24):
                    raise _ill_formed("bits per sample is not 8 or 16")
        elif tag == IEEE_FLOAT:
            if length not in (16, 18):
                raise _ill_formed("unexpected fmt chunk size")
            if length == 18:
                read += 2
                if struct.unpack("<H", self._read(2))[0] != 0:
                    raise _ill_formed("unexpected WAVEFORMATEX size")
            if bits != 32:
                raise _ill_formed("bits per sample is not 32")
            is_float = True
        elif tag == EXTENSIBLE:
            if length < 40:
                raise _ill_formed("unexpected fmt chunk size")
            cb_size, valid, _mask, subformat = struct.unpack("<HHI16s", self._read(24))
            read += 24
            if cb_size != 22:
                raise _ill_formed("unexpected WAVEFORMATEXTENSIBLE size")
            if subformat not in (SUBTYPE_PCM, SUBTYPE_IEEE_FLOAT):
                raise WavError(UNSUPPORTED)
            is_float = subformat == SUBTYPE_IEEE_FLOAT
            bits = valid or bits  # a valid-bits field of 0 is taken as "the container's"
        else:
            raise WavError(UNSUPPORTED)
        self._skip(length - read)
        self.channels, self.rate, self.bits, self.is_float = channels, rate, bits, is_float
        self.bytes_per_sample = size

    def _decoding_error(self) -> str | None:
        """hound's error for reading these samples as the node decodes them, if any."""
        size, bits = self.bytes_per_sample, self.bits
        widest = 2 if (bits, self.is_float) == (16, False) else 4
        if size > widest:
            return TOO_WIDE
        if self.is_float:
            return None if size == 4 else UNSUPPORTED
        if bits == 16 or (size, bits) in ((1, 8), (3, 24), (4, 24), (4, 32)):
            return None
        return UNSUPPORTED

    def read(self, frames: int) -> Samples:
        """The next `frames` samples per channel (fewer at the end), `(n, channels)`: int16
        for 16-bit integers, float32 for 32-bit floats (both bit for bit), and float32 divided
        by 2^(bits-1) for 8, 24 and 32-bit integers.

        Raises:
            WavError: The file ended early or cannot be read, or hound cannot decode it.
        """
        count = min(frames * self.channels, self._left)
        if count and (error := self._decoding_error()) is not None:
            raise WavError(error)
        data = self._read(count * self.bytes_per_sample)
        self._left -= count
        size, bits = self.bytes_per_sample, self.bits
        if self.is_float:
            out = np.frombuffer(data, "<f4").astype(np.float32)
        elif bits == 16:
            out = np.frombuffer(data, "<i2").astype(np.int16)
        else:
            if size == 1:
                ints = np.frombuffer(data, np.uint8).astype(np.int32) - 128
            elif size == 3:
                raw = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
                ints = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
            else:
                ints = np.frombuffer(data, "<i4").astype(np.int32)
            if bits == 24:
                ints = ((ints & 0xFF_FFFF) ^ 0x80_0000) - 0x80_0000  # sign from bit 23
            out = ints.astype(np.float32) * np.float32(2.0 ** (1 - bits))
        return out.reshape(-1, self.channels)

    def close(self) -> None:
        """Closes the file."""
        self._file.close()


def header(channels: int, rate: int, dtype: str) -> bytes:
    """hound's header for int16 (16-bit PCM) or float32 (32-bit float) samples, with the RIFF
    and data sizes 0 (`finalize` writes them)."""
    size, bits = (2, 16) if dtype == "int16" else (4, 32)
    per_second = rate * size * channels & 0xFFFF_FFFF  # hound's u32 arithmetic
    waveformat = struct.pack("<HIIH", channels, rate, per_second, (per_second // rate) & 0xFFFF)
    if channels > 2 or bits > 16:
        mask = (1 << min(channels, 18)) - 1
        subformat = SUBTYPE_PCM if dtype == "int16" else SUBTYPE_IEEE_FLOAT
        fmt = struct.pack("<IH", 40, EXTENSIBLE) + waveformat
        fmt += struct.pack("<HHHI", size * 8, 22, bits, mask) + subformat
    else:
        fmt = struct.pack("<IH", 16, PCM) + waveformat + struct.pack("<H", bits)
    return b"RIFF\0\0\0\0WAVEfmt " + fmt + b"data\0\0\0\0"


class WavWriter:
    """Writes samples of one format to an open file, as hound does."""

    def __init__(self, file: IO[bytes], channels: int, rate: int, dtype: str) -> None:
        """Writes the header to `file`, which is at offset 0."""
        self._file = file
        self._dtype = "<i2" if dtype == "int16" else "<f4"
        start = header(channels, rate, dtype)
        self._data_at = len(start) - 4
        self.data_bytes = 0
        file.write(start)

    def write(self, samples: Samples) -> None:
        """Appends interleaved samples.

        Raises:
            ValueError: The file would pass the 4 GiB a WAV file can hold.
        """
        data = samples.astype(self._dtype, copy=False).tobytes()
        if self.data_bytes + len(data) + self._data_at - 4 > MAX_DATA_BYTES:
            raise ValueError("a WAV file holds at most 4 GiB")
        self._file.write(data)
        self.data_bytes += len(data)

    def finalize(self) -> None:
        """Writes the sizes into the header and flushes the file."""
        self._file.seek(4)
        self._file.write(struct.pack("<I", self.data_bytes + self._data_at - 4))
        self._file.seek(self._data_at)
        self._file.write(struct.pack("<I", self.data_bytes))
        self._file.flush()
