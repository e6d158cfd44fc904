"""Runs of the reference executor: the host's execution semantics (DESIGN §7) on asyncio.

`execute` runs a graph of live `Node` instances over a list of input items and returns what
reached the sinks; `stream` does the same over an iterator and yields outputs as they come.
Semantics, as the host's:

- Each node runs in its own task; every edge is a bounded slot of the downstream node's inbox,
  its capacity counting items (the edge's, else `channel_capacity`, 64 by default) and media
  payload bytes (`channel_bytes`, 8 MiB by default; an item larger than that travels alone).
  A full slot blocks its sender (backpressure), so memory stays bounded whatever the item
  count and size. The run's own queues (each input root's input slot, `stream`'s output)
  hold `RUN_QUEUE_CAPACITY` items and `channel_bytes` bytes.
  Unlike the host, adjacent nodes are not fused into one task: the reference keeps one shape
  of task, and a chain keeps its order either way.
- Items are JSON-like values, bytes, numpy arrays and `AudioFrame`s, and lists and maps of
  them, passed by reference. An array of an unsupported dtype (`remotemedia.media`) is a
  `UsageError` as an input item and a node's `TypeError` (a `NodeError`) as an output.
- Fan-out: every downstream node receives every item, the same object (no copy). Fan-in:
  items are taken in arrival order across the upstream edges.
- Inputs: with input items (`inputs` not `None`, even empty), every node without upstream that
  is not a source receives every item; if there is no such node the run is a `UsageError`.
  Without input items, nodes without upstream receive an empty input: a streaming node then
  acts as a source, other nodes emit nothing (logged as a warning). A source is a node class
  with `is_source = True` (the SDK's `Range`): it takes no input items and no edges in.
- Outputs: the items of the sinks (nodes without downstream), all together,
  in arrival order.
- `initialize()` runs in the node's task before its first item; `cleanup()` runs once for every
  initialized node when the run ends, after an error or a cancellation too. Either may be
  `async def`. A cleanup that raises is logged on the "remotemedia" logger; the others still
  run.
- The first node error cancels every task and raises `NodeError` (node id, type name, error
  type, message, traceback). A cancelled caller sees `asyncio.CancelledError` after cleanup.
  Sync node code runs on the event loop's thread, as the reference it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import traceback
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any

from remotemedia._calls import NODE_FAILURES, NodeRaised, call_lifecycle
from remotemedia.errors import NodeError, PipelineCancelled, UsageError
from remotemedia.executor.plan import check_graph
from remotemedia.executor.tasks import Inbox, NodeTask, Output
from remotemedia.manifest.graph import Edge, is_source
from remotemedia.media import check_item, payload_bytes
from remotemedia.node import Node

DEFAULT_CHANNEL_CAPACITY = 64
"""An edge's queue length in items when neither the edge nor the run sets one (the host's)."""

RUN_QUEUE_CAPACITY = 1024
"""Length of the run's own queues: each input root's input slot, and `stream`'s output."""

DEFAULT_CHANNEL_BYTES = 8 * 1024 * 1024
"""Media payload bytes a queue holds when the run sets no `channel_bytes` (the host's)."""


def queue_bounds(runtime: Mapping[str, Any]) -> dict[str, int]:
    """The keyword arguments of `execute` and `stream` that a manifest's `runtime` settings
    give: `channel_capacity` and `channel_bytes`, their defaults where it sets none."""
    return {
        "channel_capacity": runtime.get("channel_capacity", DEFAULT_CHANNEL_CAPACITY),
        "channel_bytes": runtime.get("channel_bytes", DEFAULT_CHANNEL_BYTES),
    }


def check_input(item: Any) -> None:
    """Checks that an input item can pass between nodes.

    Raises:
        UsageError: It cannot (an array of an unsupported dtype), with the reason.
    """
    try:
        check_item(item)
    except TypeError as e:
        raise UsageError(f"input item: {e}") from None


logger = logging.getLogger("remotemedia")


class _Run:
    """One run's tasks: planned at construction (graph checks, inboxes), run by `run`."""

    def __init__(
        self,
        nodes: Sequence[Node],
        edges: Sequence[Edge],
        *,
        with_inputs: bool,
        channel_capacity: int,
        channel_bytes: int,
        output: Output,
    ) -> None:
        ids = [node.name for node in nodes]
        index = {node_id: i for i, node_id in enumerate(ids)}
        ups, downs = check_graph(nodes, ids, index, edges)
        sinks = {ids[v] for v in range(len(ids)) if not downs[v]}
        roots = [v for v in range(len(nodes)) if not ups[v]]
        self.input_roots = [v for v in roots if with_inputs and not is_source(nodes[v])]
        if with_inputs and not self.input_roots:
            described = ", ".join(f"{ids[v]} ({nodes[v].type_name()})" for v in roots)
            raise UsageError(
                "input items were given, but no node would receive them: every node without "
                f"upstream is a source: {described}"
            )
        inboxes: list[Inbox | None] = []
        self.inputs: list[tuple[Inbox, int]] = []
        for v in range(len(nodes)):
            slots = [capacity or channel_capacity for _, capacity in ups[v]]
            if v in self.input_roots:  # the run's input comes through a last slot of its own
                slots.append(RUN_QUEUE_CAPACITY)
            inbox = Inbox(slots, channel_bytes) if slots and not is_source(nodes[v]) else None
            if inbox is not None and v in self.input_roots:
                self.inputs.append((inbox, len(slots) - 1))
            inboxes.append(inbox)

        self.tasks = [
            NodeTask(
                node,
                inboxes[v],
                [(inbox, slot) for w, slot in downs[v] if (inbox := inboxes[w]) is not None],
                output if node.name in sinks else None,
            )
            for v, node in enumerate(nodes)
        ]
        for v in roots:
            if not with_inputs and self.tasks[v].kind != "stream" and not is_source(nodes[v]):
                logger.warning(
                    "node %s has no upstream and the run has no input items, so it receives "
                    "nothing",
                    ids[v],
                )

    async def feed(self, item: Any) -> None:
        """Gives an input item to every input root, waiting while a root's slot is full."""
        size = payload_bytes(item)
        for inbox, slot in self.inputs:
            await inbox.put(slot, item, size)

    def close_inputs(self) -> None:
        """Ends the input: the input roots see the end of their stream."""
        for inbox, slot in self.inputs:
            inbox.close(slot)

    async def run(self, feeder: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Runs every node and the feeder; cleans up the initialized nodes however it ends.

        Raises:
            NodeError: A node failed.
            PipelineCancelled: A node's task was cancelled by something other than this run.
        """
        loop = asyncio.get_running_loop()
        workers = [
            loop.create_task(task.run(), name=f"node {task.node.name}") for task in self.tasks
        ]
        feeding = loop.create_task(feeder(), name="inputs")
        watching = _watch([task.guard for task in self.tasks])
        try:
            await self._supervise([*workers, feeding], workers)
        finally:
            _unwatch(watching)
            for task in (*workers, feeding):
                task.cancel()
            try:
                await asyncio.gather(*workers, feeding, return_exceptions=True)
            finally:
                # Even when this wait is itself cancelled (the consumer's `aclose()` while the
                # run ends): every initialized node is cleaned up.
                await self._cleanup()

    async def _supervise(
        self, tasks: list[asyncio.Task[None]], workers: list[asyncio.Task[None]]
    ) -> None:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            # Several may fail in one turn: the first node in the list is reported.
            for task in sorted(done, key=tasks.index):
                if task.cancelled():
                    raise PipelineCancelled(
                        f"pipeline cancelled: task {task.get_name()!r} was cancelled"
                    )
                error = task.exception()
                if isinstance(error, NodeRaised):
                    raise _node_error(
                        self.tasks[workers.index(task)].node, error.error, error.note
                    ) from error.error
                if error is not None:
                    raise error

    async def _cleanup(self) -> None:
        for task in self.tasks:
            if not task.initialized:
                continue
            try:
                result = call_lifecycle(task.node, "cleanup")
                if inspect.isawaitable(result):
                    await result
            except NODE_FAILURES:  # cleanup must not hide the run's outcome: logged, next node runs
                logger.exception("cleanup of node %s failed", task.node.name)


def _node_error(node: Node, error: BaseException, note: str = "") -> NodeError:
    return NodeError(
        node_id=node.name,
        node_type=node.type_name(),
        error_type=type(error).__name__,
        message=str(error) + note,
        traceback="".join(traceback.format_exception(error)),
    )


def _watch(guards: list[Any]) -> float | None:
    """Has the watchdog watch the run's deadlines, if a node has `timeout_ms`."""
    if all(guard is None for guard in guards):
        return None
    from remotemedia.driver import guarded  # noqa: PLC0415 -- imported with the guards

    return guarded.watch(guards)


def _unwatch(handle: float | None) -> None:
    if handle is not None:
        from remotemedia.driver import guarded  # noqa: PLC0415 -- imported with the guards

        guarded.unwatch(handle)


async def execute(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    inputs: list[Any] | None,
    *,
    channel_capacity: int = DEFAULT_CHANNEL_CAPACITY,
    channel_bytes: int = DEFAULT_CHANNEL_BYTES,
) -> list[tuple[str, Any]]:
    """Runs the graph to its end.

    Args:
        nodes: Live node instances; each one's `name` is its id.
        edges: `(from id, to id, capacity)` for each edge.
        inputs: The input items; `None` for a run without input items (sources only).
        channel_capacity: The capacity in items of edges that set none.
        channel_bytes: The bound in media payload bytes of every queue.

    Returns:
        `(sink id, item)` for every output, in arrival order.

    Raises:
        NodeError: A node failed (an output of an unsupported dtype included); its
            `partial_outputs` holds the outputs made before.
        UsageError: Input items were given but no node would receive them, or an input item
            cannot pass between nodes (checked before any node starts).
        ManifestError: The graph is not a valid DAG of these nodes.
    """
    outputs: list[tuple[str, Any]] = []

    async def collect(node_id: str, item: Any, size: int) -> None:
        outputs.append((node_id, item))

    run = _Run(
        nodes,
        edges,
        with_inputs=inputs is not None,
        channel_capacity=channel_capacity,
        channel_bytes=channel_bytes,
        output=collect,
    )
    for item in inputs or ():
        check_input(item)

    async def feeder() -> None:
        for item in inputs or ():
            await run.feed(item)
        run.close_inputs()

    try:
        await run.run(feeder)
    except NodeError as error:
        error.partial_outputs = [item for _, item in outputs]
        raise
    return outputs


async def stream(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    inputs: AsyncIterable[Any] | Iterable[Any] | None,
    *,
    channel_capacity: int = DEFAULT_CHANNEL_CAPACITY,
    channel_bytes: int = DEFAULT_CHANNEL_BYTES,
) -> AsyncIterator[Any]:
    """Runs the graph over an input stream and yields each output as soon as a sink emits it.

    Arguments are those of `execute`, except that `inputs` may be an async or a plain
    iterable, read as the roots take items (an item that cannot pass between nodes stops the
    run with a `UsageError`). Outputs wait in a queue of `RUN_QUEUE_CAPACITY` items and
    `channel_bytes` bytes for the consumer: a consumer that stops reading holds the pipeline
    back. Closing the iterator early cancels the run and cleans up its nodes. An exception
    raised by `inputs` stops the run and is raised here as it is.

    Yields:
        The items reaching the sinks, in arrival order.

    Raises:
        As `execute`, once the outputs made before the failure were yielded.
    """
    # A slot per node (only sinks use theirs): an inbox slot has one sender, and two sinks
    # waiting on one full slot overwrote each other's wake-up and deadlocked. As on the host,
    # each sink's output is bounded on its own.
    slots = {node.name: i for i, node in enumerate(nodes)}
    queue = Inbox([RUN_QUEUE_CAPACITY] * max(len(nodes), 1), channel_bytes)

    async def deliver(node_id: str, item: Any, size: int) -> None:
        await queue.put(slots[node_id], item, size)

    run = _Run(
        nodes,
        edges,
        with_inputs=inputs is not None,
        channel_capacity=channel_capacity,
        channel_bytes=channel_bytes,
        output=deliver,
    )

    async def feeder() -> None:
        if isinstance(inputs, AsyncIterable):
            async for item in inputs:
                check_input(item)
                await run.feed(item)
        else:
            for item in inputs or ():
                check_input(item)
                await run.feed(item)
        run.close_inputs()

    running = asyncio.ensure_future(run.run(feeder))
    try:
        while not (running.done() and not queue):
            taking = asyncio.ensure_future(queue.get())
            await asyncio.wait({taking, running}, return_when=asyncio.FIRST_COMPLETED)
            if taking.done():
                yield taking.result()
            else:
                taking.cancel()
        running.result()
    finally:
        if not running.done():
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
