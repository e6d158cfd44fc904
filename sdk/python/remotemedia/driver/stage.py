"""What both kinds of stage share (`sync_stage`, `async_stage`): what the host gives a stage,
the outputs and answers that wait, the per-node counts, the mark on a worker's crash board,
and the guards of nodes with `retry` or `timeout_ms` with their watchdog registration.
"""

from __future__ import annotations

from remotemedia._calls import Counts
from remotemedia.driver import board as crash_board

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from remotemedia._calls import CallOptions
    from remotemedia.driver.guarded import Guard


class Stage:
    """A run of consecutive Python nodes driven as one on one thread; a subclass drives them
    (`push`, `pull`, `close`, `initialize`, `cleanup`) and prepares its own parts in
    `_prepare`."""

    def __init__(
        self,
        driver: Any,
        ids: list[str],
        nodes: list[Any],
        limit: int,
        byte_limit: int,
        options: list[CallOptions | None] | None = None,
        stage_id: int = 0,
    ) -> None:
        """Prepares the stage.

        Args:
            driver: The stage's thread (`StageDriver`): its `host` takes the answers.
            ids: The nodes' ids.
            nodes: The nodes, constructed.
            limit: How many outputs may wait (at least 1).
            byte_limit: How many bytes of media payload may wait.
            options: Each node's `retry` and `timeout_ms`, or None (all None when omitted).
            stage_id: Gives the stage its word on a worker's board (`remotemedia.driver.board`).
        """
        self.driver, self.ids, self.nodes, self.limit = driver, ids, nodes, max(limit, 1)
        self.byte_limit = byte_limit
        self.board, self.slot = crash_board.board, crash_board.slot(stage_id)
        self.counts = Counts(len(nodes))
        self.out: list[Any] = []
        self.out_bytes = 0  # media payload of `out`
        self.closed = False  # no more input
        self.done = False  # no more output: input ended and every item went through, or failed
        self.error: BaseException | None = None
        self.initialized: list[Any] = []
        self._pending_pull: int | None = None
        self._pending_pushes: list[int] = []
        self._watching: float | None = None
        self._prepare(options)

    def _prepare(self, options: list[CallOptions | None] | None) -> None:
        """Prepares what this kind of stage has of its own, the guards of nodes with `options`
        among them."""
        raise NotImplementedError

    def _guards(
        self, kinds: list[str], options: list[CallOptions | None], board: Any = None
    ) -> list[Guard | None]:
        """Each node's guard (`remotemedia.driver.guarded`; None for a node that needs none),
        registered with the watchdog if one has a deadline. With a `board`, each guard marks
        it around its node's calls."""
        from remotemedia.driver import guarded  # noqa: PLC0415 -- only for nodes that need it

        guards: list[Guard | None] = []
        for i, (node_id, k, o) in enumerate(zip(self.ids, kinds, options, strict=True)):
            needed = o is not None or board is not None
            guards.append(guarded.Guard(node_id, k, o, board, self.slot, i + 1) if needed else None)
        self._watching = guarded.watch(guards)  # polled for the smallest timeout
        return guards

    def _unwatch(self) -> None:
        """Ends the watchdog registration of `_guards`, if any."""
        if self._watching is not None:
            from remotemedia.driver import guarded  # noqa: PLC0415 -- imported when watched

            guarded.unwatch(self._watching)
            self._watching = None

    def _mark(self, value: int) -> None:
        """Writes `value` (a node's index in the stage plus one, or 0) on the board, if any."""
        if self.board is not None:
            self.board[self.slot] = value
