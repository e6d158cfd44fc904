"""The reference executor's parts below the run: the bounded inbox in front of a node, and
the task that drives one node of any shape (DESIGN §5) from its inbox to its downstream
inboxes. Queues are bounded in items and in media payload bytes (DESIGN §7)."""

from __future__ import annotations

import asyncio
import collections
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

from remotemedia._calls import (
    NODE_FAILURES,
    SYNC_NODE_FAILURES,
    NodeRaised,
    call_lifecycle,
    call_options,
    kind,
)
from remotemedia.media import check_item, payload_bytes
from remotemedia.node import Node

if TYPE_CHECKING:
    from remotemedia.driver.guarded import Guard

END: Any = object()
"""What `Inbox.get` returns once every slot is closed and drained (items may be `None`)."""

Output = Callable[[str, Any, int], Awaitable[None]]
"""Receives the items of a sink: `(node id, item, its payload bytes)`."""


def _wake(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


class Inbox:
    """The queue in front of one node: a slot per incoming edge, each bounded by its own
    capacity in items and by `max_bytes` of media payload (`remotemedia.media.payload_bytes`),
    so a full slot blocks its sender and only its sender. A slot is full when either bound
    would be passed; an empty slot takes any one item, however large. The node takes items
    across slots in arrival order, which is the fan-in order.

    One task sends into each slot and one task takes, which is all the executor needs: each
    side waits on a single future instead of a condition variable.
    """

    def __init__(self, capacities: list[int], max_bytes: int) -> None:
        self._capacities = capacities
        self._max_bytes = max_bytes
        self._counts = [0] * len(capacities)
        self._bytes = [0] * len(capacities)
        self._open = len(capacities)
        self._items: collections.deque[tuple[int, Any, int]] = collections.deque()
        self._taker: asyncio.Future[None] | None = None
        self._senders: list[asyncio.Future[None] | None] = [None] * len(capacities)
        self._abandoned = False

    def __len__(self) -> int:
        """Items waiting, across slots."""
        return len(self._items)

    def _full(self, slot: int, size: int) -> bool:
        count = self._counts[slot]
        return count >= self._capacities[slot] or (
            count > 0 and self._bytes[slot] + size > self._max_bytes
        )

    async def put(self, slot: int, item: Any, size: int | None = None) -> None:
        """Adds an item to `slot`, waiting while the slot is full (backpressure).

        Args:
            slot: The slot (edge) it comes through.
            item: The item.
            size: Its `payload_bytes`, if the caller knows it.
        """
        if size is None:
            size = payload_bytes(item)
        while self._full(slot, size) and not self._abandoned:
            waiter = self._senders[slot] = asyncio.get_running_loop().create_future()
            await waiter
        if self._abandoned:
            return  # the node stopped reading its input: what reaches it now is dropped
        self._items.append((slot, item, size))
        self._counts[slot] += 1
        self._bytes[slot] += size
        _wake(self._taker)

    def close(self, slot: int) -> None:
        """Marks `slot` ended: its sender has nothing more."""
        self._open -= 1
        _wake(self._taker)

    def abandon(self) -> None:
        """Drops what is queued and what comes later: the node finished without reading all
        its input (a streaming node may stop early), and its senders must not wait for it."""
        self._abandoned = True
        self._items.clear()
        for waiter in self._senders:
            _wake(waiter)

    async def get(self) -> Any:
        """Takes the oldest item of any slot; `END` once every slot is closed and drained."""
        while not self._items:
            if self._open <= 0:
                return END
            waiter = self._taker = asyncio.get_running_loop().create_future()
            await waiter
        slot, item, size = self._items.popleft()
        self._counts[slot] -= 1
        self._bytes[slot] -= size
        _wake(self._senders[slot])
        return item


class NodeTask:
    """Drives one node: `initialize()`, then every input item through `process` by the node's
    shape, each output to every downstream slot (the same object, never a copy) and, for a
    sink, to the run's output. Node code's exceptions leave as `NodeRaised` with the node id,
    and so does an output that cannot pass between nodes (a `TypeError`, as on the host).

    Attributes:
        initialized: Whether `initialize()` returned; only such nodes are cleaned up.
    """

    def __init__(
        self,
        node: Node,
        inbox: Inbox | None,
        downstream: list[tuple[Inbox, int]],
        output: Output | None,
    ) -> None:
        """Prepares the task.

        Args:
            node: The node; its `name` is its id.
            inbox: Its input; `None` gives the node an empty input (a source, or a root of
                a run without input items).
            downstream: The slot of each downstream node's inbox that this node feeds.
            output: Where a sink's items go; `None` for a node that is not a sink.
        """
        self.node, self.inbox, self.downstream, self.output = node, inbox, downstream, output
        self.kind = kind(node)
        self.initialized = False
        # A node with `retry` or `timeout_ms` has its calls guarded; the others run plain.
        self.guard: Guard | None = None
        if (options := call_options(node)) is not None:
            from remotemedia.driver import guarded  # noqa: PLC0415 -- only when asked

            self.guard = guarded.Guard(node.name, self.kind, options)

    async def run(self) -> None:
        """Runs the node to the end of its input, then closes its downstream slots."""
        try:
            result = call_lifecycle(self.node, "initialize")
            if inspect.isawaitable(result):
                await result
        except SYNC_NODE_FAILURES as e:
            raise NodeRaised(self.node.name, e) from e
        self.initialized = True
        if self.kind == "stream":
            await self._stream()
        else:
            await self._each()
        if self.inbox is not None:
            self.inbox.abandon()
        for inbox, slot in self.downstream:
            inbox.close(slot)

    async def _emit(self, item: Any) -> None:
        try:
            check_item(item)
        except TypeError as e:
            # The host's report: a TypeError of this node, with no traceback into node code.
            raise NodeRaised(self.node.name, TypeError(str(e))) from None
        size = payload_bytes(item)
        for inbox, slot in self.downstream:
            await inbox.put(slot, item, size)
        if self.output is not None:
            await self.output(self.node.name, item, size)

    async def _each(self) -> None:
        """A node whose `process` takes one item: sync function, generator or `async def`."""
        if self.inbox is None:
            return
        process: Callable[[Any], Any] = self.node.process
        shape, node_id = self.kind, self.node.name
        if self.guard is not None:
            from remotemedia.driver import guarded_async  # noqa: PLC0415 -- imported with the guard

            if shape == "generator":
                await self._generated(guarded_async.retried_generator(self.guard, process))
                return
            # A function or `async def` node with the guard applied is a coroutine function.
            process, shape = guarded_async.retried(self.guard, process, shape == "async"), "async"
        while (item := await self.inbox.get()) is not END:
            try:
                out = process(item)
                if shape == "async":
                    out = await out
            except NodeRaised:
                raise  # a guarded node's error, with its note
            except SYNC_NODE_FAILURES as e:
                raise NodeRaised(node_id, e) from e
            if shape != "generator":
                if out is not None:
                    await self._emit(out)
                continue
            try:
                while True:
                    try:
                        produced = next(out)
                    except StopIteration:
                        break
                    except SYNC_NODE_FAILURES as e:
                        raise NodeRaised(node_id, e) from e
                    await self._emit(produced)  # each output travels as soon as it exists
            finally:
                out.close()

    async def _generated(
        self, start: Callable[[Any], Awaitable[Generator[Any, None, None]]]
    ) -> None:
        """`_each` for a generator node with `retry` or `timeout_ms`: `start` (its `process`
        guarded by `remotemedia.driver.guarded_async.retried_generator`) is awaited for an
        item's outputs, a generator whose every step is guarded."""
        assert self.inbox is not None
        node_id = self.node.name
        while (item := await self.inbox.get()) is not END:
            try:
                outputs = await start(item)
                try:
                    for out in outputs:
                        await self._emit(out)  # each output travels as soon as it exists
                finally:
                    outputs.close()
            except NodeRaised:
                raise
            except SYNC_NODE_FAILURES as e:
                raise NodeRaised(node_id, e) from e

    async def _inputs(self) -> AsyncIterator[Any]:
        if self.inbox is None:
            return
        while (item := await self.inbox.get()) is not END:
            yield item

    async def _stream(self) -> None:
        """A streaming node: `process(stream)` is an async generator over all the inputs."""
        outputs = self.node.process(self._inputs())
        if self.guard is not None:
            from remotemedia.driver import guarded_async  # noqa: PLC0415 -- imported with the guard

            outputs = guarded_async.stream(self.guard, outputs)
        try:
            while True:
                try:
                    out = await outputs.__anext__()
                except StopAsyncIteration:
                    break
                except NODE_FAILURES as e:
                    raise NodeRaised(self.node.name, e) from e
                await self._emit(out)
        finally:
            await outputs.aclose()
