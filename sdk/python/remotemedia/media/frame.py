"""Arrays and audio frames as items: `AudioFrame`, the supported dtypes, `check_item`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SUPPORTED_DTYPES = ("bool", "uint8", "int16", "int32", "int64", "float32", "float64")
"""The dtypes an array may have to pass between nodes."""

_DTYPES: dict[np.dtype[Any], str] = {np.dtype(name): name for name in SUPPORTED_DTYPES}
# A dict lookup by dtype is ~35 ns; `dtype.name` builds a string each time (~2 us).

_SAMPLE_DTYPES: dict[np.dtype[Any], str] = {
    np.dtype(np.float32): "float32",
    np.dtype(np.int16): "int16",
}

_U32_MAX = 2**32 - 1

MAX_DEPTH = 1000
"""How deep `check_item` and `payload_bytes` look into nested lists and maps."""


def _dtype_name(dtype: np.dtype[Any], names: dict[np.dtype[Any], str]) -> str | None:
    """`dtype`'s name if `names` has it, in either byte order."""
    name = names.get(dtype)
    if name is None and dtype.byteorder in "<>":  # only a non-native order needs the lookup
        name = names.get(dtype.newbyteorder("="))
    return name


def _unsupported_dtype(dtype: np.dtype[Any] | str) -> TypeError:
    # The host's message, word for word, with numpy's name of the dtype (`str128` for "<U4").
    name = dtype if isinstance(dtype, str) else dtype.name
    return TypeError(
        f"cannot pass an array of dtype {name} between nodes "
        f"(dtypes: {', '.join(SUPPORTED_DTYPES)})"
    )


class AudioFrame:
    """A frame of audio: samples, their rate, and the frame's start time.

    The samples are held by reference (never copied): a numpy array of float32 or int16, of
    shape `(n,)` for mono or `(n, channels)` for interleaved channels. The attributes are
    read-only; equal frames have the same rate, timestamp, dtype (in either byte order),
    shape and samples.
    """

    __slots__ = ("__weakref__", "_sample_rate", "_samples", "_timestamp")

    _samples: np.ndarray[Any, Any]
    _sample_rate: int
    _timestamp: float

    def __init__(
        self, samples: np.ndarray[Any, Any], sample_rate: int, timestamp: float = 0.0
    ) -> None:
        """Creates a frame over `samples` (not a copy).

        Args:
            samples: float32 or int16 samples, shape `(n,)` or `(n, channels)`, channels >= 1.
            sample_rate: Samples per second and channel: an integer from 1 to 2**32 - 1.
            timestamp: The frame's start in seconds: a finite number.

        Raises:
            TypeError: `samples` is not a numpy array of float32 or int16, `sample_rate` not
                an integer or `timestamp` not a number.
            ValueError: A shape other than `(n,)` or `(n, channels >= 1)`, a sample rate out
                of range, or a timestamp that is not finite.
        """
        if not isinstance(samples, np.ndarray):
            raise TypeError(
                f"AudioFrame samples must be a numpy array, got {type(samples).__name__}"
            )
        if _dtype_name(samples.dtype, _SAMPLE_DTYPES) is None:
            raise TypeError(
                f"AudioFrame samples must be float32 or int16, got {samples.dtype.name}"
            )
        shape = samples.shape
        if len(shape) not in (1, 2):
            raise ValueError(
                f"AudioFrame samples must have shape (n,) or (n, channels), got shape {shape}"
            )
        if len(shape) == 2 and shape[1] < 1:
            raise ValueError(
                f"AudioFrame samples must have at least one channel, got shape {shape}"
            )
        if not isinstance(sample_rate, int | np.integer) or isinstance(sample_rate, bool):
            raise TypeError(
                f"AudioFrame sample_rate must be an integer, got {type(sample_rate).__name__}"
            )
        if not 1 <= sample_rate <= _U32_MAX:
            raise ValueError(
                f"AudioFrame sample_rate must be from 1 to {_U32_MAX}, got {sample_rate}"
            )
        if not isinstance(timestamp, int | float | np.integer | np.floating) or isinstance(
            timestamp, bool
        ):
            raise TypeError(
                f"AudioFrame timestamp must be a number, got {type(timestamp).__name__}"
            )
        if not math.isfinite(timestamp):
            raise ValueError(f"AudioFrame timestamp must be finite, got {timestamp}")
        self._samples = samples
        self._sample_rate = int(sample_rate)
        self._timestamp = float(timestamp)

    @classmethod
    def _from_parts(
        cls, samples: np.ndarray[Any, Any], sample_rate: int, timestamp: float
    ) -> AudioFrame:
        """A frame from parts known to be valid (the native module's, which checked them):
        the same object as the constructor makes, without its checks."""
        frame = cls.__new__(cls)
        frame._samples = samples
        frame._sample_rate = sample_rate
        frame._timestamp = timestamp
        return frame

    @property
    def samples(self) -> np.ndarray[Any, Any]:
        """The samples: float32 or int16, shape `(n,)` or `(n, channels)`."""
        return self._samples

    @property
    def sample_rate(self) -> int:
        """Samples per second (and channel)."""
        return self._sample_rate

    @property
    def timestamp(self) -> float:
        """The frame's start, in seconds."""
        return self._timestamp

    @property
    def channels(self) -> int:
        """The number of channels: 1 for samples of shape `(n,)`."""
        shape = self._samples.shape
        return 1 if len(shape) == 1 else int(shape[1])

    @property
    def duration(self) -> float:
        """The frame's length in seconds: samples per channel over the sample rate."""
        return int(self._samples.shape[0]) / self._sample_rate

    def __eq__(self, other: object) -> bool:
        """Same rate, timestamp, dtype (in either byte order), shape and samples."""
        if not isinstance(other, AudioFrame):
            return NotImplemented
        a, b = self._samples, other._samples
        return (
            self._sample_rate == other._sample_rate
            and self._timestamp == other._timestamp
            and a.dtype.name == b.dtype.name  # byte order is layout, as C or Fortran order
            and a.shape == b.shape
            and bool(np.array_equal(a, b))
        )

    __hash__ = None  # type: ignore[assignment]  # equality looks at mutable samples

    def __repr__(self) -> str:
        """A short description, without the samples."""
        channels = self.channels
        return (
            f"AudioFrame({self._samples.shape[0]} samples x {channels} "
            f"channel{'' if channels == 1 else 's'} {self._samples.dtype}, "
            f"sample_rate={self._sample_rate}, timestamp={self._timestamp})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles by the constructor's arguments."""
        return (type(self), (self._samples, self._sample_rate, self._timestamp))


_CONTAINERS = (list, tuple, dict)

_NO_PAYLOAD = frozenset({type(None), bool, int, float, str})
"""Types of the common scalar items, answered by one set lookup of their exact type."""


def _children(value: Any) -> Any:
    return value.values() if isinstance(value, dict) else value


def check_item(value: Any) -> None:
    """Checks that an item can pass between nodes; cheap for a scalar or a single array.

    Lists, tuples and maps are looked into (to `MAX_DEPTH` levels, each one once).

    Raises:
        TypeError: An array of a dtype other than `SUPPORTED_DTYPES`, in the host's words.
    """
    if type(value) in _NO_PAYLOAD:
        return
    if isinstance(value, np.ndarray):
        if _dtype_name(value.dtype, _DTYPES) is None:
            raise _unsupported_dtype(value.dtype)
        return
    if not isinstance(value, _CONTAINERS):
        return
    seen: set[int] = set()
    todo = [(value, 0)]
    while todo:
        container, depth = todo.pop()
        if id(container) in seen or depth >= MAX_DEPTH:
            continue
        seen.add(id(container))
        for child in _children(container):
            if isinstance(child, np.ndarray):
                if _dtype_name(child.dtype, _DTYPES) is None:
                    raise _unsupported_dtype(child.dtype)
            elif isinstance(child, _CONTAINERS):
                todo.append((child, depth + 1))
