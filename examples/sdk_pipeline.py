"""Build a pipeline in Python, with a node class of your own, and run it on both engines."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from remotemedia import Node, Pipeline
from remotemedia.nodes import Multiply


class Label(Node):
    """Turns a number into a small record (a node class defined right here)."""

    def process(self, data: Any) -> dict[str, Any]:
        return {"value": data, "even": data % 2 == 0}


async def main() -> None:
    pipeline = Pipeline(name="labels")
    pipeline.add_node(Multiply(name="triple", factor=3))
    pipeline.add_node(Label(name="label"))
    print("rust engine:  ", await pipeline.run([1, 2, 3]))
    print("python engine:", await pipeline.run([1, 2, 3], use_rust=False))
    print("manifest:", pipeline.serialize())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    asyncio.run(main())
