"""From a manifest to the executor's nodes: reading JSON or TOML, resolving node types as the
host does for Python nodes, the semantic checks, and writing TOML.

Resolution (DESIGN §5): the names of the host's built-in nodes (`PassThrough`,
`PassThroughNode`, `Multiply`, `Add`, `Range`) resolve to the SDK's twins unless
`runtime_hint` is "python"; then the types registered by plugins (`remotemedia.discovery`),
with `PassThrough` an alias of `PassThroughNode`; then `"package.module:ClassName"`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from remotemedia._calls import load_class
from remotemedia._executor_plan import (
    check_structure,
    cycle_problem,
    did_you_mean,
    find_cycle,
    problem,
)
from remotemedia.errors import ManifestError
from remotemedia.node import Node
from remotemedia.nodes import Add, Multiply, PassThroughNode, Range

# The pure-Python SDK also serves interpreters older than the wheel's 3.11 (tomli there).
if sys.version_info >= (3, 11):  # noqa: UP036 -- kept on purpose, see above
    import tomllib
else:
    import tomli as tomllib

BUILTIN_TWINS: dict[str, type[Node]] = {
    "PassThrough": PassThroughNode,
    "PassThroughNode": PassThroughNode,
    "Multiply": Multiply,
    "Add": Add,
    "Range": Range,
}
"""The host's built-in node types and the SDK classes that behave the same."""


def load(source: Any) -> tuple[Any, str]:
    """Reads a manifest given as data, text or a path (see `Pipeline.from_manifest`).

    Returns:
        The parsed document and the name of where it came from.

    Raises:
        ManifestError: The file cannot be read or the text is not JSON or TOML.
        TypeError: `source` is none of those.
    """
    if isinstance(source, dict):
        return source, "<memory>"
    if isinstance(source, str) and not _names_file(source):
        return _parse(source, "json" if _looks_like_json(source) else "toml", "<memory>")
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"a manifest is a dict, a str or a path, not {type(source).__name__}")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError([problem("manifest", f"cannot read {path}: {e}")], str(path)) from e
    return _parse(text, "toml" if path.suffix.lower() == ".toml" else "json", str(path))


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def _names_file(text: str) -> bool:
    if "\n" in text or _looks_like_json(text):
        return False
    return text.lower().endswith((".json", ".toml")) or Path(text).is_file()


def _parse(text: str, format: str, source_name: str) -> tuple[Any, str]:
    try:
        if format == "json":
            return json.loads(text), source_name
        return tomllib.loads(text), source_name
    except json.JSONDecodeError as e:
        where = f"(line {e.lineno}, column {e.colno})"
        raise ManifestError(
            [problem("manifest", f"not valid JSON: {e.msg} {where}")], source_name
        ) from e
    except tomllib.TOMLDecodeError as e:
        raise ManifestError([problem("manifest", f"not valid TOML: {e}")], source_name) from e


def resolve(name: str, hint: str) -> tuple[type[Node] | None, str | None, str | None]:
    """Resolves a node type for Python; returns `(class, None, None)` or `(None, message, help)`."""
    if hint != "python" and name in BUILTIN_TWINS:
        return BUILTIN_TWINS[name], None, None
    if hint == "rust":
        return None, f'"{name}" is not a built-in Rust node, but runtime_hint is "rust"', None
    from remotemedia.discovery import discover  # noqa: PLC0415 -- only for types beyond the SDK's

    discovery = discover()
    wanted = "PassThroughNode" if name == "PassThrough" else name
    found = [info for info in discovery.types if info.node_type == wanted]
    if len(found) > 1:
        providers = " and ".join(info.provider for info in found)
        help_ = 'uninstall one of them, or name the class as "module:Class"'
        return None, f'node type "{name}" is ambiguous: registered by {providers}', help_
    if found:
        return _import(found[0].module, found[0].qualname, name)
    if ":" in name:
        module, _, qualname = name.partition(":")
        if not module or not qualname:
            return None, f'"{name}" is not of the form "package.module:ClassName"', None
        return _import(module, qualname, name)
    known = sorted({info.node_type for info in discovery.types} | BUILTIN_TWINS.keys())
    help_ = did_you_mean(name, known) or f"known node types: {', '.join(known)}"
    plugins = ", ".join(discovery.plugins) or "none"
    return None, f'unknown node type "{name}"', f"{help_}; plugins seen: {plugins}"


def _import(
    module: str, qualname: str, name: str
) -> tuple[type[Node] | None, str | None, str | None]:
    try:
        found = load_class(module, qualname)
    except Exception as e:  # noqa: BLE001 -- importing node code may raise anything: reported
        return None, f'cannot import "{name}": {type(e).__name__}: {e}', None
    if not (isinstance(found, type) and issubclass(found, Node)):
        return None, f'"{name}" is not a remotemedia.Node subclass', None
    return found, None, None


def manifest_type(node_class: type[Node]) -> str:
    """The `node_type` naming a class: its type name if that resolves to it, else the path."""
    name = node_class.type_name()
    if BUILTIN_TWINS.get(name) is node_class:
        return name
    if "<locals>" not in node_class.__qualname__ and resolve(name, "python")[0] is node_class:
        return name
    return f"{node_class.__module__}:{node_class.__qualname__}"


def check_manifest(doc: Any) -> tuple[list[type[Node]], list[str]]:
    """Checks a parsed manifest; returns each node's class, and every problem in document order
    (the classes are complete only without problems)."""
    problems = check_structure(doc)
    if not isinstance(doc, dict):
        return [], problems
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
            node_class, reason, help_ = resolve(name, hint if isinstance(hint, str) else "auto")
            if node_class is None:
                problems.append(problem(f"nodes[{i}].node_type", reason or "", help_))
            else:
                classes.append(node_class)
                if getattr(node_class, "is_source", False) is True:
                    sources.add(i)
        for field, what in (("retry", "retries"), ("timeout_ms", "per-item timeouts")):
            if field in spec:
                problems.append(problem(f"nodes[{i}].{field}", f"{what} are not supported yet"))
    runtime: dict[str, Any] = doc["runtime"] if isinstance(doc.get("runtime"), dict) else {}
    if runtime.get("python") == "rustpython":
        problems.append(problem("runtime.python", "the RustPython runtime is not supported yet"))
    if runtime.get("isolation") == "process":
        problems.append(problem("runtime.isolation", "process isolation is not supported yet"))
    edges = _edges(doc, ids, sources, problems)
    if (cycle := find_cycle(len(nodes), edges)) is not None:
        problems.append(cycle_problem([i or "?" for i in ids], cycle))
    return classes, _in_document_order(doc, problems)


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


def to_toml(doc: dict[str, Any]) -> str:
    """Writes a manifest as TOML: scalars, then tables, then arrays of tables."""
    lines = [f"{_key(k)} = {_inline(v)}" for k, v in doc.items() if not _is_table(v)]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines += [
                "",
                f"[{_key(key)}]",
                *(f"{_key(k)} = {_inline(v)}" for k, v in value.items()),
            ]
        elif _is_table(value):
            for entry in value:
                lines += [
                    "",
                    f"[[{_key(key)}]]",
                    *(f"{_key(k)} = {_inline(v)}" for k, v in entry.items()),
                ]
    return "\n".join(lines) + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _inline(key)


def _inline(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # nan, inf and -inf are spelt as TOML spells them
    if isinstance(value, str):
        # JSON's escapes are TOML's, but TOML also asks for DEL to be escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"TOML cannot hold {value!r} (a manifest written as TOML has no null)")
