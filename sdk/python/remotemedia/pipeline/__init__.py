"""Pipelines built in Python: the builder, the choice of engine, and manifest text.

Layout:

- `builder`: `Pipeline`, a graph of live nodes that writes and reads manifest v1 and runs it;
- `params`: a live node's constructor parameters, as a manifest writes them;
- `engines`: the one place a run's engine is chosen, and the runs on the native engine;
- `files`: manifest text, JSON or TOML, read from text or a file, written as TOML.

The checks a manifest goes through are in `remotemedia.manifest`, shared with the reference
executor (`remotemedia.executor`).
"""

from remotemedia.pipeline.builder import Pipeline

__all__ = ["Pipeline"]
