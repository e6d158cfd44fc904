"""Checks shared by the builder and the executor: manifest structure, edges and cycles.

`SCHEMA` is the committed `remotemedia/manifest.schema.json`, the same file the host embeds,
interpreted with the host's keywords and wording, so the SDK reports a structural problem in
the same words as `remotemedia-host validate`. Problems are rendered as the host's `Problem`
displays them: `<location>: <message>` with the help in parentheses.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterable, Sequence
from typing import Any

from remotemedia.errors import ManifestError
from remotemedia.node import Node

Edge = tuple[str, str, int | None]
"""`(from id, to id, capacity)`; a capacity of `None` takes the run's `channel_capacity`."""

_CLOSE_ENOUGH = 0.75  # the host's bar for a "did you mean" (Jaro-Winkler)


def _annotations_removed(schema: Any, names: bool = False) -> Any:
    """The schema without annotations; `names` marks a `properties` map, whose keys are
    field names (a field may be called "description")."""
    if not isinstance(schema, dict):
        return schema
    skipped = set() if names else {"$schema", "$id", "title", "description", "default", "$defs"}
    return {
        k: _annotations_removed(v, names=k == "properties" and not names)
        for k, v in schema.items()
        if k not in skipped
    }


def _refs_inlined(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _refs_inlined(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _refs_inlined(v, defs) for k, v in schema.items()}
    return schema


def _load_schema() -> dict[str, Any]:
    committed = json.loads(
        importlib.resources.files("remotemedia").joinpath("manifest.schema.json").read_text()
    )
    rules: dict[str, Any] = _annotations_removed(_refs_inlined(committed, committed["$defs"]))
    return rules


SCHEMA: dict[str, Any] = _load_schema()
"""The committed schema's rules: its `$ref`s inlined, its annotations left out."""

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "number": (int, float),
    "integer": int,
}


def describe(value: Any) -> str:
    """Names a found value as the host's messages do: `string "abc"`, `integer 3`, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"{'number' if isinstance(value, float) else 'integer'} {value}"
    if isinstance(value, str):
        raw = value.encode()
        # Cut at 37 bytes, backing off to a character boundary, as the host does.
        return (
            f'string "{raw[:37].decode(errors="ignore")}..."'
            if len(raw) > 40
            else f'string "{value}"'
        )
    return "an array" if isinstance(value, list) else "an object"


def problem(at: str, message: str, help_: str | None = None) -> str:
    """Renders one problem: `<at>: <message>`, and ` (<help>)` where there is help."""
    return f"{at}: {message}" + (f" ({help_})" if help_ else "")


def check_structure(doc: Any) -> list[str]:
    """Checks a parsed manifest against `SCHEMA`; returns every problem, in document order."""
    out: list[str] = []
    _check(SCHEMA, doc, "", out)
    return out


def _at(location: str) -> str:
    return location or "manifest"


def _check(schema: dict[str, Any], value: Any, at: str, out: list[str]) -> None:
    expected = schema.get("type")
    if expected is not None and (
        not isinstance(value, _TYPES[expected]) or isinstance(value, bool)
    ):
        article = "an" if expected in ("object", "array", "integer") else "a"
        out.append(problem(_at(at), f"expected {article} {expected}, got {describe(value)}"))
        return
    allowed = schema.get("enum")
    if allowed is not None and (value not in allowed or isinstance(value, bool)):
        options = ", ".join(json.dumps(option) for option in allowed)
        hint = did_you_mean(value, allowed) if isinstance(value, str) else None
        out.append(problem(_at(at), f"expected one of {options}, got {describe(value)}", hint))
        return
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                out.append(problem(_at(at), f'missing required field "{name}"'))
        for key, item in value.items():
            place = f"{at}.{key}" if at else key
            if key in props:
                _check(props[key], item, place, out)
            elif schema.get("additionalProperties") is False:
                out.append(problem(place, f'unknown field "{key}"', did_you_mean(key, props)))
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(problem(_at(at), f"needs at least {schema['minItems']} entry"))
        for i, item in enumerate(value):
            _check(schema.get("items", {}), item, f"{at}[{i}]", out)
    elif isinstance(value, str) and len(value) < schema.get("minLength", 0):
        out.append(problem(_at(at), "must not be empty"))
    elif isinstance(value, int | float):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(problem(_at(at), f"must be at least {schema['minimum']}, got {value}"))
        if "maximum" in schema and value > schema["maximum"]:
            out.append(problem(_at(at), f"must be at most {schema['maximum']}, got {value}"))


def _jaro(a: str, b: str) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    taken = [False] * len(b)
    matched_a: list[str] = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not taken[j] and b[j] == char:
                taken[j] = True
                matched_a.append(char)
                break
    m = len(matched_a)
    if m == 0:
        return 0.0
    matched_b = [char for char, hit in zip(b, taken, strict=True) if hit]
    half_transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) / 2
    return (m / len(a) + m / len(b) + (m - half_transpositions) / m) / 3


def _jaro_winkler(a: str, b: str) -> float:
    jaro = _jaro(a, b)
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + 0.1 * prefix * (1 - jaro)


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """`did you mean "a" or "b"?` for the up to three known names closest to `name`, as the
    host ranks them (Jaro-Winkler, case-insensitive, at least 0.75); `None` if none is close."""
    lower = name.lower()
    scored = sorted(
        {(-_jaro_winkler(lower, k.lower()), k) for k in known if isinstance(k, str)},
    )
    names = [k for score, k in scored if -score >= _CLOSE_ENOUGH][:3]
    if not names:
        return None
    return "did you mean " + " or ".join(f'"{n}"' for n in names) + "?"


def find_cycle(count: int, edges: Sequence[tuple[int, int]]) -> list[int] | None:
    """A cycle of the graph as the node indexes along it (first not repeated), or `None`."""
    downstream: list[list[int]] = [[] for _ in range(count)]
    for u, v in edges:
        downstream[u].append(v)
    state = [0] * count  # 0 unseen, 1 on the current path, 2 done
    for root in range(count):
        if state[root]:
            continue
        path: list[int] = [root]
        state[root] = 1
        branches = [iter(downstream[root])]
        while branches:
            nxt = next(branches[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                branches.pop()
            elif state[nxt] == 1:
                return path[path.index(nxt) :]
            elif state[nxt] == 0:
                state[nxt] = 1
                path.append(nxt)
                branches.append(iter(downstream[nxt]))
    return None


def cycle_problem(ids: Sequence[str], cycle: Sequence[int]) -> str:
    """`connections: cycle: x -> y -> x`."""
    names = [ids[v] for v in cycle]
    return problem("connections", "cycle: " + " -> ".join([*names, names[0]]))


def is_source(node: Node) -> bool:
    """Whether the node's class declares it a source (`is_source = True`): no input items."""
    return getattr(type(node), "is_source", False) is True


def check_graph(
    nodes: Sequence[Node], ids: list[str], index: dict[str, int], edges: Sequence[Edge]
) -> tuple[list[list[tuple[int, int | None]]], list[list[tuple[int, int]]]]:
    """Each node's upstream `(node, capacity)` and downstream `(node, slot)` lists.

    Raises:
        ManifestError: Duplicate ids, unknown or duplicate edges, edges into sources, a cycle.
    """
    problems = [
        problem(
            f"nodes[{i}].id",
            f'duplicate node id "{node_id}" (first used by nodes[{index[node_id]}])',
        )
        for i, node_id in enumerate(ids)
        if index[node_id] != i
    ]
    ups: list[list[tuple[int, int | None]]] = [[] for _ in nodes]
    downs: list[list[tuple[int, int]]] = [[] for _ in nodes]
    seen: set[tuple[int, int]] = set()
    for i, (start, end, capacity) in enumerate(edges):
        unknown = [(key, name) for key, name in (("from", start), ("to", end)) if name not in index]
        problems += [
            problem(f"edges[{i}].{key}", f'unknown node "{name}"') for key, name in unknown
        ]
        if unknown:
            continue
        u, v = index[start], index[end]
        if is_source(nodes[v]):
            problems.append(
                problem(
                    f"edges[{i}].to",
                    f'node "{end}" ({nodes[v].type_name()}) is a source and takes no input',
                )
            )
        elif (u, v) in seen:
            problems.append(problem(f"edges[{i}]", f'duplicate edge "{start}" -> "{end}"'))
        else:
            seen.add((u, v))
            downs[u].append((v, len(ups[v])))
            ups[v].append((u, capacity))
    if not problems and (cycle := find_cycle(len(nodes), sorted(seen))) is not None:
        problems.append(cycle_problem(ids, cycle))
    if problems:
        raise ManifestError(problems, source="<pipeline>")
    return ups, downs
