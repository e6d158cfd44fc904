"""The Python side of remotemedia-host's interpreter thread.

The host never touches the interpreter from its own threads: it queues requests in a Rust
mailbox and writes a byte to a socket this thread watches. ``Driver`` takes the requests, runs
them, and answers through the mailbox.

A *stage* is a run of consecutive Python nodes driven as one, so items pass from node to node
without returning to Rust. A stage of sync nodes (functions, generators) is processed as its
morsels arrive (``SyncStage``); a stage with ``async def`` or streaming nodes runs on an asyncio
event loop (``AsyncStage``). The loop, and asyncio itself, are only made when a stage needs
them: importing asyncio costs more than starting the interpreter.
"""

from __future__ import annotations

import os
import selectors
import socket
import sys

from remotemedia._calls import NodeRaised, failure, has_async_lifecycle, kind, load_class
from remotemedia._sync_stage import SyncStage

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    import logging
    from types import FrameType
    from typing import Any, Protocol

    from remotemedia._async_stage import AsyncStage

    class Mailbox(Protocol):
        """The host's end of the protocol (a Rust object)."""

        def take(self) -> list[tuple[int, str, int, Any]]: ...
        def reply(self, token: int, kind: str, payload: Any) -> None: ...
        def log(self, level: int, logger: str, node_id: str | None, message: str) -> None: ...


class Driver:
    """Dispatches the host's requests on the interpreter thread."""

    def __init__(self, host: Mailbox, wake_fd: int) -> None:
        self.host = host
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
                selector.select()
                self._on_wake()
        if self._running and self.loop is not None:
            self.loop.add_reader(self._wake.fileno(), self._on_wake)
            try:
                self.loop.run_forever()
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
                self._dispatch(token, op, stage_id, payload)
            except Exception as e:  # noqa: BLE001 -- every request gets an answer
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
                node = (
                    live
                    if live is not None
                    else load_class(module, qualname)(name=node_id, **params)
                )
                node._remotemedia_node_id = node_id
                kind(node)
            except Exception as e:
                raise NodeRaised(node_id, e) from e
            ids.append(node_id)
            nodes.append(node)
        self._install_logging()
        needs_loop = any(kind(n) in ("async", "stream") or has_async_lifecycle(n) for n in nodes)
        if needs_loop:
            from remotemedia._async_stage import AsyncStage  # noqa: PLC0415 -- imports asyncio

            self._event_loop()
            self.stages[stage_id] = AsyncStage(self, ids, nodes, limit)
        else:
            self.stages[stage_id] = SyncStage(self, ids, nodes, limit)
        self.host.reply(token, "ack", None)

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
        import logging  # noqa: PLC0415 -- paid when the first stage is made, not at start-up

        root = logging.getLogger()
        root.addHandler(_host_log_handler(self.host))
        root.setLevel(logging.DEBUG)  # the host filters by its own level
        self._logging = True


def _host_log_handler(host: Mailbox) -> logging.Handler:
    import logging  # noqa: PLC0415 -- see Driver._install_logging

    class HostLogHandler(logging.Handler):
        """Sends records to the host's log, tagged with the node whose code logged."""

        def emit(self, record: logging.LogRecord) -> None:
            try:
                node_id = getattr(record, "node_id", None) or _current_node()
                host.log(record.levelno, record.name, node_id, self.format(record))
            except Exception:  # noqa: BLE001 -- logging must never break node code
                self.handleError(record)

    return HostLogHandler()


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
