"""Calling into node code and reporting what it raised: what the host's driver
(`remotemedia.driver`), the reference executor (`remotemedia.executor`) and the manifest checks
(`load_class`) share.

Kept free of heavy imports (no asyncio, no inspect): the driver imports it, and the
interpreter's start-up pays for every module imported here.
"""

from __future__ import annotations

import importlib
import sys

from remotemedia.node import Node

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeGuard

# Code flags of generator, coroutine and async generator functions (CPython's `inspect`
# reads the same bits; importing `inspect` would cost start-up time).
_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


NODE_FAILURES = (Exception, SystemExit, KeyboardInterrupt)
"""What node code may raise that is that node's failure (DESIGN §5: `SystemExit` and
`KeyboardInterrupt` included): every exception but the cancellation of the task that runs it
(`asyncio.CancelledError`, `GeneratorExit`), which must go on to stop the task."""


SYNC_NODE_FAILURES = (*NODE_FAILURES, GeneratorExit)
"""`NODE_FAILURES` where node code is called from plain code, not from inside a generator of
the driver's own (there `GeneratorExit` is how that generator is closed, and must pass)."""


class StageInterrupted(BaseException):
    """Raised into node code by the host (from another thread) to stop a stage whose run was
    cancelled while its code was busy: a pure-Python loop stops at its next instruction. Not a
    node failure: it passes every node's `except Exception` and ends the stage."""


class NodeRaised(Exception):
    """An exception raised by node code, with the id of the node that raised it, and what its
    message is reported with (`" (after 3 attempts)"` when retries gave up)."""

    def __init__(self, node_id: str, error: BaseException, note: str = "") -> None:
        super().__init__(node_id, error)
        self.node_id = node_id
        self.error = error
        self.note = note


def failure(error: BaseException, node_id: str | None = None) -> tuple[str | None, str, str, str]:
    """The host's report of an exception: (node id, type name, message, traceback).

    An error caused by importing a C extension in a RustPython VM is reported as that
    (`remotemedia._vm.CExtensionUnavailable`, with the traceback of the whole chain): a
    package such as numpy catches the `ImportError` of its extension and raises its own,
    whose message blames the installation rather than the runtime."""
    import traceback  # noqa: PLC0415 -- only when something failed

    note = ""
    if isinstance(error, NodeRaised):
        note = error.note
        node_id, error = error.node_id, error.error
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    reported: BaseException = error
    # Only the guard of `remotemedia._vm` raises it: without that module loaded, none exists.
    vm = sys.modules.get("remotemedia._vm")
    if vm is not None and (cause := vm.c_extension_cause(error)) is not None:
        reported = cause
    return (node_id, type(reported).__name__, str(reported) + note, trace)


def _flags(method: Any) -> int:
    function = getattr(method, "__func__", method)
    code = getattr(function, "__code__", None)
    return code.co_flags if code is not None else 0


def kind(node: Any) -> str:
    """The shape of a node's `process`: "sync", "generator", "async" or "stream"."""
    process = getattr(node, "process", None)
    if process is None:
        raise TypeError(f"{type(node).__name__} has no process() method")
    flags = _flags(process)
    if flags & _CO_ASYNC_GENERATOR:
        return "stream"
    if flags & _CO_COROUTINE:
        return "async"
    if flags & _CO_GENERATOR:
        return "generator"
    return "sync"


def has_async_lifecycle(node: Any) -> bool:
    """Whether `initialize` or `cleanup` is `async def`."""
    return any(
        _flags(getattr(node, name, None)) & _CO_COROUTINE for name in ("initialize", "cleanup")
    )


def call_lifecycle(node: Any, name: str) -> Any:
    """Calls `initialize` or `cleanup` if the node has it; returns what it returned."""
    method = getattr(node, name, None)
    return method() if method is not None else None


def is_node_class(target: Any) -> TypeGuard[type[Node]]:
    """Whether `target` is a proper subclass of `remotemedia.Node` (not `Node` itself), asked
    without running its code: `type()` rather than `isinstance`, which would read a
    `__class__` property of an instance."""
    return issubclass(type(target), type) and target is not Node and issubclass(target, Node)


def node_class(module: str, qualname: str) -> type[Node]:
    """The class `module:qualname`, which must be a `remotemedia.Node` subclass: nothing else
    named by a manifest is ever called (DESIGN §5); only looked up, never called here.

    Raises:
        TypeError: It is not a Node subclass.
        ImportError, AttributeError: The module or the name cannot be found (or the module's
            own code raised while importing).
    """
    found = load_class(module, qualname)
    if not is_node_class(found):
        raise TypeError(f'"{module}:{qualname}" is not a remotemedia.Node subclass')
    return found


def load_class(module: str, qualname: str) -> Any:
    """The class `qualname` of `module`, importing the module."""
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


class CallOptions:
    """A node's `retry` and `timeout_ms` (DESIGN §3), which `remotemedia.driver.guarded`
    applies around its calls.

    Attributes:
        retry: `(max_attempts, backoff_ms)`, or None.
        timeout_ms: The longest one call may take, or None.
    """

    __slots__ = ("retry", "timeout_ms")

    def __init__(self, retry: tuple[int, int] | None = None, timeout_ms: int | None = None) -> None:
        self.retry, self.timeout_ms = retry, timeout_ms

    @classmethod
    def of(cls, retry: Any, timeout_ms: int | None) -> CallOptions | None:
        """The options given `retry` as `(max_attempts, backoff_ms)` (as the host sends it) and
        `timeout_ms`; None when there are neither."""
        if retry is None and timeout_ms is None:
            return None
        return cls(None if retry is None else (int(retry[0]), int(retry[1])), timeout_ms)

    @classmethod
    def from_manifest(cls, spec: dict[str, Any]) -> CallOptions | None:
        """The options of a valid manifest's node entry; None when it has neither field."""
        retry = spec.get("retry")
        pair = None if retry is None else (retry["max_attempts"], retry.get("backoff_ms", 0))
        return cls.of(pair, spec.get("timeout_ms"))

    def to_manifest(self) -> dict[str, Any]:
        """The node entry's fields that give these options."""
        fields: dict[str, Any] = {}
        if self.retry is not None:
            fields["retry"] = {"max_attempts": self.retry[0], "backoff_ms": self.retry[1]}
        if self.timeout_ms is not None:
            fields["timeout_ms"] = self.timeout_ms
        return fields

    def __repr__(self) -> str:
        """Shows the fields."""
        return f"CallOptions(retry={self.retry!r}, timeout_ms={self.timeout_ms!r})"


def call_options(node: Any) -> CallOptions | None:
    """The `retry` and `timeout_ms` a node was given (`set_call_options`), if any."""
    return getattr(node, "_remotemedia_call_options", None)


def set_call_options(node: Any, options: CallOptions | None) -> None:
    """Gives a node instance the `retry` and `timeout_ms` of its manifest entry: the reference
    executor applies them, and `Pipeline.to_manifest` writes them back."""
    node._remotemedia_call_options = options


class Counts:
    """Items in and out of each node of a stage, kept cheaply."""

    def __init__(self, n: int) -> None:
        self.seen = [0] * n  # items that reached node i
        self.made = [0] * n  # items node i emitted

    def pairs(self) -> list[tuple[int, int]]:
        """(in, out) of each node."""
        return list(zip(self.seen, self.made, strict=True))
