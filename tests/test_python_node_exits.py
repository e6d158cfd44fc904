"""Node code that exits or interrupts (`sys.exit`, `raise KeyboardInterrupt`) is a node error
naming the node and the exception type, in every node shape: never a hang or a dead host."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import node, run_host, write_manifest

EXITERS = """
import sys

from remotemedia import Node


class Sync(Node):
    def process(self, data):
        sys.exit(3)


class Generator(Node):
    def process(self, data):
        yield data
        raise KeyboardInterrupt


class Async(Node):
    async def process(self, data):
        sys.exit(4)


class Stream(Node):
    async def process(self, stream):
        async for item in stream:
            raise SystemExit(5)
            yield item


class Init(Node):
    def initialize(self):
        raise KeyboardInterrupt

    def process(self, data):
        return data
"""


@pytest.mark.parametrize(
    ("node_type", "error"),
    [
        ("Sync", "SystemExit: 3"),
        ("Generator", "KeyboardInterrupt"),
        ("Async", "SystemExit: 4"),
        ("Stream", "SystemExit: 5"),
        ("Init", "KeyboardInterrupt"),
    ],
)
def test_an_exit_in_node_code_is_a_node_error_naming_the_node(
    shapes_env: Path, tmp_path: Path, node_type: str, error: str
) -> None:
    (tmp_path / "exiters.py").write_text(EXITERS)
    # The exiting node sits between two others, so the error must name it, not a neighbour.
    manifest = write_manifest(
        tmp_path,
        [
            node("before", "Scale", factor=1),
            node("x", f"exiters:{node_type}"),
            node("after", "Echo"),
        ],
    )
    result = run_host(
        ["run", manifest, "--input", "-"],
        env_dir=shapes_env,
        input_text="1\n2\n",
        env={"PYTHONPATH": str(tmp_path)},
        timeout=30,
    )
    assert result.code == 1, result
    assert f'error: node "x" (exiters:{node_type}) failed: {error}' in result.stderr, result
