"""Per node-hop cost and memory of the host's built-in nodes, against the pure-Python reference.

Method (the one ../shared/notes/peer-bench.md uses for every peer): the same N items through
1 and through 11 `Add {addend: 1}` nodes (no node can be skipped); per hop = (t11 - t1) / (10 N).
Both engines are measured in this one run, best of R repetitions each:
- host: `remotemedia-host run` on a manifest `Range(N) -> Add x k`, outputs to /dev/null; the
  process start, the source and the output writing are the same for t1 and t11 and cancel out.
- python: the async-generator chain of ../shared/bench/py_baseline.py (each node wraps the
  upstream async generator), with the same Add nodes, in this process.
Memory: the host's own peak RSS (VmHWM, from --metrics) for 100k and for 5M items read as
JSON lines from a file and written to /dev/null; the two should differ by little.

Prints figures, never pass/fail: timing depends on the machine.
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
from pathlib import Path


class Add:
    def __init__(self, addend: int) -> None:
        self.addend = addend

    def process(self, x: int) -> int:
        return x + self.addend


async def source(items):
    for x in items:
        yield x


async def stage(node, upstream):
    async for x in upstream:
        y = node.process(x)
        if y is not None:
            yield y


async def run_chain(nodes, items):
    s = source(items)
    for n in nodes:
        s = stage(n, s)
    return [x async for x in s]


def python_chain_seconds(n_items: int, n_nodes: int, repeat: int) -> float:
    items = range(n_items)
    nodes = [Add(1) for _ in range(n_nodes)]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = asyncio.run(run_chain(nodes, items))
        best = min(best, time.perf_counter() - t)
        assert out[-1] == n_items - 1 + n_nodes
    return best


def manifest(n_nodes: int, source: dict | None) -> dict:
    nodes = [source] if source else []
    nodes += [
        {"id": f"add{i}", "node_type": "Add", "params": {"addend": 1}} for i in range(n_nodes)
    ]
    return {"version": "v1", "nodes": nodes}


def run_host(
    host: str, doc: dict, workdir: Path, input_file: Path | None = None
) -> tuple[float, dict]:
    """Runs the host once; returns wall seconds and its --metrics report."""
    path = workdir / "manifest.json"
    metrics = workdir / "metrics.json"
    path.write_text(json.dumps(doc))
    cmd = [host, "run", str(path), "--metrics", str(metrics)]
    if input_file is not None:
        cmd += ["--input", str(input_file)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t, json.loads(metrics.read_text())


def host_chain_seconds(host: str, n_items: int, n_nodes: int, repeat: int, workdir: Path) -> float:
    doc = manifest(n_nodes, {"id": "src", "node_type": "Range", "params": {"stop": n_items}})
    return min(run_host(host, doc, workdir)[0] for _ in range(repeat))


def per_hop_ns(t1: float, t11: float, n_items: int) -> float:
    return (t11 - t1) / (10 * n_items) * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=".venv/bin/remotemedia-host")
    parser.add_argument(
        "--items", type=int, default=5_000_000, help="items for the host hop figure"
    )
    parser.add_argument(
        "--py-items", type=int, default=500_000, help="items for the Python hop figure"
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        h1 = host_chain_seconds(args.host, args.items, 1, args.repeat, workdir)
        h11 = host_chain_seconds(args.host, args.items, 11, args.repeat, workdir)
        p1 = python_chain_seconds(args.py_items, 1, args.repeat)
        p11 = python_chain_seconds(args.py_items, 11, args.repeat)
        host_hop = per_hop_ns(h1, h11, args.items)
        py_hop = per_hop_ns(p1, p11, args.py_items)
        print(
            f"host built-in hop (Add, {args.items:,} items): {host_hop:8.1f} ns"
            f"   (1 node {h1 * 1e3:.0f} ms, 11 nodes {h11 * 1e3:.0f} ms)"
        )
        print(
            f"pure-Python async-generator hop ({args.py_items:,} items): {py_hop:8.1f} ns"
            f"   (1 node {p1 * 1e3:.0f} ms, 11 nodes {p11 * 1e3:.0f} ms)"
        )
        if host_hop > 0:
            print(f"python hop / host hop: {py_hop / host_hop:.1f}x   (target: at least 3x)")
        else:
            print("host hop below timing resolution: t11 - t1 <= 0")

        peaks = {}
        for n in (100_000, 5_000_000):
            data = workdir / f"in-{n}.jsonl"
            with data.open("w") as f:
                f.writelines(f"{i}\n" for i in range(n))
            _, report = run_host(args.host, manifest(3, None), workdir, data)
            peaks[n] = report["peak_rss_mib"]
            data.unlink()
        small, large = peaks[100_000], peaks[5_000_000]
        print(
            f"host peak memory, 3 nodes, JSON lines in and out: 100k items {small:.1f} MiB, "
            f"5M items {large:.1f} MiB, difference {large - small:+.1f} MiB "
            f"(target: within 20 MiB; under 100 MB)"
        )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")


if __name__ == "__main__":
    main()
