"""Stages of synchronous nodes only: processed as each morsel arrives, no event loop needed.

Each morsel goes through the nodes one node at a time (a list in, a list out): a hop costs a
call and an append. A generator node is the exception: its outputs are taken lazily, only as
many as there is room for, and the generator stays suspended while its outputs are not
collected, so an endless generator runs in bounded memory and its first outputs travel at
once. Outputs wait in ``out`` for the host's ``pull``, which takes them all; while the stage
holds work it has no room for, pushes are not acknowledged, so the host stops feeding
(backpressure). What waits is bounded: ``limit`` outputs of generators, or ``byte_limit`` of
their media payload, plus what one morsel made through plain functions.
"""

from __future__ import annotations

from collections import deque

from remotemedia._calls import SYNC_NODE_FAILURES, NodeRaised, call_lifecycle, failure, kind
from remotemedia._payload import payload_bytes
from remotemedia.driver.stage import Stage

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from remotemedia._calls import CallOptions


class SyncStage(Stage):
    """A stage whose nodes are sync functions or sync generators.

    Work waits in two places: ``backlog``, the morsels pushed and not yet started, and
    ``stack``, items on their way through the nodes: ``(first node, items, node that made
    them)``, where items are a list or, below a generator node, that generator's suspended
    outputs. The top of the stack holds the earliest items, so taking from the top keeps order.
    """

    def _prepare(self, options: list[CallOptions | None] | None) -> None:
        self.steps = [(n.process, kind(n) == "generator") for n in self.nodes]
        # Only nodes with `retry` or `timeout_ms` get their calls guarded; the others' steps
        # stay their own `process`. The board is marked per morsel, not by the guards.
        if options is not None and any(o is not None for o in options):
            self.steps = self._guarded(options)
        self.backlog: deque[list[Any]] = deque()
        self.stack: list[tuple[int, list[Any] | Iterator[Any], int]] = []

    def _guarded(self, options: list[CallOptions | None]) -> list[tuple[Callable[..., Any], bool]]:
        from remotemedia.driver import guarded  # noqa: PLC0415 -- only for nodes that need it

        kinds = ["generator" if is_generator else "sync" for _, is_generator in self.steps]
        steps = []
        for (process, is_generator), guard in zip(
            self.steps, self._guards(kinds, options), strict=True
        ):
            if guard is not None:
                wrap = guarded.retried_generator if is_generator else guarded.retried
                process = wrap(guard, process)
            steps.append((process, is_generator))
        return steps

    def initialize(self) -> None:
        """Runs every node's `initialize()`, in order."""
        for i, (node_id, node) in enumerate(zip(self.ids, self.nodes, strict=True)):
            try:
                self._mark(i + 1)
                call_lifecycle(node, "initialize")
            except SYNC_NODE_FAILURES as e:
                raise NodeRaised(node_id, e) from e
            finally:
                self._mark(0)
            self.initialized.append(node)

    def push(self, token: int, items: list[Any]) -> None:
        """Takes a morsel and works on it while there is room; the answer waits while the
        stage holds work it has no room for."""
        if self.closed or self.done:
            self.driver.host.reply(token, "end", None)
            return
        self.backlog.append(items)
        self._pending_pushes.append(token)
        self._pump()
        self._answer()

    def _pump(self) -> None:
        """Moves items through the nodes until no work is left, or only generator outputs are
        left and ``out`` is full. A morsel goes through plain functions whatever ``out`` holds
        (the host has at most a few pushes in flight), as before generators were lazy: one
        pull then carries what several morsels made."""
        try:
            self._pump_items()
        finally:
            self._mark(0)

    def _pump_items(self) -> None:
        steps, n = self.steps, len(self.steps)
        while not self.done:
            if not self.stack:
                if not self.backlog:
                    if self.closed:
                        self.done = True
                    return
                self.stack.append((0, self.backlog.popleft(), -1))
            first, source, maker = self.stack[-1]
            if isinstance(source, list):
                self.stack.pop()
                items = source
            elif self._out_full():
                return  # a generator stays suspended while its outputs have no room
            else:
                items = []
                room = self.byte_limit - self.out_bytes
                self._mark(maker + 1)
                try:
                    for item in source:
                        items.append(item)
                        room -= payload_bytes(item)
                        if len(items) >= self.limit - len(self.out) or room <= 0:
                            break
                    else:
                        self.stack.pop()
                except SYNC_NODE_FAILURES as e:
                    # What the generator yielded before failing still goes on downstream.
                    self.stack.pop()
                    self._fail(maker, e)
                if not items:
                    continue
            self._through(items, first, steps, n)

    def _through(
        self, items: list[Any], first: int, steps: list[tuple[Callable[..., Any], bool]], n: int
    ) -> None:
        """Runs `items` through the nodes from `first` on: eagerly through functions, and up to
        the next generator node, whose outputs wait on the stack to be taken lazily."""
        seen, made = self.counts.seen, self.counts.made
        board = self.board
        for i in range(first, n):
            if not items:
                return
            process, is_generator = steps[i]
            if board is not None:
                board[self.slot] = i + 1
            if is_generator:
                self.stack.append((i + 1, self._expand(i, process, items), i))
                return
            seen[i] += len(items)
            outputs: list[Any] = []
            try:
                for item in items:
                    out = process(item)
                    if out is not None:
                        outputs.append(out)
            except SYNC_NODE_FAILURES as e:
                # What the node made before failing still goes on (the node contract); the
                # stage then ends with the error.
                made[i] += len(outputs)
                self._fail(i, e)
                self._through(outputs, i + 1, steps, n)
                return
            made[i] += len(outputs)
            items = outputs
        self.out.extend(items)
        self.out_bytes += sum(map(payload_bytes, items))

    def _out_full(self) -> bool:
        """Whether ``out`` holds its limit of items, or of payload bytes (then at least one
        item: one larger than the limit still goes alone)."""
        return len(self.out) >= self.limit or (bool(self.out) and self.out_bytes >= self.byte_limit)

    def _expand(self, i: int, process: Callable[..., Any], items: list[Any]) -> Iterator[Any]:
        """Node `i`'s outputs for `items`, generated as they are taken."""
        seen, made = self.counts.seen, self.counts.made
        for item in items:
            seen[i] += 1
            for out in process(item):
                made[i] += 1
                yield out

    def _fail(self, i: int, error: BaseException) -> None:
        """Node `i` raised: the stage takes no more work; what is in ``out`` is still pulled."""
        if self.error is None:
            # A guarded node's error is tagged already, with its note.
            self.error = error if isinstance(error, NodeRaised) else NodeRaised(self.ids[i], error)
        self.done = self.closed = True
        self.backlog.clear()
        self.stack.clear()

    def interrupted(self, error: BaseException) -> None:
        """The host stopped this stage's node code (its run was cancelled): no more work."""
        if self.error is None:
            self.error = error
        self.done = self.closed = True
        self.backlog.clear()
        self._answer()

    def close(self) -> None:
        """The input has ended: once the work left is done and collected, the stage ends."""
        self.closed = True
        self._pump()
        self._answer()

    def pull(self, token: int) -> None:
        """Answered with the waiting outputs, or when there are some, or at the end. What waits
        is bounded: at most ``limit`` outputs of generators (taken lazily), plus what one
        morsel made through plain functions."""
        self._pending_pull = token
        self._answer()

    def _answer(self) -> None:
        host = self.driver.host
        if self._pending_pull is not None:
            if self.out:
                token, self._pending_pull = self._pending_pull, None
                out, self.out, self.out_bytes = self.out, [], 0
                host.reply(token, "items", out)
                self._pump()  # room again: suspended generators resume
            elif self.done:
                token, self._pending_pull = self._pending_pull, None
                if self.error is None:
                    host.reply(token, "end", None)
                else:
                    host.reply(token, "error", failure(self.error, self.ids[-1]))
        idle = not self.stack and not self.backlog and not self._out_full()
        if self._pending_pushes and (idle or self.done):
            answer = "end" if self.done else "ack"
            for token in self._pending_pushes:
                host.reply(token, answer, None)
            self._pending_pushes.clear()

    def cleanup(self) -> list[tuple[int, int]]:
        """Runs every initialized node's `cleanup()`; returns the per-node counts."""
        self.done = self.closed = True
        for _, source, _ in self.stack:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # a suspended generator's `finally` runs now, before cleanup
        self.stack.clear()
        self._unwatch()
        for i, (node_id, node) in enumerate(zip(self.ids, self.initialized, strict=False)):
            try:
                self._mark(i + 1)
                call_lifecycle(node, "cleanup")
            except (
                SYNC_NODE_FAILURES
            ):  # cleanup must not fail: logged, and the next node is cleaned up
                import logging  # noqa: PLC0415 -- only when a cleanup failed

                logging.getLogger("remotemedia").exception(
                    "cleanup of node %s failed", node_id, extra={"node_id": node_id}
                )
            finally:
                self._mark(0)
        return self.counts.pairs()
