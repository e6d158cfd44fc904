"""The host's two kinds of Python thread: `Driver`, the service thread, and `StageDriver`, the
thread of one stage.

The service thread starts with the interpreter and answers discovery and descriptions. Each
stage has a thread of its own from its creation to its cleanup, so node code that releases the
interpreter lock (`time.sleep`, numpy, I/O) runs at the same time as other stages', a node's
`initialize`, `process` and `cleanup` run on one thread, and the host can interrupt one stage's
busy code without touching another's. A stage of sync nodes is served with blocking reads; a
stage with an `async def` or streaming node (or an async `initialize`/`cleanup`) gets its own
asyncio event loop, on its thread.
"""

from __future__ import annotations

import _thread
import sys

from remotemedia._calls import (
    SYNC_NODE_FAILURES,
    CallOptions,
    NodeRaised,
    StageInterrupted,
    failure,
    has_async_lifecycle,
    kind,
    node_class,
)
from remotemedia.driver.serve import Serving
from remotemedia.driver.sync_stage import SyncStage

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from typing import Any

    from remotemedia.driver.async_stage import AsyncStage
    from remotemedia.driver.serve import Mailbox


class Driver(Serving):
    """The service thread: plugin discovery and descriptions of node classes."""

    def dispatch(self, token: int, op: str, payload: Any) -> None:
        """Runs one request and answers it."""
        if op == "describe":
            # What a manifest may give the class, known before any node is constructed.
            from remotemedia.discovery import describe_path  # noqa: PLC0415 -- only when asked

            self.host.reply(token, "json", describe_path(*payload).to_json())
        elif op == "discover":
            from remotemedia.discovery import discover  # noqa: PLC0415 -- only when asked

            self.host.reply(token, "json", discover(use_cache=bool(payload)).to_json())
        elif op == "shutdown":
            self.host.reply(token, "ack", None)
            self.stop()
        else:
            raise ValueError(f"unknown request {op!r}")


class StageDriver(Serving):
    """The thread of one stage: constructs its nodes, runs them, cleans them up, and ends."""

    def __init__(self, host: Mailbox, wake_fd: int, owns_process: bool = False) -> None:
        """Prepares to serve the stage; `run` serves until its cleanup.

        Args:
            host: The stage's mailbox.
            wake_fd: The socket the host writes a byte to when it has queued requests.
            owns_process: Whether the host owns the process (the `remotemedia-host` binary).
                Only then does Python logging go to the host's log, through a handler on the
                root logger: inside a caller's program (the native module) the caller's
                logging configuration is left as it is (DESIGN §8).
        """
        super().__init__(host, wake_fd)
        self.owns_process = owns_process
        self.stage: SyncStage | AsyncStage | None = None

    def run(self) -> None:
        """Serves the stage until its cleanup, then lets go of it here, on its own thread: the
        nodes are freed now, not whenever the collector finds the stage's reference cycle."""
        try:
            super().run()
        finally:
            self.stage = None

    def dispatch(self, token: int, op: str, payload: Any) -> None:
        """Runs one request of the stage and answers it, now or once the stage can."""
        if op == "create":
            self._create(token, payload)
            return
        if op == "shutdown":
            self.host.reply(token, "ack", None)
            self.stop()
            return
        stage = self.stage
        if stage is None:
            if op == "cleanup":  # a stage whose creation failed: nothing to clean up
                self.host.reply(token, "counts", [])
                self.stop()
                return
            raise RuntimeError(f"no stage for the request {op!r}")
        if op == "push":
            stage.push(token, payload)
        elif op == "pull":
            stage.pull(token)
        elif op == "close":
            stage.close()
            self.host.reply(token, "ack", None)
        elif op == "init":
            if isinstance(stage, SyncStage):
                stage.initialize()
                self.host.reply(token, "ack", None)
            else:
                self._spawn(token, stage.initialize(), "ack", lambda _: None)
        elif op == "cleanup":
            if isinstance(stage, SyncStage):
                self.host.reply(token, "counts", stage.cleanup())
                self.stop()
            else:
                self._spawn(token, stage.cleanup(), "counts", lambda counts: counts, last=True)
        else:
            raise ValueError(f"unknown request {op!r}")

    def interrupted(self, token: int, error: StageInterrupted) -> None:
        """The host stopped the stage's busy code (its run was cancelled): no more work."""
        if isinstance(self.stage, SyncStage):
            self.stage.interrupted(error)
        super().interrupted(token, error)

    def _create(self, token: int, payload: Any) -> None:
        try:
            self.stage = self._construct(*payload)
        except BaseException:
            self.stop()  # the host never cleans up a stage it could not create
            raise
        self.host.reply(token, "ack", None)

    def _construct(
        self, specs: list[Any], limit: int, byte_limit: int = 1 << 62, stage_id: int = 0
    ) -> SyncStage | AsyncStage:
        """The stage's nodes, constructed. Each spec is `(id, module, qualname, params, live)`,
        optionally followed by `retry` (`(max_attempts, backoff_ms)` or None) and `timeout_ms`
        (or None); `stage_id` gives the stage its word on a worker's board."""
        ids, nodes = [], []
        options: list[Any] = []
        for node_id, module, qualname, params, live, *call_options in specs:
            options.append(CallOptions.of(*call_options) if call_options else None)
            try:
                node: Any = (
                    live
                    if live is not None
                    else node_class(module, qualname)(name=node_id, **params)
                )
                node._remotemedia_node_id = node_id
                kind(node)
            except SYNC_NODE_FAILURES as e:
                raise NodeRaised(node_id, e) from e
            ids.append(node_id)
            nodes.append(node)
        if self.owns_process:
            _install_logging(self.host)
        if any(kind(n) in ("async", "stream") or has_async_lifecycle(n) for n in nodes):
            from remotemedia.driver.async_stage import AsyncStage  # noqa: PLC0415 -- imports asyncio

            self.event_loop()
            return AsyncStage(self, ids, nodes, limit, byte_limit, options, stage_id)
        return SyncStage(self, ids, nodes, limit, byte_limit, options, stage_id)

    def _spawn(self, token: int, work: Any, answer: str, result: Any, last: bool = False) -> None:
        def done(task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                self.host.reply(token, "error", (None, "CancelledError", "cancelled", ""))
            elif (error := task.exception()) is not None:
                self.host.reply(token, "error", failure(error))
            else:
                self.host.reply(token, answer, result(task.result()))
            if last:
                self.stop()

        self.event_loop().create_task(work).add_done_callback(done)


_logging_lock = _thread.allocate_lock()


def _install_logging(host: Mailbox) -> None:
    # Before the first node runs: Python logging goes to the host's log, tagged with the node.
    # Stage threads start at once: the lock makes one of them install it.
    with _logging_lock:
        if sys.implementation.name == "rustpython" and "logging" not in sys.modules:
            # In a RustPython VM importing logging costs ~50 ms of every pipeline's start:
            # the handler is installed once something imports it (node code, a plugin).
            from remotemedia._vm import when_imported  # noqa: PLC0415 -- only in a VM

            when_imported("logging", lambda _: _install_now(host))
        else:
            _install_now(host)


def _install_now(host: Mailbox) -> None:
    from remotemedia.driver.logs import install  # noqa: PLC0415 -- imports logging

    install(host)
