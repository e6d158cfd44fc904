"""Finds every node type the installed plugins provide, with a cache for warm starts.

`discover()` imports the plugins (entry points of group "remotemedia"), asks each for its node
classes through the `remotemedia_node_types` hook and describes them as data (DESIGN §5): name,
provider, doc, location, whether it is a source, and its parameters (`remotemedia.signature`).
The host resolves and validates node types from that without importing every plugin again.
`describe_path` describes one `"module:Class"` class, which must be a Node subclass.

The cache holds one JSON file per environment (`sys.prefix` and `sys.path`). It stays valid
while no directory on `sys.path` changes its modification time (which `pip install` and
`pip uninstall` cause) and no file of the modules that the scan imported changes (editing an
editable-installed plugin, adding a node class to it): see `remotemedia.discovery_cache`.

Run `python -m remotemedia.discovery` to print the discovery as JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from remotemedia import _calls, discovery_cache
from remotemedia._calls import is_node_class, kind
from remotemedia.node import Node
from remotemedia.signature import constructor_params

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
    """One node type, described from its class before any instance exists.

    Attributes:
        node_type: The type name manifests use.
        provider: The distribution that registered it; "remotemedia" for the SDK's own;
            `None` for a class named by import path.
        doc: The first paragraph of the class docstring on one line; "" without a docstring.
        module: The module that defines the class.
        qualname: The class's qualified name inside `module`.
        source: Whether it takes no input items (`is_source = True`).
        streaming: Whether its `process` takes the whole stream (an async generator
            function), so no single item's call of it can be retried.
        params: Its constructor's parameters, each `{"name", "kind", "required"}` plus
            `"default"` when it has one that JSON can hold.
        extra_params: Whether its constructor takes `**kwargs` (any other name is accepted).
    """

    node_type: str
    provider: str | None
    doc: str
    module: str
    qualname: str
    source: bool = False
    streaming: bool = False
    params: list[dict[str, Any]] = field(default_factory=list)
    extra_params: bool = False

    @classmethod
    def of(cls, node_class: type[Node], provider: str | None) -> NodeTypeInfo:
        """Describes a node class.

        Args:
            node_class: The class a plugin registered, or one named by import path.
            provider: The distribution behind the plugin; `None` for an import path.

        Returns:
            The description.
        """
        # __doc__ of a class is never inherited, so a class without a docstring gets "" rather
        # than the base class's text.
        import inspect  # noqa: PLC0415 -- scans only; a warm start (the cache) skips it

        source = getattr(node_class, "is_source", False) is True
        if source and kind(node_class) != "stream":
            raise TypeError(
                f"{node_class.__module__}:{node_class.__qualname__} has is_source = True, so "
                "it makes its own items: its process must be "
                "`async def process(self, stream)` yielding them"
            )
        text = inspect.cleandoc(node_class.__doc__ or "")
        first_paragraph = text.split("\n\n", 1)[0]
        params, extra = constructor_params(node_class)
        return cls(
            node_type=node_class.type_name(),
            provider=provider,
            doc=" ".join(first_paragraph.split()),
            module=node_class.__module__,
            qualname=node_class.__qualname__,
            source=source,
            streaming=kind(node_class) == "stream",
            params=params,
            extra_params=extra,
        )

    def to_json(self) -> str:
        """Serializes the description as one JSON object."""
        return json.dumps(asdict(self), allow_nan=False)


def describe_class(node_class: Any, provider: str | None = None) -> NodeTypeInfo:
    """Describes a class as a node type, refusing anything that is not a Node subclass.

    Args:
        node_class: The object an import path named.
        provider: The distribution behind it, if any.

    Returns:
        The description.

    Raises:
        TypeError: `node_class` is not a subclass of `remotemedia.Node`.
    """
    if not is_node_class(node_class):
        where = getattr(node_class, "__module__", "?"), getattr(node_class, "__qualname__", "?")
        raise TypeError(f'"{where[0]}:{where[1]}" is not a remotemedia.Node subclass')
    return NodeTypeInfo.of(node_class, provider)


def describe_path(module: str, qualname: str) -> NodeTypeInfo:
    """Imports `module` and describes its `qualname` as a node type; only looks the name up,
    never calls what it finds.

    Args:
        module: The module (`package.module`).
        qualname: The class's qualified name in it.

    Returns:
        The description.

    Raises:
        TypeError: The name is not a `remotemedia.Node` subclass.
        ImportError, AttributeError: The module or the name cannot be found (or the
            module's own code raised while importing).
    """
    return NodeTypeInfo.of(_calls.node_class(module, qualname), None)


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
        return json.dumps(asdict(self), indent=indent, allow_nan=False)

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
                types=[_type_info(item) for item in data["types"]],
                errors=[PluginError(**_strings(item)) for item in data["errors"]],
                plugins=list(data["plugins"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a discovery: {type(error).__name__}: {error}") from error
        if not all(isinstance(name, str) for name in discovery.plugins):
            raise ValueError("not a discovery: plugin names must be strings")
        return discovery


def _type_info(item: Any) -> NodeTypeInfo:
    """Reads one `NodeTypeInfo` as `asdict` wrote it, checking the types of its fields."""
    if not isinstance(item, dict):
        raise TypeError(f"expected an object, got {item!r}")
    texts = {k: item.get(k) for k in ("node_type", "doc", "module", "qualname")}
    if not all(isinstance(v, str) for v in texts.values()):
        raise TypeError(f"expected string fields, got {item!r}")
    provider, params = item.get("provider"), item.get("params")
    if not (provider is None or isinstance(provider, str)) or not isinstance(params, list):
        raise TypeError(f"bad provider or params in {item!r}")
    if not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in params):
        raise TypeError(f"bad params in {item!r}")
    return NodeTypeInfo(
        provider=provider,
        source=item.get("source") is True,
        streaming=item.get("streaming") is True,
        params=params,
        extra_params=item.get("extra_params") is True,
        **texts,  # type: ignore[arg-type]  # each checked to be a str above
    )


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
    return _scan()[0]


def _scan() -> tuple[Discovery, list[str]]:
    """`scan()`, and the files of the modules it imported or found node classes in (what the
    cache watches for edits)."""
    import sys  # noqa: PLC0415 -- scans only

    before = set(sys.modules)
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
        except (Exception, SystemExit, KeyboardInterrupt) as error:  # noqa: BLE001  # a plugin may raise anything, exit included: report it
            errors.append(PluginError.from_exception(impl.plugin_name, provider, error))
            continue
        for node_class in result:
            if is_node_class(node_class):
                try:
                    types.append(NodeTypeInfo.of(node_class, provider))
                except Exception as error:  # noqa: BLE001  # a class's own code (type_name, a bad source) may raise anything: that class is reported, the others load
                    errors.append(PluginError.from_exception(impl.plugin_name, provider, error))
            else:
                message = f"TypeError: {node_class!r} is not a Node subclass"
                errors.append(PluginError(impl.plugin_name, provider, message))
    discovery = Discovery(types=types, errors=errors, plugins=[BUILTIN_PLUGIN, *loaded.seen])
    # What the cache watches: every module the scan imported, the plugin modules themselves
    # (a caller may have imported them before), and the modules of the types found; a
    # package's directories too (a namespace package has no file of its own).
    modules: list[Any] = [sys.modules.get(name) for name in sys.modules if name not in before]
    modules += [plugin for _, plugin in manager.list_name_plugin()]
    modules += [sys.modules.get(info.module) for info in types]
    files: set[str] = set()
    for module in modules:
        if isinstance(file := getattr(module, "__file__", None), str):
            files.add(file)
        files.update(p for p in getattr(module, "__path__", ()) if isinstance(p, str))
    return discovery, sorted(files)


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
    any plugin. See the module docstring for when the cache is renewed: never a cache that
    hides an installed, removed or edited plugin.

    Args:
        use_cache: `False` scans and neither reads nor writes the cache.
        cache_dir: Where the cache lives; by default `$REMOTEMEDIA_CACHE_DIR`, else
            `$XDG_CACHE_HOME/remotemedia`, else `~/.cache/remotemedia`.

    Returns:
        The discovery.
    """
    if not use_cache or not discovery_cache.enabled():
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
    discovery, files = _scan()
    # A plugin that failed to load is being fixed, as a rule, and its files were never
    # imported to be watched: such a discovery is not cached, so the fix is seen at once.
    if not discovery.errors and discovery_cache.writable():
        discovery_cache.write(path, fingerprint, asdict(discovery), files)
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
