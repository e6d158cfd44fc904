"""`Range`: a source of integers, the Python twin of the host's built-in `Range`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from remotemedia.node import Node


def _integer(param: str, value: Any) -> int:
    # bool is an int subclass, but a manifest's `true` is a flag, not 1 (as Multiply and Add).
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Range parameter {param} must be an integer, got {value!r}")
    return int(value)


class Range(Node):
    """Source: emits the integers of range(start, stop, step).

    A streaming node that ignores its input stream: it takes no input items, so a run that
    gives input items to a pipeline whose only roots are sources is a usage error. In a
    manifest the host's built-in `Range` answers to this type name and wins unless the node's
    `runtime_hint` is "python"; both emit the same items.
    """

    is_source: ClassVar[bool] = True
    """Marks a node class that takes no input items; the executors read it."""

    def __init__(
        self, stop: int, *, start: int = 0, step: int = 1, name: str | None = None
    ) -> None:
        """Creates the node; the values are those of Python's `range(start, stop, step)`.

        `start` and `step` are keyword-only, so `Range(2, 5)` cannot be mistaken for
        `range(2, 5)`.

        Args:
            stop: The end, not included.
            start: The first value.
            step: The increment; not 0.
            name: The node id; defaults to the type name.

        Raises:
            TypeError: A parameter is not an integer (a `bool` is not one).
            ValueError: `step` is 0.
        """
        super().__init__(name=name)
        self.start = _integer("start", start)
        self.stop = _integer("stop", stop)
        self.step = _integer("step", step)
        if self.step == 0:
            raise ValueError("Range parameter step must not be 0")

    @property
    def params(self) -> dict[str, int]:
        """The constructor parameters, as a manifest writes them."""
        return {"start": self.start, "stop": self.stop, "step": self.step}

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[int]:
        """Yields the integers; the input stream is not read (a source takes no input).

        Args:
            stream: The node's input stream, always empty for a source.

        Yields:
            `start`, `start + step`, ... up to `stop`, not included.
        """
        for value in range(self.start, self.stop, self.step):
            yield value
