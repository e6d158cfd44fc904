"""The pure-Python reference executor: the host's execution semantics (DESIGN §7) on asyncio.

`execute` runs a graph of live `Node` instances over a list of input items and returns what
reached the sinks; `stream` does the same over an iterator and yields outputs as they come.
It is the fallback when the native module is missing, and the differential tests hold the
Rust engine to its outputs.

Layout:

- `run`: a run's tasks, inputs and outputs, errors and cleanup (`execute`, `stream`);
- `plan`: each node's edges, checked (duplicate ids, unknown ends, cycles);
- `tasks`: the bounded inbox in front of a node, and the task that drives one node.

Items may be bytes, numpy arrays and `remotemedia.AudioFrame`s (and lists and maps of them)
beside JSON-like values; queues are bounded in items and in media payload bytes
(`queue_bounds` reads both from a manifest's `runtime`).
"""

from remotemedia.executor.run import (
    DEFAULT_CHANNEL_BYTES,
    DEFAULT_CHANNEL_CAPACITY,
    RUN_QUEUE_CAPACITY,
    execute,
    queue_bounds,
    stream,
)
from remotemedia.manifest.graph import Edge, is_source

__all__ = [
    "DEFAULT_CHANNEL_BYTES",
    "DEFAULT_CHANNEL_CAPACITY",
    "RUN_QUEUE_CAPACITY",
    "Edge",
    "execute",
    "is_source",
    "queue_bounds",
    "stream",
]
