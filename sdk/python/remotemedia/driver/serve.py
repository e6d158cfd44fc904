"""`Serving`: what each of the host's Python threads does with its mailbox.

Each thread (the service thread, and one thread per stage) has its own mailbox and a socket the
host writes a byte to when it has queued requests there. The thread waits on the socket with a
blocking read, which releases the interpreter lock, until a request needs an asyncio event
loop; from then on its own loop watches the socket, and runs the stage's tasks between
requests. asyncio is not imported before a stage needs it: importing it costs more than
starting the interpreter.
"""

from __future__ import annotations

import _thread
import os
import socket

from remotemedia._calls import StageInterrupted, failure

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from typing import Any, Protocol

    class Mailbox(Protocol):
        """The host's end of one thread's requests (a Rust object)."""

        def take(self) -> list[tuple[int, str, Any]]: ...
        def reply(self, token: int, kind: str, payload: Any) -> None: ...
        def log(self, level: int, logger: str, node_id: str | None, message: str) -> None: ...
        def started(self, thread_ident: int) -> None: ...
        def running(self, busy: bool) -> None: ...


_STREAM_OPS = frozenset({"push", "pull", "close"})
"""Requests of a stage's stream, which a cleanup taken in the same batch abandons."""


class Serving:
    """Takes one thread's requests from its mailbox, dispatches each, and answers every one."""

    def __init__(self, host: Mailbox, wake_fd: int) -> None:
        """Prepares to serve on the calling thread; `run` serves.

        Args:
            host: The thread's mailbox.
            wake_fd: The socket the host writes a byte to when it has queued requests.
        """
        self.host = host
        host.started(_thread.get_ident())
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake = socket.socket(fileno=os.dup(wake_fd))
        self._running = True
        # Whether node code runs between requests: a stage's loop runs its tasks then.
        self._idle_busy = False

    def run(self) -> None:
        """Serves until `stop`: with blocking reads until a request needs an event loop, then
        on that loop."""
        try:
            self._serve_plain()
            if self._running and self.loop is not None:
                self._serve_loop(self.loop)
        finally:
            self._wake.close()

    def stop(self) -> None:
        """Ends `run` once the requests taken are answered."""
        self._running = False
        if self.loop is not None:
            self.loop.stop()

    def event_loop(self) -> asyncio.AbstractEventLoop:
        """This thread's event loop, made on first use; `run` serves on it from then on."""
        if self.loop is None:
            import asyncio  # noqa: PLC0415 -- only once a stage needs it, see the module doc

            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
        return self.loop

    def _serve_plain(self) -> None:
        wake = self._wake
        while self._running and self.loop is None:
            try:
                if not wake.recv(4096):
                    self._running = False  # the host's end is gone
                    return
                self._take()
            except StageInterrupted:
                pass  # it came just after the busy code it was meant for: nothing to stop

    def _serve_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._wake.setblocking(False)
        loop.add_reader(self._wake.fileno(), self._on_wake)
        # From now on, between requests, the loop runs the stage's code.
        self._idle_busy = True
        self.host.running(True)
        try:
            while self._running:
                try:
                    loop.run_forever()
                except StageInterrupted:
                    continue  # as above: it reached the loop's own code, which goes on
        finally:
            self.host.running(False)
            loop.remove_reader(self._wake.fileno())
            _close(loop)

    def _on_wake(self) -> None:
        try:
            while self._wake.recv(4096):
                pass
        except BlockingIOError:
            pass
        self._take()

    def _take(self) -> None:
        host = self.host
        # No interrupt while requests are taken and answered: one would lose them.
        host.running(False)
        requests = host.take()
        # The host asks for the cleanup only once a stream has ended: requests taken in one
        # batch with it belong to a stream it abandoned (a cancel, another branch's failure).
        # Their node code does not run: nothing would be left to interrupt it, as no request
        # waits untaken to show the host that this thread is busy.
        abandoned = len(requests) > 1 and any(op == "cleanup" for _, op, _ in requests)
        for token, op, payload in requests:
            if abandoned and op in _STREAM_OPS:
                self.interrupted(token, StageInterrupted())
                continue
            try:
                # Node code may run now: the host interrupts it only then.
                host.running(True)
                try:
                    self.dispatch(token, op, payload)
                finally:
                    host.running(False)
            except StageInterrupted as e:
                self.interrupted(token, e)
            except BaseException as e:  # noqa: BLE001 -- every request gets an answer: nothing node code or a module raises may end the thread
                host.reply(token, "error", failure(e))
        host.running(self._idle_busy)

    def dispatch(self, token: int, op: str, payload: Any) -> None:
        """Runs one request and answers it (now, or later from the loop)."""
        raise NotImplementedError

    def interrupted(self, token: int, error: StageInterrupted) -> None:
        """The host interrupted the code of request `token`."""
        self.host.reply(token, "error", failure(error, None))


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Closes a stopped loop as `asyncio.run` does: tasks left over (node code may start its
    own) are cancelled and awaited, and async generators finalized."""
    import asyncio  # noqa: PLC0415 -- a loop exists, so asyncio was imported

    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
