"""What the audio nodes share, without numpy (plugin discovery imports the node classes and
must not pay for it): a stream's format, taking an item as a frame, frame lengths and times,
and the parameter checks, each in the host's words (host/src/node/builtin/audio/frame.rs).
"""

from __future__ import annotations

import math
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from remotemedia.nodes.arithmetic import brief, value_kind

if TYPE_CHECKING:
    from collections.abc import Callable

    from remotemedia.media import AudioFrame

MAX_FRAME_MS = 60_000.0
"""The largest `frame_ms` the audio nodes take: one minute per frame."""


class Format(NamedTuple):
    """What must stay the same from one frame of a stream to the next."""

    rate: int
    channels: int
    dtype: str

    @classmethod
    def of(cls, frame: AudioFrame) -> Format:
        """The format of `frame`; the dtype by name, in either byte order."""
        return cls(frame.sample_rate, frame.channels, frame.samples.dtype.name)

    def __str__(self) -> str:
        """As the host writes it: `16000 Hz, 1 channel, float32`."""
        plural = "" if self.channels == 1 else "s"
        return f"{self.rate} Hz, {self.channels} channel{plural}, {self.dtype}"


def same_format(a: Format, b: Format) -> bool:
    """Rate, channels and dtype alike."""
    return a == b


def same_layout(a: Format, b: Format) -> bool:
    """Rate and channels alike (the dtype may change)."""
    return a.rate == b.rate and a.channels == b.channels


def check_format(
    node: str, first: Format | None, frame: AudioFrame, same: Callable[[Format, Format], bool]
) -> Format:
    """The format of `frame`, checked against the stream's first (`None` for the first frame).

    Raises:
        ValueError: `same` tells the formats apart; the message names both.
    """
    now = Format.of(frame)
    if first is not None and not same(first, now):
        raise ValueError(f"{node}: the stream changed format mid-stream, from {first} to {now}")
    return now


def expect_audio(node: str, item: Any) -> AudioFrame:
    """`item` as a frame.

    Raises:
        TypeError: `item` is not an `AudioFrame`; the message names the node and the item.
    """
    # Looked up, not imported: while remotemedia.media is not loaded no item is a frame.
    media = sys.modules.get("remotemedia.media")
    if media is not None and isinstance(item, media.AudioFrame):
        frame: AudioFrame = item
        return frame
    vm = sys.modules.get("remotemedia._vm")
    if vm is not None and vm.RUSTPYTHON and isinstance(item, vm.AudioFrame):
        # A RustPython VM's frame: this node's Python code works on numpy arrays.
        raise TypeError(
            f"the Python code of {node} needs numpy, which RustPython cannot load: run it on "
            'CPython (runtime.python "cpython"), or as the built-in Rust node (no runtime_hint)'
        )
    raise TypeError(f"{node} expects an audio frame, got {value_kind(item)} {brief(item)}")


def round_half_away(x: float) -> int:
    """`x` rounded to the nearest integer, halves away from zero (Rust's `f64::round`)."""
    whole = math.trunc(x)
    if abs(x - whole) >= 0.5:  # exact: a float less its integer part is representable
        whole += 1 if x > 0 else -1
    return whole


def frame_len(rate: int, frame_ms: float) -> int:
    """Samples per channel in a frame of `frame_ms` at `rate`: rounded, at least one."""
    return max(1, round_half_away(float(rate) * frame_ms / 1000.0))


def time_at(start: float, samples: int, rate: int) -> float:
    """`start + samples / rate`: the time of a stream's `samples`-th sample."""
    return start + samples / rate


def rust_number(value: float) -> str:
    """A number as the host's messages print it (Rust's `{}` of an `f64`): the shortest
    digits that read back as the value, never an exponent (`300`, `0.5`, `1e21` written out).
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def number_param(node: str, param: str, value: Any) -> float:
    """A number parameter (an int or a float, not a `bool`), as a float.

    Raises:
        TypeError: Anything else, named as `Multiply` names it.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{node} parameter {param} must be a number, got {value_kind(value)} {brief(value)}"
        )
    return float(value)


def string_param(node: str, param: str, value: Any) -> str:
    """A string parameter, not empty (the host's check).

    Raises:
        TypeError: Not a string.
        ValueError: Empty.
    """
    if not isinstance(value, str):
        raise TypeError(
            f"{node} parameter {param} must be a string, got {value_kind(value)} {brief(value)}"
        )
    if not value:
        raise ValueError(f"{node} parameter {param} must not be empty")
    return value


def frame_ms_param(node: str, value: Any) -> float:
    """`frame_ms`: above 0 and at most `MAX_FRAME_MS`.

    Raises:
        TypeError: Not a number.
        ValueError: Out of range, in the host's words.
    """
    ms = number_param(node, "frame_ms", value)
    if not 0.0 < ms <= MAX_FRAME_MS:
        raise ValueError(
            f"{node} parameter frame_ms must be above 0 and at most "
            f"{rust_number(MAX_FRAME_MS)} (one minute), got {rust_number(ms)}"
        )
    return ms


def os_error_text(error: OSError) -> str:
    """An `OSError` as Rust's `std::io::Error` prints it: `No such file or directory (os error
    2)`; without an errno, its message."""
    if error.errno is not None and error.strerror:
        return f"{error.strerror} (os error {error.errno})"
    return str(error)
