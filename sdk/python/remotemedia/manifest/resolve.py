"""From a manifest's `node_type` to the Python class that builds the node.

Resolution (DESIGN §5), for the nodes the SDK builds in Python: the node types registered
through the `remotemedia_node_types` hook (the installed plugins, and the SDK's own nodes,
which `remotemedia.nodes.plugin` registers through the same hook), then
`"package.module:ClassName"` import paths.

The host's built-in Rust nodes win over Python types unless `runtime_hint` is "python". The
SDK's own nodes bear the names of the built-ins they behave like (`PassThroughNode`,
`Multiply`, `Add`, `Range`), so a built-in's name builds the SDK's node of that name, whoever
else registers it. The names of the built-ins come from the native module
(`remotemedia_runtime.node_types()`); without it, the SDK's own nodes stand for them. One name
is mapped here: `PassThrough`, the built-in's alias, is the SDK's `PassThroughNode`.
"""

from __future__ import annotations

from typing import Any

from remotemedia import _native
from remotemedia._calls import is_node_class, load_class
from remotemedia.manifest.problems import did_you_mean
from remotemedia.node import Node

PASS_THROUGH_ALIAS = "PassThrough"
"""The host's other name for its built-in `PassThroughNode`."""

SDK_PROVIDER = "remotemedia"
"""The provider of the SDK's own node types in a discovery."""

Resolved = tuple[type[Node] | None, str | None, str | None]
"""`(class, None, None)`, or `(None, message, help)` when the type cannot be resolved."""


def rust_node_types() -> set[str] | None:
    """The names of the host's built-in Rust node types; `None` without the native module."""
    native = _native.module()
    if native is None:
        return None
    return {info["node_type"] for info in native.node_types()}


def is_rust_node(name: str, hint: str, discovery: Any) -> bool:
    """Whether a node type resolves to one of the host's built-in Rust nodes (by the native
    module's list, else by the SDK's own nodes, which stand for them): such a node has no
    Python call for `retry` or `timeout_ms` to govern."""
    if hint == "python":
        return False
    rust = rust_node_types()
    if rust is not None:
        return name in rust
    wanted = "PassThroughNode" if name == PASS_THROUGH_ALIAS else name
    return any(i.node_type == wanted and i.provider == SDK_PROVIDER for i in discovery.types)


def resolve(name: str, hint: str, discovery: Any = None) -> Resolved:
    """Resolves a node type to the Python class that builds it.

    Args:
        name: The manifest's `node_type`.
        hint: The node's `runtime_hint`: "auto", "rust" or "python".
        discovery: A `remotemedia.discovery.Discovery` to look in; `None` to discover.

    Returns:
        `(class, None, None)`, or `(None, message, help)` with the problem.
    """
    if discovery is None:
        from remotemedia.discovery import discover  # noqa: PLC0415 -- imports the plugins

        discovery = discover()
    wanted = "PassThroughNode" if name == PASS_THROUGH_ALIAS else name
    found = [info for info in discovery.types if info.node_type == wanted]
    rust = rust_node_types() if hint != "python" else None
    if hint != "python":
        own = [info for info in found if info.provider == SDK_PROVIDER]
        builtin = bool(own) if rust is None else name in rust
        if hint == "rust" and not builtin:
            return None, f'"{name}" is not a built-in Rust node, but runtime_hint is "rust"', None
        if builtin and not own:
            message = f'built-in node type "{name}" has no Python implementation in the SDK'
            return None, message, "run it on the Rust engine, or use a Python node type"
        if builtin:
            found = own
    if len(found) > 1:
        providers = " and ".join(info.provider for info in found)
        help_ = 'uninstall one of them, or name the class as "module:Class"'
        return None, f'node type "{name}" is ambiguous: registered by {providers}', help_
    if found:
        return _import(found[0].module, found[0].qualname, name)
    if ":" in name:
        module, _, qualname = name.partition(":")
        if not module or not qualname:
            return None, f'"{name}" is not of the form "package.module:ClassName"', None
        return _import(module, qualname, name)
    return None, *_unknown(name, hint, discovery, rust)


def _unknown(name: str, hint: str, discovery: Any, rust: set[str] | None) -> tuple[str, str]:
    """The message and help for a name nothing registers, worded as the host's."""
    known = {info.node_type for info in discovery.types} | (rust or set())
    if "PassThroughNode" in known:
        known.add(PASS_THROUGH_ALIAS)
    listed = sorted(known)
    what = "Python node type" if hint == "python" else "node type"
    help_ = did_you_mean(name, listed) or f"known {what}s: {', '.join(listed)}"
    plugins = ", ".join(discovery.plugins) or "none"
    return f'unknown {what} "{name}"', f"{help_} (plugins seen: {plugins})"


def _import(module: str, qualname: str, name: str) -> Resolved:
    try:
        found = load_class(module, qualname)
    except Exception as e:  # noqa: BLE001 -- importing node code may raise anything: reported
        return None, f'cannot import "{name}": {type(e).__name__}: {e}', None
    if not is_node_class(found):
        return None, f'"{name}" is not a remotemedia.Node subclass', None
    return found, None, None


_MANIFEST_TYPES: dict[type[Node], str] = {}


def manifest_type(node_class: type[Node]) -> str:
    """The `node_type` naming a class: its type name if that resolves to it, else
    `"module:QualName"`. Decided once per class and process: `to_manifest` runs before every
    run, and a discovery per node would cost more than a short run."""
    written = _MANIFEST_TYPES.get(node_class)
    if written is None:
        name = node_class.type_name()
        by_name = "<locals>" not in node_class.__qualname__ and (
            resolve(name, "python")[0] is node_class
        )
        written = name if by_name else f"{node_class.__module__}:{node_class.__qualname__}"
        _MANIFEST_TYPES[node_class] = written
    return written
