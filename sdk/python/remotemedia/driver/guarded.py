"""A node's `retry` and `timeout_ms` (DESIGN §3), and its mark on a worker's board, applied
around each of its calls: what the host's stages and the reference executor share.

Only the nodes that need it get a `Guard`, and the stages and the executor keep their plain
code path for the others: a node without `retry` or `timeout_ms` runs exactly as it did.

- **Retry**: a call of `process` for one item that raises an `Exception` (a timeout
  included) is made again on the same node instance after `backoff_ms`, up to
  `max_attempts` calls in all; each failed attempt is logged at WARNING on the `remotemedia`
  logger. A generator is retried only when it failed before yielding its first output for the
  item; once it has yielded, its failure is final. Giving up reports the last error, its
  message followed by `" (after N attempts)"`. `SystemExit` and `KeyboardInterrupt` are never
  retried, and cancellation passes through.
- **Timeout**: the call's deadline (`remotemedia.driver.deadlines`) is armed while the node's
  own code runs: for a function the call; for `async def` each step of its coroutine, against
  one deadline for the whole call, which `asyncio.timeout` also enforces while it awaits; for
  a generator each `next`; for a streaming node each resumption of its code, not counting the
  time its input stream takes to deliver (upstream nodes may run inside it). A call that
  passes it fails with `TimeoutError` (`process() did not finish within timeout_ms=100`).

This module holds the guard, one attempt of a call, and the sync stage's wrappers (backoff
with `time.sleep`); `remotemedia.driver.guarded_async` holds what runs on an event loop (the
async stage's and the reference executor's wrappers, backoff awaited). The sync stage imports
only this one: a stage without an event loop never imports asyncio.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import Any

from remotemedia._calls import NODE_FAILURES, CallOptions, NodeRaised
from remotemedia.driver import deadlines
from remotemedia.driver.deadlines import Deadline, NodeTimeout

logger = logging.getLogger("remotemedia")

_TIMEOUT_MESSAGES = {
    "sync": "process() did not finish within timeout_ms={}",
    "async": "process() did not finish within timeout_ms={}",
    "generator": "process() did not yield its next output or finish within timeout_ms={}",
    "stream": "process() ran for longer than timeout_ms={} without yielding or awaiting",
}


class Guard:
    """What is applied around the calls of one node: retries, a deadline, a board mark."""

    __slots__ = ("attempts", "backoff", "backoff_ms", "board", "deadline", "enter", "leave",
                 "mark", "node_id", "paused", "slot")  # fmt: skip

    def __init__(
        self,
        node_id: str,
        kind: str,
        options: CallOptions | None,
        board: Any = None,
        slot: int = 0,
        mark: int = 0,
    ) -> None:
        """Prepares the guard of one node.

        Args:
            node_id: The node.
            kind: Its shape (`remotemedia._calls.kind`), which words its timeout's message.
            options: Its retry and timeout, if any.
            board: A worker's board to mark (`remotemedia.driver.board`), or None.
            slot: The stage's word on the board.
            mark: What is written there while the node's code runs (its index in the stage,
                plus one).
        """
        options = options or CallOptions()
        self.node_id = node_id
        self.attempts, self.backoff_ms = options.retry or (1, 0)
        self.backoff = self.backoff_ms / 1000
        timeout_ms = options.timeout_ms
        self.deadline = (
            None
            if timeout_ms is None
            else Deadline(node_id, timeout_ms, _TIMEOUT_MESSAGES[kind].format(timeout_ms))
        )
        self.board, self.slot, self.mark = board, slot, mark
        self.paused = False
        # `enter()`: the node's code runs from now; `leave()`: it has stopped (safe to call
        # again). The cheapest form for what the guard has: they run around every call.
        self.enter: Callable[[], None] = _nothing
        self.leave: Callable[[], None] = _nothing
        if board is not None:
            self.enter, self.leave = self._enter_marked, self._leave_marked
        elif self.deadline is not None:
            self.enter, self.leave = self.deadline.enter, self.deadline.leave

    def _enter_marked(self) -> None:
        self.board[self.slot] = self.mark
        if self.deadline is not None:
            self.deadline.enter()

    def _leave_marked(self) -> None:
        if self.deadline is not None:
            self.deadline.leave()
        self.board[self.slot] = 0

    def timeout(self, trace: TracebackType | None = None) -> TimeoutError:
        """The node's error for a call that passed its deadline; `trace` shows where it was
        interrupted."""
        assert self.deadline is not None
        return self.deadline.error().with_traceback(trace)

    def gave_up(self, error: BaseException, attempts: int) -> NodeRaised:
        """The node's error once a call failed for the last time."""
        note = f" (after {attempts} attempts)" if attempts > 1 else ""
        return NodeRaised(self.node_id, error, note)

    def failed_attempt(self, error: BaseException, attempt: int) -> None:
        """Logs a failed attempt that will be made again."""
        logger.warning(
            "node %s: attempt %d of %d failed (%s: %s); trying again in %d ms",
            self.node_id,
            attempt,
            self.attempts,
            type(error).__name__,
            error,
            self.backoff_ms,
            extra={"node_id": self.node_id},
        )


def _nothing() -> None:
    pass


def watch(guards: list[Guard | None]) -> float | None:
    """Registers guards with the watchdog if any has a deadline; the handle for `unwatch`."""
    seconds = [g.deadline.seconds for g in guards if g is not None and g.deadline is not None]
    return deadlines.register(round(min(seconds) * 1000)) if seconds else None


def unwatch(handle: float | None) -> None:
    """Ends what `watch` registered."""
    if handle is not None:
        deadlines.unregister(handle)


def attempt(guard: Guard, function: Callable[[Any], Any], argument: Any) -> Any:
    """One call of the node's code, `function(argument)`, with its deadline armed; a call that
    passes it raises the node's `TimeoutError`, with the traceback of where it was."""
    deadline = guard.deadline
    if deadline is not None:
        deadline.start()
    try:
        guard.enter()
        try:
            result = function(argument)
        finally:
            guard.leave()
    except NodeTimeout as e:
        guard.leave()  # it may have landed before `leave` had disarmed
        raise guard.timeout(e.__traceback__) from None
    if deadline is not None and deadline.passed():
        raise guard.timeout()  # it returned, after its deadline
    return result


def pause(seconds: float) -> None:
    """Sleeps a backoff in steps of at most 50 ms: an interrupt (the run was cancelled, another
    branch failed) lands between two steps instead of after the whole pause."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))


def retried(
    guard: Guard,
    process: Callable[[Any], Any],
    once: Callable[[Guard, Callable[[Any], Any], Any], Any] = attempt,
) -> Callable[[Any], Any]:
    """A sync function node's `process` with the guard applied (backoff with `time.sleep`).

    Each try is `once(guard, process, item)`: `attempt` (one call) by default, or `started`
    (a generator node's start, for `retried_generator`).
    """

    # Retries only, of a function: a plain call.
    plain = once is attempt and guard.deadline is None and guard.board is None

    def call(item: Any) -> Any:
        tried = 1
        while True:
            try:
                return process(item) if plain else once(guard, process, item)
            except Exception as e:
                if tried >= guard.attempts:
                    raise guard.gave_up(e, tried) from e
                guard.failed_attempt(e, tried)
            pause(guard.backoff)
            tried += 1

    return call


def started(guard: Guard, process: Callable[[Any], Any], item: Any) -> Generator[Any, None, None]:
    """A generator node's outputs for `item`, started: its first output is taken now (the step
    a retry makes again), the others as they are asked for (`_following`).

    Raises:
        Exception: It failed (or timed out) before its first output; it is closed.
    """
    outputs: Generator[Any, None, None] = process(item)
    try:
        first = attempt(guard, next, outputs)
    except StopIteration:
        return outputs  # spent: it yields nothing more
    except BaseException:
        outputs.close()
        raise
    return _following(guard, outputs, first)


def _following(
    guard: Guard, outputs: Generator[Any, None, None], first: Any
) -> Generator[Any, None, None]:
    """A started generator node's outputs: `first`, then each next step guarded, a failure
    final; the node's generator is closed when these end."""
    try:
        yield first
        while True:
            try:
                out = attempt(guard, next, outputs)
            except StopIteration:
                return
            except NodeRaised:
                raise
            except NODE_FAILURES as e:
                note = " (not retried: it had yielded for this item)" if guard.attempts > 1 else ""
                raise NodeRaised(guard.node_id, e, note) from e
            yield out
    finally:
        outputs.close()


def retried_generator(
    guard: Guard, process: Callable[[Any], Any]
) -> Callable[[Any], Iterator[Any]]:
    """A sync generator node's `process` with the guard applied (backoff with `time.sleep`):
    each try starts it, up to its first output (`started`)."""
    return retried(guard, process, started)
