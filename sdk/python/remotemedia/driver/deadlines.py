"""Deadlines of node calls (a node's `timeout_ms`), enforced by one watchdog thread.

A `Deadline` belongs to one node. It is armed (`enter`) on the thread that runs the node's code
for the length of one call, or one step of a generator or coroutine, and disarmed (`leave`)
when that returns. The watchdog thread (one per process, a daemon, started by the first
`register`) looks at the deadlines armed on every thread every `min(timeout / 10, 10 ms)`
(at least 1 ms) while some stage or run that has a timeout is registered, and sleeps without
polling when none is. One that has passed gets `NodeTimeout` raised in its thread
(`PyThreadState_SetAsyncExc`): a pure-Python loop stops at its next instruction. Code blocked
in a C call (`time.sleep`, a socket read) sees it only when the call returns.

The race with a call that returns at its deadline: the watchdog checks that the call is still
armed and sends the exception under one lock, and `leave` disarms first, then (taking that
lock when the watchdog holds it or has sent) takes back (`SetAsyncExc(thread, NULL)`) an
exception sent that has not landed yet: none is sent after `leave`. The code between the call
and `leave` is the caller's (`remotemedia.driver.guarded`, `guarded_async`), which catches a
`NodeTimeout` landing there: none reaches driver code. A call that returns after its deadline
passed counts as timed out, whether or not the exception landed.

A timed-out call that has still not ended `STUCK_AFTER` seconds after the exception was sent is
reported once: to the handler `set_stuck_handler` installed (a worker process reports it to the
host, which replaces the worker), else as a warning on the `remotemedia` logger.
"""

from __future__ import annotations

import _thread
import threading
import time

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

STUCK_AFTER = 1.0
"""Seconds after the interrupt at which a timed-out call that has not ended is reported."""


class NodeTimeout(BaseException):
    """Raised into node code by the watchdog when a call passed its node's `timeout_ms`. A
    `BaseException`, so node code's `except Exception` lets it through; the node's guard turns
    it into the node's `TimeoutError`."""


class Deadline:
    """One node's deadline, armed around each of its calls on the thread that runs them.

    Attributes:
        node_id: The node.
        seconds: Its `timeout_ms`, in seconds.
        message: What its timeout error says (`process() did not finish within ...`).
        fired: Whether the current call passed its deadline (the exception was sent).
    """

    __slots__ = (
        "active",
        "at",
        "fired",
        "fired_at",
        "message",
        "node_id",
        "previous",
        "reported",
        "seconds",
        "thread",
    )

    def __init__(self, node_id: str, timeout_ms: int, message: str) -> None:
        self.node_id, self.seconds, self.message = node_id, timeout_ms / 1000, message
        self.at = self.fired_at = 0.0
        self.thread = 0
        self.active = self.fired = self.reported = False
        self.previous: Deadline | None = None

    def start(self) -> None:
        """Starts a call: its deadline is `seconds` from now."""
        self.at = time.monotonic() + self.seconds
        self.fired = self.reported = False

    def passed(self) -> bool:
        """Whether the current call is past its deadline: the interrupt was sent, or the call
        returned late, before the watchdog's next look."""
        return self.fired or time.monotonic() >= self.at

    def enter(self) -> None:
        """Arms the deadline on this thread: the call's code runs from now until `leave`.
        Another node's deadline armed here already (the node whose code runs this one's) is
        set aside until then."""
        self.thread = thread = _thread.get_ident()
        self.previous = _armed.get(thread)
        self.active = True
        _armed[thread] = self

    def leave(self) -> None:
        """Disarms the deadline; an exception sent and not landed yet is taken back. Safe to
        call again."""
        if not self.active:
            return
        thread = self.thread
        if _armed.get(thread) is self:
            if self.previous is None:
                del _armed[thread]
            else:
                _armed[thread] = self.previous
        self.previous = None
        self.active = False
        # From now on the watchdog sends nothing (it checks `active` under the lock). If it is
        # inside that check now, it may still send: wait for it. Lock-free otherwise, which
        # is every call that keeps its deadline.
        if self.fired or _lock.locked():
            with _lock:
                if self.fired:
                    _set_async_exc(thread, None)

    def error(self) -> TimeoutError:
        """The node's error for a call that timed out."""
        return TimeoutError(self.message)


_armed: dict[int, Deadline] = {}
"""The deadline armed on each thread (thread id: deadline)."""

_lock = _thread.allocate_lock()
_users: list[float] = []  # the polling interval each registered stage or run asks for
_present = threading.Event()  # set while `_users` is not empty
_watchdog: threading.Thread | None = None
_stuck_handler: Callable[[str, str], None] | None = None


def _set_async_exc(thread: int, exception: type[BaseException] | None) -> None:
    # ctypes is loaded by `register`, before any deadline can pass: only a timeout needs it,
    # and a node with `retry` alone also runs in a RustPython VM, whose ctypes cannot reach
    # CPython's API (no timeout runs there).
    import ctypes  # noqa: PLC0415 -- see above

    # No argtypes: None must pass as NULL (which clears a pending exception), not as Py_None.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), None if exception is None else ctypes.py_object(exception)
    )


def register(timeout_ms: int) -> float:
    """Registers a stage or a run with a node of this `timeout_ms` (its smallest), starting
    the watchdog if it is not running. Returns the handle for `unregister`."""
    global _watchdog
    import ctypes  # noqa: F401, PLC0415 -- loaded here, not on the watchdog's thread at a timeout

    interval = max(0.001, min(timeout_ms / 10_000, 0.01))
    with _lock:
        _users.append(interval)
        _present.set()
        if _watchdog is None:
            _watchdog = threading.Thread(target=_watch, name="remotemedia-watchdog", daemon=True)
            _watchdog.start()
    return interval


def unregister(handle: float) -> None:
    """Ends a registration; the watchdog stops polling once none is left."""
    with _lock:
        _users.remove(handle)
        if not _users:
            _present.clear()


def set_stuck_handler(callback: Callable[[str, str], None] | None) -> None:
    """Installs what is told of a timed-out call that has not ended `STUCK_AFTER` seconds after
    it was interrupted (code blocked in a C call): `callback(node_id, message)`, called once
    per call from the watchdog thread, with the timeout's message. `None` restores the
    default, a warning on the `remotemedia` logger."""
    global _stuck_handler
    _stuck_handler = callback


def _watch() -> None:
    while True:
        _present.wait()
        interval = min(_users, default=0.01)
        time.sleep(interval)
        now = time.monotonic()
        for deadline in list(_armed.values()):
            if not deadline.active:
                continue
            if not deadline.fired and now >= deadline.at:
                with _lock:
                    # Checked again under the lock that `leave` takes: sent only while armed.
                    # Still this call, still past it (a new call restarts `at`).
                    if deadline.active and not deadline.fired and time.monotonic() >= deadline.at:
                        deadline.fired, deadline.fired_at = True, now
                        _set_async_exc(deadline.thread, NodeTimeout)
            elif (
                deadline.fired and not deadline.reported and now >= deadline.fired_at + STUCK_AFTER
            ):
                deadline.reported = True
                _report_stuck(deadline)


def _report_stuck(deadline: Deadline) -> None:
    import logging  # noqa: PLC0415 -- only when a call is stuck

    logger = logging.getLogger("remotemedia")
    handler = _stuck_handler
    if handler is not None:
        try:
            handler(deadline.node_id, deadline.message)
        except Exception:
            logger.exception("the handler of stuck calls failed (node %s)", deadline.node_id)
        return
    logger.warning(
        "node %s: %s, and has not ended %.0f s after it was interrupted: it is blocked in a "
        "call that cannot be interrupted (time.sleep, I/O); its error comes when that call "
        "returns",
        deadline.node_id,
        deadline.message,
        STUCK_AFTER,
        extra={"node_id": deadline.node_id},
    )
