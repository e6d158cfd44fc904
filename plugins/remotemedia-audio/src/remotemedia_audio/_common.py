"""What the nodes share: parameter checks, the audio-frame check, samples as float64."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

# numpy (and AudioFrame, which imports it) are imported by the functions that need them, when a
# node runs: plugin discovery imports the nodes' modules, and with them this one.
if TYPE_CHECKING:
    import numpy as np

    from remotemedia.media import AudioFrame

INT16_SCALE = 32768.0
"""int16 samples are read as `value / 32768`, so full scale is [-1, 1) as for float32."""


def number(node: str, key: str, value: object, low: float, high: float) -> float:
    """`value` as a float, if it is a finite number (not a bool) within [low, high].

    Raises:
        ValueError: Anything else, naming the node type, the parameter and the range.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
        if math.isfinite(result) and low <= result <= high:
            return result
    raise ValueError(f"{node} {key} must be a number from {low} to {high}, got {value!r}")


def integer(node: str, key: str, value: object, low: int, high: int) -> int:
    """`value` if it is an int (not a bool) within [low, high].

    Raises:
        ValueError: Anything else, naming the node type, the parameter and the range.
    """
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{node} {key} must be an integer from {low} to {high}, got {value!r}")
    return value


def describe(item: object) -> str:
    """A short description of an item for an error message (never the whole of a big one)."""
    import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

    if isinstance(item, dict):
        text = repr(item)
        return f"a map {text if len(text) <= 120 else text[:117] + '...'}"
    if isinstance(item, np.ndarray):
        return f"an array of dtype {item.dtype} and shape {item.shape}"
    return f"a {type(item).__name__}"


def audio_frame(node: str, item: object) -> AudioFrame:
    """`item` if it is an audio frame.

    Raises:
        TypeError: Anything else, naming the node type and what it got.
    """
    from remotemedia.media import AudioFrame  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

    if not isinstance(item, AudioFrame):
        raise TypeError(f"{node} takes audio frames, got {describe(item)}")
    return item


def as_float(samples: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Samples as float64 of shape `(n, channels)`, int16 scaled by 1/32768 (a new array)."""
    import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

    values = np.asarray(samples, dtype=np.float64)
    if samples.dtype == np.int16:
        values /= INT16_SCALE
    return values.reshape(values.shape[0], 1 if values.ndim == 1 else values.shape[1])


def same_format(node: str, first: AudioFrame, frame: AudioFrame) -> None:
    """Checks that `frame` has the rate, channel count and dtype of the stream's first frame.

    Raises:
        ValueError: One of them changed, naming both values.
    """
    for what, was, now in (
        ("sample rate", first.sample_rate, frame.sample_rate),
        ("channel count", first.channels, frame.channels),
        ("dtype", first.samples.dtype.name, frame.samples.dtype.name),
    ):
        if was != now:
            raise ValueError(
                f"{node}: the {what} changed within the stream, from {was} to {now} "
                f"(at the frame of timestamp {frame.timestamp})"
            )


def format_of(frame: AudioFrame) -> AudioFrame:
    """An empty frame of `frame`'s rate, channels and dtype, to check later frames against
    with `same_format` without keeping `frame`'s samples alive."""
    import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

    from remotemedia.media import AudioFrame  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

    empty = np.empty((0, *frame.samples.shape[1:]), dtype=frame.samples.dtype)
    return AudioFrame(empty, frame.sample_rate, frame.timestamp)
