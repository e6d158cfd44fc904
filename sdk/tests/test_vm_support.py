"""`remotemedia._vm`, what the SDK uses inside a RustPython VM, checked under CPython: the
plugin markers, the memoryview `AudioFrame`, the dtype formats, and the SDK's import there
(simulated: `sys.implementation.name`). Its import hooks are in test_vm_imports.py."""

from __future__ import annotations

import array
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from remotemedia._payload import payload_bytes
from remotemedia._vm import (
    DTYPE_FORMATS,
    FORMAT_DTYPES,
    AudioFrame,
    format_dtype,
    hookimpl,
    hookspec,
)


def f() -> int:
    return 1


@pytest.mark.parametrize("marker", [hookimpl, hookspec])
def test_the_markers_give_the_function_back(marker: Any) -> None:
    assert marker(f) is f
    assert marker(tryfirst=True)(f) is f
    assert marker()(f) is f


@pytest.mark.parametrize(
    ("ours", "options"),
    [(hookimpl, {}), (hookimpl, {"tryfirst": True, "specname": "x"}), (hookspec, {})],
)
def test_the_markers_record_what_pluggys_record(ours: Any, options: dict[str, Any]) -> None:
    import pluggy  # noqa: PLC0415 -- the comparison needs it; _vm itself never imports it

    kind = "impl" if ours is hookimpl else "spec"
    theirs = (pluggy.HookimplMarker if kind == "impl" else pluggy.HookspecMarker)("remotemedia")

    def a() -> None: ...

    def b() -> None: ...

    ours(**options)(a)
    theirs(**options)(b)
    assert getattr(a, f"remotemedia_{kind}") == getattr(b, f"remotemedia_{kind}")


def test_pluggy_registers_a_plugin_marked_without_pluggy() -> None:
    """A plugin module imported first in a pipeline's VM (plain markers) still registers its
    node types when the VM that discovers plugins reads it with pluggy."""
    import types  # noqa: PLC0415

    import pluggy  # noqa: PLC0415

    from remotemedia import hookspecs  # noqa: PLC0415
    from remotemedia.testing import Double  # noqa: PLC0415

    plugin = types.ModuleType("plain_plugin")

    @hookimpl
    def remotemedia_node_types() -> list[type]:
        return [Double]

    plugin.remotemedia_node_types = remotemedia_node_types  # type: ignore[attr-defined]
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(plugin)
    assert manager.hook.remotemedia_node_types() == [[Double]]


def floats(n: int) -> memoryview:
    return memoryview(array.array("f", [0.5] * n))


def test_a_frame_holds_its_memoryview_without_copying() -> None:
    original = array.array("f", [0.25] * 160)
    samples = memoryview(original)
    frame = AudioFrame(samples, 16000, 1.5)
    assert frame.samples is samples
    assert frame.samples.obj is original
    assert (frame.sample_rate, frame.timestamp, frame.channels) == (16000, 1.5, 1)
    assert frame.duration == 0.01
    assert frame.dtype == "float32"
    assert repr(frame) == (
        "AudioFrame(160 samples x 1 channel float32, sample_rate=16000, timestamp=1.5)"
    )


def test_interleaved_int16_samples_and_read_only_views() -> None:
    stereo = memoryview(bytes(16)).cast("h", (4, 2))  # bytes: read-only
    frame = AudioFrame(stereo, 8000)
    assert (frame.channels, frame.duration, frame.timestamp) == (2, 4 / 8000, 0.0)
    assert frame.samples.readonly
    assert "4 samples x 2 channels int16" in repr(frame)
    for name in ("samples", "sample_rate", "timestamp", "channels", "duration"):
        with pytest.raises(AttributeError):
            setattr(frame, name, None)
    with pytest.raises(TypeError, match="unhashable"):
        hash(frame)


@pytest.mark.parametrize(
    ("samples", "rate", "timestamp", "error", "message"),
    [
        ([0.0], 16000, 0.0, TypeError, "must be a memoryview .*got list"),
        (np.zeros(4, "f4"), 16000, 0.0, TypeError, "must be a memoryview .*got ndarray"),
        (memoryview(bytes(8)).cast("d"), 16000, 0.0, TypeError, "float32 or int16, got float64"),
        (memoryview(bytes(8)).cast("b"), 16000, 0.0, TypeError, "float32 or int16, got int8"),
        (
            memoryview(np.zeros(2, ">f4")),
            16000,
            0.0,
            TypeError,
            r"float32 or int16, got float32 \(big-endian\)",
        ),
        (
            memoryview(bytes(32)).cast("f", (2, 2, 2)),
            16000,
            0.0,
            ValueError,
            r"shape \(n,\) or \(n, channels\), got shape \(2, 2, 2\)",
        ),
        (
            memoryview(np.zeros((3, 0), "f4")),
            16000,
            0.0,
            ValueError,
            r"at least one channel, got shape \(3, 0\)",
        ),
        (floats(4), 16000.0, 0.0, TypeError, "sample_rate must be an integer, got float"),
        (floats(4), True, 0.0, TypeError, "sample_rate must be an integer, got bool"),
        (floats(4), 0, 0.0, ValueError, "sample_rate must be from 1 to 4294967295, got 0"),
        (floats(4), 2**32, 0.0, ValueError, "sample_rate must be from 1 to 4294967295"),
        (floats(4), 16000, "0", TypeError, "timestamp must be a number, got str"),
        (floats(4), 16000, False, TypeError, "timestamp must be a number, got bool"),
        (floats(4), 16000, math.nan, ValueError, "timestamp must be finite, got nan"),
        (floats(4), 16000, -math.inf, ValueError, "timestamp must be finite, got -inf"),
    ],
)
def test_a_frame_refuses_what_the_numpy_frame_refuses(
    samples: Any, rate: Any, timestamp: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        AudioFrame(samples, rate, timestamp)


def test_frames_are_equal_by_dtype_shape_bytes_rate_and_timestamp() -> None:
    data = array.array("h", range(8))
    frame = AudioFrame(memoryview(data), 8000, 0.5)
    assert frame == AudioFrame(memoryview(array.array("h", range(8))), 8000, 0.5)
    assert frame == AudioFrame(memoryview(data.tobytes()).cast("h"), 8000, 0.5)
    assert frame != AudioFrame(memoryview(data), 16000, 0.5)
    assert frame != AudioFrame(memoryview(data), 8000, 0.0)
    assert frame != AudioFrame(memoryview(data).cast("B").cast("h", (4, 2)), 8000, 0.5)
    assert frame != AudioFrame(memoryview(array.array("h", range(1, 9))), 8000, 0.5)
    assert frame != AudioFrame(memoryview(data).cast("B").cast("f"), 8000, 0.5)
    assert frame != "a frame"
    assert AudioFrame._from_parts(memoryview(data), 8000, 0.5) == frame


def test_payload_bytes_counts_memoryviews_and_their_frames() -> None:
    view = memoryview(bytes(12)).cast("f")
    frame = AudioFrame(view, 16000)
    assert payload_bytes(view) == 12
    assert payload_bytes(frame) == 12
    assert payload_bytes([frame, {"a": view, "b": b"xy"}, 3]) == 26


def test_each_dtype_has_the_format_numpy_gives_its_memoryview() -> None:
    assert list(DTYPE_FORMATS) == ["bool", "uint8", "int16", "int32", "int64", "float32", "float64"]
    for dtype, format in DTYPE_FORMATS.items():
        assert FORMAT_DTYPES[format] == dtype
        assert format_dtype(memoryview(np.zeros(2, dtype)).format) == dtype  # int64 is "l"
        assert memoryview(bytes(16)).cast(format).itemsize == np.dtype(dtype).itemsize


@pytest.mark.parametrize(
    ("format", "dtype"),
    [("<f", "float32"), ("=d", "float64"), ("@q", "int64"), ("<l", "int32"), (">B", "uint8")],
)
def test_byte_order_prefixes_are_read_with_their_sizes(format: str, dtype: str) -> None:
    assert format_dtype(format) == dtype


@pytest.mark.parametrize(
    ("format", "named"),
    [
        ("b", "dtype int8"),
        ("H", "dtype uint16"),
        ("e", "dtype float16"),
        (">h", r"dtype int16 \(big-endian\)"),
        ("T{f}", "struct format 'T{f}'"),
        ("2f", "struct format '2f'"),
    ],
)
def test_an_unsupported_format_is_an_error_naming_it(format: str, named: str) -> None:
    supported = r"\(dtypes: bool, uint8, int16, int32, int64, float32, float64\)"
    with pytest.raises(
        TypeError, match=rf"^cannot pass an array of {named} between nodes {supported}$"
    ):
        format_dtype(format)


# The SDK's import in a VM, simulated in a fresh CPython.

_AS_RUSTPYTHON = """
import socket, sys, types

sys.implementation = types.SimpleNamespace(**{**vars(sys.implementation), "name": "rustpython"})
import remotemedia
from remotemedia import _vm, _vm_imports
import remotemedia.nodes
from remotemedia.driver import StageDriver

assert remotemedia.hookimpl is _vm.hookimpl and remotemedia.hookspec is _vm.hookspec
assert remotemedia.AudioFrame is _vm.AudioFrame
assert isinstance(sys.meta_path[-1], _vm_imports._CExtensionGuard)


class Mailbox:
    def __init__(self):
        self.requests, self.replies = [], {}
    def take(self):
        requests, self.requests = self.requests, []
        return requests
    def reply(self, token, kind, payload):
        self.replies[token] = (kind, payload)
    def started(self, ident): pass
    def running(self, busy): pass


class Halves(remotemedia.Node):
    def process(self, frame):
        n = frame.samples.shape[0] // 2
        for i, half in enumerate((frame.samples[:n], frame.samples[n:])):
            yield remotemedia.AudioFrame(half, frame.sample_rate, i * n / frame.sample_rate)


mailbox, (host_end, loop_end) = Mailbox(), socket.socketpair()
driver = StageDriver(mailbox, loop_end.fileno())
loop_end.close()


def ask(token, op, payload=None):
    mailbox.requests.append((token, op, payload))
    driver._take()
    return mailbox.replies.pop(token, None)  # None: answered later


# One output's bytes fill the room: the generator is resumed by each pull.
frame = remotemedia.AudioFrame(memoryview(bytes(16)).cast("f"), 4)
assert ask(1, "create", ([("h", "", "", {}, Halves(name="h"))], 8, 8)) == ("ack", None)
assert ask(2, "init") == ("ack", None)
assert ask(3, "push", [frame]) is None  # no room for the second half yet
kind, first = ask(4, "pull")
kind, second = ask(5, "pull")
assert mailbox.replies.pop(3) == ("ack", None)
assert [f.timestamp for f in first + second] == [0.0, 0.5], (first, second)
assert all(f.samples.obj is frame.samples.obj for f in first + second)
assert ask(6, "cleanup") == ("counts", [(1, 2)])
for heavy in ("numpy", "pluggy", "remotemedia.media", "remotemedia.hookspecs"):
    assert heavy not in sys.modules, heavy
print("ok")
"""


def test_in_a_vm_the_sdk_and_a_stage_of_frames_run_without_pluggy_or_numpy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _AS_RUSTPYTHON], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")
