"""`Driver`: takes the host's requests from the mailbox, runs them, and answers.

It serves on a plain `selectors` loop until a stage has an `async def` or streaming node (or
an async `initialize`/`cleanup`); then it imports asyncio and serves everything from an asyncio
event loop, on which every async stage runs. asyncio is not imported before it is needed:
importing it costs more than starting the interpreter.
"""

from __future__ import annotations

import _thread
import os
import selectors
import socket

from remotemedia._calls import (
    SYNC_NODE_FAILURES,
    NodeRaised,
    StageInterrupted,
    failure,
    has_async_lifecycle,
    kind,
    node_class,
)
from remotemedia.driver.sync_stage import SyncStage

ASYNC_STAGES = 2**64 - 1
"""What the host is told runs when the asyncio loop runs its tasks: any async stage's code."""

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from typing import Any, Protocol

    from remotemedia.driver.async_stage import AsyncStage

    class Mailbox(Protocol):
        """The host's end of the protocol (a Rust object)."""

        def take(self) -> list[tuple[int, str, int, Any]]: ...
        def reply(self, token: int, kind: str, payload: Any) -> None: ...
        def log(self, level: int, logger: str, node_id: str | None, message: str) -> None: ...
        def started(self, thread_ident: int) -> None: ...
        def running(self, stage_id: int) -> None: ...


class Driver:
    """Dispatches the host's requests on the interpreter thread."""

    def __init__(self, host: Mailbox, wake_fd: int, owns_process: bool = False) -> None:
        """Prepares the driver; `run` serves.

        Args:
            host: The host's mailbox.
            wake_fd: The socket the host writes a byte to when it has queued requests.
            owns_process: Whether the host owns the process (the `remotemedia-host` binary).
                Only then does Python logging go to the host's log, through a handler on the
                root logger: inside a caller's program (the native module) the caller's
                logging configuration is left as it is (DESIGN §8).
        """
        self.host = host
        self.owns_process = owns_process
        # What runs between requests: nothing (0), or async stages' tasks (ASYNC_STAGES).
        self._idle = 0
        host.started(_thread.get_ident())
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stages: dict[int, SyncStage | AsyncStage] = {}
        self._wake = socket.socket(fileno=os.dup(wake_fd))
        self._wake.setblocking(False)
        self._running = True
        self._logging = False

    def run(self) -> None:
        """Serves requests until the host asks to shut down: on a plain selector until a stage
        needs an event loop, then on the asyncio loop."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake, selectors.EVENT_READ)
            while self._running and self.loop is None:
                try:
                    selector.select()
                    self._on_wake()
                except StageInterrupted:
                    pass  # it came just after the busy code it was meant for: nothing to stop
        if self._running and self.loop is not None:
            self.loop.add_reader(self._wake.fileno(), self._on_wake)
            # From now on, between requests, the loop runs async stages' code: any of them.
            self._idle = ASYNC_STAGES
            self.host.running(self._idle)
            try:
                while self._running:
                    try:
                        self.loop.run_forever()
                    except StageInterrupted:
                        continue  # as above: it reached the loop's own code, which goes on
            finally:
                self.loop.remove_reader(self._wake.fileno())
                self.loop.close()
        self._wake.close()

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            import asyncio  # noqa: PLC0415 -- only once a stage needs it, see the module doc

            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
        return self.loop

    def _on_wake(self) -> None:
        try:
            while self._wake.recv(4096):
                pass
        except BlockingIOError:
            pass
        for token, op, stage_id, payload in self.host.take():
            try:
                # Node code of this stage may run now: the host interrupts it only then.
                self.host.running(stage_id)
                try:
                    self._dispatch(token, op, stage_id, payload)
                finally:
                    self.host.running(self._idle)
            except StageInterrupted as e:
                stage = self.stages.get(stage_id)
                if isinstance(stage, SyncStage):
                    stage.interrupted(e)
                self.host.reply(token, "error", failure(e, None))
            except BaseException as e:  # noqa: BLE001 -- every request gets an answer: nothing node code or a module raises may end the interpreter thread
                self.host.reply(token, "error", failure(e))

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
            stage = self.stages[stage_id]
            if isinstance(stage, SyncStage):
                stage.initialize()
                self.host.reply(token, "ack", None)
            else:
                self._spawn(token, stage.initialize(), "ack", lambda _: None)
        elif op == "cleanup":
            stage = self.stages.pop(stage_id)
            if isinstance(stage, SyncStage):
                self.host.reply(token, "counts", stage.cleanup())
            else:
                self._spawn(token, stage.cleanup(), "counts", lambda counts: counts)
        elif op == "describe":
            self._describe(token, *payload)
        elif op == "discover":
            from remotemedia.discovery import discover  # noqa: PLC0415 -- only when asked

            self.host.reply(token, "json", discover(use_cache=bool(payload)).to_json())
        elif op == "shutdown":
            self.host.reply(token, "ack", None)
            self._running = False
            if self.loop is not None:
                self.loop.stop()
        else:
            raise ValueError(f"unknown request {op!r}")

    def _create(self, token: int, stage_id: int, payload: Any) -> None:
        specs, limit = payload
        ids, nodes = [], []
        for node_id, module, qualname, params, live in specs:
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
            self._install_logging()
        needs_loop = any(kind(n) in ("async", "stream") or has_async_lifecycle(n) for n in nodes)
        if needs_loop:
            from remotemedia.driver.async_stage import AsyncStage  # noqa: PLC0415 -- imports asyncio

            self._event_loop()
            self.stages[stage_id] = AsyncStage(self, ids, nodes, limit)
        else:
            self.stages[stage_id] = SyncStage(self, ids, nodes, limit)
        self.host.reply(token, "ack", None)

    def _describe(self, token: int, module: str, qualname: str) -> None:
        # What a manifest may give the class, known before any node is constructed.
        from remotemedia.discovery import describe_path  # noqa: PLC0415 -- only when asked

        self.host.reply(token, "json", describe_path(module, qualname).to_json())

    def _spawn(self, token: int, work: Any, answer: str, result: Any) -> None:
        def done(task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                self.host.reply(token, "error", (None, "CancelledError", "cancelled", ""))
            elif (error := task.exception()) is not None:
                self.host.reply(token, "error", failure(error))
            else:
                self.host.reply(token, answer, result(task.result()))

        self._event_loop().create_task(work).add_done_callback(done)

    def _install_logging(self) -> None:
        # Before the first node runs: Python logging goes to the host's log, tagged with the node.
        if self._logging:
            return
        from remotemedia.driver.logs import install  # noqa: PLC0415 -- imports logging

        install(self.host)
        self._logging = True
