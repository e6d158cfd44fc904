"""Small nodes of every shape, for tests of executors and interpreter backends.

The backend contract suite (`vm-sandbox/tests/contract.rs`) runs these in each backend, and a
plugin author may use them to try a pipeline. Each covers one shape of `process` (DESIGN §5)
or one way of failing; none is registered as a plugin type: name them as
`"remotemedia.testing:Double"`.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from remotemedia.node import Node

__all__ = [
    "AsyncAdd",
    "Count",
    "Double",
    "DropOdd",
    "Endless",
    "FailOn",
    "Flaky",
    "Journal",
    "Nap",
    "Naturals",
    "Repeat",
    "RunningSum",
    "Spin",
]


class Double(Node):
    """Sync function: one output per item, the item times two."""

    def process(self, data: Any) -> Any:
        return data * 2


class DropOdd(Node):
    """Sync filter: returns None for odd numbers, which drops them."""

    def process(self, data: int) -> int | None:
        return data if data % 2 == 0 else None


class Repeat(Node):
    """Sync generator: each item `times` times."""

    def __init__(self, times: int = 2, name: str | None = None) -> None:
        super().__init__(name=name)
        self.times = times

    def process(self, data: Any) -> Iterator[Any]:
        for _ in range(self.times):
            yield data


class Endless(Node):
    """Sync generator that never ends: item, item + 1, item + 2, ...; it runs in bounded
    memory only if it is resumed only while there is room downstream."""

    def process(self, data: int) -> Iterator[int]:
        while True:
            yield data
            data += 1


class AsyncAdd(Node):
    """`async def`: the item plus `addend`."""

    def __init__(self, addend: int = 1, name: str | None = None) -> None:
        super().__init__(name=name)
        self.addend = addend

    async def process(self, data: int) -> int:
        return data + self.addend


class RunningSum(Node):
    """Streaming: the running sum after each input."""

    async def process(self, stream: AsyncIterator[int]) -> AsyncIterator[int]:
        total = 0
        async for item in stream:
            total += item
            yield total


class Count(Node):
    """A source: 0, 1, ..., `n` - 1."""

    is_source = True

    def __init__(self, n: int = 3, name: str | None = None) -> None:
        super().__init__(name=name)
        self.n = n

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[int]:
        for i in range(self.n):
            yield i


class Naturals(Node):
    """An endless source: 0, 1, 2, ...; it runs in bounded memory only if it is resumed only
    while there is room downstream."""

    is_source = True

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[int]:
        i = 0
        while True:
            yield i
            i += 1


class FailOn(Node):
    """Raises `ValueError` where told: `"construct"`, `"initialize"`, or in `process` on the
    item equal to `value`; passes other items on."""

    def __init__(self, value: Any = None, where: str = "process", name: str | None = None) -> None:
        super().__init__(name=name)
        if where == "construct":
            raise ValueError("failing in the constructor, as asked")
        self.value, self.where = value, where

    def initialize(self) -> None:
        if self.where == "initialize":
            raise ValueError("failing in initialize, as asked")

    def process(self, data: Any) -> Any:
        if data == self.value:
            raise ValueError(f"failing on {data!r}, as asked")
        return data


class Flaky(Node):
    """Fails (`ValueError`) the first `failures` calls of `process` for each item, then emits
    `item * 10 + the attempt that succeeded`: for tests of `retry`."""

    def __init__(self, failures: int = 2, name: str | None = None) -> None:
        super().__init__(name=name)
        self.failures = failures
        self.calls: dict[Any, int] = {}

    def process(self, data: int) -> int:
        attempt = self.calls[data] = self.calls.get(data, 0) + 1
        if attempt <= self.failures:
            raise ValueError(f"item {data} failed on attempt {attempt}, as asked")
        return data * 10 + attempt


class Journal(Node):
    """Passes items on and appends its lifecycle (`initialize`, `cleanup`) to the file `path`,
    one word a line, so a test can see that cleanup ran."""

    def __init__(self, path: str, name: str | None = None) -> None:
        super().__init__(name=name)
        self.path = Path(path)

    def _note(self, word: str) -> None:
        with self.path.open("a", encoding="utf-8") as journal:
            journal.write(f"{self.name} {word}\n")

    def initialize(self) -> None:
        self._note("initialize")

    def process(self, data: Any) -> Any:
        return data

    def cleanup(self) -> None:
        self._note("cleanup")


class Nap(Node):
    """Sleeps `seconds` on each item (`time.sleep`, which releases the interpreter lock) and
    emits when it slept, `{"node": name, "item": item, "start": t0, "end": t1}` in
    `time.monotonic()` seconds: evidence for tests that nodes overlap in time."""

    def __init__(self, seconds: float = 0.2, name: str | None = None) -> None:
        super().__init__(name=name)
        self.seconds = seconds

    def process(self, data: Any) -> dict[str, Any]:
        start = time.monotonic()
        time.sleep(self.seconds)
        return {"node": self.name, "item": data, "start": start, "end": time.monotonic()}


class Spin(Node):
    """Busy in pure Python on each item: makes the file `started`, then loops until the file
    `until` exists (for ever, if nobody makes it), then passes the item on. For tests that
    interrupt busy node code."""

    def __init__(self, started: str, until: str, name: str | None = None) -> None:
        super().__init__(name=name)
        self.started, self.until = started, until

    def process(self, data: Any) -> Any:
        Path(self.started).touch()
        while not os.path.exists(self.until):
            pass
        return data
