"""The manifest's graph: edges by node id, cycles, and sources.

Shared by the manifest checks (indexes of `nodes`) and the reference executor (live nodes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from remotemedia.manifest.problems import problem

Edge = tuple[str, str, int | None]
"""`(from id, to id, capacity)`; a capacity of `None` takes the run's `channel_capacity`."""


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


def is_source(node: Any) -> bool:
    """Whether the node's class declares it a source (`is_source = True`): no input items."""
    return getattr(type(node), "is_source", False) is True
