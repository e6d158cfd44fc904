"""Basic nodes that do not look at their items."""

from __future__ import annotations

from typing import Any

from remotemedia.node import Node


class PassThroughNode(Node):
    """Emits every item unchanged.

    The host's built-in Rust `PassThrough` also answers to this type name and wins unless the
    manifest's `runtime_hint` is "python".
    """

    def process(self, data: Any) -> Any:
        """Returns the item as it came.

        Args:
            data: The input item.

        Returns:
            The same item.
        """
        return data
