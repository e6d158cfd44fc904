"""The pluggy markers and hook specifications of project "remotemedia".

A plugin is a module with `@hookimpl` functions, named by an entry point of group
`remotemedia`. The SDK's own nodes register through the same hook (`remotemedia.nodes.plugin`).
"""

from __future__ import annotations

import pluggy

from remotemedia.node import Node

PROJECT = "remotemedia"
"""The pluggy project name, also the entry-point group plugins declare."""

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks a hook specification of project "remotemedia"."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's implementation of a "remotemedia" hook."""


@hookspec
def remotemedia_node_types() -> list[type[Node]]:  # type: ignore[empty-body]  # spec: docstring only
    """Returns the node classes this plugin provides.

    Called once per discovery (the host's start, `remotemedia nodes`, the SDK resolving a type
    name), after the plugin's module was imported. Each class must subclass
    `remotemedia.Node`; its type name is its `node_type` attribute if set, else its class
    name. Anything else in the list is reported as an error of this plugin.

    Returns:
        The plugin's node classes.
    """
