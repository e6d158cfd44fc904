"""remotemedia: streaming media pipelines with nodes in Rust and Python.

The SDK's public surface: `Node`, the base class of every Python node; `hookspec` and
`hookimpl`, the pluggy markers a plugin uses to register its node types through the
`remotemedia_node_types` hook. Ready-made nodes live in `remotemedia.nodes`, plugin discovery
in `remotemedia.discovery`.
"""

from remotemedia.hookspecs import hookimpl, hookspec
from remotemedia.node import Node

__all__ = ["Node", "__version__", "hookimpl", "hookspec"]

__version__ = "0.1.0"
