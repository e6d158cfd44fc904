"""The `Node` base class: type names, construction, default methods."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import remotemedia
from remotemedia import Node, media


class Plain(Node):
    """A node without `node_type`."""


class Named(Node):
    """A node that sets `node_type`."""

    node_type = "custom.Named"


class WithParams(Node):
    """A node with its own parameter."""

    def __init__(self, gain: float, name: str | None = None) -> None:
        super().__init__(name=name)
        self.gain = gain


class Forwarding(Node):
    """A node that hands every keyword argument to the base class."""

    def __init__(self, name: str | None = None, **params: Any) -> None:
        super().__init__(name=name, **params)


@pytest.mark.parametrize(
    ("cls", "type_name"),
    [(Node, "Node"), (Plain, "Plain"), (Named, "custom.Named"), (WithParams, "WithParams")],
)
def test_type_name_is_node_type_else_class_name(cls: type[Node], type_name: str) -> None:
    assert cls.type_name() == type_name


def test_name_defaults_to_the_type_name() -> None:
    assert Plain().name == "Plain"
    assert Named().name == "custom.Named"


def test_node_is_constructed_with_its_id_and_params_as_keywords() -> None:
    node = WithParams(name="n1", gain=0.5)
    assert (node.name, node.gain) == ("n1", 0.5)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Plain(gain=1), "Plain got unexpected keyword arguments: 'gain'"),
        (
            lambda: Named(name="x", gain=1, bias=2),
            "custom.Named got unexpected keyword arguments: 'bias', 'gain'",
        ),
        (lambda: Forwarding(gain=1), "Forwarding got unexpected keyword arguments: 'gain'"),
    ],
)
def test_unexpected_keyword_arguments_raise_type_error_naming_the_type(
    make: Callable[[], Node], message: str
) -> None:
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        make()


def test_base_process_is_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="Plain does not implement process"):
        Plain().process(1)


def test_initialize_and_cleanup_default_to_no_ops() -> None:
    node = Plain()
    assert node.initialize() is None
    assert node.cleanup() is None


def test_repr_shows_type_and_id() -> None:
    assert repr(Named(name="n2")) == "<custom.Named name='n2'>"


def test_class_docstring_documents_the_four_process_shapes() -> None:
    doc = Node.__doc__ or ""
    for shape in ("sync function", "sync generator", "async def", "async generator"):
        assert shape in doc
    assert "empty stream and acts as a source" in doc


def test_package_reexports_the_public_surface() -> None:
    assert remotemedia.__all__ == [
        "AudioFrame",
        "Node",
        "Pipeline",
        "__version__",
        "hookimpl",
        "hookspec",
        "runtime_available",
    ]
    assert remotemedia.Node is Node
    assert remotemedia.AudioFrame is media.AudioFrame
    assert remotemedia.__version__ == "0.1.0"
