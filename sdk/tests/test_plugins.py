"""The plugin manager and entry-point loading that survives broken plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy
import pytest

from remotemedia.nodes import plugin as builtin_plugin
from remotemedia.plugins import PluginError, load_entry_points, plugin_manager

if TYPE_CHECKING:
    from conftest import Sites

GOOD = '''
    from remotemedia import Node, hookimpl


    class Good(Node):
        """A node of a good plugin."""


    @hookimpl
    def remotemedia_node_types():
        return [Good]
'''


def test_plugin_manager_holds_the_spec_and_the_sdk_plugin() -> None:
    manager = plugin_manager()
    assert manager.project_name == "remotemedia"
    assert manager.get_plugin("remotemedia") is builtin_plugin
    assert manager.hook.remotemedia_node_types.spec is not None


def test_each_plugin_manager_is_independent() -> None:
    first, second = plugin_manager(), plugin_manager()
    first.register(object(), name="extra")
    assert not second.has_plugin("extra")


@pytest.mark.parametrize(
    ("target", "modules", "error"),
    [
        (
            "bad_import",
            {"bad_import": "raise RuntimeError('boom at import')"},
            "RuntimeError: boom at import",
        ),
        ("missing_module", {}, "ModuleNotFoundError: No module named 'missing_module'"),
        (
            "bad_attr:nothing",
            {"bad_attr": "x = 1"},
            "AttributeError: module 'bad_attr' has no attribute 'nothing'",
        ),
    ],
)
def test_broken_plugin_is_reported_and_others_load(
    sites: Sites, target: str, modules: dict[str, str], error: str
) -> None:
    # The broken plugin sits earlier on sys.path, so it is found first: loading must go on.
    sites.install("rm-broken", {"broken": target}, modules, site=sites.new())
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD}, site=sites.new())
    manager = plugin_manager()
    loaded = load_entry_points(manager)
    assert PluginError("broken", "rm-broken", error) in loaded.errors
    assert loaded.providers["good"] == "rm-good"
    assert manager.has_plugin("good")
    assert not manager.has_plugin("broken")
    assert loaded.seen.index("broken") < loaded.seen.index("good")


def test_an_entry_point_name_taken_by_another_distribution_is_reported(sites: Sites) -> None:
    sites.install("rm-first", {"shared": "good_plugin"}, {"good_plugin": GOOD}, site=sites.new())
    sites.install("rm-second", {"shared": "good_plugin"}, {}, site=sites.new())
    loaded = load_entry_points(plugin_manager())
    assert loaded.providers["shared"] == "rm-first"
    assert (
        PluginError(
            "shared", "rm-second", "ValueError: plugin name 'shared' is already used by rm-first"
        )
        in loaded.errors
    )


def test_an_entry_point_named_after_the_sdk_plugin_is_reported(sites: Sites) -> None:
    sites.install("rm-usurper", {"remotemedia": "good_plugin"}, {"good_plugin": GOOD})
    manager = plugin_manager()
    loaded = load_entry_points(manager)
    assert manager.get_plugin("remotemedia") is builtin_plugin
    assert [e.provider for e in loaded.errors if e.entry_point == "remotemedia"] == ["rm-usurper"]


def test_plugin_error_renders_the_exception_type_and_message() -> None:
    report = PluginError.from_exception("audio", "remotemedia-audio", ImportError("no numpy"))
    assert report == PluginError("audio", "remotemedia-audio", "ImportError: no numpy")


def test_loading_does_not_use_pluggys_stop_at_first_failure_loader(
    sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("load_setuptools_entrypoints must not be used")

    monkeypatch.setattr(pluggy.PluginManager, "load_setuptools_entrypoints", refuse)
    sites.install("rm-good", {"good": "good_plugin"}, {"good_plugin": GOOD})
    assert load_entry_points(plugin_manager()).providers["good"] == "rm-good"
