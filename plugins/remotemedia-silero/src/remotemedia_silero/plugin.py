"""Registers the plugin's node types through the SDK's hook."""

from __future__ import annotations

from remotemedia import Node, hookimpl
from remotemedia_silero.vad import SileroVad


@hookimpl
def remotemedia_node_types() -> list[type[Node]]:
    """Returns `SileroVad`."""
    return [SileroVad]
