"""remotemedia: streaming media pipelines with nodes in Rust and Python.

The SDK's public surface: `Node`, the base class of every Python node; `hookspec` and
`hookimpl`, the pluggy markers a plugin uses to register its node types through the
`remotemedia_node_types` hook. Ready-made nodes live in `remotemedia.nodes`, plugin discovery
in `remotemedia.discovery`.
"""

from __future__ import annotations

from remotemedia.node import Node

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from remotemedia.hookspecs import hookimpl, hookspec

__all__ = ["Node", "__version__", "hookimpl", "hookspec"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The pluggy markers load on first use: importing pluggy costs ~15 ms, which the host's
    # interpreter start-up (nodes, the stage driver) does not need to pay.
    if name in ("hookimpl", "hookspec"):
        from remotemedia import hookspecs  # noqa: PLC0415 -- lazy on purpose, see above

        return getattr(hookspecs, name)
    raise AttributeError(f"module 'remotemedia' has no attribute {name!r}")
