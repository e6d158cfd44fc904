"""remotemedia: streaming media pipelines with nodes in Rust and Python.

The SDK's public surface: `Node`, the base class of every Python node; `Pipeline`, which
builds a pipeline in code and runs it (in the Rust executor in this process, or the Python
executor); `AudioFrame`, an audio item (numpy samples, a rate, a start time; the other media
helpers are in `remotemedia.media`); `runtime_available()`, whether the native engine can be
imported; `hookspec` and `hookimpl`, the pluggy markers a plugin uses to register its node
types through the `remotemedia_node_types` hook. In a RustPython VM the markers leave
functions as they are and `AudioFrame` holds memoryview samples (`remotemedia._vm`).
Ready-made nodes live in `remotemedia.nodes`, errors in `remotemedia.errors`, plugin discovery
in `remotemedia.discovery`. The SDK's three parts are subpackages: `remotemedia.pipeline`
(the builder, the engine choice, manifest text), `remotemedia.executor` (the pure-Python
reference executor) and `remotemedia.driver` (what the host runs on its interpreter thread),
with the manifest checks they share in `remotemedia.manifest`.
"""

from __future__ import annotations

import sys

from remotemedia.node import Node

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from remotemedia.hookspecs import hookimpl, hookspec
    from remotemedia.media import AudioFrame
    from remotemedia.pipeline import Pipeline

__all__ = [
    "AudioFrame",
    "Node",
    "Pipeline",
    "__version__",
    "hookimpl",
    "hookspec",
    "runtime_available",
]

__version__ = "0.1.0"

# In a RustPython VM (`runtime.python: "rustpython"`) there is no pluggy to mark hooks with and
# no numpy for frames' samples: `remotemedia._vm` stands in for both, and makes importing a C
# extension an error that says why it failed.
_RUSTPYTHON = sys.implementation.name == "rustpython"
if _RUSTPYTHON:
    from remotemedia import _vm

    _vm.install_c_extension_guard()


def runtime_available() -> bool:
    """Whether the native engine (`remotemedia_runtime`) can be imported here."""
    try:
        import remotemedia_runtime  # noqa: F401, PLC0415 -- the import is the question
    except ImportError:
        return False
    return True


def __getattr__(name: str) -> Any:
    # The pluggy markers and the pipeline builder load on first use: importing pluggy costs
    # ~15 ms and the builder brings asyncio (~40 ms), which the host's interpreter start-up
    # (nodes, the stage driver) does not need to pay.
    if _RUSTPYTHON and name in ("hookimpl", "hookspec", "AudioFrame"):
        return getattr(_vm, name)
    if name in ("hookimpl", "hookspec"):
        from remotemedia import hookspecs  # noqa: PLC0415 -- lazy on purpose, see above

        return getattr(hookspecs, name)
    if name == "Pipeline":
        from remotemedia.pipeline import Pipeline  # noqa: PLC0415 -- lazy on purpose, see above

        return Pipeline
    if name == "AudioFrame":
        # numpy costs ~50 ms to import; only media items need it.
        from remotemedia.media import AudioFrame  # noqa: PLC0415 -- lazy on purpose, see above

        return AudioFrame
    raise AttributeError(f"module 'remotemedia' has no attribute {name!r}")
