"""Stages with asynchronous nodes: a chain of async generators on the event loop of the stage's
thread.

Each node shape of DESIGN §5 gets a wrapper; consecutive plain sync nodes share one, so a hop
between them is a Python call. A node with `retry` or `timeout_ms` (and every node, when a
worker's board is attached) gets a guarded wrapper instead
(`remotemedia.driver.guarded`). ``push`` feeds the chain (acknowledged while it holds fewer
than ``limit`` items), ``pull`` is answered as soon as the chain has produced something and
given the loop a turn: one answer carries what a morsel produced, and no output waits for more.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from remotemedia._calls import NODE_FAILURES, Counts, NodeRaised, call_lifecycle, failure, kind
from remotemedia._payload import payload_bytes
from remotemedia.driver.stage import Stage

if TYPE_CHECKING:
    from remotemedia._calls import CallOptions
    from remotemedia.driver.guarded import Guard


async def _sync_run(
    ids: list[str], nodes: list[Any], first: int, counts: Counts, upstream: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    """Consecutive plain synchronous nodes: one loop, a call per hop, None drops the item."""
    procs = [n.process for n in nodes]
    seen, made = counts.seen, counts.made
    k = len(procs)
    async for item in upstream:
        i = 0
        try:
            while i < k:
                seen[first + i] += 1
                item = procs[i](item)
                if item is None:
                    break
                made[first + i] += 1
                i += 1
        except NODE_FAILURES as e:
            raise NodeRaised(ids[i], e) from e
        if item is not None:
            yield item


async def _generator(
    node_id: str, process: Callable[..., Any], at: int, counts: Counts, upstream: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    n_in = n_out = 0  # local counts, stored when the generator ends: cheaper per item
    outputs: Any = None
    try:
        async for item in upstream:
            n_in += 1
            # Taken one at a time as the chain asks for them: the generator stays suspended
            # while downstream has no room, so an endless one runs in bounded memory.
            outputs = process(item)
            while True:
                try:
                    out = next(outputs)
                except StopIteration:
                    break
                except NODE_FAILURES as e:
                    raise NodeRaised(node_id, e) from e
                n_out += 1
                yield out
    finally:
        if outputs is not None:
            outputs.close()  # a generator left suspended runs its `finally` now
        counts.seen[at] += n_in
        counts.made[at] += n_out


async def _awaited(
    node_id: str, process: Callable[..., Any], at: int, counts: Counts, upstream: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    """An `async def` node, or a function node with `retry`, `timeout_ms` or a board mark
    (`process` guarded by `remotemedia.driver.guarded_async.retried`)."""
    n_in = n_out = 0  # as in _generator
    try:
        async for item in upstream:
            n_in += 1
            try:
                out = await process(item)
            except NodeRaised:
                raise  # a guarded node's error, with its note
            except NODE_FAILURES as e:
                raise NodeRaised(node_id, e) from e
            if out is not None:
                n_out += 1
                yield out
    finally:
        counts.seen[at] += n_in
        counts.made[at] += n_out


class _UpstreamFailure:
    """An upstream node's error as it passed through a streaming node's input: the pipeline's
    error even when the node's code catches it (`except Exception` around its `async for`)."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: NodeRaised | None = None

    async def watch(self, items: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """`items`, noting the upstream error that ends them."""
        try:
            async for item in items:
                yield item
        except NodeRaised as e:
            self.error = e
            raise

    def reraise(self) -> None:
        """Raises the upstream error, if one passed."""
        if self.error is not None:
            raise self.error


async def _streaming(
    node_id: str, process: Callable[..., Any], at: int, counts: Counts, upstream: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    failed = _UpstreamFailure()

    async def counted() -> AsyncIterator[Any]:
        async for item in failed.watch(upstream):
            counts.seen[at] += 1
            yield item

    try:
        async for out in process(counted()):
            counts.made[at] += 1
            yield out
    except NodeRaised:
        raise  # an upstream node's error passing through this node's input stream
    except NODE_FAILURES as e:
        failed.reraise()
        raise NodeRaised(node_id, e) from e
    failed.reraise()


async def _generated(
    node_id: str, process: Callable[..., Any], at: int, counts: Counts, upstream: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    """A generator node with `retry`, `timeout_ms` or a board mark: `process` (guarded by
    `remotemedia.driver.guarded_async.retried_generator`) is awaited for an item's outputs, a
    generator whose every step is guarded."""
    n_in = n_out = 0
    outputs: Any = None  # closed when this ends, as in _generator
    try:
        async for item in upstream:
            n_in += 1
            try:
                outputs = await process(item)
                for out in outputs:
                    n_out += 1
                    yield out
            except NodeRaised:
                raise
            except NODE_FAILURES as e:
                raise NodeRaised(node_id, e) from e
    finally:
        if outputs is not None:
            outputs.close()
        counts.seen[at] += n_in
        counts.made[at] += n_out


async def _guarded_streaming(
    node_id: str,
    guard: Guard,
    process: Callable[[Any], Any],
    at: int,
    counts: Counts,
    upstream: AsyncIterator[Any],
) -> AsyncIterator[Any]:
    """A streaming node with `timeout_ms` or a board mark."""
    from remotemedia.driver import guarded_async  # noqa: PLC0415 -- only for nodes that need it

    failed = _UpstreamFailure()

    async def counted() -> AsyncIterator[Any]:
        async for item in failed.watch(guarded_async.paused(guard, upstream)):
            counts.seen[at] += 1
            yield item

    try:
        async with contextlib.aclosing(guarded_async.stream(guard, process(counted()))) as outs:
            async for out in outs:
                counts.made[at] += 1
                yield out
    except NodeRaised:
        raise  # an upstream node's error passing through this node's input stream
    except NODE_FAILURES as e:
        failed.reraise()
        raise NodeRaised(node_id, e) from e
    failed.reraise()


_WRAPPERS: dict[str, Callable[..., AsyncIterator[Any]]] = {
    "generator": _generator,
    "async": _awaited,
    "stream": _streaming,
}


class AsyncStage(Stage):
    """A stage with async or streaming nodes: an async-generator chain on its thread's loop."""

    def _prepare(self, options: list[CallOptions | None] | None) -> None:
        self.fed_bytes = 0  # media payload of the feed
        self.kinds = [kind(n) for n in self.nodes]
        # Nodes with `retry` or `timeout_ms`, and every node when a worker's board is
        # attached, are driven by guarded wrappers; the others by the plain ones.
        self.guards: list[Guard | None] = [None] * len(self.nodes)
        if self.board is not None or (options and any(o is not None for o in options)):
            self.guards = self._guards(self.kinds, options or [None] * len(self.nodes), self.board)
        self.feed: collections.deque[tuple[list[Any], int]] = collections.deque()
        self.fed = 0  # items in the feed, not yet taken by the first node
        self.task: asyncio.Task[None] | None = None
        self._wake_feed: asyncio.Future[None] | None = None
        self._wake_space: asyncio.Future[None] | None = None
        self._flush_scheduled = False

    async def initialize(self) -> None:
        for i, (node_id, node) in enumerate(zip(self.ids, self.nodes, strict=True)):
            try:
                self._mark(i + 1)
                result = call_lifecycle(node, "initialize")
                if hasattr(result, "__await__"):
                    await result
            except NODE_FAILURES as e:
                raise NodeRaised(node_id, e) from e
            finally:
                self._mark(0)
            self.initialized.append(node)
        self.task = self.driver.loop.create_task(self._run())

    def _chain(self) -> AsyncIterator[Any]:
        stream = self._feed_items()
        plain = [g is None for g in self.guards]
        i = 0
        while i < len(self.nodes):
            if self.kinds[i] == "sync" and plain[i]:
                j = i
                while j < len(self.nodes) and self.kinds[j] == "sync" and plain[j]:
                    j += 1
                stream = _sync_run(self.ids[i:j], self.nodes[i:j], i, self.counts, stream)
                i = j
                continue
            if plain[i]:
                wrapper = _WRAPPERS[self.kinds[i]]
                stream = wrapper(self.ids[i], self.nodes[i].process, i, self.counts, stream)
            else:
                stream = self._guarded(i, stream)
            i += 1
        return stream

    def _guarded(self, i: int, upstream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The wrapper of node `i`, which has a guard: its `process` with the guard applied
        (`remotemedia.driver.guarded_async`), driven as an `async def` node's (a function's
        too), by `_generated` or by `_guarded_streaming`."""
        from remotemedia.driver import guarded_async  # noqa: PLC0415 -- only for nodes that need it

        guard = self.guards[i]
        assert guard is not None
        node_id, shape, process = self.ids[i], self.kinds[i], self.nodes[i].process
        if shape == "stream":
            return _guarded_streaming(node_id, guard, process, i, self.counts, upstream)
        if shape == "generator":
            process = guarded_async.retried_generator(guard, process)
            return _generated(node_id, process, i, self.counts, upstream)
        process = guarded_async.retried(guard, process, shape == "async")
        return _awaited(node_id, process, i, self.counts, upstream)

    async def _feed_items(self) -> AsyncIterator[Any]:
        while True:
            while self.feed:
                batch, size = self.feed.popleft()
                self.fed -= len(batch)
                self.fed_bytes -= size
                self._ack_pushes()
                for item in batch:
                    yield item
            if self.closed:
                return
            self._wake_feed = self.driver.loop.create_future()
            await self._wake_feed

    async def _run(self) -> None:
        try:
            async for out in self._chain():
                self.out.append(out)
                self.out_bytes += payload_bytes(out)
                self._schedule_flush()
                if len(self.out) >= self.limit or self.out_bytes >= self.byte_limit:
                    self._wake_space = self.driver.loop.create_future()
                    await self._wake_space
        except BaseException as e:  # noqa: BLE001 -- reported to the host, including cancellation
            self.error = e
        finally:
            self.done = True
            self._schedule_flush()

    def push(self, token: int, items: list[Any]) -> None:
        if self.done:
            self.driver.host.reply(
                token, "end", None
            )  # takes no more input; the host stops feeding
            return
        size = sum(map(payload_bytes, items))
        self.feed.append((items, size))
        self.fed += len(items)
        self.fed_bytes += size
        _wake(self._wake_feed)
        self._pending_pushes.append(token)
        self._ack_pushes()

    def _ack_pushes(self) -> None:
        # A push is acknowledged while the feed is under the limit: the host then sends more.
        if (self.fed < self.limit and self.fed_bytes < self.byte_limit) or self.done:
            answer = "end" if self.done else "ack"
            for token in self._pending_pushes:
                self.driver.host.reply(token, answer, None)
            self._pending_pushes.clear()

    def close(self) -> None:
        self.closed = True
        _wake(self._wake_feed)

    def pull(self, token: int) -> None:
        self._pending_pull = token
        self._flush()

    def _schedule_flush(self) -> None:
        # Answer after the chain gives the loop a turn, so one answer carries everything a
        # morsel produced, and no ready item waits for more.
        if self._pending_pull is not None and not self._flush_scheduled:
            self._flush_scheduled = True
            self.driver.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        token = self._pending_pull
        if token is None:
            return
        if self.out:
            out, self.out, self.out_bytes = self.out, [], 0
            self._pending_pull = None
            _wake(self._wake_space)
            self.driver.host.reply(token, "items", out)
        elif self.done:
            self._pending_pull = None
            self._ack_pushes()
            if self.error is None:
                self.driver.host.reply(token, "end", None)
            else:
                self.driver.host.reply(token, "error", failure(self.error, self.ids[-1]))

    async def cleanup(self) -> list[tuple[int, int]]:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self._unwatch()
        for i, (node_id, node) in enumerate(zip(self.ids, self.initialized, strict=False)):
            try:
                self._mark(i + 1)
                result = call_lifecycle(node, "cleanup")
                if hasattr(result, "__await__"):
                    await result
            except NODE_FAILURES:  # cleanup must not fail: logged, and the next node is cleaned up
                logging.getLogger("remotemedia").exception(
                    "cleanup of node %s failed", node_id, extra={"node_id": node_id}
                )
            finally:
                self._mark(0)
        return self._node_counts()

    def _node_counts(self) -> list[tuple[int, int]]:
        return self.counts.pairs()


def _wake(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)
