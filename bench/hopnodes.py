"""The nodes the Python benchmarks chain: `Inc` changes every item, so no hop can be skipped."""

from __future__ import annotations

from typing import Any

from remotemedia import Node


class Inc(Node):
    """Adds one."""

    def process(self, data: int) -> int:
        return data + 1


class AsyncInc(Node):
    """Adds one, as an `async def` node (drives the host's async stage)."""

    async def process(self, data: int) -> int:
        return data + 1


class Forward(Node):
    """Returns the item as it came: a custom Python node (so the host must call this code; a
    `PassThroughNode` would run as the built-in Rust `PassThrough`)."""

    def process(self, data: Any) -> Any:
        return data
