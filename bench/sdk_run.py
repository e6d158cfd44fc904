"""The SDK's classic case: 3 PassThroughNodes through `await pipeline.run(...)`, Rust engine
against the Python executor, inside one running event loop (its start-up not counted).

The predecessor of this design measured its Rust path 3x slower than Python on 5 items
(4.33 ms against 1.45 ms). Each figure is the median of repeated runs after one warm-up run
(the first native run starts the runtime). Prints figures, never pass/fail.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from remotemedia import Pipeline
from remotemedia.nodes.base import PassThroughNode


def classic() -> Pipeline:
    pipeline = Pipeline(name="classic")
    for i in range(3):
        pipeline.add_node(PassThroughNode(name=f"step{i}"))
    return pipeline


async def median_seconds(items: list[int], use_rust: bool, repeat: int) -> float:
    pipeline = classic()
    assert await pipeline.run(items, use_rust=use_rust) == items  # warm-up, and a check
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        await pipeline.run(items, use_rust=use_rust)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


async def main() -> None:
    for n, repeat in ((5, 300), (100_000, 5)):
        items = list(range(n))
        rust = await median_seconds(items, True, repeat)
        python = await median_seconds(items, False, repeat)
        print(
            f"{n:>7,} items: rust engine {rust * 1e3:8.3f} ms, python executor "
            f"{python * 1e3:8.3f} ms, python / rust = {python / rust:5.2f}"
            f"   (target: {'>= 1' if n == 5 else '>= 5'})"
        )


if __name__ == "__main__":
    asyncio.run(main())
