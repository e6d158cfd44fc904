"""The pluggy markers and the `remotemedia_node_types` hook specification."""

from __future__ import annotations

import inspect

import pluggy
import pytest

from remotemedia import Node, hookimpl, hookspec, hookspecs
from remotemedia.nodes import plugin as builtin_plugin


class Tone(Node):
    """A node a test plugin registers."""


class TonePlugin:
    """A plugin defined as a class, as pluggy allows."""

    @hookimpl
    def remotemedia_node_types(self) -> list[type[Node]]:
        return [Tone]


def make_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("remotemedia")
    manager.add_hookspecs(hookspecs)
    return manager


def test_markers_belong_to_project_remotemedia() -> None:
    assert hookspec.project_name == "remotemedia"
    assert hookimpl.project_name == "remotemedia"


def test_node_types_hookspec_body_is_only_a_docstring() -> None:
    spec = hookspecs.remotemedia_node_types
    assert hasattr(spec, "remotemedia_spec")
    assert spec.__doc__
    assert spec() is None  # nothing but the docstring runs
    assert inspect.signature(spec).parameters == {}


def test_a_hookimpl_is_called_through_the_hook() -> None:
    manager = make_manager()
    manager.register(TonePlugin(), name="tone")
    assert manager.hook.remotemedia_node_types() == [[Tone]]


def test_a_hookimpl_asking_for_arguments_the_spec_lacks_is_rejected() -> None:
    class Wrong:
        @hookimpl
        def remotemedia_node_types(self, config: object) -> list[type[Node]]:
            return []

    with pytest.raises(pluggy.PluginValidationError, match="can not be found in the hookspec"):
        make_manager().register(Wrong())


def test_sdk_nodes_register_through_the_same_hook() -> None:
    assert hasattr(builtin_plugin.remotemedia_node_types, "remotemedia_impl")
    manager = make_manager()
    manager.register(builtin_plugin)
    [types] = manager.hook.remotemedia_node_types()
    assert [cls.type_name() for cls in types] == [
        "PassThroughNode",
        "Multiply",
        "Add",
        "Range",
        "audio.WavSource",
        "audio.WavSink",
        "audio.Resample",
        "audio.Gain",
        "audio.Downmix",
        "audio.Rechunk",
    ]
