"""Media values and plain items through Python nodes in a RustPython VM, against the same nodes on
CPython (DESIGN §4): arrays as read-only memoryviews, audio frames over them, bytes."""

from __future__ import annotations

import base64
import struct
from pathlib import Path
from typing import Any

import pytest

from harness import jsonl, node, run_host, write_manifest
from test_rustpython import outputs

MEDIA = "remotemedia_testshapes.media"


def array_item(dtype: str, shape: list[int], fmt: str, values: list[Any]) -> dict[str, Any]:
    data = struct.pack(f"<{len(values)}{fmt}", *values)
    encoded = base64.b64encode(data).decode()
    return {"$array": {"dtype": dtype, "shape": shape, "data": encoded}}


def audio_item(rate: int, channels: int, dtype: str, fmt: str, values: list[Any]) -> Any:
    data = base64.b64encode(struct.pack(f"<{len(values)}{fmt}", *values)).decode()
    frame = {"sample_rate": rate, "channels": channels, "timestamp": 0.5, "dtype": dtype}
    return {"$audio": {**frame, "data": data}}


ARRAYS: list[tuple[str, list[int], str, list[Any]]] = [
    # dtype, shape, struct format (the memoryview's too), values
    ("float32", [2, 3], "f", [0.5, 1.0, 2.0, 3.0, 4.0, -1.5]),
    ("float64", [1, 2], "d", [0.25, -1e300]),
    ("int16", [4], "h", [1, -2, 300, -32768]),
    ("int32", [2], "i", [7, -7]),
    ("int64", [3], "q", [1, -2, 2**40]),
    ("uint8", [2, 2], "B", [0, 1, 254, 255]),
    ("bool", [3], "?", [True, False, True]),
]
ARRAY_ITEMS = [array_item(dtype, shape, fmt, values) for dtype, shape, fmt, values in ARRAYS]
FRAMES = [
    audio_item(16000, 1, "float32", "f", [0.0, 0.5, -0.25, 1.0]),
    audio_item(8000, 2, "int16", "h", [1, -1, 300, -300, 32767, -32768]),
]
BYTES = [{"$bytes": base64.b64encode(b"\x00\x01\x02\xff").decode()}, {"$bytes": ""}]


def nested(values: list[Any], shape: list[int]) -> Any:
    """`values` (C order) as nested lists of `shape`, as `memoryview.tolist()` gives them."""
    if len(shape) == 1:
        return values
    step = len(values) // shape[0]
    return [nested(values[i : i + step], shape[1:]) for i in range(0, len(values), step)]


@pytest.mark.parametrize(
    "items", [ARRAY_ITEMS, FRAMES, BYTES, ["text", 1, [1.5, None], {"k": True}]]
)
def test_media_and_values_pass_through_a_python_node_unchanged_on_both_runtimes(
    shapes_env: Path, tmp_path: Path, items: list[Any]
) -> None:
    on_cpython = outputs(shapes_env, tmp_path, "cpython", f"{MEDIA}:Same", items)
    on_rustpython = outputs(shapes_env, tmp_path, "rustpython", f"{MEDIA}:Same", items)
    assert on_rustpython == on_cpython == items


def test_an_array_arrives_in_a_vm_as_a_read_only_memoryview_with_its_format_and_shape(
    shapes_env: Path, tmp_path: Path
) -> None:
    on_rustpython = outputs(shapes_env, tmp_path, "rustpython", f"{MEDIA}:ViewInfo", ARRAY_ITEMS)
    expected = [
        {
            "type": "memoryview",
            "format": fmt,
            "shape": shape,
            "readonly": True,
            "values": nested(values, shape),
        }
        for _, shape, fmt, values in ARRAYS
    ]
    assert on_rustpython == expected
    # CPython hands the node a numpy array over the same memory: the same elements and shape
    # (its struct format may name int64 "l" rather than "q").
    on_cpython = outputs(shapes_env, tmp_path, "cpython", f"{MEDIA}:ViewInfo", ARRAY_ITEMS)
    assert [item["type"] for item in on_cpython] == ["ndarray"] * len(ARRAYS)
    for mine, theirs in zip(on_rustpython, on_cpython, strict=True):
        assert {k: mine[k] for k in ("shape", "readonly", "values")} == {
            k: theirs[k] for k in ("shape", "readonly", "values")
        }


def test_an_audio_frame_arrives_with_memoryview_samples_as_on_cpython(
    shapes_env: Path, tmp_path: Path
) -> None:
    on_rustpython = outputs(shapes_env, tmp_path, "rustpython", f"{MEDIA}:FrameInfo", FRAMES)
    assert on_rustpython == [
        {
            "frame": True,
            "format": "f",
            "channels": 1,
            "sample_rate": 16000,
            "timestamp": 0.5,
            "duration": 4 / 16000,
            "values": [0.0, 0.5, -0.25, 1.0],
        },
        {
            "frame": True,
            "format": "h",
            "channels": 2,
            "sample_rate": 8000,
            "timestamp": 0.5,
            "duration": 3 / 8000,
            "values": [[1, -1], [300, -300], [32767, -32768]],
        },
    ]
    assert outputs(shapes_env, tmp_path, "cpython", f"{MEDIA}:FrameInfo", FRAMES) == on_rustpython


def test_bytes_arrive_as_bytes_as_on_cpython(shapes_env: Path, tmp_path: Path) -> None:
    on_rustpython = outputs(shapes_env, tmp_path, "rustpython", f"{MEDIA}:BytesInfo", BYTES)
    reversed_bytes = {"$bytes": base64.b64encode(b"\xff\x02\x01\x00").decode()}
    assert on_rustpython == [["bytes", 4, reversed_bytes], ["bytes", 0, {"$bytes": ""}]]
    assert outputs(shapes_env, tmp_path, "cpython", f"{MEDIA}:BytesInfo", BYTES) == on_rustpython


def test_a_memoryview_or_frame_made_in_a_vm_leaves_it_as_an_array_or_frame(
    shapes_env: Path, tmp_path: Path
) -> None:
    items = [array_item("float32", [2, 2], "f", [1.0, 2.0, 3.0, 4.0]), FRAMES[1]]
    result = outputs(shapes_env, tmp_path, "rustpython", f"{MEDIA}:Halves", items)
    halves = [0.5, -0.5, 150.0, -150.0, 16383.5, -16384.0]
    assert result == [
        array_item("float64", [2, 2], "d", [0.5, 1.0, 1.5, 2.0]),
        {"$audio": {**audio_item(8000, 2, "float32", "f", halves)["$audio"], "timestamp": 1.5}},
    ]


# Validation and usage.


def test_the_sdks_numpy_audio_nodes_say_so_in_a_vm(shapes_env: Path, tmp_path: Path) -> None:
    """audio.Gain's Python code (runtime_hint "python") works on numpy arrays: in a VM the
    frame it gets is refused with what to do, not as "not an audio frame"."""
    manifest = write_manifest(tmp_path, [node("g", "audio.Gain", db=6.0, runtime_hint="python")])
    frame = audio_item(16000, 1, "float32", "f", [0.25, -0.25])
    flags = ["--input", "-", "--runtime", "rustpython"]
    result = run_host(["run", manifest, *flags], env_dir=shapes_env, input_text=jsonl([frame]))
    assert result.code == 1, result
    assert "the Python code of audio.Gain needs numpy, which RustPython cannot load" in (
        result.stderr
    ), result
    rust = run_host(
        ["run", manifest, "--input", "-"], env_dir=shapes_env, input_text=jsonl([frame])
    )
    assert rust.code == 0, rust
