"""The Python side of remotemedia-host's interpreter thread.

The host runs one asyncio event loop on a dedicated thread. It never touches the interpreter
from its own threads: it queues requests in a Rust mailbox and writes a byte to a socket this
loop watches. ``Driver`` takes the requests, runs them, and answers through the mailbox.

A *stage* is a run of consecutive Python nodes, driven as one chain of async generators on the
loop, so items pass from node to node without returning to Rust. Each node shape of DESIGN §5
gets its own wrapper; runs of plain synchronous nodes share one wrapper, so a hop between them
costs a Python call. The host feeds a stage with ``push`` (acknowledged while the stage has
room: backpressure) and collects its outputs with ``pull``, a long poll answered as soon as the
stage has yielded something and gives the loop a turn, so outputs travel as they are produced.
"""

from __future__ import annotations

import asyncio
import collections
import importlib
import inspect
import logging
import os
import socket
import sys
import traceback
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any, Protocol


class Mailbox(Protocol):
    """The host's end of the protocol (a Rust object)."""

    def take(self) -> list[tuple[int, str, int, Any]]: ...
    def reply(self, token: int, kind: str, payload: Any) -> None: ...
    def log(self, level: int, logger: str, node_id: str | None, message: str) -> None: ...


class NodeRaised(Exception):
    """An exception raised by node code, with the id of the node that raised it."""

    def __init__(self, node_id: str, error: BaseException) -> None:
        super().__init__(node_id, error)
        self.node_id = node_id
        self.error = error


def _failure(error: BaseException, node_id: str | None = None) -> tuple[str | None, str, str, str]:
    if isinstance(error, NodeRaised):
        node_id, error = error.node_id, error.error
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return (node_id, type(error).__name__, str(error), trace)


def _kind(node: Any) -> str:
    process = getattr(node, "process", None)
    if process is None:
        raise TypeError(f"{type(node).__name__} has no process() method")
    function = getattr(process, "__func__", process)
    if inspect.isasyncgenfunction(function):
        return "stream"
    if inspect.iscoroutinefunction(function):
        return "async"
    if inspect.isgeneratorfunction(function):
        return "generator"
    return "sync"


class _Counts:
    """Items in and out of each node of a stage, kept cheaply: per item, one increment."""

    def __init__(self, n: int) -> None:
        self.seen = [0] * n  # items that reached node i through a wrapper that counts them
        self.made = [0] * n  # items node i emitted


async def _sync_run(
    ids: list[str], nodes: list[Any], first: int, counts: _Counts, upstream: AsyncIterator[Any]
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
        except Exception as e:
            raise NodeRaised(ids[i], e) from e
        if item is not None:
            yield item


async def _generator(
    node_id: str, node: Any, at: int, counts: _Counts, upstream: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    process = node.process
    async for item in upstream:
        counts.seen[at] += 1
        try:
            outputs = list(process(item))
        except Exception as e:
            raise NodeRaised(node_id, e) from e
        for out in outputs:
            counts.made[at] += 1
            yield out


async def _awaited(
    node_id: str, node: Any, at: int, counts: _Counts, upstream: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    process = node.process
    async for item in upstream:
        counts.seen[at] += 1
        try:
            out = await process(item)
        except Exception as e:
            raise NodeRaised(node_id, e) from e
        if out is not None:
            counts.made[at] += 1
            yield out


async def _streaming(
    node_id: str, node: Any, at: int, counts: _Counts, upstream: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    async def counted() -> AsyncIterator[Any]:
        async for item in upstream:
            counts.seen[at] += 1
            yield item

    try:
        async for out in node.process(counted()):
            counts.made[at] += 1
            yield out
    except NodeRaised:
        raise  # an upstream node's error passing through this node's input stream
    except Exception as e:
        raise NodeRaised(node_id, e) from e


_WRAPPERS: dict[str, Callable[..., AsyncIterator[Any]]] = {
    "generator": _generator,
    "async": _awaited,
    "stream": _streaming,
}


class Stage:
    """A run of consecutive Python nodes, fed and drained by the host."""

    def __init__(self, driver: Driver, ids: list[str], nodes: list[Any], limit: int) -> None:
        self.driver, self.ids, self.nodes, self.limit = driver, ids, nodes, max(limit, 1)
        self.kinds = [_kind(n) for n in nodes]
        self.counts = _Counts(len(nodes))
        self.feed: collections.deque[list[Any]] = collections.deque()
        self.fed = 0  # items in the feed, not yet taken by the first node
        self.closed = False
        self.out: list[Any] = []
        self.done = False
        self.error: BaseException | None = None
        self.initialized: list[Any] = []
        self.task: asyncio.Task[None] | None = None
        self._wake_feed: asyncio.Future[None] | None = None
        self._wake_space: asyncio.Future[None] | None = None
        self._pending_pull: int | None = None
        self._pending_pushes: list[int] = []
        self._flush_scheduled = False

    async def initialize(self) -> None:
        for node_id, node in zip(self.ids, self.nodes, strict=True):
            try:
                result = node.initialize() if hasattr(node, "initialize") else None
                if inspect.isawaitable(result):
                    await result
            except Exception as e:
                raise NodeRaised(node_id, e) from e
            self.initialized.append(node)
        self.task = self.driver.loop.create_task(self._run())

    def _chain(self) -> AsyncIterator[Any]:
        stream = self._feed_items()
        i = 0
        while i < len(self.nodes):
            if self.kinds[i] == "sync":
                j = i
                while j < len(self.nodes) and self.kinds[j] == "sync":
                    j += 1
                stream = _sync_run(self.ids[i:j], self.nodes[i:j], i, self.counts, stream)
                i = j
            else:
                stream = _WRAPPERS[self.kinds[i]](
                    self.ids[i], self.nodes[i], i, self.counts, stream
                )
                i += 1
        return stream

    async def _feed_items(self) -> AsyncIterator[Any]:
        while True:
            while self.feed:
                batch = self.feed.popleft()
                self.fed -= len(batch)
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
                self._schedule_flush()
                if len(self.out) >= self.limit:
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
        self.feed.append(items)
        self.fed += len(items)
        _wake(self._wake_feed)
        self._pending_pushes.append(token)
        self._ack_pushes()

    def _ack_pushes(self) -> None:
        # A push is acknowledged while the feed is under the limit: the host then sends more.
        if self.fed < self.limit or self.done:
            kind = "end" if self.done else "ack"
            for token in self._pending_pushes:
                self.driver.host.reply(token, kind, None)
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
            out, self.out = self.out, []
            self._pending_pull = None
            _wake(self._wake_space)
            self.driver.host.reply(token, "items", out)
        elif self.done:
            self._pending_pull = None
            self._ack_pushes()
            if self.error is None:
                self.driver.host.reply(token, "end", None)
            else:
                self.driver.host.reply(token, "error", _failure(self.error, self.ids[-1]))

    async def cleanup(self) -> list[tuple[int, int]]:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        for node_id, node in zip(self.ids, self.initialized, strict=False):
            try:
                result = node.cleanup() if hasattr(node, "cleanup") else None
                if inspect.isawaitable(result):
                    await result
            except Exception:  # cleanup must not fail: logged, and the next node is cleaned up
                logging.getLogger("remotemedia").exception(
                    "cleanup of node %s failed", node_id, extra={"node_id": node_id}
                )
        return self._node_counts()

    def _node_counts(self) -> list[tuple[int, int]]:
        return list(zip(self.counts.seen, self.counts.made, strict=True))


def _wake(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


def _load_class(module: str, qualname: str) -> Any:
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


class _HostLogHandler(logging.Handler):
    """Sends Python log records to the host's log, tagged with the node whose code logged."""

    def __init__(self, host: Mailbox) -> None:
        super().__init__()
        self.host = host

    def emit(self, record: logging.LogRecord) -> None:
        try:
            node_id = getattr(record, "node_id", None) or _current_node()
            self.host.log(record.levelno, record.name, node_id, self.format(record))
        except Exception:  # noqa: BLE001 -- logging must never break node code
            self.handleError(record)


def _current_node() -> str | None:
    # Walk the stack to the innermost method of a node: free on the hot path, paid only when
    # something is logged.
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        node_id = getattr(frame.f_locals.get("self"), "_remotemedia_node_id", None)
        if isinstance(node_id, str):
            return node_id
        frame = frame.f_back
    return None


class Driver:
    """Dispatches the host's requests on this thread's event loop."""

    def __init__(self, host: Mailbox, wake_fd: int) -> None:
        self.host = host
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.stages: dict[int, Stage] = {}
        self._wake = socket.socket(fileno=os.dup(wake_fd))
        self._wake.setblocking(False)
        self.loop.add_reader(self._wake.fileno(), self._on_wake)
        root = logging.getLogger()
        root.addHandler(_HostLogHandler(host))
        root.setLevel(logging.DEBUG)  # the host filters by its own level

    def run(self) -> None:
        """Serves requests until the host asks to shut down."""
        try:
            self.loop.run_forever()
        finally:
            self.loop.remove_reader(self._wake.fileno())
            self._wake.close()
            self.loop.close()

    def _on_wake(self) -> None:
        try:
            while self._wake.recv(4096):
                pass
        except BlockingIOError:
            pass
        for token, op, stage_id, payload in self.host.take():
            try:
                self._dispatch(token, op, stage_id, payload)
            except Exception as e:  # noqa: BLE001 -- every request gets an answer
                self.host.reply(token, "error", _failure(e))

    def _dispatch(self, token: int, op: str, stage_id: int, payload: Any) -> None:
        if op == "push":
            self.stages[stage_id].push(token, payload)
        elif op == "pull":
            self.stages[stage_id].pull(token)
        elif op == "close":
            self.stages[stage_id].close()
            self.host.reply(token, "ack", None)
        elif op == "create":
            self._create(token, stage_id, payload)
        elif op == "init":
            self._spawn(token, self.stages[stage_id].initialize(), lambda _: None)
        elif op == "cleanup":
            stage = self.stages.pop(stage_id)
            self._spawn(token, stage.cleanup(), lambda counts: counts, kind="counts")
        elif op == "discover":
            from remotemedia.discovery import discover  # noqa: PLC0415 -- only when asked

            self.host.reply(token, "json", discover(use_cache=bool(payload)).to_json())
        elif op == "shutdown":
            self.host.reply(token, "ack", None)
            self.loop.stop()
        else:
            raise ValueError(f"unknown request {op!r}")

    def _create(self, token: int, stage_id: int, payload: Any) -> None:
        specs, limit = payload
        ids, nodes = [], []
        for node_id, module, qualname, params in specs:
            try:
                cls = _load_class(module, qualname)
                node = cls(name=node_id, **params)
                node._remotemedia_node_id = node_id
                _kind(node)
            except Exception as e:
                raise NodeRaised(node_id, e) from e
            ids.append(node_id)
            nodes.append(node)
        self.stages[stage_id] = Stage(self, ids, nodes, limit)
        self.host.reply(token, "ack", None)

    def _spawn(
        self, token: int, work: Any, result: Callable[[Any], Any], kind: str = "ack"
    ) -> None:
        def done(task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                self.host.reply(token, "error", (None, "CancelledError", "cancelled", ""))
            elif (error := task.exception()) is not None:
                self.host.reply(token, "error", _failure(error))
            else:
                self.host.reply(token, kind, result(task.result()))

        self.loop.create_task(work).add_done_callback(done)
