"""Stub of the compiled module (sdk/src/lib.rs); checked against it with mypy.stubtest."""

from collections.abc import Iterable
from typing import Any, final

__all__ = [
    "CancelHandle",
    "RustNodes",
    "Session",
    "WorkerHandle",
    "__version__",
    "_caller_chain",
    "_execute",
    "_serve_worker",
    "execute_pipeline",
    "execute_pipeline_with_input",
    "node_types",
    "shutdown",
    "validate",
]

__version__: str

@final
class CancelHandle:
    """Cancels a running `_execute` from another thread."""

    def __new__(cls) -> CancelHandle: ...
    def cancel(self) -> None:
        """Stops the run: every node stops and is cleaned up; the call raises
        `remotemedia.errors.PipelineCancelled`."""

@final
class WorkerHandle:
    """A pipeline's worker process (runtime.isolation "process"), started on first use, kept
    across runs, and replaced when it has died."""

    def __new__(cls) -> WorkerHandle: ...
    @property
    def pid(self) -> int | None:
        """The worker's process id, while one runs."""
    def close(self) -> None:
        """Stops the worker, if one runs, and waits until it has exited."""

def _serve_worker() -> None:
    """The worker's main (`python -m remotemedia_runtime._worker`); never called by hand."""

@final
class Session:
    """A streaming run: items pushed as they come, outputs pulled as the sinks emit them."""

    def __new__(
        cls,
        manifest: str | dict[str, Any],
        live_nodes: dict[str, Any] | None = None,
        with_inputs: bool = True,
        worker: WorkerHandle | None = None,
    ) -> Session: ...
    def push(self, items: list[Any]) -> bool:
        """Feeds items, waiting while the pipeline is full; False once no node takes input."""
    def try_push(self, items: list[Any]) -> bool | None:
        """Feeds items only if the pipeline takes them at once: None when it would wait
        (nothing fed), False once no node takes input."""
    def close(self) -> None:
        """Ends the input."""
    def pull(self) -> list[Any] | None:
        """The next outputs, waiting for them; None at the end. Raises the run's error."""
    def cancel(self) -> None:
        """Stops the run; every node is cleaned up."""
    def wait(self) -> None:
        """Waits for the run to end and raises its error."""

@final
class RustNodes:
    """Consecutive synchronous Rust nodes of a chain its caller drives."""

    def ids(self) -> list[str]:
        """The nodes' ids, in chain order."""
    def initialize(self) -> None:
        """Runs every node's initialize(), in order."""
    def process(self, items: list[Any]) -> list[Any]:
        """The outputs of `items` through every node; TypeError for what cannot be an item."""
    def finish(self) -> list[Any]:
        """The end of the input: each node's trailing outputs, through the nodes after it."""
    def cleanup(self) -> None:
        """Runs cleanup() of every initialized node; safe to call again."""

def _caller_chain(
    manifest: str | dict[str, Any], live_nodes: dict[str, Any] | None = None
) -> list[tuple[Any, ...]] | None:
    """The steps of a chain its caller can drive, or None when the pipeline needs threads."""

def execute_pipeline(manifest: str | dict[str, Any]) -> list[Any]:
    """Runs a manifest (JSON text or dict) without input items; returns the outputs."""

def execute_pipeline_with_input(manifest: str | dict[str, Any], inputs: Iterable[Any]) -> list[Any]:
    """Runs a manifest (JSON text or dict) on `inputs`; returns the outputs."""

def _execute(
    manifest: str | dict[str, Any],
    inputs: Iterable[Any] | None = None,
    live_nodes: dict[str, Any] | None = None,
    cancel: CancelHandle | None = None,
    only_if_short: bool = False,
    worker: WorkerHandle | None = None,
) -> list[Any] | None:
    """What `Pipeline.run()` calls: `live_nodes` maps node ids to the caller's own node
    objects, used instead of constructing those nodes. With `only_if_short`, a run certain
    to be short (at most 256 items through built-in Rust transforms) runs here and anything
    else returns None without running."""

def shutdown() -> None:
    """Stops the interpreter thread the runs use."""

def node_types() -> list[dict[str, Any]]:
    """The host's built-in node types as `remotemedia-host nodes --json` lists them: each with
    `node_type`, `provider`, `runtime`, `doc`, `source` and `params`."""

def validate(manifest: str | dict[str, Any]) -> None:
    """Validates a manifest as the host would run it, plugin types included; raises
    `remotemedia.errors.ManifestError` with every problem."""
