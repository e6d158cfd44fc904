"""Media values (DESIGN §4): bytes, numpy arrays and audio frames, beside the JSON-like items.

- `AudioFrame`: samples (a float32 or int16 array, mono or interleaved), a sample rate and a
  start time, carried by reference like any item;
- `check_item`: what cannot pass between nodes (an array of another dtype), in the host's
  words, so both engines fail alike;
- `payload_bytes`: the media bytes an item holds, which the executor's byte-bounded queues
  count (`runtime.channel_bytes`);
- `to_json_form` / `from_json_form`: the JSON-lines form of these values (`{"$bytes": ...}`,
  `{"$array": ...}`, `{"$audio": ...}`), for the CLI and manifest parameters.

Arrays of the supported dtypes pass in either byte order (the host borrows a little-endian
array's memory and copies a big-endian one once); their JSON form is little-endian, C order.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np

from remotemedia._payload import payload_bytes
from remotemedia.manifest.problems import describe

__all__ = [
    "SUPPORTED_DTYPES",
    "AudioFrame",
    "check_item",
    "from_json_form",
    "payload_bytes",
    "to_json_form",
]

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


def _b64(data: bytes, limit: int | None) -> str:
    return base64.b64encode(data if limit is None else data[:limit]).decode("ascii")


def _little_endian(array: np.ndarray[Any, Any], limit: int | None) -> bytes:
    """The array's data, little-endian in C order; with `limit`, only its first bytes."""
    flat = np.ascontiguousarray(array).reshape(-1)
    if limit is not None:
        flat = flat[: -(-limit // max(flat.itemsize, 1))]
    return flat.astype(flat.dtype.newbyteorder("<"), copy=False).tobytes()


def to_json_form(value: Any, *, max_data_bytes: int | None = None) -> Any:
    """A value as JSON-able data: bytes, arrays and frames in their JSON-lines form
    (DESIGN §4), lists, tuples and maps converted through; anything else as it is.

    Args:
        value: Any item.
        max_data_bytes: Encode at most this many bytes of each payload: a preview for
            messages, which does not read back as the value. `None` encodes everything.

    Returns:
        The JSON-able data.

    Raises:
        TypeError: An array of an unsupported dtype.
    """
    if isinstance(value, bytes):
        return {"$bytes": _b64(value, max_data_bytes)}
    if isinstance(value, np.ndarray):
        name = _dtype_name(value.dtype, _DTYPES)
        if name is None:
            raise _unsupported_dtype(value.dtype)
        return {
            "$array": {
                "dtype": name,
                "shape": [int(n) for n in value.shape],
                "data": _b64(_little_endian(value, max_data_bytes), max_data_bytes),
            }
        }
    if isinstance(value, AudioFrame):
        samples = value.samples
        return {
            "$audio": {
                "sample_rate": value.sample_rate,
                "channels": value.channels,
                "timestamp": value.timestamp,
                "dtype": samples.dtype.name,
                "data": _b64(_little_endian(samples, max_data_bytes), max_data_bytes),
            }
        }
    if isinstance(value, list | tuple):
        return [to_json_form(v, max_data_bytes=max_data_bytes) for v in value]
    if isinstance(value, dict):
        return {k: to_json_form(v, max_data_bytes=max_data_bytes) for k, v in value.items()}
    return value


def from_json_form(obj: Any, *, at: str = "") -> Any:
    """JSON data (as `json.loads` gives it) with every JSON-lines form of a media value read
    back: an object whose only key is `$bytes`, `$array` or `$audio`, at any depth (a
    reserved key beside other keys is an error, as for the host). An `$audio` form may leave
    out `timestamp` (0.0); one channel reads back as samples of shape `(n,)`.

    Arrays and frames' samples are read-only views over the decoded bytes.

    Args:
        obj: The data.
        at: Where `obj` is, to locate problems in a larger document (`nodes[0].params.x`).

    Raises:
        ValueError: A malformed form, naming where and what (`$array.shape: ...`,
            `[2].k.$bytes: ...` inside a list and a map).
    """
    return _decode(obj, at)


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _decode(obj: Any, at: str) -> Any:
    if isinstance(obj, list):
        return [_decode(v, f"{at}[{i}]") for i, v in enumerate(obj)]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        ((key, body),) = obj.items()
        decoder = _DECODERS.get(key)
        if decoder is not None:
            return decoder(body, _join(at, key))
    decoded = {}
    for k, v in obj.items():
        if k in _DECODERS:  # beside other keys: neither a map nor a media value (as the host)
            others = ", ".join(f'"{o}"' for o in obj if o != k)
            raise _fail(
                _join(at, k),
                f'reserved key "{k}" must be the only key of its object ({others} too)',
            )
        decoded[k] = _decode(v, _join(at, k))
    return decoded


def _fail(at: str, reason: str) -> ValueError:
    return ValueError(f"{at}: {reason}")


def _base64(text: Any, at: str) -> bytes:
    if not isinstance(text, str):
        raise _fail(at, f"expected a base64 string, got {describe(text)}")
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except ValueError:  # binascii.Error is one, and so is a non-ASCII string
        raise _fail(at, "invalid base64 (standard alphabet, with padding)") from None


def _fields(
    body: Any, at: str, names: tuple[str, ...], defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The fields of a form's body: exactly `names`, those in `defaults` optional."""
    if not isinstance(body, dict):
        listed = ", ".join(f'"{n}"' for n in names)
        raise _fail(at, f"expected an object with {listed}, got {describe(body)}")
    for key in body:
        if key not in names:
            raise _fail(_join(at, key), f'unknown field "{key}"')
    fields = {**(defaults or {}), **body}
    for name in names:
        if name not in fields:
            raise _fail(at, f'missing field "{name}"')
    return fields


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _native_order(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The little-endian data as it is on a little-endian machine; swapped on another."""
    native = array.dtype.newbyteorder("=")
    return array if array.dtype == native else array.astype(native)


def _decode_bytes(body: Any, at: str) -> bytes:
    return _base64(body, at)


def _decode_array(body: Any, at: str) -> np.ndarray[Any, Any]:
    fields = _fields(body, at, ("dtype", "shape", "data"))
    name, shape = fields["dtype"], fields["shape"]
    if name not in SUPPORTED_DTYPES:
        reason = (
            str(_unsupported_dtype(name))
            if isinstance(name, str)
            else f"expected a dtype name, got {describe(name)}"
        )
        raise _fail(_join(at, "dtype"), reason)
    if not isinstance(shape, list) or not all(_is_int(n) and n >= 0 for n in shape):
        got = describe(shape)
        raise _fail(_join(at, "shape"), f"expected a list of non-negative integers, got {got}")
    raw = _base64(fields["data"], _join(at, "data"))
    dtype = np.dtype(name).newbyteorder("<")
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise _fail(
            _join(at, "data"),
            f"{len(raw)} bytes do not match shape {shape} of {name} ({expected} bytes)",
        )
    if name == "bool" and raw.translate(None, b"\x00\x01"):
        raise _fail(_join(at, "data"), "a bool array holds only the bytes 0 and 1")
    return _native_order(np.frombuffer(raw, dtype=dtype)).reshape(shape)


def _decode_audio(body: Any, at: str) -> AudioFrame:
    names = ("sample_rate", "channels", "timestamp", "dtype", "data")
    fields = _fields(body, at, names, {"timestamp": 0.0})
    rate, channels, timestamp, name = (
        fields["sample_rate"],
        fields["channels"],
        fields["timestamp"],
        fields["dtype"],
    )
    if not _is_int(rate) or not 1 <= rate <= _U32_MAX:
        got = describe(rate)
        raise _fail(
            _join(at, "sample_rate"), f"expected an integer from 1 to {_U32_MAX}, got {got}"
        )
    if not _is_int(channels) or channels < 1:
        raise _fail(
            _join(at, "channels"), f"expected an integer of at least 1, got {describe(channels)}"
        )
    if not (isinstance(timestamp, int | float) and not isinstance(timestamp, bool)) or not (
        math.isfinite(timestamp)
    ):
        raise _fail(_join(at, "timestamp"), f"expected a finite number, got {describe(timestamp)}")
    if name not in ("float32", "int16"):
        raise _fail(_join(at, "dtype"), f'expected "float32" or "int16", got {describe(name)}')
    raw = _base64(fields["data"], _join(at, "data"))
    dtype = np.dtype(name).newbyteorder("<")
    per_sample = channels * dtype.itemsize
    if len(raw) % per_sample:
        raise _fail(
            _join(at, "data"),
            f"{len(raw)} bytes are not a whole number of {channels}-channel {name} samples "
            f"({per_sample} bytes each)",
        )
    samples = _native_order(np.frombuffer(raw, dtype=dtype))
    if channels > 1:
        samples = samples.reshape(-1, channels)
    return AudioFrame._from_parts(samples, rate, float(timestamp))


_DECODERS: dict[str, Any] = {
    "$bytes": _decode_bytes,
    "$array": _decode_array,
    "$audio": _decode_audio,
}
"""The reserved keys, and how each one's body reads back."""
