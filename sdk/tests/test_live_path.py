"""The live path of `Pipeline.process()` on the Rust engine (`remotemedia.pipeline.caller`): a
chain of synchronous Rust nodes and Python nodes with `def process` or `async def process` is
driven on the caller's thread, item by item; any other shape (fan-out, a generator node) runs
its Python nodes on the host's interpreter thread. Either way the outputs are those of the
Python executor, node errors name the node and clean up every initialized node, closing the
outputs early cleans up, bad inputs are usage errors, and a stream of large frames runs in
memory bounded by the queues, not by the stream (DESIGN §4, §7).

Node types defined here are module-level classes run as the live instances the pipeline holds.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import threading
import weakref
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pytest

from _engines import run_async
from remotemedia.errors import ManifestError, NodeError, UsageError
from remotemedia.node import Node
from remotemedia.nodes import Multiply, PassThroughNode
from remotemedia.pipeline import Pipeline

if TYPE_CHECKING:
    from conftest import Sites

ENGINES = [True, False]
ENGINE_IDS = ["rust", "python"]
MIB = 1 << 20
CLEANUP_GUARD = 10.0
"""Seconds after which a cleanup that has not happened counts as never: a guard, not a speed
check."""
UNSUPPORTED = "between nodes (dtypes: bool, uint8, int16, int32, int64, float32, float64)"
NOT_AN_ITEM = (
    "cannot pass a set between nodes (items are None, bool, int, float, str, list, tuple, "
    "dict, bytes, numpy.ndarray or remotemedia.AudioFrame)"
)


class Probe(Node):
    """Adds `add` to each item, recording the thread of every call of its lifecycle; raises
    `ValueError` on the item `fail_on`, or in `initialize` with `fail_in_initialize`."""

    def __init__(
        self,
        name: str | None = None,
        add: int = 0,
        fail_on: int | None = None,
        fail_in_initialize: bool = False,
    ) -> None:
        super().__init__(name=name)
        self.add, self.fail_on, self.fail_in_initialize = add, fail_on, fail_in_initialize
        self.calls: list[tuple[str, int]] = []
        self.cleaned = threading.Event()

    def initialize(self) -> None:
        self.calls.append(("initialize", threading.get_ident()))
        if self.fail_in_initialize:
            raise ValueError(f"{self.name} cannot start")

    def step(self, data: int) -> int:
        self.calls.append(("process", threading.get_ident()))
        if data == self.fail_on:
            raise ValueError(f"cannot take {data}")
        return data + self.add

    def process(self, data: int) -> int:
        return self.step(data)

    def cleanup(self) -> None:
        self.calls.append(("cleanup", threading.get_ident()))
        self.cleaned.set()

    def count(self, call: str) -> int:
        return sum(1 for name, _ in self.calls if name == call)

    def threads(self) -> set[int]:
        return {thread for _, thread in self.calls}


class AsyncProbe(Probe):
    """A `Probe` whose `process` is `async def`; it also records the event loop it runs in."""

    def __init__(self, name: str | None = None, add: int = 0, fail_on: int | None = None) -> None:
        super().__init__(name=name, add=add, fail_on=fail_on)
        self.loops: set[int] = set()

    async def process(self, data: int) -> int:  # type: ignore[override]
        await asyncio.sleep(0)
        self.loops.add(id(asyncio.get_running_loop()))
        return self.step(data)


class GeneratorProbe(Probe):
    """A `Probe` whose `process` is a generator: one output per item."""

    def process(self, data: int) -> Iterator[int]:  # type: ignore[override]
        yield self.step(data)


class MakesASet(Node):
    """Returns a set, which cannot pass between nodes on the Rust engine."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)
        self.cleanups = 0

    def process(self, data: Any) -> Any:
        return {data}

    def cleanup(self) -> None:
        self.cleanups += 1


class Refuses(Node):
    """A node whose constructor raises."""

    def __init__(self, name: str | None = None) -> None:
        raise ValueError("Refuses will not be built")


class Keep(Node):
    """Forwards every item (a Python node that does nothing else)."""

    def process(self, data: Any) -> Any:
        return data


def _chain(second: Probe, fourth: Probe) -> Pipeline:
    """[Rust PassThrough, `second`, Rust Multiply(10), `fourth`]: each input x gives
    (x + second.add) * 10 + fourth.add."""
    pipeline = Pipeline("live")
    pipeline.add_node(PassThroughNode(name="pass"))  # no runtime_hint: the Rust built-in
    pipeline.add_node(second)
    pipeline.add_node(Multiply(10, name="mul"))  # the Rust built-in
    pipeline.add_node(fourth)
    return pipeline


def _fan_out(left: Probe, right: Probe) -> Pipeline:
    """A Rust PassThrough into two Python sinks."""
    pipeline = Pipeline("fan-out")
    pipeline.add_node(PassThroughNode(name="pass"))
    pipeline.add_node(left)
    pipeline.add_node(right)
    pipeline.connect("pass", left)
    pipeline.connect("pass", right)
    return pipeline


async def _agen(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        await asyncio.sleep(0)
        yield item


def _stream(kind: str, items: list[Any]) -> Any:
    if kind == "list":
        return list(items)
    if kind == "async-generator":
        return _agen(items)
    return iter(items)


def _collect(pipeline: Pipeline, stream: Any, *, use_rust: bool) -> list[Any]:
    async def scenario() -> list[Any]:
        return [out async for out in pipeline.process(stream, use_rust=use_rust)]

    outputs: list[Any] = run_async(scenario())
    return outputs


def _collect_until_error(
    pipeline: Pipeline, stream: Any, *, use_rust: bool
) -> tuple[list[Any], BaseException]:
    """The outputs yielded before the run raised, and what it raised (it must raise)."""
    outputs: list[Any] = []

    async def scenario() -> None:
        async for out in pipeline.process(stream, use_rust=use_rust):
            outputs.append(out)

    with pytest.raises(Exception) as caught:  # noqa: PT011 -- the caller checks the class
        run_async(scenario())
    return outputs, caught.value


def _node_type(pipeline: Pipeline, node_id: str, *, use_rust: bool) -> str:
    """The node type a NodeError names: the manifest's on the Rust engine, the class's type
    name on the Python executor."""
    if use_rust:
        node_type: str = next(
            n["node_type"] for n in pipeline.to_manifest()["nodes"] if n["id"] == node_id
        )
        return node_type
    return next(n.type_name() for n in pipeline.nodes if n.name == node_id)


# --- where node code runs


@pytest.mark.parametrize("stream", ["list", "async-generator", "generator"])
@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_a_chain_runs_its_python_nodes_on_the_callers_thread(use_rust: bool, stream: str) -> None:
    first, second = Probe(name="first", add=1), Probe(name="second", add=2)
    pipeline = _chain(first, second)
    inputs = list(range(20))
    outputs = _collect(pipeline, _stream(stream, inputs), use_rust=use_rust)
    assert outputs == [(x + 1) * 10 + 2 for x in inputs]
    for node in (first, second):
        assert node.threads() == {threading.get_ident()}, node.name
        assert [name for name, _ in node.calls] == [
            "initialize",
            *["process"] * len(inputs),
            "cleanup",
        ]


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_an_async_process_is_awaited_on_the_callers_loop(use_rust: bool) -> None:
    first, second = AsyncProbe(name="first", add=1), AsyncProbe(name="second", add=2)
    pipeline = _chain(first, second)
    loops: list[int] = []

    async def scenario() -> list[Any]:
        loops.append(id(asyncio.get_running_loop()))
        return [out async for out in pipeline.process(_agen(range(10)), use_rust=use_rust)]

    assert run_async(scenario()) == [(x + 1) * 10 + 2 for x in range(10)]
    for node in (first, second):
        assert node.threads() == {threading.get_ident()}, node.name
        assert node.loops == set(loops), node.name
        assert (node.count("initialize"), node.count("process"), node.count("cleanup")) == (
            1,
            10,
            1,
        )


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_a_fan_out_runs_python_nodes_off_the_callers_thread_on_the_rust_engine(
    use_rust: bool,
) -> None:
    left, right = Probe(name="left", add=100), Probe(name="right", add=1000)
    pipeline = _fan_out(left, right)
    inputs = list(range(30))
    outputs = _collect(pipeline, inputs, use_rust=use_rust)
    assert Counter(outputs) == Counter([x + 100 for x in inputs] + [x + 1000 for x in inputs])
    # Each sink's own outputs keep input order (each is a chain from the root).
    assert [o for o in outputs if o < 1000] == [x + 100 for x in inputs]
    assert [o for o in outputs if o >= 1000] == [x + 1000 for x in inputs]
    for node in (left, right):
        assert (node.count("initialize"), node.count("cleanup")) == (1, 1), node.name
        if use_rust:  # the threaded path: the host's interpreter thread
            assert threading.get_ident() not in node.threads(), node.name
        else:
            assert node.threads() == {threading.get_ident()}, node.name


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_a_generator_node_falls_back_to_the_threaded_path(use_rust: bool) -> None:
    first, second = GeneratorProbe(name="first", add=1), Probe(name="second", add=2)
    pipeline = _chain(first, second)
    inputs = list(range(20))
    outputs = _collect(pipeline, _agen(inputs), use_rust=use_rust)
    assert outputs == [(x + 1) * 10 + 2 for x in inputs]
    for node in (first, second):
        assert (node.count("initialize"), node.count("cleanup")) == (1, 1), node.name
        if use_rust:
            assert threading.get_ident() not in node.threads(), node.name
        else:
            assert node.threads() == {threading.get_ident()}, node.name


# --- errors


@pytest.mark.parametrize("node_class", [Probe, AsyncProbe], ids=["sync", "async"])
@pytest.mark.parametrize("failing", ["first", "second"])
@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_a_node_error_names_the_node_and_cleans_up_every_initialized_node(
    use_rust: bool, failing: str, node_class: type[Probe]
) -> None:
    # Input 2 fails: in the first node as 2, in the second as (2 + 1) * 10 = 30.
    first = node_class(name="first", add=1, fail_on=2 if failing == "first" else None)
    second = node_class(name="second", add=2, fail_on=30 if failing == "second" else None)
    pipeline = _chain(first, second)
    outputs, error = _collect_until_error(pipeline, [1, 2, 3], use_rust=use_rust)
    assert outputs == [22]  # what came before the failure
    assert isinstance(error, NodeError), repr(error)
    assert (error.node_id, error.node_type, error.error_type) == (
        failing,
        _node_type(pipeline, failing, use_rust=use_rust),
        "ValueError",
    )
    failed_on = 2 if failing == "first" else 30
    assert error.message == f"cannot take {failed_on}"
    assert error.traceback is not None
    assert "ValueError: cannot take" in error.traceback
    for node in (first, second):
        assert (node.count("initialize"), node.count("cleanup")) == (1, 1), node.name


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_an_initialize_error_cleans_up_the_nodes_initialized_before(use_rust: bool) -> None:
    first = Probe(name="first", add=1)
    second = Probe(name="second", add=2, fail_in_initialize=True)
    pipeline = _chain(first, second)
    outputs, error = _collect_until_error(pipeline, [1, 2, 3], use_rust=use_rust)
    assert outputs == []
    assert isinstance(error, NodeError), repr(error)
    assert (error.node_id, error.error_type, error.message) == (
        "second",
        "ValueError",
        "second cannot start",
    )
    assert first.count("process") == 0
    assert (first.count("initialize"), first.count("cleanup")) == (1, 1)
    assert second.count("initialize") == 1
    assert second.count("process") == 0


@pytest.mark.parametrize("call", ["run", "process"])
def test_a_set_from_a_python_node_before_a_rust_node_is_that_nodes_type_error(call: str) -> None:
    maker = MakesASet(name="set")
    pipeline = Pipeline("set")
    pipeline.add_node(PassThroughNode(name="pass"))
    pipeline.add_node(maker)
    pipeline.add_node(PassThroughNode(name="after"))  # the Rust built-in
    if call == "run":
        with pytest.raises(NodeError) as caught:
            run_async(pipeline.run([1, 2], use_rust=True))
        error = caught.value
    else:
        _, failure = _collect_until_error(pipeline, [1, 2], use_rust=True)
        assert isinstance(failure, NodeError), repr(failure)
        error = failure
    assert (error.node_id, error.node_type, error.error_type) == (
        "set",
        _node_type(pipeline, "set", use_rust=True),
        "TypeError",
    )
    assert error.message == NOT_AN_ITEM
    assert maker.cleanups == 1


GAIN_PLUGIN = '''
    from remotemedia import Node, hookimpl


    class Gain(Node):
        """Multiplies every number by `gain`, which must be positive."""

        refuse = False  # set by a test: the next construction raises

        def __init__(self, gain: float = 1.0, name: str | None = None) -> None:
            super().__init__(name=name)
            if gain <= 0:
                raise ValueError(f"gain must be positive, got {gain}")
            if Gain.refuse:
                raise RuntimeError("no more gains")
            self.gain = gain

        def process(self, data):
            return data * self.gain


    @hookimpl
    def remotemedia_node_types():
        return [Gain]
'''


def _manifest(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": "v1", "metadata": {"name": "built"}, "nodes": list(nodes)}


def test_a_constructor_that_raises_in_from_manifest_is_a_manifest_error(sites: Sites) -> None:
    sites.install("rm-gain", {"gain": "gain_plugin"}, {"gain_plugin": GAIN_PLUGIN})
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"id": "g", "node_type": "Gain", "params": {"gain": -1.0}},
            "nodes[1].params: Gain: ValueError: gain must be positive, got -1.0",
        ),
        (
            {"id": "r", "node_type": f"{__name__}:Refuses"},
            f"nodes[1].params: {__name__}:Refuses: ValueError: Refuses will not be built",
        ),
        (
            {
                "id": "m",
                "node_type": "Multiply",
                "runtime_hint": "python",
                "params": {"factor": "x"},
            },
            'nodes[1].params.factor: expected a number, got string "x"',
        ),
    ]
    for spec, problem in cases:
        with pytest.raises(ManifestError) as caught:
            Pipeline.from_manifest(_manifest({"id": "pass", "node_type": "PassThrough"}, spec))
        assert caught.value.problems == [problem]


@pytest.mark.parametrize("shape", ["chain", "generator"])
def test_a_constructor_that_raises_when_the_engine_builds_the_node_is_that_nodes_error(
    sites: Sites, shape: str
) -> None:
    # A plugin node is built by the engine for the run, from the manifest: not the instance
    # `from_manifest` made. Its constructor raising then is that node's error.
    sites.install("rm-gain", {"gain": "gain_plugin"}, {"gain_plugin": GAIN_PLUGIN})
    third = (
        {"id": "keep", "node_type": f"{__name__}:Keep"}
        if shape == "chain"
        else {"id": "keep", "node_type": f"{__name__}:GeneratorProbe"}
    )
    pipeline = Pipeline.from_manifest(
        _manifest(
            {"id": "pass", "node_type": "PassThrough"},
            {"id": "gain", "node_type": "Gain", "params": {"gain": 2.0}},
            third,
        )
    )
    assert run_async(pipeline.run([1, 2], use_rust=True)) == [2.0, 4.0]
    gain_class = type(pipeline.nodes[1])
    gain_class.refuse = True  # type: ignore[attr-defined]
    try:
        _, error = _collect_until_error(pipeline, [1, 2], use_rust=True)
        assert isinstance(error, NodeError), repr(error)
        assert (error.node_id, error.node_type, error.error_type, error.message) == (
            "gain",
            "Gain",
            "RuntimeError",
            "no more gains",
        )
        with pytest.raises(NodeError) as caught:
            run_async(pipeline.run([1, 2], use_rust=True))
        assert (caught.value.node_id, caught.value.error_type) == ("gain", "RuntimeError")
    finally:
        gain_class.refuse = False  # type: ignore[attr-defined]


# --- inputs


# Every bad item on the live chain, from a list and from an async generator; on the threaded
# path (a fan-out), one case: a run that hangs there costs the hang guard.
BAD_INPUTS = [
    *(
        ("chain", bad, stream)
        for bad in ("set", "complex-array", "array-in-a-map")
        for stream in ("list", "async-generator")
    ),
    ("fan-out", "set", "list"),
]


@pytest.mark.parametrize(
    ("shape", "bad", "stream"), BAD_INPUTS, ids=["-".join(c) for c in BAD_INPUTS]
)
def test_an_unsupported_input_item_is_a_usage_error_on_the_rust_engine(
    shape: str, bad: str, stream: str
) -> None:
    item: Any = {
        "set": {2},
        "complex-array": np.zeros(2, np.complex64),
        "array-in-a-map": {"k": [np.zeros(2, np.int8)]},
    }[bad]
    left, right = Probe(name="left", add=1), Probe(name="right", add=2)
    pipeline = _chain(left, right) if shape == "chain" else _fan_out(left, right)
    _, error = _collect_until_error(pipeline, _stream(stream, [1, item, 3]), use_rust=True)
    assert type(error) is UsageError, repr(error)
    expected = {
        "set": f"input item: {NOT_AN_ITEM}",
        "complex-array": f"input item: cannot pass an array of dtype complex64 {UNSUPPORTED}",
        "array-in-a-map": f"input item: cannot pass an array of dtype int8 {UNSUPPORTED}",
    }[bad]
    assert str(error) == expected
    for node in (left, right):
        assert node.count("process") <= 1, node.name  # only item 1, if it got there
        assert node.count("initialize") == node.count("cleanup"), node.name


@pytest.mark.parametrize("stream", ["list", "async-generator"])
def test_an_unsupported_input_item_is_a_usage_error_on_the_python_executor(stream: str) -> None:
    left, right = Probe(name="left", add=1), Probe(name="right", add=2)
    pipeline = _chain(left, right)
    item = np.zeros(2, np.complex64)
    _, error = _collect_until_error(pipeline, _stream(stream, [1, item, 3]), use_rust=False)
    assert type(error) is UsageError, repr(error)
    assert str(error) == f"input item: cannot pass an array of dtype complex64 {UNSUPPORTED}"


class StreamFailed(Exception):
    """What the caller's own stream raises."""


def _failing_stream() -> Iterator[int]:
    yield 1
    raise StreamFailed("the caller's stream broke")


@pytest.mark.parametrize(
    ("use_rust", "shape"),
    [(True, "chain"), (True, "fan-out"), (False, "chain")],
    ids=["rust-live", "rust-threaded", "python"],
)
def test_an_exception_from_the_callers_stream_is_raised_as_it_is(
    use_rust: bool, shape: str
) -> None:
    left, right = Probe(name="left", add=1), Probe(name="right", add=2)
    pipeline = _chain(left, right) if shape == "chain" else _fan_out(left, right)
    _, error = _collect_until_error(pipeline, _failing_stream(), use_rust=use_rust)
    assert type(error) is StreamFailed, repr(error)
    assert str(error) == "the caller's stream broke"
    for node in (left, right):
        # The run may be cancelled before a node's stage has started (the host fed the first
        # item at once): then it was never initialized. Initialized always means cleaned up.
        started = node.count("initialize")
        assert started in (0, 1), node.name
        assert node.count("cleanup") == started, node.name


# --- closing early


@pytest.mark.parametrize("stream", ["short", "endless"])
@pytest.mark.parametrize("how", ["break", "aclose"])
@pytest.mark.parametrize("shape", ["chain", "fan-out"])
@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_closing_the_outputs_early_cleans_up_every_node(
    use_rust: bool, shape: str, how: str, stream: str
) -> None:
    left, right = Probe(name="left", add=1), Probe(name="right", add=2)
    pipeline = _chain(left, right) if shape == "chain" else _fan_out(left, right)
    cleanups_at_close: list[int] = []

    async def scenario() -> Any:
        items = [1, 2, 3, 4] if stream == "short" else itertools.count(1)
        outputs = pipeline.process(items, use_rust=use_rust)
        if how == "break":
            first = None
            async for out in outputs:
                first = out
                break
            del outputs  # dropped: nothing closes it explicitly
        else:
            first = await outputs.__anext__()
            await cast(AsyncGenerator[Any, None], outputs).aclose()
            # aclose() has returned: the run is over, its (initialized) nodes cleaned up.
            cleanups_at_close.extend(
                node.count("cleanup") - node.count("initialize") for node in (left, right)
            )
        return first

    first = run_async(scenario())
    assert first in ((1 + 1) * 10 + 2, 1 + 1, 1 + 2)
    if how == "aclose":
        assert cleanups_at_close == [0, 0], "initialized but not cleaned up when aclose() returned"
    # The node whose output came first certainly ran.
    ran = {1 + 1: left, 1 + 2: right}.get(first, left)
    for node in (left, right):
        # Dropped, the outputs are closed by the loop's finalizer, which the loop's shutdown
        # may cancel: on the threaded path the host may then finish the cleanup on its own
        # thread just after. It must happen, once. In a fan-out on the threaded path, the
        # other branch's stage may not have started when the run was cancelled: it is then
        # never initialized, and never cleaned up (waited for until the guard, so a late
        # start would be seen).
        cleaned = node.cleaned.wait(CLEANUP_GUARD)
        if node is ran or shape == "chain" or not use_rust:
            assert cleaned, f"{node.name} was never cleaned up"
            assert node.count("initialize") == 1, node.name
        assert node.count("cleanup") == node.count("initialize") <= 1, node.name


# --- memory


class Frames:
    """Makes 1 MiB float32 arrays lazily and counts those alive: made and not yet finalized."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.made = 0
        self.finalized = 0
        self.most = 0

    def _finalized(self) -> None:
        self.finalized += 1

    def alive(self) -> int:
        return self.made - self.finalized

    def note(self) -> None:
        self.most = max(self.most, self.alive())

    def __iter__(self) -> Iterator[np.ndarray[Any, Any]]:
        for _ in range(self.count):
            # np.zeros leaves the pages untouched: 256 MiB of arrays cost little memory.
            array = np.zeros(MIB // 4, np.float32)
            weakref.finalize(array, self._finalized)
            self.made += 1
            self.note()
            yield array
            del array


# Frames alive at once, at most, with queues of 8 MiB (`runtime.channel_bytes`' default, 8
# frames) or 2 MiB (2 frames), for each way of running (DESIGN §7):
#
# - live chain: the caller drives one item at a time, and the consumer pulling is the
#   backpressure: the frame being read, the one the generator makes next, and one the driver
#   may still hold between two items ("a handful", whatever the stream's length).
# - Python executor: every queue (the root's input slot, each edge, the output queue) holds
#   `per_queue` frames; each node holds the frame it is working on; the feeder holds one
#   waiting for room, and the consumer the one it reads.
# - Rust threaded path: the same queues (the run's input queue, each edge, the output queue),
#   plus a queue's worth out of a queue at once in two places: the batch of outputs one pull
#   hands the consumer, and what each Python stage has taken into the interpreter; each node
#   its frame, the pusher one, the consumer one.
SHAPES = {
    # name: (pipeline shape, use_rust)
    "rust-live-chain": ("chain", True),
    "rust-threaded-fan-out": ("fan-out", True),
    "python-chain": ("chain", False),
    "python-fan-out": ("fan-out", False),
}


def _bound(shape: str, per_queue: int) -> int:
    kind, use_rust = SHAPES[shape]
    if use_rust and kind == "chain":
        return 3
    nodes = 2 if kind == "chain" else 3  # [PassThrough, Keep] or PassThrough into two Keeps
    queues = 3 if kind == "chain" else 4  # the input queue, one per edge, the output queue
    if not use_rust:
        return queues * per_queue + nodes + 2
    python_stages = nodes - 1
    return (queues + 1 + python_stages) * per_queue + nodes + 2


def _memory_pipeline(kind: str, channel_bytes: int | None) -> Pipeline:
    pipeline = Pipeline("frames")
    pipeline.add_node(PassThroughNode(name="pass"))  # the Rust built-in
    pipeline.add_node(Keep(name="keep"))
    if kind == "fan-out":
        pipeline.add_node(Keep(name="other"))
        pipeline.connect("pass", "keep")
        pipeline.connect("pass", "other")
    if channel_bytes is not None:
        pipeline.runtime["channel_bytes"] = channel_bytes
    return pipeline


# Queues of the default 8 MiB, and of 2 MiB (`runtime.channel_bytes`), which must lower the
# bound. (The Python executor's fan-out once only: a run that hangs costs the hang guard.)
MEMORY_CASES = [(shape, None) for shape in SHAPES] + [
    (shape, 2) for shape in SHAPES if shape != "python-fan-out"
]


@pytest.mark.parametrize(
    ("shape", "channel_mib"),
    MEMORY_CASES,
    ids=[f"{s}-{'2-mib' if m else 'default-bytes'}" for s, m in MEMORY_CASES],
)
def test_a_stream_of_256_mib_keeps_only_what_the_queues_hold(
    shape: str, channel_mib: int | None
) -> None:
    kind, use_rust = SHAPES[shape]
    pipeline = _memory_pipeline(kind, None if channel_mib is None else channel_mib * MIB)
    frames = Frames(256)

    async def consume() -> int:
        read = 0
        async for out in pipeline.process(iter(frames), use_rust=use_rust):
            assert isinstance(out, np.ndarray)
            assert out.shape == (MIB // 4,)
            del out
            frames.note()
            read += 1
            # A lagging reader: the pipeline fills every queue it can meanwhile.
            for _ in range(5):
                await asyncio.sleep(0)
            if read % 32 == 1:
                await asyncio.sleep(0.05)
        return read

    read = run_async(consume())
    assert read == 256 * (1 if kind == "chain" else 2)
    gc.collect()
    assert frames.made == 256
    assert frames.alive() == 0, "frames still alive after the run"
    bound = _bound(shape, 8 if channel_mib is None else channel_mib)
    assert frames.most <= bound, f"{frames.most} frames of 1 MiB alive at once (bound {bound})"
