"""The earlier SDK's path of `Node`: the same class as `remotemedia.Node`."""

from remotemedia.node import Node

__all__ = ["Node"]
