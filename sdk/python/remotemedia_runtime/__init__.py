"""The remotemedia host's executor, in-process: run pipeline manifests from Python.

`execute_pipeline(manifest)` and `execute_pipeline_with_input(manifest, inputs)` take a manifest
as JSON text or a dict, run it in the Rust executor inside this process (Python nodes run on
its interpreter thread, in this interpreter) and return the outputs as a list. They are
synchronous and release the interpreter lock while the host works. Errors are the classes of
`remotemedia.errors`. `node_types()` lists the host's built-in node types (the SDK keeps no
copy of them) and `validate(manifest)` checks a manifest as the host would run it.
"""

from remotemedia_runtime._native import (
    CancelHandle,
    RustNodes,
    Session,
    WorkerHandle,
    __version__,
    _caller_chain,
    _execute,
    execute_pipeline,
    execute_pipeline_with_input,
    node_types,
    shutdown,
    validate,
)

__all__ = [
    "CancelHandle",
    "RustNodes",
    "Session",
    "WorkerHandle",
    "__version__",
    "_caller_chain",
    "_execute",
    "execute_pipeline",
    "execute_pipeline_with_input",
    "node_types",
    "shutdown",
    "validate",
]
