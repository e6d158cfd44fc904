"""initialize/cleanup, node errors and cancellation in the pure-Python executor."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from remotemedia.errors import NodeError
from remotemedia.executor import Edge, execute, stream
from remotemedia.node import Node
from remotemedia.nodes import Multiply, PassThroughNode

EVENTS: list[str] = []


class Recorded(Node):
    """Records its lifecycle in EVENTS; `fail_init` makes `initialize` raise."""

    def __init__(self, name: str | None = None, fail_init: bool = False) -> None:
        super().__init__(name=name)
        self.fail_init = fail_init

    def initialize(self) -> None:
        EVENTS.append(f"{self.name}.initialize")
        if self.fail_init:
            raise RuntimeError("no device")

    def process(self, data: Any) -> Any:
        EVENTS.append(f"{self.name}.process")
        return data

    def cleanup(self) -> None:
        EVENTS.append(f"{self.name}.cleanup")


class AsyncRecorded(Recorded):
    """The same with `async def` lifecycle methods."""

    async def initialize(self) -> None:  # type: ignore[override] # the contract allows async
        await asyncio.sleep(0)
        EVENTS.append(f"{self.name}.initialize")

    async def cleanup(self) -> None:  # type: ignore[override] # the contract allows async
        await asyncio.sleep(0)
        EVENTS.append(f"{self.name}.cleanup")


class Fails(Node):
    """Raises on the item 3."""

    def process(self, data: int) -> int:
        if data == 3:
            raise ValueError(f"cannot take {data}")
        return data


def chain(*nodes: Node) -> list[Edge]:
    return [(a.name, b.name, None) for a, b in itertools.pairwise(nodes)]


@pytest.fixture(autouse=True)
def fresh_events() -> None:
    EVENTS.clear()


@pytest.mark.parametrize("node_class", [Recorded, AsyncRecorded])
def test_initialize_runs_once_before_the_first_item_and_cleanup_once_at_the_end(
    node_class: type[Recorded],
) -> None:
    asyncio.run(execute([node_class(name="n")], [], [1, 2]))
    assert EVENTS == ["n.initialize", "n.process", "n.process", "n.cleanup"]


def test_a_node_error_names_the_node_its_type_and_keeps_the_traceback() -> None:
    nodes = [PassThroughNode(name="src"), Fails(name="bad"), Multiply(factor=1, name="m")]
    with pytest.raises(NodeError) as caught:
        asyncio.run(execute(nodes, chain(*nodes), [1, 2, 3, 4]))
    error = caught.value
    assert (error.node_id, error.node_type, error.error_type) == ("bad", "Fails", "ValueError")
    assert error.message == "cannot take 3"
    assert str(error) == 'node "bad" (Fails) failed: ValueError: cannot take 3'
    assert error.traceback is not None
    assert "raise ValueError" in error.traceback
    assert isinstance(error.__cause__, ValueError)
    assert error.partial_outputs == [1, 2][: len(error.partial_outputs)]


def test_after_an_error_only_initialized_nodes_are_cleaned_up() -> None:
    nodes = [Recorded(name="a"), Recorded(name="b", fail_init=True), Recorded(name="c")]
    with pytest.raises(NodeError, match=r'node "b" \(Recorded\) failed: RuntimeError: no device'):
        asyncio.run(execute(nodes, chain(*nodes), [1]))
    assert sorted(e for e in EVENTS if e.endswith("cleanup")) == ["a.cleanup", "c.cleanup"]
    assert "b.process" not in EVENTS


def test_an_error_in_a_streaming_node_stops_the_others_and_cleans_up() -> None:
    class Breaks(Node):
        async def process(self, stream: AsyncIterator[int]) -> AsyncIterator[int]:
            async for item in stream:
                if item == 2:
                    raise KeyError("two")
                yield item

    nodes = [Recorded(name="a"), Breaks(name="s"), Recorded(name="z")]
    with pytest.raises(NodeError) as caught:
        asyncio.run(execute(nodes, chain(*nodes), list(range(100))))
    assert (caught.value.node_id, caught.value.error_type) == ("s", "KeyError")
    assert {"a.cleanup", "z.cleanup"} <= set(EVENTS)


class Stuck(Recorded):
    """Signals that it took an item, then waits for ever."""

    started: asyncio.Event

    async def process(self, data: Any) -> Any:  # type: ignore[override] # async is allowed
        Stuck.started.set()
        await asyncio.Event().wait()


def test_cancelling_the_run_cleans_up_and_propagates_the_cancellation() -> None:
    async def main() -> None:
        Stuck.started = asyncio.Event()
        nodes = [Recorded(name="a"), Stuck(name="stuck")]
        running = asyncio.create_task(execute(nodes, chain(*nodes), [1, 2]))
        await Stuck.started.wait()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    asyncio.run(main())
    assert sorted(e for e in EVENTS if e.endswith("cleanup")) == ["a.cleanup", "stuck.cleanup"]


def test_stream_yields_outputs_made_before_an_error_then_raises_it() -> None:
    async def main() -> list[int]:
        seen: list[int] = []

        async def consume() -> None:
            async for item in stream([Fails(name="bad")], [], [1, 2, 3, 4]):
                seen.append(item)

        with pytest.raises(NodeError, match="cannot take 3"):
            await consume()
        return seen

    assert asyncio.run(main()) == [1, 2]


def test_closing_a_stream_early_cancels_the_run_and_cleans_up() -> None:
    async def main() -> list[int]:
        outputs = stream([Recorded(name="r")], [], range(10_000))
        first = [await anext(outputs)]
        await outputs.aclose()  # type: ignore[attr-defined] # an async generator
        return first

    assert asyncio.run(main()) == [0]
    assert EVENTS[-1] == "r.cleanup"
