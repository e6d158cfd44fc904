"""Nodes for the tests of `retry` and `timeout_ms`, named by import path
(`retry_nodes:Flaky`): the host finds this module through PYTHONPATH, the SDK as the test's
own import. Each failing node counts its calls per item, so a test can see which attempt
succeeded."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from remotemedia.driver import board as crash_board
from remotemedia.node import Node


class _Counting(Node):
    """Counts the calls of `process` per item."""

    def __init__(self, failures: int = 2, name: str | None = None) -> None:
        super().__init__(name=name)
        self.failures = failures
        self.calls: dict[Any, int] = {}

    def _call(self, data: Any) -> int:
        self.calls[data] = self.calls.get(data, 0) + 1
        return self.calls[data]


class Flaky(_Counting):
    """Fails the first `failures` calls for each item, then emits the item and the attempt."""

    def process(self, data: Any) -> dict[str, Any]:
        attempt = self._call(data)
        if attempt <= self.failures:
            raise ValueError(f"item {data} failed on attempt {attempt}")
        return {"item": data, "attempt": attempt}


class AsyncFlaky(_Counting):
    """`async def`: as `Flaky`, after awaiting."""

    async def process(self, data: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        attempt = self._call(data)
        if attempt <= self.failures:
            raise ValueError(f"item {data} failed on attempt {attempt}")
        return {"item": data, "attempt": attempt}


class FlakyGenerator(_Counting):
    """Sync generator: fails before its first output on the first `failures` calls for each
    item, then yields the item and ten times the item."""

    def process(self, data: Any) -> Iterator[Any]:
        attempt = self._call(data)
        if attempt <= self.failures:
            raise ValueError(f"item {data} failed on attempt {attempt}")
        yield {"item": data, "attempt": attempt}
        yield data * 10


class FailsAfterYielding(_Counting):
    """Sync generator: yields the item, then fails (on every call)."""

    def process(self, data: Any) -> Iterator[Any]:
        attempt = self._call(data)
        yield {"item": data, "attempt": attempt}
        raise ValueError(f"item {data} failed after yielding, on attempt {attempt}")


class Busy(Node):
    """A pure-Python loop that never ends; `except Exception` cannot keep the timeout out."""

    def process(self, data: Any) -> Any:
        while True:
            try:  # noqa: SIM105 -- written as careless node code writes it
                pass
            except Exception:  # noqa: BLE001 -- what careless node code does
                pass


class AwaitsForever(Node):
    """`async def` that awaits something that never comes."""

    async def process(self, data: Any) -> Any:
        await asyncio.Event().wait()


class BusyGenerator(Node):
    """Sync generator: yields the item, then loops for ever."""

    def process(self, data: Any) -> Iterator[Any]:
        yield data
        while True:
            pass


class BusyFirstTime(_Counting):
    """Loops for ever on the first call for each item; answers at once on the next."""

    def process(self, data: Any) -> dict[str, Any]:
        attempt = self._call(data)
        while attempt == 1:
            pass
        return {"item": data, "attempt": attempt}


class BusyStream(Node):
    """Streaming: passes items on, and loops for ever on the item -1."""

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in stream:
            while item == -1:
                pass
            yield item


class PatientStream(Node):
    """Streaming: waits `wait_s` (awaiting, not busy) before passing each item on."""

    def __init__(self, wait_s: float = 0.3, name: str | None = None) -> None:
        super().__init__(name=name)
        self.wait_s = wait_s

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in stream:
            await asyncio.sleep(self.wait_s)
            yield item


class Sleeps(Node):
    """Blocks in `time.sleep(seconds)`, a C call no interrupt reaches, then passes on."""

    def __init__(self, seconds: float = 1.5, name: str | None = None) -> None:
        super().__init__(name=name)
        self.seconds = seconds

    def process(self, data: Any) -> Any:
        time.sleep(self.seconds)
        return data


class Jittery(Node):
    """Sleeps 0 to 2 ms (the interpreter lock released, so the watchdog runs meanwhile), then
    runs a little Python: calls that end all around a 1 ms deadline."""

    def __init__(self, seed: int = 0, name: str | None = None) -> None:
        super().__init__(name=name)
        self.random = random.Random(seed)

    def process(self, data: Any) -> Any:
        time.sleep(self.random.uniform(0, 0.002))
        total = 0
        for i in range(100):
            total += i
        return data


class ReadsBoard(Node):
    """Emits the non-zero words of the attached crash board while its code runs."""

    def process(self, data: Any) -> list[int]:
        board = crash_board.board
        return [] if board is None else [word for word in board.tolist() if word]


class AsyncReadsBoard(Node):
    """`async def`: as `ReadsBoard`, after awaiting."""

    async def process(self, data: Any) -> list[int]:
        await asyncio.sleep(0)
        board = crash_board.board
        return [] if board is None else [word for word in board.tolist() if word]
