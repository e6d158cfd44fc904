"""A node that calls `sys.exit` or raises `KeyboardInterrupt` fails its run with a `NodeError`
naming it, on both engines: it never hangs the run nor ends the caller's program."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

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
