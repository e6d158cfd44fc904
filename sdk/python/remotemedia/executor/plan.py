"""The reference executor's plan of a run: each node's upstream and downstream edges, checked
as the host checks a manifest's graph, but by node id over live nodes."""

from __future__ import annotations

from collections.abc import Sequence

from remotemedia.errors import ManifestError
from remotemedia.manifest.graph import Edge, cycle_problem, find_cycle, is_source
from remotemedia.manifest.problems import problem
from remotemedia.node import Node


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
