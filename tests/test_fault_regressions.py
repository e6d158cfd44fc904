"""Faults found by attacking retries and timeouts: an upstream failure a streaming node catches
still fails the run, and a long backoff does not hold back another branch's failure."""

from __future__ import annotations

import json
import time
from pathlib import Path

from harness import node, run_host

NODES = """
from remotemedia import Node


class FailsOn2(Node):
    def process(self, data):
        if data == 2:
            raise ConnectionError("item 2 down")
        return data


class Swallows(Node):
    async def process(self, stream):
        try:
            async for item in stream:
                yield item
        except Exception:
            pass


class AlwaysFails(Node):
    def process(self, data):
        raise ConnectionError("never up")
"""


def write(
    tmp_path: Path, nodes: list[dict[str, object]], connections: list[tuple[str, str]]
) -> Path:
    (tmp_path / "regress.py").write_text(NODES)
    path = tmp_path / "manifest.json"
    document = {
        "version": "v1",
        "nodes": nodes,
        "connections": [{"from": a, "to": b} for a, b in connections],
    }
    path.write_text(json.dumps(document))
    return path


def test_an_upstream_failure_a_streaming_node_swallows_still_fails_the_run(
    shapes_env: Path, tmp_path: Path
) -> None:
    failing = {**node("u", "regress:FailsOn2"), "retry": {"max_attempts": 2, "backoff_ms": 1}}
    path = write(tmp_path, [failing, node("s", "regress:Swallows")], [("u", "s")])
    result = run_host(
        ["run", path, "--input", "-"],
        env_dir=shapes_env,
        input_text="1\n2\n3\n",
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.code == 1, result
    assert 'node "u" (regress:FailsOn2) failed: ConnectionError: item 2 down' in result.stderr


def test_a_long_backoff_does_not_hold_back_another_branchs_failure(
    shapes_env: Path, tmp_path: Path
) -> None:
    slow = {**node("f", "regress:AlwaysFails"), "retry": {"max_attempts": 3, "backoff_ms": 60000}}
    nodes = [node("src", "PassThrough"), slow, node("g", "regress:FailsOn2")]
    path = write(tmp_path, nodes, [("src", "f"), ("src", "g")])
    started = time.monotonic()
    result = run_host(
        ["run", path, "--input", "-"],
        env_dir=shapes_env,
        input_text="2\n",
        env={"PYTHONPATH": str(tmp_path)},
        timeout=120,
    )
    # A bound against waiting out the minute-long pause, not a speed check.
    assert time.monotonic() - started < 30, result
    assert result.code == 1, result
    assert 'node "g" (regress:FailsOn2) failed: ConnectionError: item 2 down' in result.stderr
