"""The pure-Python executor with media items: bytes, arrays, frames and maps of them pass by
reference through every node shape, unsupported dtypes fail as on the host, and every queue is
bounded in payload bytes as well as items (DESIGN §4, §7)."""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

from remotemedia.errors import NodeError, UsageError
from remotemedia.executor import (
    DEFAULT_CHANNEL_BYTES,
    DEFAULT_CHANNEL_CAPACITY,
    Edge,
    execute,
    queue_bounds,
    stream,
)
from remotemedia.executor.tasks import Inbox
from remotemedia.media import AudioFrame
from remotemedia.node import Node
from remotemedia.nodes import PassThroughNode

MIB = 1 << 20
UNSUPPORTED = "between nodes (dtypes: bool, uint8, int16, int32, int64, float32, float64)"


class Sync(Node):
    def process(self, data: Any) -> Any:
        return data


class Generator(Node):
    def process(self, data: Any) -> Any:
        yield data


class Async(Node):
    async def process(self, data: Any) -> Any:
        await asyncio.sleep(0)
        return data


class Streaming(Node):
    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in stream:
            yield item


def _items() -> list[Any]:
    samples = np.linspace(-1, 1, 960, dtype=np.float32)
    return [
        b"\x00\x01\xff",
        np.arange(6, dtype=np.int64).reshape(2, 3),
        np.ones((), np.bool_),
        AudioFrame(samples, 48000, 0.02),
        AudioFrame(np.zeros((160, 2), np.int16), 16000),
        {"frame": AudioFrame(samples, 48000), "features": [np.zeros(4, np.float64), b"x"]},
        [np.zeros(2, np.uint8), 3, "s"],
    ]


def _chain(*nodes: Node) -> list[Edge]:
    """Edges of the default capacity (64 items): only the byte bound can hold 1 MiB frames
    to a few."""
    return [(a.name, b.name, None) for a, b in itertools.pairwise(nodes)]


@pytest.mark.parametrize("shape", [Sync, Generator, Async, Streaming])
def test_media_items_pass_by_reference_through_every_node_shape(shape: type[Node]) -> None:
    nodes = [PassThroughNode(name="p"), shape(name="py"), PassThroughNode(name="q")]
    items = _items()
    outputs = asyncio.run(execute(nodes, _chain(*nodes), items))
    assert [node_id for node_id, _ in outputs] == ["q"] * len(items)
    assert all(out is item for (_, out), item in zip(outputs, items, strict=True))


class Recorder(Node):
    """Records every item it sees, and forwards it."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self.seen: list[Any] = []

    def process(self, data: Any) -> Any:
        self.seen.append(data)
        return data


def test_fan_out_gives_both_branches_the_same_object() -> None:
    left, right = Recorder("left"), Recorder("right")
    nodes = [PassThroughNode(name="src"), left, right]
    edges: list[Edge] = [("src", "left", None), ("src", "right", None)]
    items = _items()
    outputs = asyncio.run(execute(nodes, edges, items))
    for item, seen_left, seen_right in zip(items, left.seen, right.seen, strict=True):
        assert seen_left is item
        assert seen_right is item
    assert sorted(id(out) for _, out in outputs) == sorted(id(i) for i in items * 2)


class Framer(Node):
    """Wraps each array of samples in a frame, keeping the frames it made."""

    made: ClassVar[list[AudioFrame]] = []

    def process(self, data: np.ndarray[Any, Any]) -> AudioFrame:
        frame = AudioFrame(data, 16000, len(Framer.made) * 0.02)
        Framer.made.append(frame)
        return frame


class Meter(Node):
    """Reads a frame: its samples' peak, beside the frame itself."""

    def process(self, data: AudioFrame) -> dict[str, Any]:
        return {"frame": data, "peak": float(np.abs(data.samples).max())}


def test_a_frame_made_in_one_node_is_the_frame_the_next_one_reads() -> None:
    Framer.made.clear()
    samples = [np.full(320, i, np.int16) for i in range(1, 4)]
    nodes = [Framer(name="framer"), Meter(name="meter")]
    outputs = [out for _, out in asyncio.run(execute(nodes, _chain(*nodes), samples))]
    assert [out["peak"] for out in outputs] == [1.0, 2.0, 3.0]
    for out, made, array in zip(outputs, Framer.made, samples, strict=True):
        assert out["frame"] is made
        assert out["frame"].samples is array


class Counting(Node):
    """Counts the items it was given and initialized."""

    started = 0

    def initialize(self) -> None:
        Counting.started += 1

    def process(self, data: Any) -> Any:
        return data


@pytest.mark.parametrize(
    ("item", "dtype"),
    [
        (np.zeros(2, np.float16), "float16"),
        ({"k": [np.array(["text"])]}, "str128"),
        ((np.zeros(2, np.complex64),), "complex64"),
    ],
    ids=["float16", "nested-string-array", "in-a-tuple"],
)
def test_an_input_item_of_an_unsupported_dtype_is_a_usage_error(item: Any, dtype: str) -> None:
    Counting.started = 0
    nodes = [Counting(name="c")]
    with pytest.raises(UsageError) as caught:
        asyncio.run(execute(nodes, [], [1, item]))
    assert str(caught.value) == f"input item: cannot pass an array of dtype {dtype} {UNSUPPORTED}"
    assert Counting.started == 0  # checked before any node starts

    async def through_stream() -> list[Any]:
        return [out async for out in stream(nodes, [], iter([1, item]))]

    with pytest.raises(UsageError) as streamed:
        asyncio.run(through_stream())
    assert str(streamed.value) == str(caught.value)


class Halves(Node):
    """Makes float16 arrays, which no queue may carry."""

    def process(self, data: Any) -> Any:
        if data == "half":
            return {"x": np.zeros(2, np.float16)}
        return data


@pytest.mark.parametrize("sink", [True, False], ids=["at-a-sink", "into-an-edge"])
def test_an_output_of_an_unsupported_dtype_is_the_nodes_type_error(sink: bool) -> None:
    nodes: list[Node] = [Halves(name="h")]
    if not sink:
        nodes.append(PassThroughNode(name="after"))
    with pytest.raises(NodeError) as caught:
        asyncio.run(execute(nodes, _chain(*nodes), [1, "half", 2]))
    error = caught.value
    assert (error.node_id, error.node_type, error.error_type) == ("h", "Halves", "TypeError")
    assert error.message == f"cannot pass an array of dtype float16 {UNSUPPORTED}"


# --- byte bounds


async def _settle() -> None:
    """Lets every task that can run, run (no time passes: only turns of the loop)."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_slot_is_full_at_its_byte_bound_and_an_empty_slot_takes_any_item() -> None:
    async def scenario() -> None:
        inbox = Inbox([64], 2 * MIB)
        mib = [np.zeros(MIB, np.uint8) for _ in range(3)]
        await inbox.put(0, mib[0])
        await inbox.put(0, mib[1])  # 2 MiB: at the bound, not past it
        third = asyncio.ensure_future(inbox.put(0, mib[2]))
        await _settle()
        assert not third.done()
        assert await inbox.get() is mib[0]
        await _settle()
        assert third.done()

        huge = Inbox([64], 2 * MIB)
        await huge.put(0, np.zeros(5 * MIB, np.uint8))  # larger than the bound: travels alone
        small = asyncio.ensure_future(huge.put(0, b"x"))
        await _settle()
        assert not small.done()
        await huge.get()
        await _settle()
        assert small.done()

        counted = Inbox([3], 2 * MIB)
        for i in range(3):
            await counted.put(0, i)  # no payload: the item bound still holds
        fourth = asyncio.ensure_future(counted.put(0, 3))
        await _settle()
        assert not fourth.done()
        fourth.cancel()

    asyncio.run(scenario())


class Live:
    """Counts the frames alive: made by `frames`, forgotten by the garbage collector."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def _gone(self) -> None:
        self.now -= 1

    def frames(self, count: int, size: int) -> Iterator[AudioFrame]:
        for i in range(count):
            # np.zeros leaves the pages untouched: 256 MiB of frames cost little memory.
            frame = AudioFrame(np.zeros(size // 4, np.float32), 48000, float(i))
            weakref.finalize(frame, self._gone)
            self.now += 1
            self.most = max(self.most, self.now)
            yield frame


async def _slow_reader(outputs: AsyncIterator[Any], live: Live) -> int:
    """Reads every output, letting the pipeline fill every queue it can before each one."""
    read = 0
    async for out in outputs:
        await _settle()
        live.most = max(live.most, live.now)
        assert isinstance(out, AudioFrame)
        del out
        read += 1
    return read


def test_a_stream_of_large_frames_keeps_only_what_its_queues_hold() -> None:
    live = Live()
    nodes = [PassThroughNode(name="a"), Sync(name="b")]
    outputs = stream(nodes, _chain(*nodes), live.frames(256, MIB), channel_bytes=2 * MIB)
    assert asyncio.run(_slow_reader(outputs, live)) == 256
    # Three queues (a's input slot, the edge a -> b, the output queue) of at most 2 frames
    # each, a frame in each node and one in the feeder waiting for room, one being read.
    bound = 3 * 2 + len(nodes) + 1 + 1
    assert live.most <= bound
    assert live.most >= 6  # the reader lagged: every queue was full
    assert live.now == 0


def test_without_a_byte_bound_the_same_stream_keeps_every_frame() -> None:
    # The contrast that shows what the bound does: the item bounds alone (1024 items for the
    # run's own queues) let the feeder hold the whole stream.
    live = Live()
    nodes = [PassThroughNode(name="a"), PassThroughNode(name="b")]
    outputs = stream(nodes, _chain(*nodes), live.frames(256, MIB), channel_bytes=1 << 40)
    assert asyncio.run(_slow_reader(outputs, live)) == 256
    assert live.most == 256


def test_the_default_byte_bound_holds_eight_mib_per_queue() -> None:
    live = Live()
    nodes = [PassThroughNode(name="a")]
    outputs = stream(nodes, [], live.frames(64, MIB))
    assert asyncio.run(_slow_reader(outputs, live)) == 64
    # Two queues (a's input slot, the output queue) of 8 frames, a, the feeder, the reader.
    assert 16 <= live.most <= 2 * 8 + 1 + 1 + 1


def test_queue_bounds_come_from_the_runtime_settings() -> None:
    assert queue_bounds({}) == {
        "channel_capacity": DEFAULT_CHANNEL_CAPACITY,
        "channel_bytes": DEFAULT_CHANNEL_BYTES,
    }
    assert DEFAULT_CHANNEL_BYTES == 8 * MIB
    runtime = {"channel_capacity": 4, "channel_bytes": 1024, "python": "cpython"}
    assert queue_bounds(runtime) == {"channel_capacity": 4, "channel_bytes": 1024}
