"""RustPython beside CPython in one run: start-up of a pipeline and the per-hop cost of a trivial
Python node on each.

Method:
- start-up: `remotemedia-host run` of `Range(1) -> hopnodes:Inc` minus the same run of
  `Range(1) -> PassThrough` (built-in only, never starts Python), best of R, warm discovery
  cache: what a user waits for before the first item, per runtime (`--runtime`).
- per hop: as bench/python_hops.py, N items through 1 and through 11 `Inc` nodes (one Python
  stage), per hop = (t11 - t1) / (10 N), best of R, per runtime; and with `AsyncInc`
  (`async def process`).
Targets (issue 13): RustPython start-up at most 1.5x CPython's, per hop at most 10x.

Prints figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from python_hops import chain, host_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default=".venv/bin/remotemedia-host")
    parser.add_argument("--venv", default=".venv")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, r = args.items, args.repeat

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {"REMOTEMEDIA_CACHE_DIR": str(work / "cache")}

        def best(doc: dict, runtime: str) -> float:
            runtime_doc = {**doc, "runtime": {"python": runtime}}
            runs = (host_seconds(args.host, args.venv, runtime_doc, work, **env) for _ in range(r))
            return min(runs)

        builtin = {
            "version": "v1",
            "nodes": [
                {"id": "src", "node_type": "Range", "params": {"stop": 1}},
                {"id": "p", "node_type": "PassThrough"},
            ],
        }
        base = best(builtin, "cpython")
        cp, rp = (best(chain(1, 1), rt) - base for rt in ("cpython", "rustpython"))
        print(
            f"start-up over a built-in-only run ({base * 1e3:.0f} ms): CPython {cp * 1e3:.0f} ms, "
            f"RustPython {rp * 1e3:.0f} ms, ratio {rp / cp:.2f} (target: at most 1.5)"
        )
        for node_type in ("hopnodes:Inc", "hopnodes:AsyncInc"):
            hops = {}
            for rt in ("cpython", "rustpython"):
                t1 = best(chain(n, 1, node_type), rt)
                t11 = best(chain(n, 11, node_type), rt)
                hops[rt] = (t11 - t1) / (10 * n) * 1e9
            print(
                f"{node_type} hop ({n:,} items): CPython {hops['cpython']:.0f} ns, "
                f"RustPython {hops['rustpython']:.0f} ns, "
                f"ratio {hops['rustpython'] / hops['cpython']:.1f} (target: at most 10)"
            )


if __name__ == "__main__":
    main()
