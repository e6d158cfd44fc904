"""Per-hop cost of Python nodes driven by the host, against the pure-Python reference chain.

Method (as in host_hops.py): the same N items through 1 and through 11 `Inc` nodes
(bench/hopnodes.py, `data + 1`), per hop = (t11 - t1) / (10 N), best of R runs; then the
same with `AsyncInc` (`async def process`), which the host runs on its asyncio path.
- host: `remotemedia-host run` on `Range(N) -> hopnodes:Inc x k` (the Inc nodes form one Python
  stage), outputs to /dev/null; process start, interpreter start, the source and the output
  cancel out between t1 and t11.
- python: the async-generator chain of ../shared/bench/py_baseline.py with the same Inc class,
  in this process.
The same host chain with `retry`, `timeout_ms` or both on every Inc node: what each costs per
call (a node without them runs the plain path).
Start-up: `remotemedia-host validate` of a one-Python-node manifest minus the same for a
built-in manifest (which never starts Python): interpreter start plus plugin discovery, with a
warm discovery cache and with an empty one.

Prints figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from hopnodes import AsyncInc, Inc  # noqa: E402 -- the bench folder is put on the path above


async def source(items: Iterable[int]) -> AsyncIterator[int]:
    for x in items:
        yield x


async def stage(node: Inc, upstream: AsyncIterator[int]) -> AsyncIterator[int]:
    async for x in upstream:
        y = node.process(x)
        if y is not None:
            yield y


async def awaiting_stage(node: AsyncInc, upstream: AsyncIterator[int]) -> AsyncIterator[int]:
    async for x in upstream:
        y = await node.process(x)
        if y is not None:
            yield y


async def run_chain(nodes: list[Any], items: Iterable[int]) -> list[int]:
    s = source(items)
    for n in nodes:
        s = awaiting_stage(n, s) if isinstance(n, AsyncInc) else stage(n, s)
    return [x async for x in s]


def python_seconds(n_items: int, n_nodes: int, repeat: int, node_class: type = Inc) -> float:
    nodes = [node_class(name=f"inc{i}") for i in range(n_nodes)]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = asyncio.run(run_chain(nodes, range(n_items)))
        best = min(best, time.perf_counter() - t)
        assert out[-1] == n_items - 1 + n_nodes
    return best


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def host_seconds(
    host: str, venv: str, doc: dict, work: Path, command: str = "run", **env: str
) -> float:
    path = work / "manifest.json"
    path.write_text(json.dumps(doc))
    t = time.perf_counter()
    subprocess.run(
        [host, command, str(path), "--python-env", venv],
        check=True,
        stdout=subprocess.DEVNULL,
        env=child_env(**env),
    )
    return time.perf_counter() - t


def chain(n_items: int, n_nodes: int, node_type: str = "hopnodes:Inc", **fields: Any) -> dict:
    nodes = [{"id": "src", "node_type": "Range", "params": {"stop": n_items}}]
    nodes += [{"id": f"inc{i}", "node_type": node_type, **fields} for i in range(n_nodes)]
    return {"version": "v1", "nodes": nodes}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default=".venv/bin/remotemedia-host")
    parser.add_argument("--venv", default=".venv")
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, r = args.items, args.repeat

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        h1 = min(host_seconds(args.host, args.venv, chain(n, 1), work) for _ in range(r))
        h11 = min(host_seconds(args.host, args.venv, chain(n, 11), work) for _ in range(r))
        p1, p11 = python_seconds(n, 1, r), python_seconds(n, 11, r)
        host_hop = (h11 - h1) / (10 * n) * 1e9
        py_hop = (p11 - p1) / (10 * n) * 1e9
        print(
            f"host-driven Python hop ({n:,} items): {host_hop:7.1f} ns"
            f"   (1 node {h1 * 1e3:.0f} ms, 11 nodes {h11 * 1e3:.0f} ms)"
        )
        print(
            f"pure-Python async-generator hop:        {py_hop:7.1f} ns"
            f"   (1 node {p1 * 1e3:.0f} ms, 11 nodes {p11 * 1e3:.0f} ms)"
        )
        print(f"host hop / pure-Python hop: {host_hop / py_hop:.2f}   (target: at most 1.5)")
        a_doc = [chain(n, k, "hopnodes:AsyncInc") for k in (1, 11)]
        a1 = min(host_seconds(args.host, args.venv, a_doc[0], work) for _ in range(r))
        a11 = min(host_seconds(args.host, args.venv, a_doc[1], work) for _ in range(r))
        q1, q11 = python_seconds(n, 1, r, AsyncInc), python_seconds(n, 11, r, AsyncInc)
        async_hop = (a11 - a1) / (10 * n) * 1e9
        py_async_hop = (q11 - q1) / (10 * n) * 1e9
        print(
            f"async def node: host-driven hop {async_hop:.1f} ns, pure-Python chain hop "
            f"{py_async_hop:.1f} ns, ratio {async_hop / py_async_hop:.2f}"
        )
        print(f"host throughput, Range -> 1 Python node -> stdout: {n / h1:,.0f} items/s")
        # What a node's retry and timeout_ms cost per call (nodes without them pay nothing).
        g = n // 5
        for label, fields in (
            ("retry", {"retry": {"max_attempts": 3}}),
            ("timeout_ms", {"timeout_ms": 1000}),
            ("retry and timeout_ms", {"retry": {"max_attempts": 3}, "timeout_ms": 1000}),
        ):
            g_doc = [chain(g, k, **fields) for k in (1, 11)]
            g1 = min(host_seconds(args.host, args.venv, g_doc[0], work) for _ in range(r))
            g11 = min(host_seconds(args.host, args.venv, g_doc[1], work) for _ in range(r))
            print(
                f"sync node with {label}: host-driven hop {(g11 - g1) / (10 * g) * 1e9:.0f} ns "
                f"({g:,} items; {host_hop:.0f} ns without)"
            )

        py_doc = {"version": "v1", "nodes": [{"id": "p", "node_type": "hopnodes:Inc"}]}
        builtin_doc = {"version": "v1", "nodes": [{"id": "p", "node_type": "PassThrough"}]}
        cache = work / "cache"

        def startup(doc: dict, **env: str) -> float:
            return min(
                host_seconds(args.host, args.venv, doc, work, "validate", **env) for _ in range(r)
            )

        base = startup(builtin_doc)
        warm = startup(py_doc, REMOTEMEDIA_CACHE_DIR=str(cache)) - base
        cold_runs = []
        for i in range(r):
            empty = work / f"empty-cache-{i}"
            cold_runs.append(
                host_seconds(
                    args.host, args.venv, py_doc, work, "validate", REMOTEMEDIA_CACHE_DIR=str(empty)
                )
            )
        cold = min(cold_runs) - base
        print(
            f"Python start + plugin discovery: warm cache {warm * 1e3:.0f} ms (target < 50), "
            f"cold {cold * 1e3:.0f} ms (target < 150); host without Python {base * 1e3:.0f} ms"
        )


if __name__ == "__main__":
    main()
