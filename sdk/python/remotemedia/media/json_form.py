"""The JSON-lines form of media values (DESIGN §4): `{"$bytes": ...}`, `{"$array": ...}`,
`{"$audio": ...}`, for the CLI and manifest parameters; data little-endian, C order."""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np

from remotemedia.manifest.problems import describe
from remotemedia.media.frame import (
    _DTYPES,
    _U32_MAX,
    SUPPORTED_DTYPES,
    AudioFrame,
    _dtype_name,
    _unsupported_dtype,
)


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
