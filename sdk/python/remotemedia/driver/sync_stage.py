"""Stages of synchronous nodes only: processed as each morsel arrives, no event loop needed.

Each morsel goes through the nodes one node at a time (a list in, a list out): a hop costs a
call and an append. Outputs wait in ``out`` for the host's ``pull``; while ``limit`` or more
are waiting, pushes are not acknowledged, so the host stops feeding (backpressure).
"""

from __future__ import annotations

from remotemedia._calls import NODE_FAILURES, Counts, NodeRaised, call_lifecycle, failure, kind

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class SyncStage:
    """A stage whose nodes are sync functions or sync generators."""

    def __init__(self, driver: Any, ids: list[str], nodes: list[Any], limit: int) -> None:
        self.driver, self.ids, self.nodes, self.limit = driver, ids, nodes, max(limit, 1)
        self.steps = [(n.process, kind(n) == "generator") for n in nodes]
        self.counts = Counts(len(nodes))
        self.out: list[Any] = []
        self.done = False
        self.error: BaseException | None = None
        self.initialized: list[Any] = []
        self._pending_pull: int | None = None
        self._pending_pushes: list[int] = []

    def initialize(self) -> None:
        """Runs every node's `initialize()`, in order."""
        for node_id, node in zip(self.ids, self.nodes, strict=True):
            try:
                call_lifecycle(node, "initialize")
            except NODE_FAILURES as e:
                raise NodeRaised(node_id, e) from e
            self.initialized.append(node)

    def push(self, token: int, items: list[Any]) -> None:
        """Processes a morsel now; the answer waits while too many outputs are uncollected."""
        if self.done:
            self.driver.host.reply(token, "end", None)
            return
        self._run(items, 0)
        self._pending_pushes.append(token)
        self._answer()

    def _run(self, items: list[Any], first: int) -> None:
        seen, made = self.counts.seen, self.counts.made
        for i in range(first, len(self.steps)):
            if not items:
                return
            process, is_generator = self.steps[i]
            seen[i] += len(items)
            outputs: list[Any] = []
            try:
                if is_generator:
                    for item in items:
                        outputs.extend(process(item))
                else:
                    for item in items:
                        out = process(item)
                        if out is not None:
                            outputs.append(out)
            except NODE_FAILURES as e:  # node code may raise anything, exits included; reported
                # What the node made before failing still goes on (the node contract); the
                # stage then ends with the error.
                made[i] += len(outputs)
                if self.error is None:
                    self.error = NodeRaised(self.ids[i], e)
                self.done = True
                self._run(outputs, i + 1)
                return
            made[i] += len(outputs)
            items = outputs
        self.out.extend(items)

    def close(self) -> None:
        """The input has ended: once the outputs are collected, the stage is done."""
        self.done = True
        self._answer()

    def pull(self, token: int) -> None:
        """Answered with the waiting outputs, or when there are some, or at the end."""
        self._pending_pull = token
        self._answer()

    def _answer(self) -> None:
        host = self.driver.host
        if self._pending_pull is not None:
            if self.out:
                token, self._pending_pull = self._pending_pull, None
                out, self.out = self.out, []
                host.reply(token, "items", out)
            elif self.done:
                token, self._pending_pull = self._pending_pull, None
                if self.error is None:
                    host.reply(token, "end", None)
                else:
                    host.reply(token, "error", failure(self.error, self.ids[-1]))
        if len(self.out) < self.limit or self.done:
            answer = "end" if self.done else "ack"
            for token in self._pending_pushes:
                host.reply(token, answer, None)
            self._pending_pushes.clear()

    def cleanup(self) -> list[tuple[int, int]]:
        """Runs every initialized node's `cleanup()`; returns the per-node counts."""
        self.done = True
        for node_id, node in zip(self.ids, self.initialized, strict=False):
            try:
                call_lifecycle(node, "cleanup")
            except NODE_FAILURES:  # cleanup must not fail: logged, and the next node is cleaned up
                import logging  # noqa: PLC0415 -- only when a cleanup failed

                logging.getLogger("remotemedia").exception(
                    "cleanup of node %s failed", node_id, extra={"node_id": node_id}
                )
        return self.counts.pairs()
