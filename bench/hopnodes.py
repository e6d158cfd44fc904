"""The node the Python benchmarks chain: it changes every item, so no hop can be skipped."""

from __future__ import annotations

from remotemedia import Node


class Inc(Node):
    """Adds one."""

    def process(self, data: int) -> int:
        return data + 1


class AsyncInc(Node):
    """Adds one, as an `async def` node (drives the host's async stage)."""

    async def process(self, data: int) -> int:
        return data + 1
