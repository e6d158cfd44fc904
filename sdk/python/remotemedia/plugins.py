"""The plugin manager: the SDK's own nodes plus every installed `remotemedia` entry point."""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass

import pluggy

from remotemedia import hookspecs
from remotemedia.discovery import PluginError
from remotemedia.hookspecs import PROJECT

BUILTIN_PLUGIN = PROJECT
"""The name the SDK's own plugin (`remotemedia.nodes.plugin`) is registered under."""


def plugin_manager() -> pluggy.PluginManager:
    """Creates a plugin manager with the hook specifications and the SDK's own plugin only.

    Installed plugins are added by `load_entry_points`, kept apart so that a caller can use the
    SDK's nodes without importing anything else.

    Returns:
        A manager for project "remotemedia" with `remotemedia.nodes.plugin` registered under
        the name "remotemedia".
    """
    # Imported here: remotemedia.nodes imports the node modules, which the markers module
    # (imported by every plugin) must not pull in.
    from remotemedia.nodes import plugin as builtin  # noqa: PLC0415  # see above

    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(builtin, name=BUILTIN_PLUGIN)
    return manager


@dataclass(frozen=True)
class LoadedPlugins:
    """What `load_entry_points` registered and what it could not.

    Attributes:
        seen: Every entry point's name, in the order they were found, failed ones included.
        providers: The distribution behind each registered plugin, by plugin name.
        errors: One report per plugin that failed to import or register.
    """

    seen: list[str]
    providers: dict[str, str]
    errors: list[PluginError]


def load_entry_points(manager: pluggy.PluginManager) -> LoadedPlugins:
    """Imports and registers every entry point of group "remotemedia".

    Unlike pluggy's `load_setuptools_entrypoints`, which stops at the first plugin that fails to
    import, each failure is collected and the remaining plugins still load.

    Args:
        manager: The manager to register the plugins in, each under its entry point's name.

    Returns:
        The registered plugins' providers and the failures. A name already taken (by the SDK
        or another distribution's entry point) is a failure of the later one.
    """
    # A fresh listing and fresh imports: importlib caches directory contents per process keyed
    # on mtimes, which a rescan after an in-place change (same mtime) must not be served from.
    # importlib.invalidate_caches() leaves importlib.metadata's listing alone on 3.11, and its
    # invalidate_caches lacks @classmethod there, hence the call on an instance.
    importlib.invalidate_caches()
    importlib.metadata.MetadataPathFinder().invalidate_caches()
    seen: list[str] = []
    providers: dict[str, str] = {}
    errors: list[PluginError] = []
    for entry_point in importlib.metadata.entry_points(group=PROJECT):
        provider = entry_point.dist.name if entry_point.dist is not None else "unknown"
        seen.append(entry_point.name)
        try:
            if manager.has_plugin(entry_point.name):
                taken_by = providers.get(entry_point.name, PROJECT)
                raise ValueError(f"plugin name {entry_point.name!r} is already used by {taken_by}")
            manager.register(entry_point.load(), name=entry_point.name)
        except (Exception, SystemExit, KeyboardInterrupt) as error:  # noqa: BLE001  # a plugin may raise anything, exit included: report it
            errors.append(PluginError.from_exception(entry_point.name, provider, error))
        else:
            providers[entry_point.name] = provider
    return LoadedPlugins(seen, providers, errors)
