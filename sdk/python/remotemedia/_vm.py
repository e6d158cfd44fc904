"""What the SDK needs inside a RustPython VM (`runtime.python: "rustpython"`, DESIGN §4, §10).

A RustPython VM has no numpy and cannot load C extensions, and the host discovers plugins on
its own side, so nothing in the VM imports pluggy. This module holds the SDK's stand-ins there:

- `hookimpl`, `hookspec`: markers that record what pluggy's record without importing pluggy,
  so a plugin module written for pluggy (`@remotemedia.hookimpl`) imports unchanged and
  registers its hooks where pluggy reads it;
- `AudioFrame`: the audio frame whose samples are a memoryview (format 'f' or 'h'), as the host
  hands frames to a VM and takes them back;
- `DTYPE_FORMATS`, `FORMAT_DTYPES`, `format_dtype`: the array dtypes of DESIGN §4 as the
  struct formats of the read-only memoryviews that carry arrays in a VM;
- from `remotemedia._vm_imports`: `install_c_extension_guard` (the import of a C extension,
  which RustPython would report as a missing module, becomes an error that names the module
  and says why) and `when_imported`.

It imports under CPython too (its tests run there) and loads nothing but `sys` and `struct`:
the VM's start-up pays for every module imported here.
"""

from __future__ import annotations

import struct
import sys

from remotemedia._vm_imports import (
    CExtensionUnavailable,
    c_extension_cause,
    install_c_extension_guard,
    when_imported,
    without_pythonapi,
)

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "DTYPE_FORMATS",
    "FORMAT_DTYPES",
    "RUSTPYTHON",
    "AudioFrame",
    "CExtensionUnavailable",
    "c_extension_cause",
    "format_dtype",
    "hookimpl",
    "hookspec",
    "install_c_extension_guard",
    "when_imported",
    "without_pythonapi",
]

RUSTPYTHON = sys.implementation.name == "rustpython"
"""Whether this interpreter is RustPython (a pipeline's VM)."""


_DEFAULTS: dict[str, dict[str, Any]] = {
    "impl": {
        "wrapper": False,
        "hookwrapper": False,
        "optionalhook": False,
        "tryfirst": False,
        "trylast": False,
        "specname": None,
    },
    "spec": {
        "firstresult": False,
        "historic": False,
        "warn_on_impl": None,
        "warn_on_impl_args": None,
    },
}
"""What pluggy's markers record, by default: `remotemedia_impl` or `remotemedia_spec`."""


class _Marker:
    """A stand-in for a pluggy marker that does not import pluggy: `@marker` and
    `@marker(tryfirst=True, ...)` both give the function back, with the options recorded as
    pluggy's own marker records them (`remotemedia_impl`). So a plugin module imported first
    in a pipeline's VM (which never imports pluggy) still registers its hooks when the VM
    that discovers plugins, which does, reads it."""

    __slots__ = ("_kind",)

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def __call__(self, function: Any = None, **options: Any) -> Any:
        """The function, marked; without one (options only), what marks it."""

        def mark(target: Any) -> Any:
            setattr(target, f"remotemedia_{self._kind}", {**_DEFAULTS[self._kind], **options})
            return target

        return mark if function is None else mark(function)

    def __repr__(self) -> str:
        """Says which marker this stands in for."""
        return f"<remotemedia hook{self._kind} marker without pluggy>"


hookimpl = _Marker("impl")
"""`remotemedia.hookimpl` in a RustPython VM."""

hookspec = _Marker("spec")
"""`remotemedia.hookspec` in a RustPython VM."""


# Arrays (DESIGN §4).

DTYPE_FORMATS = {
    "bool": "?",
    "uint8": "B",
    "int16": "h",
    "int32": "i",
    "int64": "q",
    "float32": "f",
    "float64": "d",
}
"""The struct format of a memoryview carrying an array of each supported dtype."""

_SUPPORTED = ", ".join(DTYPE_FORMATS)

# Numeric formats by kind; the size (native for "@" or no prefix, standard for "=<>!") tells
# the dtype, so "l" is int64 on 64-bit Linux and "<l" is int32.
_KINDS = {"?": "bool"} | dict.fromkeys("bhilqn", "int") | dict.fromkeys("BHILQN", "uint")
_KINDS |= dict.fromkeys("efd", "float")
_STANDARD_SIZES = {"?": 1, "b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "l": 4, "L": 4}
_STANDARD_SIZES.update({"q": 8, "Q": 8, "e": 2, "f": 4, "d": 8})
_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"
_PREFIXES = ("@", "=", "<", ">", "!")


def _dtype_name(format: str) -> str | None:
    """numpy's name of the dtype a struct format describes (unsupported ones included), or
    None for a format that is not one number: a struct, several items, a pointer."""
    prefix, char = (format[:1], format[1:]) if format[:1] in _PREFIXES else ("", format)
    kind = _KINDS.get(char)
    if kind is None:
        return None
    if prefix in ("", "@"):
        size = struct.calcsize(char)
    elif char in _STANDARD_SIZES:
        size = _STANDARD_SIZES[char]
    else:
        return None  # "n" and "N" have native sizes only
    name = "bool" if kind == "bool" else f"{kind}{8 * size}"
    if prefix in ("!", ">", "<") and size > 1 and prefix.replace("!", ">") != _NATIVE_ORDER:
        name += " (big-endian)" if _NATIVE_ORDER == "<" else " (little-endian)"
    return name


FORMAT_DTYPES = {
    f"{prefix}{char}": name
    for prefix in ("", *_PREFIXES)
    for char in _KINDS
    if (name := _dtype_name(f"{prefix}{char}")) in DTYPE_FORMATS
}
"""The supported dtype of each struct format a memoryview may have, byte order prefixes
included ("f", "<f", "=f", and "l" where a C long is 64 bits)."""


def format_dtype(format: str) -> str:
    """The dtype of a memoryview of this struct format, for an array that passes between nodes.

    Raises:
        TypeError: A format of no supported dtype (int8, a struct, another byte order), in
            the host's words.
    """
    name = FORMAT_DTYPES.get(format)
    if name is None:
        dtype = _dtype_name(format)
        found = f"dtype {dtype}" if dtype else f"struct format {format!r}"
        raise TypeError(f"cannot pass an array of {found} between nodes (dtypes: {_SUPPORTED})")
    return name


# Audio frames.

_SAMPLE_DTYPES = ("float32", "int16")
_U32_MAX = 2**32 - 1
_INF = float("inf")


class AudioFrame:
    """A frame of audio in a RustPython VM: samples, their rate, and the frame's start time.

    The samples are a memoryview, held as given (never copied, a read-only one stays
    read-only): format 'f' (float32) or 'h' (int16), of shape `(n,)` for mono or
    `(n, channels)` for interleaved channels. The attributes are read-only; equal frames have
    the same rate, timestamp, dtype, shape and samples, bit for bit.
    """

    __slots__ = ("__weakref__", "_sample_rate", "_samples", "_timestamp")

    _samples: memoryview
    _sample_rate: int
    _timestamp: float

    def __init__(self, samples: memoryview, sample_rate: int, timestamp: float = 0.0) -> None:
        """Creates a frame over `samples` (not a copy).

        Args:
            samples: float32 or int16 samples, shape `(n,)` or `(n, channels)`, channels >= 1.
            sample_rate: Samples per second and channel: an integer from 1 to 2**32 - 1.
            timestamp: The frame's start in seconds: a finite number.

        Raises:
            TypeError: `samples` is not a memoryview of float32 or int16, `sample_rate` not an
                integer or `timestamp` not a number.
            ValueError: A shape other than `(n,)` or `(n, channels >= 1)`, a sample rate out
                of range, or a timestamp that is not finite.
        """
        if not isinstance(samples, memoryview):
            raise TypeError(
                "AudioFrame samples must be a memoryview (RustPython has no numpy; wrap an "
                f"array.array in memoryview()), got {type(samples).__name__}"
            )
        dtype = FORMAT_DTYPES.get(samples.format)
        if dtype not in _SAMPLE_DTYPES:
            found = dtype or _dtype_name(samples.format) or f"format {samples.format!r}"
            raise TypeError(f"AudioFrame samples must be float32 or int16, got {found}")
        shape = tuple(samples.shape or ())
        if len(shape) not in (1, 2):
            raise ValueError(
                f"AudioFrame samples must have shape (n,) or (n, channels), got shape {shape}"
            )
        if len(shape) == 2 and shape[1] < 1:
            raise ValueError(
                f"AudioFrame samples must have at least one channel, got shape {shape}"
            )
        if not isinstance(sample_rate, int) or isinstance(sample_rate, bool):
            raise TypeError(
                f"AudioFrame sample_rate must be an integer, got {type(sample_rate).__name__}"
            )
        if not 1 <= sample_rate <= _U32_MAX:
            raise ValueError(
                f"AudioFrame sample_rate must be from 1 to {_U32_MAX}, got {sample_rate}"
            )
        if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
            raise TypeError(
                f"AudioFrame timestamp must be a number, got {type(timestamp).__name__}"
            )
        if not -_INF < timestamp < _INF:  # NaN fails both comparisons
            raise ValueError(f"AudioFrame timestamp must be finite, got {timestamp}")
        self._samples = samples
        self._sample_rate = int(sample_rate)
        self._timestamp = float(timestamp)

    @classmethod
    def _from_parts(cls, samples: memoryview, sample_rate: int, timestamp: float) -> AudioFrame:
        """A frame from parts known to be valid (the host's, which checked them): the same
        object as the constructor makes, without its checks."""
        frame = cls.__new__(cls)
        frame._samples = samples
        frame._sample_rate = sample_rate
        frame._timestamp = timestamp
        return frame

    @property
    def samples(self) -> memoryview:
        """The samples: format 'f' or 'h', shape `(n,)` or `(n, channels)`."""
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
        shape = self._samples.shape or ()
        return 1 if len(shape) == 1 else int(shape[1])

    @property
    def duration(self) -> float:
        """The frame's length in seconds: samples per channel over the sample rate."""
        shape = self._samples.shape or ()
        return int(shape[0]) / self._sample_rate

    @property
    def dtype(self) -> str:
        """The samples' dtype: "float32" or "int16"."""
        return FORMAT_DTYPES[self._samples.format]

    def __eq__(self, other: object) -> bool:
        """Same rate, timestamp, dtype, shape and sample bytes."""
        if not isinstance(other, AudioFrame):
            return NotImplemented
        a, b = self._samples, other._samples
        return (
            self._sample_rate == other._sample_rate
            and self._timestamp == other._timestamp
            and FORMAT_DTYPES[a.format] == FORMAT_DTYPES[b.format]
            and a.shape == b.shape
            and a.tobytes() == b.tobytes()
        )

    __hash__ = None  # type: ignore[assignment]  # equality looks at mutable samples

    def __repr__(self) -> str:
        """A short description, without the samples."""
        channels = self.channels
        shape = self._samples.shape or (0,)
        return (
            f"AudioFrame({shape[0]} samples x {channels} "
            f"channel{'' if channels == 1 else 's'} {self.dtype}, "
            f"sample_rate={self._sample_rate}, timestamp={self._timestamp})"
        )
