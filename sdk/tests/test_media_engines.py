"""Media items on both engines (DESIGN §4): bytes, arrays of every supported dtype and shape,
audio frames, and maps and lists holding them come out of `Pipeline.run()` and
`Pipeline.process()` equal to what went in, on the Rust engine and on the Python executor,
through a built-in Rust node, the SDK's Python node and a chain of both; unsupported dtypes
are the same clear error on both; and on the Rust engine, media memory is not copied: the
caller's array, what a Python node sees and what comes out share one address, and so do a
frame made in one Python node and read in the next, and the two branches of a fan-out.

Node types defined here are named by import path (`f"{__name__}:Recorder"`), so the engines
run them as the live instances the pipeline holds (`pipeline.nodes`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import numpy as np
import pytest

from _engines import run_async
from remotemedia.errors import NodeError, UsageError
from remotemedia.media import SUPPORTED_DTYPES, AudioFrame
from remotemedia.node import Node
from remotemedia.pipeline import Pipeline

UNSUPPORTED = "between nodes (dtypes: bool, uint8, int16, int32, int64, float32, float64)"

ENGINES = [True, False]
ENGINE_IDS = ["rust", "python"]
CALLS = ["run", "process"]


class Recorder(Node):
    """Records every item it sees, and forwards it."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)
        self.seen: list[Any] = []

    def process(self, data: Any) -> Any:
        self.seen.append(data)
        return data


class Expand(Node):
    """A generator node (the Rust engine's threaded path): forwards each item."""

    def process(self, data: Any) -> Any:
        yield data


class Maker(Node):
    """Makes, for input `i`, item `i` of `ITEMS` (a fresh object of its own each time)."""

    ITEMS: ClassVar[list[Any]] = []

    def process(self, data: int) -> Any:
        return _fresh(Maker.ITEMS[data])


class Emit(Node):
    """Returns a map holding an array of `dtype`, which may be one no queue carries."""

    def __init__(self, name: str | None = None, dtype: str = "float32") -> None:
        super().__init__(name=name)
        self.dtype = dtype

    def process(self, data: Any) -> Any:
        return {"x": [_array_of(self.dtype)]}


RUST = {"node_type": "PassThrough"}
PYTHON = {"node_type": "PassThroughNode", "runtime_hint": "python"}
RECORDER = {"node_type": f"{__name__}:Recorder"}
EXPAND = {"node_type": f"{__name__}:Expand"}

SHAPES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "rust": [("p", RUST)],
    "python": [("p", PYTHON)],
    "rust-python-rust": [("a", RUST), ("rec", RECORDER), ("b", RUST)],
    # A generator node: on the Rust engine, process() takes the threaded path.
    "rust-generator-rust": [("a", RUST), ("gen", EXPAND), ("b", RUST)],
}


def _pipeline(
    nodes: list[tuple[str, dict[str, Any]]], connections: list[tuple[str, str]] | None = None
) -> Pipeline:
    manifest: dict[str, Any] = {
        "version": "v1",
        "metadata": {"name": "media"},
        "nodes": [{"id": node_id, **spec} for node_id, spec in nodes],
    }
    if connections is not None:
        manifest["connections"] = [{"from": a, "to": b} for a, b in connections]
    return Pipeline.from_manifest(manifest)


def _outputs(pipeline: Pipeline, items: list[Any], *, use_rust: bool, call: str) -> list[Any]:
    """The outputs of `pipeline` for `items`, by `Pipeline.run` or `Pipeline.process`."""
    if call == "run":
        outputs: list[Any] = run_async(pipeline.run(items, use_rust=use_rust))
        return outputs

    async def streamed() -> list[Any]:
        return [out async for out in pipeline.process(iter(items), use_rust=use_rust)]

    streamed_outputs: list[Any] = run_async(streamed())
    return streamed_outputs


def _failure(pipeline: Pipeline, items: list[Any], *, use_rust: bool, call: str) -> BaseException:
    """The exception the run of `items` raises (it must raise one)."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 -- the caller checks the class
        _outputs(pipeline, items, use_rust=use_rust, call=call)
    return caught.value


# --- the items


def _values(dtype: str, count: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(sum(map(ord, dtype)))
    if dtype == "bool":
        return rng.integers(0, 2, count).astype(bool)
    if dtype.startswith("float"):
        return rng.standard_normal(count).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, count, dtype=dtype, endpoint=True)


def _arrays() -> list[tuple[str, np.ndarray[Any, Any]]]:
    """Every supported dtype in every shape: 1-d, 2-d, 3-d, 0-d and empty."""
    arrays = []
    for dtype in SUPPORTED_DTYPES:
        values = _values(dtype, 24)
        arrays += [
            (f"{dtype}-1d", values),
            (f"{dtype}-2d", values.reshape(4, 6)),
            (f"{dtype}-3d", values.reshape(2, 3, 4)),
            (f"{dtype}-0d", values[:1].reshape(()).copy()),
            (f"{dtype}-empty", values[:0].copy()),
            (f"{dtype}-empty-2d", values[:0].reshape(0, 3).copy()),
        ]
    return arrays


def _frames() -> list[tuple[str, AudioFrame]]:
    return [
        ("mono-float32", AudioFrame(np.linspace(-1, 1, 960, dtype=np.float32), 48000, 0.02)),
        ("stereo-float32", AudioFrame(_values("float32", 960).reshape(480, 2), 48000, 1.5)),
        ("mono-int16", AudioFrame(_values("int16", 320), 16000)),
        ("stereo-int16", AudioFrame(_values("int16", 320).reshape(160, 2), 16000, 0.01)),
        ("one-column", AudioFrame(_values("float32", 8).reshape(8, 1), 8000, 2.0)),
        ("empty-stereo", AudioFrame(np.zeros((0, 2), np.float32), 8000)),
    ]


def _containers() -> list[tuple[str, Any]]:
    frame = AudioFrame(_values("int16", 160), 16000, 0.25)
    return [
        (
            "map",
            {
                "frame": frame,
                "features": [_values("float64", 4), b"x"],
                "n": 1,
                "s": "text",
                "none": None,
            },
        ),
        ("list", [_values("uint8", 3), 3, "s", {"k": _values("int16", 2).reshape(1, 2)}]),
        ("nested", {"a": {"b": [[_values("int32", 5)], [_values("bool", 2)]]}}),
        ("every-dtype", {dtype: _values(dtype, 3) for dtype in SUPPORTED_DTYPES}),
        ("empties", {"list": [], "map": {}, "bytes": b"", "array": np.zeros(0, np.int64)}),
    ]


def _bytes() -> list[tuple[str, bytes]]:
    return [("empty", b""), ("short", b"\x00\x01\xff"), ("every-byte", bytes(range(256)) * 4)]


GROUPS: dict[str, Callable[[], list[tuple[str, Any]]]] = {
    "bytes": _bytes,
    "arrays": _arrays,
    "frames": _frames,
    "containers": _containers,
}


def _fresh(item: Any) -> Any:
    """A deep copy of `item` made of new objects (arrays writable, as a node makes them)."""
    if isinstance(item, np.ndarray):
        return item.copy()
    if isinstance(item, AudioFrame):
        return AudioFrame(item.samples.copy(), item.sample_rate, item.timestamp)
    if isinstance(item, bytes):
        return bytes(bytearray(item))
    if isinstance(item, list):
        return [_fresh(v) for v in item]
    if isinstance(item, dict):
        return {k: _fresh(v) for k, v in item.items()}
    return item


def _assert_same(got: Any, want: Any, at: str = "item") -> None:
    """`got` is `want`'s value: arrays by dtype, shape and values; frames by `==` (rate,
    timestamp, dtype, shape, samples); bytes, lists and maps by type and contents."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{at}: {type(got).__name__}, not an array"
        assert got.dtype == want.dtype, f"{at}: dtype {got.dtype}, not {want.dtype}"
        assert got.shape == want.shape, f"{at}: shape {got.shape}, not {want.shape}"
        assert np.array_equal(got, want), f"{at}: other values"
    elif isinstance(want, AudioFrame):
        assert isinstance(got, AudioFrame), f"{at}: {type(got).__name__}, not an AudioFrame"
        assert got == want, f"{at}: {got!r} != {want!r}"
        assert got.samples.dtype == want.samples.dtype, f"{at}: samples' dtype"
        assert (got.channels, got.duration) == (want.channels, want.duration), at
    elif isinstance(want, dict):
        assert type(got) is dict, f"{at}: {type(got).__name__}, not a dict"
        assert list(got) == list(want), f"{at}: keys {list(got)}, not {list(want)}"
        for key in want:
            _assert_same(got[key], want[key], f"{at}[{key!r}]")
    elif isinstance(want, list):
        assert type(got) is list, f"{at}: {type(got).__name__}, not a list"
        assert len(got) == len(want), f"{at}: {len(got)} elements, not {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_same(g, w, f"{at}[{i}]")
    else:
        assert type(got) is type(want), f"{at}: {type(got).__name__}, not {type(want).__name__}"
        assert got == want, f"{at}: {got!r} != {want!r}"


def _address(array: np.ndarray[Any, Any]) -> int:
    address: int = array.__array_interface__["data"][0]
    return address


def _array_of(dtype: str) -> np.ndarray[Any, Any]:
    if dtype == "object":
        return np.array([None, 1], dtype=object)
    return np.zeros(2, dtype)


# --- round trips


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("group", list(GROUPS))
def test_media_items_come_out_as_they_went_in_on_both_engines(
    group: str, shape: str, call: str
) -> None:
    named = GROUPS[group]()
    items = [item for _, item in named]
    results = {}
    for use_rust, engine in zip(ENGINES, ENGINE_IDS, strict=True):
        pipeline = _pipeline(SHAPES[shape])
        outputs = _outputs(pipeline, items, use_rust=use_rust, call=call)
        assert len(outputs) == len(items), engine
        for (name, item), out in zip(named, outputs, strict=True):
            _assert_same(out, item, f"{engine} {name}")
        if shape == "rust-python-rust":
            seen = pipeline.nodes[1].seen  # type: ignore[attr-defined]
            for (name, item), got in zip(named, seen, strict=True):
                _assert_same(got, item, f"{engine}: what the Python node saw of {name}")
        results[engine] = outputs
    for (name, _), rust, python in zip(named, results["rust"], results["python"], strict=True):
        _assert_same(rust, python, f"rust vs python {name}")


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("group", list(GROUPS))
def test_media_items_made_by_a_python_node_cross_rust_nodes_unchanged(
    group: str, call: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = GROUPS[group]()
    monkeypatch.setattr(Maker, "ITEMS", [item for _, item in named])
    nodes = [("make", {"node_type": f"{__name__}:Maker"}), ("a", RUST), ("rec", RECORDER)]
    nodes.append(("b", RUST))
    for use_rust, engine in zip(ENGINES, ENGINE_IDS, strict=True):
        pipeline = _pipeline(nodes)
        outputs = _outputs(pipeline, list(range(len(named))), use_rust=use_rust, call=call)
        assert len(outputs) == len(named), engine
        seen = pipeline.nodes[2].seen  # type: ignore[attr-defined]
        for (name, item), out, got in zip(named, outputs, seen, strict=True):
            _assert_same(got, item, f"{engine}: what the next Python node saw of {name}")
            _assert_same(out, item, f"{engine} {name}")


# --- unsupported dtypes

BAD_DTYPES = ["complex64", "object", "int8", "float16"]


def _assert_the_same_usage_error(item: Any, dtype: str, shape: str, call: str) -> None:
    messages = []
    for use_rust in ENGINES:
        pipeline = _pipeline(SHAPES[shape])
        error = _failure(pipeline, [1, item, 2], use_rust=use_rust, call=call)
        assert type(error) is UsageError, f"use_rust={use_rust}: {error!r}"
        messages.append(str(error))
    assert messages[0] == f"input item: cannot pass an array of dtype {dtype} {UNSUPPORTED}"
    assert messages[1] == messages[0]


# process() of the generator shape (the Rust engine's threaded path) has a test of its own.
INPUT_CASES = [
    (shape, call)
    for shape in SHAPES
    for call in CALLS
    if (shape, call) != ("rust-generator-rust", "process")
]


@pytest.mark.parametrize(("shape", "call"), INPUT_CASES, ids=[f"{s}-{c}" for s, c in INPUT_CASES])
@pytest.mark.parametrize("nested", [False, True], ids=["bare", "in-a-map"])
@pytest.mark.parametrize("dtype", BAD_DTYPES)
def test_an_input_item_of_an_unsupported_dtype_is_the_same_usage_error_on_both_engines(
    dtype: str, nested: bool, shape: str, call: str
) -> None:
    array = _array_of(dtype)
    _assert_the_same_usage_error({"k": [1, array]} if nested else array, dtype, shape, call)


def test_an_input_item_of_an_unsupported_dtype_is_a_usage_error_on_the_threaded_path() -> None:
    # One case only: a run that hangs costs the hang guard.
    _assert_the_same_usage_error(
        np.zeros(2, np.complex64), "complex64", "rust-generator-rust", "process"
    )


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("at_sink", [True, False], ids=["at-a-sink", "before-a-rust-node"])
@pytest.mark.parametrize("dtype", BAD_DTYPES)
def test_a_python_nodes_output_of_an_unsupported_dtype_is_its_node_error_on_both_engines(
    dtype: str, at_sink: bool, call: str
) -> None:
    emit: dict[str, Any] = {"node_type": f"{__name__}:Emit", "params": {"dtype": dtype}}
    nodes = [("a", RUST), ("emit", emit)] + ([] if at_sink else [("b", RUST)])
    messages = []
    for use_rust in ENGINES:
        pipeline = _pipeline(nodes)
        error = _failure(pipeline, [1], use_rust=use_rust, call=call)
        assert isinstance(error, NodeError), f"use_rust={use_rust}: {error!r}"
        # The Rust engine names the manifest's node type, the Python executor the class's.
        node_type = pipeline.to_manifest()["nodes"][1]["node_type"] if use_rust else "Emit"
        assert (error.node_id, error.node_type, error.error_type) == (
            "emit",
            node_type,
            "TypeError",
        )
        messages.append(error.message)
    assert messages[0] == f"cannot pass an array of dtype {dtype} {UNSUPPORTED}"
    assert messages[1] == messages[0]


# --- zero copy


def _media() -> list[Any]:
    """Arrays (non-empty: an empty array's address means nothing), bytes and frames."""
    return [
        *(_values(dtype, 24).reshape(4, 6) for dtype in SUPPORTED_DTYPES),
        np.ones((), np.float64),
        np.zeros(1 << 20, np.uint8),  # a megabyte: anything but a copy would show
        b"\x00\x01\x02" * 100,
        AudioFrame(np.linspace(-1, 1, 960, dtype=np.float32), 48000, 0.02),
        AudioFrame(np.zeros((160, 2), np.int16), 16000),
        {"frame": AudioFrame(np.ones(4, np.float32), 8000), "features": [np.ones(3)]},
    ]


def _buffers(item: Any) -> list[Any]:
    """The buffers an item holds, in a fixed order: each array (a frame's samples too) as its
    address, each bytes object as itself."""
    if isinstance(item, np.ndarray):
        return [_address(item)]
    if isinstance(item, AudioFrame):
        return [_address(item.samples)]
    if isinstance(item, bytes):
        return [item]
    if isinstance(item, list):
        return [b for v in item for b in _buffers(v)]
    if isinstance(item, dict):
        return [b for v in item.values() for b in _buffers(v)]
    return []


def _assert_shares_buffers(got: Any, want: Any, at: str) -> None:
    got_buffers, want_buffers = _buffers(got), _buffers(want)
    assert len(got_buffers) == len(want_buffers), at
    for g, w in zip(got_buffers, want_buffers, strict=True):
        if isinstance(w, bytes):
            assert g is w, f"{at}: a bytes object that is not the caller's"
        else:
            assert g == w, f"{at}: an array at another address (a copy)"


def _read_only(item: Any) -> bool:
    """Whether every array the item holds is read-only."""
    if isinstance(item, np.ndarray):
        return not item.flags.writeable
    if isinstance(item, AudioFrame):
        return _read_only(item.samples)
    if isinstance(item, list):
        return all(_read_only(v) for v in item)
    if isinstance(item, dict):
        return all(_read_only(v) for v in item.values())
    return True


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("shape", ["python", "rust-python-rust"])
def test_the_callers_arrays_reach_python_nodes_and_come_out_without_a_copy(
    shape: str, call: str
) -> None:
    items = _media()
    before = [_fresh(item) for item in items]
    nodes = [("rec", RECORDER)] if shape == "python" else SHAPES[shape]
    pipeline = _pipeline(nodes)
    outputs = _outputs(pipeline, items, use_rust=True, call=call)
    seen = next(n for n in pipeline.nodes if isinstance(n, Recorder)).seen
    assert len(seen) == len(outputs) == len(items)
    for i, (item, got, out) in enumerate(zip(items, seen, outputs, strict=True)):
        _assert_shares_buffers(got, item, f"item {i}, as the Python node saw it")
        _assert_shares_buffers(out, item, f"item {i}, as it came out")
        _assert_same(out, item, f"item {i}")
        # Shared with the caller, so read-only to the node (DESIGN §4).
        assert _read_only(got), f"item {i}: the Python node could write the caller's memory"
    for i, (item, copy) in enumerate(zip(items, before, strict=True)):
        _assert_same(item, copy, f"the caller's item {i}, after the run")


class Framer(Node):
    """Wraps each input array in a new frame over a new array, recording the samples'
    address; also emits a new raw array beside it."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)
        self.made: list[tuple[int, int]] = []

    def process(self, data: int) -> dict[str, Any]:
        samples = np.full((160, 2), data, np.int16)
        features = np.arange(data, data + 8, dtype=np.float32)
        self.made.append((_address(samples), _address(features)))
        return {"frame": AudioFrame(samples, 16000, data * 0.01), "features": features}


class Meter(Node):
    """Reads the frame the node before made: records the addresses it sees, and the peak."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)
        self.seen: list[tuple[int, int]] = []

    def process(self, data: dict[str, Any]) -> dict[str, Any]:
        frame, features = data["frame"], data["features"]
        self.seen.append((_address(frame.samples), _address(features)))
        return {**data, "peak": int(np.abs(frame.samples).max())}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_a_frame_made_in_one_python_node_is_read_in_the_next_at_the_same_address(
    use_rust: bool, call: str
) -> None:
    pipeline = _pipeline(
        [
            ("framer", {"node_type": f"{__name__}:Framer"}),
            ("pass", RUST),
            ("meter", {"node_type": f"{__name__}:Meter"}),
        ]
    )
    framer, _, meter = pipeline.nodes
    outputs = _outputs(pipeline, [1, 2, 3], use_rust=use_rust, call=call)
    assert [out["peak"] for out in outputs] == [1, 2, 3]
    assert [out["frame"].timestamp for out in outputs] == [0.01, 0.02, 0.03]
    made, seen = framer.made, meter.seen  # type: ignore[attr-defined]
    assert seen == made
    assert [(_address(o["frame"].samples), _address(o["features"])) for o in outputs] == made


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("source", ["rust", "python"])
@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_fan_out_gives_both_branches_the_same_buffer(
    use_rust: bool, source: str, call: str
) -> None:
    pipeline = _pipeline(
        [("src", RUST if source == "rust" else PYTHON), ("left", RECORDER), ("right", RECORDER)]
    )
    pipeline.connect("src", "left")
    pipeline.connect("src", "right")
    _, left, right = pipeline.nodes
    items = _media()
    outputs = _outputs(pipeline, items, use_rust=use_rust, call=call)
    assert len(outputs) == 2 * len(items)
    for branch in (left, right):
        seen = branch.seen  # type: ignore[attr-defined]
        assert len(seen) == len(items)
        for i, (item, got) in enumerate(zip(items, seen, strict=True)):
            _assert_same(got, item, f"{branch.name}: item {i}")
            _assert_shares_buffers(got, item, f"{branch.name}: item {i}")
    # Each item comes out twice, over the same buffers, once per branch.
    assert Counter(map(_buffer_key, outputs)) == Counter(map(_buffer_key, items * 2))


def _buffer_key(item: Any) -> tuple[Any, ...]:
    """The buffers an item holds: arrays by address, bytes objects by identity."""
    return tuple(id(b) if isinstance(b, bytes) else b for b in _buffers(item))


def _strided() -> list[tuple[str, np.ndarray[Any, Any]]]:
    base = _values("float64", 48).reshape(6, 8)
    return [
        ("step", _values("int32", 20)[::2]),
        ("reversed", _values("int16", 9)[::-1]),
        ("transposed", base.T),
        ("column", base[:, 3]),
        ("block", base[1:5:2, ::3]),
        ("fortran", np.asfortranarray(base)),
        ("big-endian", _values("float32", 6).astype(">f4")),
        ("big-endian-step", _values("int64", 10).astype(">i8")[::3]),
    ]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_a_non_contiguous_array_arrives_with_its_values(
    use_rust: bool, shape: str, call: str
) -> None:
    named = _strided()
    items = [array for _, array in named] + [AudioFrame(_values("float32", 20)[::2], 8000)]
    pipeline = _pipeline(SHAPES[shape])
    outputs = _outputs(pipeline, items, use_rust=use_rust, call=call)
    assert len(outputs) == len(items)
    for (name, array), out in zip(named, outputs[:-1], strict=True):
        assert isinstance(out, np.ndarray)
        assert out.dtype.name == array.dtype.name, name  # byte order aside
        assert out.shape == array.shape, name
        assert np.array_equal(out, array), name
    assert outputs[-1] == items[-1]


async def _agen(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_media_items_from_an_async_stream_come_out_as_they_went_in(use_rust: bool) -> None:
    named = [*_bytes(), *_arrays(), *_frames(), *_containers()]
    items = [item for _, item in named]
    pipeline = _pipeline(SHAPES["rust-python-rust"])

    async def streamed() -> list[Any]:
        return [out async for out in pipeline.process(_agen(items), use_rust=use_rust)]

    outputs = run_async(streamed())
    assert len(outputs) == len(items)
    for (name, item), out in zip(named, outputs, strict=True):
        _assert_same(out, item, name)
