"""The exceptions the SDK raises, whichever engine runs the pipeline.

Both the pure-Python executor and the native module raise these very classes, so a caller's
`except` clauses do not depend on the engine. Every constructor takes keyword arguments of
plain types (strings, lists of strings), which native code can pass without Python objects of
its own.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ManifestError",
    "NodeError",
    "PipelineCancelled",
    "RemoteMediaError",
    "SandboxError",
    "UsageError",
]


class RemoteMediaError(Exception):
    """Base class of every error the SDK raises about a pipeline."""


class SandboxError(RemoteMediaError):
    """The interpreter that runs Python nodes failed the host, or cannot be used.

    For example: the selected Python environment is not a virtualenv or is of another Python
    version, the interpreter stopped, or a backend cannot do what the pipeline asks.
    """


class ManifestError(RemoteMediaError):
    """A manifest, or a pipeline being built, breaks the v1 contract.

    Every problem found is reported at once, each naming its place as the host does
    (`nodes[1].node_type: unknown node type "X" (did you mean "Y"?)`).

    Attributes:
        problems: The rendered problems, in document order.
        source: Where the manifest came from: a file name, or `<memory>`.
    """

    def __init__(self, problems: list[str] | str, source: str = "<memory>") -> None:
        """Creates the error.

        Args:
            problems: The rendered problems; a single string is one problem.
            source: Where the manifest came from.
        """
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        count = len(self.problems)
        summary = f"invalid manifest {source}: {count} problem{'' if count == 1 else 's'}"
        super().__init__("\n".join([summary, *(f"  - {p}" for p in self.problems)]))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles by the constructor's arguments (the message is derived from them)."""
        return (type(self), (self.problems, self.source))


class NodeError(RemoteMediaError):
    """A node failed; the pipeline was stopped and its initialized nodes were cleaned up.

    The message reads as the host's: `node "<id>" (<type>) failed: <ErrorType>: <message>`.

    Attributes:
        node_id: The id of the node that failed.
        node_type: Its type name.
        error_type: The exception's type name (`TypeError`, ...); Rust nodes use Python's names.
        message: The exception's message.
        traceback: The formatted Python traceback, where the node is written in Python.
        partial_outputs: Outputs that reached the sinks before the failure, where the engine
            kept them (the Python executor does); they are not a result, only a diagnosis aid.
    """

    def __init__(
        self,
        node_id: str,
        node_type: str,
        error_type: str,
        message: str,
        traceback: str | None = None,
        partial_outputs: list[Any] | None = None,
    ) -> None:
        """Creates the error; every argument may be given by keyword.

        Args:
            node_id: The id of the node that failed.
            node_type: Its type name.
            error_type: The exception's type name.
            message: The exception's message.
            traceback: The formatted traceback, if any.
            partial_outputs: Outputs produced before the failure.
        """
        self.node_id = node_id
        self.node_type = node_type
        self.error_type = error_type
        self.message = message
        self.traceback = traceback
        self.partial_outputs: list[Any] = list(partial_outputs or [])
        super().__init__(f'node "{node_id}" ({node_type}) failed: {error_type}: {message}')

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles by the constructor's arguments."""
        return (
            type(self),
            (
                self.node_id,
                self.node_type,
                self.error_type,
                self.message,
                self.traceback,
                self.partial_outputs,
            ),
        )


class PipelineCancelled(RemoteMediaError):
    """The run was cancelled (Ctrl-C in the host, or its caller) and its nodes cleaned up.

    An `await pipeline.run()` that is itself cancelled raises `asyncio.CancelledError`, as
    asyncio's contract asks; this error reports a cancellation that came from elsewhere.
    """

    def __init__(self, message: str = "pipeline cancelled") -> None:
        """Creates the error.

        Args:
            message: What was cancelled.
        """
        super().__init__(message)


class UsageError(RemoteMediaError, ValueError):
    """A run was asked for something that cannot work, such as input items that no node would
    receive (every node without upstream is a source)."""

    def __init__(self, message: str) -> None:
        """Creates the error.

        Args:
            message: What cannot work and why.
        """
        super().__init__(message)
