"""The `remotemedia.nodes` package and its pass-through node."""

from __future__ import annotations

import remotemedia.nodes
import remotemedia.nodes.base
from remotemedia.nodes import Add, Multiply, PassThroughNode


def test_pass_through_returns_its_input_itself() -> None:
    item = {"samples": [0.1, 0.2]}
    assert PassThroughNode().process(item) is item


def test_pass_through_type_name_matches_the_host_alias() -> None:
    assert PassThroughNode.type_name() == "PassThroughNode"


def test_nodes_are_importable_from_the_package_and_their_modules() -> None:
    assert remotemedia.nodes.base.PassThroughNode is PassThroughNode
    assert remotemedia.nodes.__all__ == [
        "Add",
        "Downmix",
        "Gain",
        "Multiply",
        "PassThroughNode",
        "Range",
        "Rechunk",
        "Resample",
        "WavSink",
        "WavSource",
    ]
    assert (Multiply.__module__, Add.__module__) == ("remotemedia.nodes.arithmetic",) * 2
