"""`Pipeline`: builds a graph of live nodes, writes and reads manifest v1, and runs it.

The builder holds node instances, so running it never needs their parameters. A manifest does:
`to_manifest` writes each node's parameters as `remotemedia.pipeline.params` can know them
(what `from_manifest` built it with, the node's `params` dict, else its `__init__` keywords
read back from attributes of the same names).

A node's `node_type` is its class's type name when that name resolves to the class (the SDK's
nodes, plugin types), else `"module:QualName"`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

from remotemedia._calls import CallOptions, call_options, set_call_options
from remotemedia.errors import ManifestError
from remotemedia.manifest.graph import Edge, is_source
from remotemedia.manifest.params import decode_params
from remotemedia.manifest.problems import problem
from remotemedia.manifest.resolve import manifest_type
from remotemedia.manifest.validate import node_classes, validate
from remotemedia.node import Node
from remotemedia.pipeline import engines
from remotemedia.pipeline.files import load, to_toml
from remotemedia.pipeline.params import params

__all__ = ["Pipeline"]

_MAX_CAPACITY = 1_000_000


_DAY_MS = 86_400_000


def _check_call_options(retry: Any, timeout_ms: Any) -> None:
    """Refuses what the manifest schema refuses in `retry` and `timeout_ms`, at once."""

    def whole(name: str, value: Any, low: int, high: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{name} must be from {low} to {high}, got {value}")

    if retry is not None:
        if not isinstance(retry, dict) or "max_attempts" not in retry:
            raise TypeError(
                f'retry is a dict {{"max_attempts": n, "backoff_ms": ms}}, got {retry!r}'
            )
        if unknown := set(retry) - {"max_attempts", "backoff_ms"}:
            raise ValueError(f"retry has unknown keys {sorted(unknown)}")
        whole("retry max_attempts", retry["max_attempts"], 1, 1_000_000)
        whole("retry backoff_ms", retry.get("backoff_ms", 0), 0, _DAY_MS)
    if timeout_ms is not None:
        whole("timeout_ms", timeout_ms, 1, _DAY_MS)


class Pipeline:
    """A named DAG of live nodes; without any `connect` the nodes chain in the order added.

    Attributes:
        name: The pipeline's name (`metadata.name` in a manifest).
        description: `metadata.description`, if any.
        runtime: The manifest's `runtime` settings; the Python engine reads `channel_capacity`
            and `channel_bytes`.
    """

    def __init__(
        self,
        name: str = "pipeline",
        *,
        description: str | None = None,
        runtime: dict[str, Any] | None = None,
    ) -> None:
        """Creates an empty pipeline.

        Args:
            name: The pipeline's name.
            description: A description for the manifest's metadata.
            runtime: The manifest's `runtime` settings, e.g. `{"isolation": "process"}` to run
                the Python nodes in a worker process of the pipeline's own, or
                `{"python": "rustpython"}` in a RustPython VM of its own.
        """
        self.name = name
        self.description = description
        self.runtime: dict[str, Any] = dict(runtime or {})
        self._nodes: list[Node] = []
        self._edges: list[Edge] | None = None  # None: the implied chain
        self._hints: dict[str, str] = {}  # node id -> runtime_hint other than "auto"
        self._worker: Any = None  # the native WorkerHandle (worker process or RustPython VM)

    @property
    def nodes(self) -> list[Node]:
        """The nodes, in the order they were added (a copy)."""
        return list(self._nodes)

    @property
    def edges(self) -> list[Edge]:
        """`(from id, to id, capacity)` of every edge; a `None` capacity is the default."""
        if self._edges is not None:
            return list(self._edges)
        return [(a.name, b.name, None) for a, b in zip(self._nodes, self._nodes[1:], strict=False)]

    def add_node(
        self,
        node: Node,
        *,
        retry: dict[str, int] | None = None,
        timeout_ms: int | None = None,
    ) -> Node:
        """Adds a node; its `name` is its id in the pipeline.

        Args:
            node: A live node instance.
            retry: The node's `retry`, `{"max_attempts": n, "backoff_ms": ms}`: a failed call of
                one item is made again (checked with the manifest when the pipeline runs).
            timeout_ms: The longest one item's call may take.

        Returns:
            The node it was given.

        Raises:
            TypeError: `node` is not a `remotemedia.Node`.
            ManifestError: Another node of the pipeline has the same id.
        """
        if not isinstance(node, Node):
            raise TypeError(f"add_node takes a remotemedia.Node, got {type(node).__name__}")
        ids = [n.name for n in self._nodes]
        if node.name in ids:
            first = ids.index(node.name)
            message = f'duplicate node id "{node.name}" (first used by nodes[{first}])'
            raise ManifestError([problem(f"nodes[{len(ids)}].id", message)], "<pipeline>")
        if retry is not None or timeout_ms is not None:
            _check_call_options(retry, timeout_ms)
            set_call_options(
                node, CallOptions.from_manifest({"retry": retry, "timeout_ms": timeout_ms})
            )
        self._nodes.append(node)
        return node

    def connect(
        self, upstream: Node | str, downstream: Node | str, *, capacity: int | None = None
    ) -> None:
        """Adds an edge. Once any edge is added, the pipeline has only the edges given.

        Args:
            upstream: The node (or its id) whose outputs flow along the edge.
            downstream: The node (or its id) that receives them.
            capacity: The edge's queue length in items; `None` for the run's default.

        Raises:
            ManifestError: An unknown end, a duplicate edge, an edge into a source, or a
                capacity outside 1..1000000.
        """
        edges = self._edges if self._edges is not None else []
        at = f"connections[{len(edges)}]"
        ids = [n.name for n in self._nodes]
        ends = [end.name if isinstance(end, Node) else end for end in (upstream, downstream)]
        problems = [
            problem(f"{at}.{key}", f'unknown node "{name}"', f"node ids: {', '.join(ids)}")
            for key, name in zip(("from", "to"), ends, strict=True)
            if name not in ids
        ]
        if capacity is not None and not 1 <= capacity <= _MAX_CAPACITY:
            problems.append(
                problem(f"{at}.capacity", f"must be between 1 and {_MAX_CAPACITY}, got {capacity}")
            )
        if any((a, b) == tuple(ends) for a, b, _ in edges):
            problems.append(problem(at, f'duplicate connection "{ends[0]}" -> "{ends[1]}"'))
        if not problems and is_source(target := self._nodes[ids.index(ends[1])]):
            message = f'node "{ends[1]}" ({target.type_name()}) is a source and takes no input'
            problems.append(problem(f"{at}.to", message))
        if problems:
            raise ManifestError(problems, "<pipeline>")
        edges.append((ends[0], ends[1], capacity))
        self._edges = edges

    def to_manifest(self) -> dict[str, Any]:
        """Describes the pipeline as manifest v1 data (see the module docstring for params).

        Returns:
            The manifest; `connections` only if `connect` was used.

        Raises:
            ManifestError: A node's parameters cannot be known.
        """
        metadata: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            metadata["description"] = self.description
        doc: dict[str, Any] = {"version": "v1", "metadata": metadata}
        if self.runtime:
            doc["runtime"] = dict(self.runtime)
        doc["nodes"] = [self._node_entry(i, node) for i, node in enumerate(self._nodes)]
        if self._edges is not None:
            doc["connections"] = [
                {"from": a, "to": b, **({"capacity": c} if c is not None else {})}
                for a, b, c in self._edges
            ]
        return doc

    def _node_entry(self, index: int, node: Node) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": node.name, "node_type": manifest_type(type(node))}
        written = params(index, node)
        if written:
            entry["params"] = written
        if node.name in self._hints:
            entry["runtime_hint"] = self._hints[node.name]
        if (options := call_options(node)) is not None:
            entry.update(options.to_manifest())
        return entry

    def serialize(self, format: str = "json") -> str:
        """The manifest as text.

        Args:
            format: "json" or "toml".

        Returns:
            The text; JSON is indented by two spaces.

        Raises:
            ValueError: An unknown format, or a value TOML cannot hold (null).
        """
        if format == "json":
            return json.dumps(self.to_manifest(), indent=2, ensure_ascii=False) + "\n"
        if format == "toml":
            return to_toml(self.to_manifest())
        raise ValueError(f'unknown manifest format "{format}": expected "json" or "toml"')

    @classmethod
    def from_manifest(cls, source: dict[str, Any] | str | os.PathLike[str]) -> Pipeline:
        """Builds a pipeline of live nodes from a manifest, resolving each `node_type` as the
        host does for Python: the SDK's nodes (`PassThrough` is `PassThroughNode`), plugin
        types, then `"module:Class"`. Each node is constructed as `cls(name=id, **params)`,
        with the JSON forms of bytes, arrays and audio frames in `params` read back into
        those values (`remotemedia.media.from_json_form`), as the host reads them.

        Args:
            source: The manifest as data; JSON or TOML text (JSON if it starts with "{"); or
                the path of a `.json` or `.toml` file (a one-line string naming an existing
                file, or ending in one of those suffixes, is a path).

        Returns:
            The pipeline.

        Raises:
            ManifestError: Every problem found, located (`nodes[1].node_type: ...`); a
                malformed media value in `params` and a node whose constructor raised are
                among them.
        """
        doc, source_name = load(source)
        problems = validate(doc)
        if problems:
            raise ManifestError(problems, source_name)
        classes, problems = node_classes(doc)
        if problems:
            raise ManifestError(problems, source_name)
        nodes: list[Node] = []
        for i, (spec, node_class) in enumerate(zip(doc["nodes"], classes, strict=True)):
            node_params = spec.get("params", {})
            decoded, bad = decode_params(node_params, f"nodes[{i}].params")
            if bad:
                problems += bad
                continue
            try:
                node = node_class(name=spec["id"], **decoded)
            except Exception as e:  # noqa: BLE001 -- constructors may raise anything: reported
                problems.append(
                    problem(f"nodes[{i}].params", f"{spec['node_type']}: {type(e).__name__}: {e}")
                )
                continue
            node._remotemedia_params = dict(node_params)  # type: ignore[attr-defined] # read by params()
            if (options := CallOptions.from_manifest(spec)) is not None:
                set_call_options(node, options)  # applied by either engine, written back
            nodes.append(node)
        if problems:
            raise ManifestError(problems, source_name)
        metadata = doc.get("metadata", {})
        pipeline = cls(metadata.get("name", "pipeline"), description=metadata.get("description"))
        pipeline.runtime = dict(doc.get("runtime", {}))
        pipeline._nodes = nodes
        pipeline._hints = {
            s["id"]: s["runtime_hint"]
            for s in doc["nodes"]
            if s.get("runtime_hint", "auto") != "auto"
        }
        if "connections" in doc:
            pipeline._edges = [(c["from"], c["to"], c.get("capacity")) for c in doc["connections"]]
        return pipeline

    async def run(self, input_data: Any = None, use_rust: bool = True) -> Any:
        """Runs the pipeline to its end.

        Args:
            input_data: A list of input items; a single item (anything but a list: a tuple is
                one item); or `None` for no input items (a pipeline of sources).
            use_rust: `False` runs the pure-Python executor; `True` the native engine where
                it is available.

        Returns:
            For a list or `None`, the list of outputs. For a single item, the single output
            if there is exactly one, else the list.

        Raises:
            NodeError: A node failed; nothing is re-run.
            UsageError: Input items that no node would receive.
        """
        single = input_data is not None and not isinstance(input_data, list)
        inputs = None if input_data is None else [input_data] if single else list(input_data)
        outputs = await engines.run(self, inputs, use_rust=use_rust)
        return outputs[0] if single and len(outputs) == 1 else outputs

    def process(
        self, stream: AsyncIterable[Any] | Iterable[Any] | None, use_rust: bool = True
    ) -> AsyncIterator[Any]:
        """Runs the pipeline over a stream and yields each output as soon as a sink emits it.

        Args:
            stream: The input items, an async or a plain iterable; `None` for none.
            use_rust: `False` runs the pure-Python executor; `True` the native engine where
                it is available (as for `run`).

        Returns:
            An async iterator over the outputs; closing it early cancels the run.
        """
        return engines.process(self, stream, use_rust=use_rust)

    def close(self) -> None:
        """Stops the pipeline's worker process (`runtime.isolation: "process"`) or RustPython
        VM (`runtime.python: "rustpython"`), if it has one. The worker is also stopped when the
        pipeline is collected, and at exit; a later run starts a new one."""
        if self._worker is not None:
            self._worker.close()

    def __enter__(self) -> Pipeline:
        """The pipeline itself; leaving the `with` block closes it."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Closes the pipeline (see `close`)."""
        self.close()

    async def __aenter__(self) -> Pipeline:
        """The pipeline itself; leaving the `async with` block closes it."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Closes the pipeline (see `close`), off the event loop: stopping a worker waits for
        it to exit."""
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def _worker_handle(self, native: Any) -> Any:
        """The native handle of this pipeline's worker process or RustPython VM, kept across
        runs (DESIGN §10): each run builds fresh node instances there."""
        if self._worker is None:
            self._worker = native.WorkerHandle()
        return self._worker

    def __repr__(self) -> str:
        """Shows the name and the node ids."""
        return f"<Pipeline {self.name!r} nodes={[n.name for n in self._nodes]}>"
