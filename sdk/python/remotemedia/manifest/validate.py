"""The manifest's semantic checks, and the one entry point that validates a manifest.

`validate` asks the native module (`remotemedia_runtime.validate`: the host's own checks, which
know its built-in nodes and their parameters) where it imports, and runs `check_manifest`, the
SDK's own checks, only without it. `check_manifest` checks what the host checks, in the host's
words: the schema (`remotemedia.manifest.schema`), duplicate ids, node types resolved for
Python (`remotemedia.manifest.resolve`), `retry` and `timeout_ms` only on the Python nodes
they apply to, what the RustPython runtime cannot combine with, connections, sources, cycles.
Parameters are checked against what each class declares (`remotemedia.manifest.params`), so
the host's built-ins are checked as the SDK's nodes of the same names: their value checks
beyond kinds (`Range`'s step of 0) are their constructors', run when `Pipeline.from_manifest`
builds them.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from remotemedia import _native
from remotemedia.errors import ManifestError
from remotemedia.manifest.graph import cycle_problem, find_cycle
from remotemedia.manifest.params import check_params, decode_params
from remotemedia.manifest.problems import did_you_mean, problem
from remotemedia.manifest.resolve import is_rust_node, resolve
from remotemedia.manifest.schema import check_structure
from remotemedia.node import Node


def validate(doc: Any) -> list[str]:
    """Every problem of a parsed manifest, in document order: the host's checks through the
    native module where it imports, else the SDK's own (`check_manifest`).

    Args:
        doc: The parsed manifest.

    Returns:
        The rendered problems; empty for a valid manifest.
    """
    native = _native.module()
    if native is None:
        return check_manifest(doc)[1]
    try:
        # The native module takes a dict or JSON text; any other JSON value goes as text.
        native.validate(doc if isinstance(doc, dict) else json.dumps(doc))
    except ManifestError as error:
        return list(error.problems)
    return []


def node_classes(doc: dict[str, Any]) -> tuple[list[type[Node]], list[str]]:
    """The Python class of each node of a valid manifest, to build it with; and the problems of
    nodes that have none (a built-in Rust node the SDK has no class for)."""
    from remotemedia.discovery import discover  # noqa: PLC0415 -- imports the plugins

    discovery = discover()
    classes: list[type[Node]] = []
    problems: list[str] = []
    for i, spec in enumerate(doc["nodes"]):
        node_class, reason, help_ = resolve(
            spec["node_type"], spec.get("runtime_hint", "auto"), discovery
        )
        if node_class is None:
            problems.append(problem(f"nodes[{i}].node_type", reason or "", help_))
        else:
            classes.append(node_class)
    return classes, problems


def check_manifest(doc: Any) -> tuple[list[type[Node]], list[str]]:
    """Checks a parsed manifest; returns each node's class, and every problem in document order
    (the classes are complete only without problems)."""
    problems = check_structure(doc)
    if not isinstance(doc, dict):
        return [], problems
    from remotemedia.discovery import describe_class, discover  # noqa: PLC0415 -- plugins

    discovery = discover()
    runtime: dict[str, Any] = doc["runtime"] if isinstance(doc.get("runtime"), dict) else {}
    rustpython = runtime.get("python") == "rustpython"
    nodes = [n if isinstance(n, dict) else {} for n in _list(doc.get("nodes"))]
    ids = [n["id"] if isinstance(n.get("id"), str) else None for n in nodes]
    classes: list[type[Node]] = []
    sources: set[int] = set()
    for i, spec in enumerate(nodes):
        if ids[i] and ids.index(ids[i]) != i:
            message = f'duplicate node id "{ids[i]}" (first used by nodes[{ids.index(ids[i])}])'
            problems.append(problem(f"nodes[{i}].id", message))
        name, hint = spec.get("node_type"), spec.get("runtime_hint", "auto")
        if isinstance(name, str) and name:
            hint = hint if isinstance(hint, str) else "auto"
            node_class, reason, help_ = resolve(name, hint, discovery)
            if node_class is None:
                problems.append(problem(f"nodes[{i}].node_type", reason or "", help_))
            else:
                classes.append(node_class)
                info = describe_class(node_class)
                if info.source:
                    sources.add(i)
                params = spec.get("params", None if _misspelt_params(spec) else {})
                at = f"nodes[{i}].params"
                problems += check_params(info.params, info.extra_params, params, at)
                if isinstance(params, dict):
                    problems += decode_params(params, at)[1]
                rust = is_rust_node(name, hint, discovery)
                problems += _call_option_problems(i, spec, name, rust, info.streaming, rustpython)
    if rustpython:
        problems += _rustpython_problems(runtime)
    if "sandbox" in runtime:
        problems += _sandbox_problems(runtime["sandbox"], runtime.get("isolation"))
    edges = _edges(doc, ids, sources, problems)
    if (cycle := find_cycle(len(nodes), edges)) is not None:
        problems.append(cycle_problem([i or "?" for i in ids], cycle))
    return classes, _in_document_order(doc, problems)


def _call_option_problems(
    i: int, spec: dict[str, Any], name: str, rust: bool, streaming: bool, rustpython: bool
) -> list[str]:
    """`retry` and `timeout_ms` govern one item's call of a Python node's `process`: a Rust
    node has none, and a streaming node takes the whole stream (as the host words it). A
    timeout interrupts running code, which CPython can do from another thread and a RustPython
    VM cannot."""
    found = []
    for field in ("retry", "timeout_ms"):
        if field not in spec:
            continue
        if rust:
            message = f'{field} applies to Python nodes only, and "{name}" is a Rust node'
        elif field == "retry" and streaming:
            message = (
                f'retry does not apply to a streaming node: "{name}" takes the whole stream, '
                "so no single item's call can be made again"
            )
        elif field == "timeout_ms" and rustpython:
            message = (
                "not supported by the RustPython runtime, which cannot interrupt running "
                'Python code (use runtime.python "cpython")'
            )
        else:
            continue
        found.append(problem(f"nodes[{i}].{field}", message))
    return found


def _rustpython_problems(runtime: dict[str, Any]) -> list[str]:
    """A RustPython VM runs in the host's process, and a worker process (which a sandbox
    confines) runs CPython: the two cannot be combined (as the host words it)."""
    found = []
    if runtime.get("isolation") == "process":
        found.append(
            problem(
                "runtime.isolation",
                "the RustPython runtime runs in the host process; a worker process "
                '(isolation "process") runs CPython',
            )
        )
    if "sandbox" in runtime:
        found.append(
            problem(
                "runtime.sandbox",
                "a sandbox runs CPython in a worker process; the RustPython runtime runs in "
                "the host process",
            )
        )
    return found


def _sandbox_problems(sandbox: Any, isolation: Any) -> list[str]:
    """What the schema cannot say of `runtime.sandbox` (as the host words it)."""
    found = []
    if isolation == "in_process":
        found.append(
            problem(
                "runtime.sandbox",
                'a sandbox confines a worker process, and runtime.isolation is "in_process" '
                '(remove it, or make it "process")',
            )
        )
    for field in ("read", "write"):
        paths = sandbox.get(field) if isinstance(sandbox, dict) else None
        for i, path in enumerate(paths if isinstance(paths, list) else []):
            if isinstance(path, str) and path and not os.path.exists(path):
                found.append(
                    problem(
                        f"runtime.sandbox.{field}[{i}]",
                        f'"{path}" does not exist (the sandbox opens every path it is given: '
                        "create it first)",
                    )
                )
    names = sandbox.get("env") if isinstance(sandbox, dict) else None
    for i, name in enumerate(names if isinstance(names, list) else []):
        if isinstance(name, str) and ("=" in name or "\0" in name):
            found.append(
                problem(
                    f"runtime.sandbox.env[{i}]",
                    f'"{name}" is not an environment variable\'s name (no "=" or NUL)',
                )
            )
    return found


def _misspelt_params(spec: dict[str, Any]) -> bool:
    """Whether a node without "params" has a field close to it, reported as unknown: its
    parameters are misspelt, not missing (as the host judges)."""
    return any(key != "params" and did_you_mean(key, ["params"]) for key in spec)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _edges(
    doc: dict[str, Any], ids: list[str | None], sources: set[int], problems: list[str]
) -> list[tuple[int, int]]:
    if "connections" not in doc:
        for v in sorted(sources - {0}):
            message = (
                f'node "{ids[v]}" is a source and takes no input, but without "connections" the '
                f'nodes form a chain in list order, so it would follow "{ids[v - 1]}"'
            )
            problems.append(
                problem(
                    f"nodes[{v}]",
                    message,
                    'list the edges in "connections", or put the source first',
                )
            )
        return [(v - 1, v) for v in range(1, len(ids)) if v not in sources]
    known = sorted({i for i in ids if i})
    edges: list[tuple[int, int]] = []
    for i, conn in enumerate(_list(doc["connections"])):
        ends: list[int] = []
        for key in ("from", "to"):
            name = conn.get(key) if isinstance(conn, dict) else None
            if isinstance(name, str) and name and name not in known:
                help_ = did_you_mean(name, known) or f"node ids: {', '.join(known)}"
                problems.append(problem(f"connections[{i}].{key}", f'unknown node "{name}"', help_))
            elif isinstance(name, str) and name:
                ends.append(ids.index(name))
        if len(ends) < 2:  # an end that is missing or unknown was reported
            continue
        u, v = ends
        if v in sources:
            message = (
                f'node "{ids[v]}" ({doc["nodes"][v]["node_type"]}) is a source and takes no input'
            )
            problems.append(problem(f"connections[{i}].to", message))
        elif (u, v) in edges:
            first = edges.index((u, v))
            message = (
                f'duplicate connection "{ids[u]}" -> "{ids[v]}" (first at connections[{first}])'
            )
            problems.append(problem(f"connections[{i}]", message))
        else:
            edges.append((u, v))
    return edges


def _in_document_order(doc: dict[str, Any], problems: list[str]) -> list[str]:
    top = list(doc)

    def place(rendered: str) -> tuple[bool, int, int]:
        match = re.match(r"([A-Za-z_]+)(?:\[(\d+)\])?", rendered)
        key = match.group(1) if match and match.group(1) != "manifest" else None
        position = top.index(key) if key in top else len(top)
        return key is not None, position, int(match.group(2) or 0) if match else 0

    return sorted(problems, key=place)
