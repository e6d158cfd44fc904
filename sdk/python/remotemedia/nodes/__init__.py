"""The SDK's own nodes, registered through the `remotemedia_node_types` hook like any plugin's.

`PassThroughNode` forwards every item; `Multiply` and `Add` behave exactly as the host's Rust
built-ins of the same names, so a pipeline gives the same result whichever engine runs it;
`Range` is the source of integers that the host also has built in. `remotemedia.nodes.audio`
holds the twins of the host's `audio.*` built-ins (`WavSource`, `WavSink`, `Resample`, `Gain`,
`Downmix`, `Rechunk`), exported here too.
"""

from remotemedia.nodes.arithmetic import Add, Multiply
from remotemedia.nodes.audio import Downmix, Gain, Rechunk, Resample, WavSink, WavSource
from remotemedia.nodes.base import PassThroughNode
from remotemedia.nodes.range import Range

__all__ = [
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
