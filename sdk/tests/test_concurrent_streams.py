"""Many runs and streams at once on the native engine: none waits for a thread another holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from remotemedia.node import Node
from remotemedia.nodes.base import PassThroughNode
from remotemedia.pipeline import Pipeline

HANG_GUARD = 120.0
STREAMS = 32


class Nap(Node):
    """Sleeps a moment per item (releasing the interpreter lock), then passes it on."""

    def process(self, data: Any) -> Any:
        time.sleep(0.001)
        return data


def pipeline(name: str) -> Pipeline:
    p = Pipeline(name)
    p.add_node(Nap(name="nap"))
    p.add_node(PassThroughNode(name="out"))
    return p


async def slow_items(n: int) -> AsyncIterator[int]:
    for i in range(n):
        await asyncio.sleep(0.002)  # items arrive over time: every stream waits on pulls
        yield i


def test_many_concurrent_streams_and_runs_all_finish() -> None:
    async def one_stream(k: int) -> list[Any]:
        return [item async for item in pipeline(f"s{k}").process(slow_items(20))]

    async def one_run(k: int) -> list[Any]:
        return list(await pipeline(f"r{k}").run(list(range(300))))

    async def everything() -> list[list[Any]]:
        work = [one_stream(k) for k in range(STREAMS)] + [one_run(k) for k in range(8)]
        return await asyncio.wait_for(asyncio.gather(*work), HANG_GUARD)

    results = asyncio.run(everything())
    assert all(r == list(range(20)) for r in results[:STREAMS])
    assert all(r == list(range(300)) for r in results[STREAMS:])
