"""The live path of `Pipeline.process()` on the Rust engine: a chain its caller drives.

When the host finds the pipeline to be one chain of synchronous Rust nodes and Python nodes
(`remotemedia_runtime._caller_chain`), and its Python nodes process one item at a time
(`def process` or `async def process`, not generators or streaming nodes), each input item
goes through the whole chain here, on the caller's thread, as soon as the stream yields it:
Python nodes are called directly (this thread holds the interpreter lock already), and each
run of consecutive Rust nodes is one call into the host (`RustNodes.process`), which runs them
in Rust over the item's memory. No queue, no thread hand-off, no batch to wait for: the cost
of a frame in flight is the cost of calling its nodes. The consumer pulling outputs is the
backpressure: nothing runs ahead of it, so memory holds one item in flight.

Node code runs on the caller's event-loop thread, as in the pure-Python executor: a node
that blocks for long stalls that loop (use `async def process` for waiting). The loop gets
a turn at least every `_TURN_SECONDS` of busy work, so cancellation and other tasks proceed.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import traceback
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from typing import Any

from remotemedia._calls import SYNC_NODE_FAILURES, call_lifecycle, kind, node_class
from remotemedia.errors import NodeError, UsageError
from remotemedia.manifest.graph import is_source
from remotemedia.media import check_item

_TURN_SECONDS = 0.005
"""Busy time after which the caller's event loop gets a turn between two items."""


class _PyStep:
    """A Python node of the chain."""

    def __init__(self, node_id: str, node_type: str, node: Any, shape: str) -> None:
        self.node_id, self.node_type, self.node, self.shape = node_id, node_type, node, shape
        self.initialized = False

    def error(self, error: BaseException) -> NodeError:
        return NodeError(
            node_id=self.node_id,
            node_type=self.node_type,
            error_type=type(error).__name__,
            message=str(error),
            traceback="".join(traceback.format_exception(error)),
        )


class CallerChain:
    """The steps of a chain its caller drives: `_PyStep`s and `RustNodes` (native)."""

    def __init__(self, steps: list[Any]) -> None:
        self._steps = steps
        self._last_python = next(
            (i for i in reversed(range(len(steps))) if isinstance(steps[i], _PyStep)), -1
        )

    @classmethod
    def make(cls, plan: list[tuple[Any, ...]]) -> CallerChain | None:
        """The chain for the host's plan, its Python nodes constructed; `None` when one of
        them cannot be driven item by item (a generator, a streaming node, a source), which
        is known from its class before anything is constructed."""
        classes: list[Any] = []
        for step in plan:
            if step[0] != "python":
                continue
            _, node_id, node_type, made = step
            target = made if not isinstance(made, tuple) else node_class(made[0], made[1])
            if kind(target) not in ("sync", "async") or is_source(target):
                return None
            classes.append(target)
        steps: list[Any] = []
        for step in plan:
            if step[0] == "rust":
                steps.append(step[1])
                continue
            _, node_id, node_type, made = step
            if isinstance(made, tuple):
                try:
                    made = node_class(made[0], made[1])(name=node_id, **made[2])
                except SYNC_NODE_FAILURES as e:
                    raise _PyStep(node_id, node_type, None, "").error(e) from e
            steps.append(_PyStep(node_id, node_type, made, kind(made)))
        return cls(steps)

    async def run(self, stream: AsyncIterable[Any] | Iterable[Any]) -> AsyncGenerator[Any, None]:
        """Every item of `stream` through the chain; outputs as they come."""
        try:
            await self._initialize()
            turn = time.monotonic()
            if isinstance(stream, AsyncIterable):
                async for item in stream:
                    for out in await self._through(0, [self._input(item)]):
                        yield out
            else:
                for item in stream:
                    for out in await self._through(0, [self._input(item)]):
                        yield out
                    if time.monotonic() - turn > _TURN_SECONDS:
                        await asyncio.sleep(0)
                        turn = time.monotonic()
            for i, step in enumerate(self._steps):
                if not isinstance(step, _PyStep):
                    for out in await self._through(i + 1, list(step.finish())):
                        yield out
        finally:
            await self._cleanup()

    def _input(self, item: Any) -> Any:
        try:
            check_item(item)
        except TypeError as e:
            raise UsageError(f"input item: {e}") from None
        return item

    async def _through(self, first: int, items: list[Any]) -> list[Any]:
        """`items` through the steps from `first` on."""
        steps = self._steps
        for i in range(first, len(steps)):
            if not items:
                break
            step = steps[i]
            if isinstance(step, _PyStep):
                items = await self._call(step, items, i == self._last_python)
            else:
                try:
                    items = step.process(items)
                except TypeError as e:
                    # An input item, or an output of the Python node before, that cannot be
                    # an item.
                    if i == 0:
                        raise UsageError(f"input item: {e}") from None
                    raise self._steps[i - 1].error(TypeError(str(e))) from None
        return items

    async def _call(self, step: _PyStep, items: list[Any], check: bool) -> list[Any]:
        outputs = []
        process = step.node.process
        for item in items:
            try:
                out = process(item)
                if step.shape == "async":
                    out = await out
            except SYNC_NODE_FAILURES as e:
                raise step.error(e) from e
            if out is None:
                continue
            if check:
                try:
                    check_item(out)
                except TypeError as e:
                    raise step.error(TypeError(str(e))) from None
            outputs.append(out)
        return outputs

    async def _initialize(self) -> None:
        for step in self._steps:
            if isinstance(step, _PyStep):
                try:
                    result = call_lifecycle(step.node, "initialize")
                    if inspect.isawaitable(result):
                        await result
                except SYNC_NODE_FAILURES as e:
                    raise step.error(e) from e
                step.initialized = True
            else:
                step.initialize()

    async def _cleanup(self) -> None:
        """`cleanup()` of every initialized node, each even if another raises (logged)."""
        import logging  # noqa: PLC0415 -- only at the end

        for step in self._steps:
            try:
                if not isinstance(step, _PyStep):
                    step.cleanup()
                elif step.initialized:
                    step.initialized = False
                    result = call_lifecycle(step.node, "cleanup")
                    if inspect.isawaitable(result):
                        await result
            except SYNC_NODE_FAILURES:
                logging.getLogger("remotemedia").exception("cleanup of a node failed")
