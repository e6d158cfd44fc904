"""Finds every node type the installed plugins provide, with a cache for warm starts.

`discover()` imports the plugins (entry points of group "remotemedia"), asks each for its node
classes through the `remotemedia_node_types` hook and describes them as data: the host lists
and resolves node types from that description without importing every plugin again.

The cache holds one JSON file per environment (`sys.prefix` and `sys.path`). It stays valid
while no directory on `sys.path` changes its modification time, which `pip install` and
`pip uninstall` always cause. Editing an installed plugin's files in place without reinstalling
it is not detected: pass `use_cache=False` (or delete the cache file) after doing so.

Run `python -m remotemedia.discovery` to print the discovery as JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from remotemedia import discovery_cache
from remotemedia.node import Node

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import pluggy

__all__ = ["Discovery", "NodeTypeInfo", "PluginError", "discover", "main"]


@dataclass(frozen=True)
class PluginError:
    """A plugin that could not be used; the others still load.

    Attributes:
        entry_point: The entry point's name (the plugin's name).
        provider: The distribution that declares the entry point.
        error: The exception as `"<type>: <message>"`.
    """

    entry_point: str
    provider: str
    error: str

    @classmethod
    def from_exception(cls, entry_point: str, provider: str, error: BaseException) -> PluginError:
        """Builds the report of a plugin that raised `error`.

        Args:
            entry_point: The entry point's name.
            provider: The distribution that declares it.
            error: What loading or calling the plugin raised.

        Returns:
            The report, with the error as `"<type>: <message>"`.
        """
        return cls(entry_point, provider, f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class NodeTypeInfo:
    """One node type a plugin registered.

    Attributes:
        node_type: The type name manifests use.
        provider: The distribution that registered it; "remotemedia" for the SDK's own.
        doc: The first paragraph of the class docstring on one line; "" without a docstring.
        module: The module that defines the class.
        qualname: The class's qualified name inside `module`.
    """

    node_type: str
    provider: str
    doc: str
    module: str
    qualname: str

    @classmethod
    def of(cls, node_class: type[Node], provider: str) -> NodeTypeInfo:
        """Describes a node class.

        Args:
            node_class: The class a plugin registered.
            provider: The distribution behind the plugin.

        Returns:
            The description.
        """
        # __doc__ of a class is never inherited, so a class without a docstring gets "" rather
        # than the base class's text.
        import inspect  # noqa: PLC0415 -- scans only; a warm start (the cache) skips it

        text = inspect.cleandoc(node_class.__doc__ or "")
        first_paragraph = text.split("\n\n", 1)[0]
        return cls(
            node_type=node_class.type_name(),
            provider=provider,
            doc=" ".join(first_paragraph.split()),
            module=node_class.__module__,
            qualname=node_class.__qualname__,
        )


@dataclass(frozen=True)
class Discovery:
    """Every node type found, and every plugin that could not be used.

    Attributes:
        types: The node types, the SDK's first, then each plugin's in load order. Two providers
            may register the same type name: both entries are kept, for the caller to report the
            ambiguity naming both.
        errors: The plugins that failed to import, or whose hook raised or returned something
            other than `Node` subclasses.
        plugins: "remotemedia" and the name of every entry point seen, failed ones included.
    """

    types: list[NodeTypeInfo]
    errors: list[PluginError]
    plugins: list[str]

    def to_json(self, indent: int | None = None) -> str:
        """Serializes the discovery.

        Args:
            indent: As `json.dumps`'s; `None` for one line.

        Returns:
            A JSON object with keys `types`, `errors` and `plugins`.
        """
        return json.dumps(asdict(self), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Discovery:
        """Reads what `to_json` wrote.

        Args:
            text: The JSON text.

        Returns:
            The discovery.

        Raises:
            ValueError: The text is not JSON or not of that shape.
        """
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: Any) -> Discovery:
        """Reads the object `to_json` serializes.

        Args:
            data: The parsed JSON object.

        Returns:
            The discovery.

        Raises:
            ValueError: `data` is not of that shape.
        """
        try:
            discovery = cls(
                types=[NodeTypeInfo(**_strings(item)) for item in data["types"]],
                errors=[PluginError(**_strings(item)) for item in data["errors"]],
                plugins=list(data["plugins"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a discovery: {type(error).__name__}: {error}") from error
        if not all(isinstance(name, str) for name in discovery.plugins):
            raise ValueError("not a discovery: plugin names must be strings")
        return discovery


def _strings(item: Any) -> dict[str, str]:
    """Checks that a JSON object maps strings to strings (the fields of the records above)."""
    if not isinstance(item, dict) or not all(isinstance(v, str) for v in item.values()):
        raise TypeError(f"expected an object of strings, got {item!r}")
    return item


def scan() -> Discovery:
    """Imports every plugin and asks each for its node types, without the cache.

    Returns:
        The discovery.
    """
    # Plugin loading (pluggy, importlib.metadata: ~30 ms of imports) only when scanning: a
    # warm start reads the cache and skips it.
    from remotemedia.plugins import (  # noqa: PLC0415 -- lazy on purpose, see above
        BUILTIN_PLUGIN,
        load_entry_points,
        plugin_manager,
    )

    manager = plugin_manager()
    loaded = load_entry_points(manager)
    providers = {BUILTIN_PLUGIN: BUILTIN_PLUGIN, **loaded.providers}
    types: list[NodeTypeInfo] = []
    errors = list(loaded.errors)
    # One plugin at a time rather than one hook call: each result needs its provider, and a
    # plugin whose hook raises must not hide the others' types.
    for impl in _in_registration_order(manager):
        provider = providers.get(impl.plugin_name, "unknown")
        try:
            result = impl.function()
            if not isinstance(result, list | tuple):
                raise TypeError(f"remotemedia_node_types returned {result!r}, not a list")
        except Exception as error:  # noqa: BLE001  # a plugin may raise anything: report it
            errors.append(PluginError.from_exception(impl.plugin_name, provider, error))
            continue
        for node_class in result:
            if isinstance(node_class, type) and issubclass(node_class, Node):
                types.append(NodeTypeInfo.of(node_class, provider))
            else:
                message = f"TypeError: {node_class!r} is not a Node subclass"
                errors.append(PluginError(impl.plugin_name, provider, message))
    return Discovery(types=types, errors=errors, plugins=[BUILTIN_PLUGIN, *loaded.seen])


def _in_registration_order(manager: pluggy.PluginManager) -> list[pluggy.HookImpl]:
    """The hook's implementations, the SDK's first, then the plugins in the order they loaded."""
    order = {name: index for index, (name, _) in enumerate(manager.list_name_plugin())}
    # Wrappers wrap other implementations' results; they contribute no node types of their own.
    impls = [
        impl
        for impl in manager.hook.remotemedia_node_types.get_hookimpls()
        if not (impl.wrapper or impl.hookwrapper)
    ]
    return sorted(impls, key=lambda impl: order.get(impl.plugin_name, len(order)))


def discover(*, use_cache: bool = True, cache_dir: Path | None = None) -> Discovery:
    """Finds every node type the SDK and the installed plugins provide.

    A warm start reads the cache and neither scans the installed distributions nor imports
    any plugin. See the module docstring for when the cache is renewed.

    Args:
        use_cache: `False` scans and neither reads nor writes the cache.
        cache_dir: Where the cache lives; by default `$REMOTEMEDIA_CACHE_DIR`, else
            `$XDG_CACHE_HOME/remotemedia`, else `~/.cache/remotemedia`.

    Returns:
        The discovery.
    """
    if not use_cache:
        return scan()
    path = discovery_cache.cache_file(cache_dir)
    # Taken before the scan: an install during the scan then invalidates what is written.
    fingerprint = discovery_cache.fingerprint()
    cached = discovery_cache.read(path, fingerprint)
    if cached is not None:
        try:
            return Discovery.from_dict(cached)
        except ValueError:
            pass  # a well-formed file holding a malformed discovery: scan and rewrite it
    discovery = scan()
    discovery_cache.write(path, fingerprint, asdict(discovery))
    return discovery


def main(argv: list[str] | None = None) -> int:
    """Prints the discovery as JSON on stdout, for debugging.

    Args:
        argv: The command-line arguments; `None` for `sys.argv[1:]`.

    Returns:
        The exit status: 0.
    """
    import argparse  # noqa: PLC0415 -- the command line only; the host imports this module

    parser = argparse.ArgumentParser(
        prog="python -m remotemedia.discovery", description=main.__doc__
    )
    parser.add_argument("--no-cache", action="store_true", help="scan, ignore the cache")
    parser.add_argument("--cache-dir", type=Path, help="the cache directory")
    args = parser.parse_args(argv)
    print(discover(use_cache=not args.no_cache, cache_dir=args.cache_dir).to_json(indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
