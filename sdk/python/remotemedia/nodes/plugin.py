"""Registers the SDK's own nodes, through the same hook that third-party plugins implement."""

from __future__ import annotations

from remotemedia.hookspecs import hookimpl
from remotemedia.node import Node
from remotemedia.nodes.arithmetic import Add, Multiply
from remotemedia.nodes.audio import Downmix, Gain, Rechunk, Resample, WavSink, WavSource
from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.range import Range


@hookimpl
def remotemedia_node_types() -> list[type[Node]]:
    """Returns the node classes of `remotemedia.nodes`."""
    return [
        PassThroughNode,
        Multiply,
        Add,
        Range,
        WavSource,
        WavSink,
        Resample,
        Gain,
        Downmix,
        Rechunk,
    ]
