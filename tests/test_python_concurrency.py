"""Concurrent runs in one program on the Rust engine (DESIGN §7): Python nodes that release the
interpreter lock overlap in time across runs, and cancelling one run stops its busy node code
only. The evidence is what the nodes record themselves (`time.monotonic()`), never how long
the test took."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, ClassVar

import pytest

from remotemedia.node import Node
from remotemedia.pipeline import Pipeline

HANG_GUARD = 60.0


class Nap(Node):
    """Sleeps `seconds` on each item (releasing the interpreter lock) and emits when it slept;
    notes its name in `asleep` as it falls asleep."""

    asleep: ClassVar[list[str]] = []

    def __init__(self, seconds: float = 0.5, name: str | None = None) -> None:
        super().__init__(name=name)
        self.seconds = seconds

    def process(self, data: Any) -> dict[str, Any]:
        start = time.monotonic()
        Nap.asleep.append(self.name)
        time.sleep(self.seconds)
        return {"node": self.name, "start": start, "end": time.monotonic()}


class AsyncSpin(Node):
    """An `async def` node busy in pure Python, never awaiting, for `seconds` (far longer than
    the test waits for it); records how its work ended and when it was cleaned up."""

    events: ClassVar[list[tuple[str, float]]] = []

    def __init__(self, seconds: float = 30.0, name: str | None = None) -> None:
        super().__init__(name=name)
        self.seconds = seconds

    async def process(self, data: Any) -> Any:
        AsyncSpin.events.append(("spinning", time.monotonic()))
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            pass
        AsyncSpin.events.append(("spun out", time.monotonic()))
        return data

    def cleanup(self) -> None:
        AsyncSpin.events.append(("cleanup", time.monotonic()))


def one_node(name: str, node: Node) -> Pipeline:
    pipeline = Pipeline(name)
    pipeline.add_node(node)
    return pipeline


def engines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage().split()[-2]
        for r in caplog.records
        if r.name == "remotemedia" and r.getMessage().endswith(" engine")
    ]


def test_two_concurrent_runs_of_sleeping_nodes_overlap_in_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def both() -> list[Any]:
        runs = [one_node(n, Nap(name=n)).run([1], use_rust=True) for n in ("a", "b")]
        return await asyncio.wait_for(asyncio.gather(*runs), HANG_GUARD)

    with caplog.at_level(logging.INFO, logger="remotemedia"):
        [a], [b] = asyncio.run(both())
    assert engines(caplog) == ["rust", "rust"]
    assert (a["node"], b["node"]) == ("a", "b")
    # Each started before the other ended.
    assert b["start"] < a["end"]
    assert a["start"] < b["end"]


def test_cancelling_a_run_interrupts_its_busy_async_node_and_no_other_run() -> None:
    AsyncSpin.events.clear()
    Nap.asleep.clear()

    async def cancel_one() -> list[Any]:
        spinning = asyncio.ensure_future(one_node("spin", AsyncSpin(name="s")).run([1]))
        napping = asyncio.ensure_future(one_node("nap", Nap(seconds=2.0, name="n")).run([1]))
        while not (AsyncSpin.events and Nap.asleep):
            await asyncio.sleep(0.01)
        spinning.cancel()
        with pytest.raises(asyncio.CancelledError):
            await spinning
        return await napping

    [nap] = asyncio.run(asyncio.wait_for(cancel_one(), HANG_GUARD))
    # The busy code stopped (it never spun out) and was cleaned up while the other run's node
    # was still asleep; that node went on to its normal end.
    assert [e for e, _ in AsyncSpin.events] == ["spinning", "cleanup"]
    cleaned_up = AsyncSpin.events[-1][1]
    assert nap["start"] < cleaned_up < nap["end"]
