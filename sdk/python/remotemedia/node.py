"""The base class of every Python node."""

from __future__ import annotations

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class Node:
    """Base class of every Python node; a pipeline's executor drives its methods.

    A node is constructed as `cls(name=<node id>, **params)`: a subclass declares its
    parameters as keyword arguments of its own `__init__` and passes `name` on to this one.
    `initialize()` runs once before the first item and `cleanup()` once at the end, also after
    an error; either may be a plain method or `async def`.

    `process` takes one of four shapes, and the executor drives each accordingly:

    - sync function `process(self, data)` -> one output per item; returning `None` drops the
      item (a filter).
    - sync generator `process(self, data)` -> zero or more outputs per item.
    - `async def process(self, data)` -> the awaited output.
    - async generator function `process(self, stream)` -> a streaming node: it receives an
      async iterator over all its inputs and yields outputs as it goes. A streaming node with
      no upstream receives an empty stream and acts as a source.

    Outputs flow downstream as they are produced: a downstream node sees the first yielded
    item before the generator has finished.

    A node's parameters are the keyword arguments of its `__init__` (other than `name`); the
    host reads them, with their annotations (int, float, str, bool, list, dict, bytes) and
    defaults, before any run, so `remotemedia-host validate` checks a manifest's `params`
    against them. `**kwargs` accepts any other name.

    Attributes:
        node_type: The type name that manifests and plugins use for this class; `None` means
            the class name (see `type_name`).
        is_source: `True` for a node that takes no input items (a streaming node that makes
            its own): a connection into it is a manifest error, and a run's input items never
            reach it.
        name: The node id inside its pipeline.
    """

    node_type: ClassVar[str | None] = None
    is_source: ClassVar[bool] = False

    def __init__(self, name: str | None = None, **params: Any) -> None:
        """Creates a node.

        Args:
            name: The node id; defaults to the type name.
            **params: Must be empty here: parameters belong to the subclass's own signature,
                so anything left over reached the base class because no subclass took it.

        Raises:
            TypeError: An unexpected keyword argument, naming the node type.
        """
        if params:
            unknown = ", ".join(repr(key) for key in sorted(params))
            raise TypeError(f"{self.type_name()} got unexpected keyword arguments: {unknown}")
        self.name: str = name if name is not None else self.type_name()

    @classmethod
    def type_name(cls) -> str:
        """Returns the type name: `node_type` if the class sets it, else the class name."""
        return cls.node_type if cls.node_type is not None else cls.__name__

    def initialize(self) -> Any:
        """Prepares the node; called once before the first item. The default does nothing.

        Subclasses may override it with a plain method or an `async def`.
        """
        return None

    def process(self, data: Any) -> Any:
        """Handles one item (or, for a streaming node, the stream of all items).

        See the class docstring for the four shapes a subclass may give this method.

        Args:
            data: The input item.

        Returns:
            The output item; `None` drops the item.

        Raises:
            NotImplementedError: Always, in the base class.
        """
        raise NotImplementedError(f"{self.type_name()} does not implement process()")

    def cleanup(self) -> Any:
        """Releases what the node holds; called once at the end, also after an error.

        The default does nothing. Subclasses may override it with a plain method or an
        `async def`.
        """
        return None

    def __repr__(self) -> str:
        """Shows the type name and the node id."""
        return f"<{self.type_name()} name={self.name!r}>"
