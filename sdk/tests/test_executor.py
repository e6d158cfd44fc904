"""The pure-Python executor's graph semantics: order, fan-out, fan-in, shapes, inputs, bounds."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from remotemedia.errors import ManifestError, UsageError
from remotemedia.executor import Edge, execute
from remotemedia.node import Node
from remotemedia.nodes import Add, Multiply, PassThroughNode, Range
from remotemedia.testing import RunningSum


class Evens(Node):
    """A filter: odd items are dropped."""

    def process(self, data: int) -> int | None:
        return data if data % 2 == 0 else None


class Twice(Node):
    """A sync generator: every item twice."""

    def process(self, data: Any) -> Any:
        yield data
        yield data


class Later(Node):
    """`async def`: the item plus one, after giving the loop a turn."""

    async def process(self, data: int) -> int:
        await asyncio.sleep(0)
        return data + 1


class Countdown(Node):
    """A streaming node that ignores its stream: a source when nothing is upstream."""

    def __init__(self, start: int = 3, name: str | None = None) -> None:
        super().__init__(name=name)
        self.start = start

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[int]:
        for i in range(self.start, 0, -1):
            yield i


def run(nodes: list[Node], edges: list[Edge], inputs: list[Any] | None) -> list[tuple[str, Any]]:
    return asyncio.run(execute(nodes, edges, inputs))


def chain(*nodes: Node) -> list[Edge]:
    return [(a.name, b.name, None) for a, b in itertools.pairwise(nodes)]


@pytest.mark.parametrize(
    ("nodes", "inputs", "expected"),
    [
        (
            [PassThroughNode(name="a"), Multiply(factor=2, name="m"), Add(addend=1, name="b")],
            [1, 2, 3],
            [3, 5, 7],
        ),
        ([Evens(name="e")], list(range(7)), [0, 2, 4, 6]),
        ([Twice(name="t"), Multiply(factor=10, name="m")], [1, 2], [10, 10, 20, 20]),
        ([Later(name="l"), Later(name="l2")], [1, 2, 3], [3, 4, 5]),
        ([RunningSum(name="s")], [1, 2, 3, 4], [1, 3, 6, 10]),
        ([Range(4, name="r"), Multiply(factor=2, name="m")], None, [0, 2, 4, 6]),
        ([Countdown(name="c"), Add(addend=1, name="a")], None, [4, 3, 2]),
        ([PassThroughNode(name="p")], [], []),
    ],
    ids=[
        "sync-chain",
        "filter",
        "generator",
        "async",
        "streaming",
        "range-source",
        "stream-source",
        "empty",
    ],
)
def test_a_chain_keeps_input_order_for_every_node_shape(
    nodes: list[Node], inputs: list[Any] | None, expected: list[Any]
) -> None:
    assert [item for _, item in run(nodes, chain(*nodes), inputs)] == expected


def test_a_long_chain_keeps_order_through_small_queues() -> None:
    nodes = [Later(name=f"n{i}") for i in range(5)]
    edges = [(a, b, 1) for a, b, _ in chain(*nodes)]
    outputs = asyncio.run(execute(nodes, edges, list(range(300)), channel_capacity=1))
    assert [item for _, item in outputs] == [i + 5 for i in range(300)]


def test_fan_out_gives_every_branch_the_same_object() -> None:
    src, left, right = (
        PassThroughNode(name="src"),
        PassThroughNode(name="l"),
        PassThroughNode(name="r"),
    )
    item = {"samples": [0.1, 0.2]}
    outputs = run([src, left, right], [("src", "l", None), ("src", "r", None)], [item])
    assert sorted(sink for sink, _ in outputs) == ["l", "r"]
    assert all(out is item for _, out in outputs)


def test_fan_in_interleaves_every_item_and_keeps_each_upstreams_order() -> None:
    nodes = [
        PassThroughNode(name="src"),
        Add(addend=100, name="a"),
        Add(addend=200, name="b"),
        Later(name="join"),
    ]
    edges: list[Edge] = [("src", "a", 2), ("src", "b", 2), ("a", "join", 1), ("b", "join", 1)]
    items = [item for _, item in run(nodes, edges, list(range(50)))]
    assert Counter(items) == Counter([i + 101 for i in range(50)] + [i + 201 for i in range(50)])
    assert [i for i in items if i < 200] == [i + 101 for i in range(50)]
    assert [i for i in items if i > 200] == [i + 201 for i in range(50)]


def test_a_diamond_delivers_each_item_once_per_path() -> None:
    nodes = [
        PassThroughNode(name="s"),
        Multiply(factor=2, name="x"),
        Multiply(factor=3, name="y"),
        PassThroughNode(name="j"),
    ]
    edges: list[Edge] = [("s", "x", None), ("s", "y", None), ("x", "j", None), ("y", "j", None)]
    outputs = run(nodes, edges, [1, 2])
    assert {sink for sink, _ in outputs} == {"j"}
    assert Counter(item for _, item in outputs) == Counter([2, 3, 4, 6])


def test_with_inputs_every_root_that_is_not_a_source_receives_every_item() -> None:
    nodes = [Add(addend=10, name="a"), Add(addend=20, name="b"), Range(2, name="r")]
    outputs = run(nodes, [], [1, 2])
    assert sorted(outputs) == [("a", 11), ("a", 12), ("b", 21), ("b", 22), ("r", 0), ("r", 1)]


def test_outputs_come_from_the_sinks_only() -> None:
    nodes = [PassThroughNode(name="a"), Add(addend=1, name="b")]
    assert run(nodes, chain(*nodes), [1]) == [("b", 2)]


def test_input_items_that_no_node_would_receive_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"no node would receive them: .* r \(Range\)"):
        run([Range(3, name="r"), PassThroughNode(name="p")], [("r", "p", None)], [1])


@pytest.mark.parametrize(
    ("edges", "problem"),
    [
        ([("a", "zz", None)], 'edges[0].to: unknown node "zz"'),
        ([("a", "b", None), ("b", "a", None)], "connections: cycle: a -> b -> a"),
        ([("a", "b", None), ("a", "b", 3)], 'edges[1]: duplicate edge "a" -> "b"'),
    ],
)
def test_a_graph_that_is_not_a_dag_of_its_nodes_is_refused(edges: list[Edge], problem: str) -> None:
    with pytest.raises(ManifestError) as caught:
        run([PassThroughNode(name="a"), PassThroughNode(name="b")], edges, [1])
    assert caught.value.problems == [problem]


class Producer(Node):
    """A source that counts what it has produced."""

    produced = 0

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[int]:
        for i in range(200):
            Producer.produced += 1
            yield i


class SlowConsumer(Node):
    """Takes its time per item and records how far the producer got ahead of it."""

    consumed = 0
    ahead: ClassVar[list[int]] = []

    async def process(self, data: int) -> int:
        SlowConsumer.ahead.append(Producer.produced - SlowConsumer.consumed)
        for _ in range(5):
            await asyncio.sleep(0)
        SlowConsumer.consumed += 1
        return data


@pytest.mark.parametrize("capacity", [1, 4, 16])
def test_a_slow_consumer_bounds_the_queue_in_front_of_it(capacity: int) -> None:
    Producer.produced, SlowConsumer.consumed, SlowConsumer.ahead = 0, 0, []
    nodes = [Producer(name="p"), SlowConsumer(name="c")]
    outputs = run(nodes, [("p", "c", capacity)], None)
    assert len(outputs) == 200
    # In flight: the queue, the item being consumed, and one yielded item waiting for room.
    assert capacity <= max(SlowConsumer.ahead) <= capacity + 2
