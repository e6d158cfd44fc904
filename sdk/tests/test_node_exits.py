"""A node that calls `sys.exit` or raises `KeyboardInterrupt` fails its run with a `NodeError`
naming it, on both engines: it never hangs the run nor ends the caller's program."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from remotemedia.errors import NodeError
from remotemedia.node import Node
from remotemedia.nodes.base import PassThroughNode
from remotemedia.pipeline import Pipeline

HANG_GUARD = 60.0


class Exits(Node):
    def process(self, data: Any) -> Any:
        sys.exit(3)


class Interrupts(Node):
    async def process(self, data: Any) -> Any:
        raise KeyboardInterrupt


class StreamExits(Node):
    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in stream:
            yield item
            raise SystemExit(5)


@pytest.mark.parametrize("use_rust", [True, False])
@pytest.mark.parametrize(
    ("node_class", "error_type"),
    [(Exits, "SystemExit"), (Interrupts, "KeyboardInterrupt"), (StreamExits, "SystemExit")],
)
def test_an_exit_in_a_node_is_a_node_error_on_both_engines(
    use_rust: bool, node_class: type[Node], error_type: str
) -> None:
    pipeline = Pipeline("exits")
    pipeline.add_node(PassThroughNode(name="first"))
    pipeline.add_node(node_class(name="x"))

    async def run() -> Any:
        return await asyncio.wait_for(pipeline.run([1, 2], use_rust=use_rust), HANG_GUARD)

    with pytest.raises(NodeError) as raised:
        asyncio.run(run())
    assert (raised.value.node_id, raised.value.error_type) == ("x", error_type)
    # The engine still works afterwards.
    again = Pipeline("after")
    again.add_node(PassThroughNode(name="p"))
    assert asyncio.run(again.run([7], use_rust=use_rust)) == [7]


class Later(Node):
    """A Python node that passes items on (so the next run needs the interpreter)."""

    def process(self, data: Any) -> Any:
        return data


class Busy(Node):
    """Loops forever in pure Python, holding the interpreter; records its cleanup."""

    cleaned: ClassVar[list[str]] = []

    def process(self, data: Any) -> Any:
        while True:
            pass

    def cleanup(self) -> None:
        Busy.cleaned.append(self.name)


def test_cancelling_a_run_interrupts_busy_python_code_and_cleans_up() -> None:
    pipeline = Pipeline("busy")
    pipeline.add_node(Busy(name="spin"))

    async def run() -> Any:
        return await asyncio.wait_for(pipeline.run([1], use_rust=True), 1.0)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(run())
    assert Busy.cleaned == ["spin"]
    # The interpreter thread is free again: the next Python run goes through.
    again = Pipeline("after")
    again.add_node(Later(name="p"))
    assert asyncio.run(asyncio.wait_for(again.run([7], use_rust=True), HANG_GUARD)) == [7]
