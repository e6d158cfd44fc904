"""Node code that exits or interrupts (`sys.exit`, `raise KeyboardInterrupt`) is a node error
naming the node and the exception type, in every node shape: never a hang or a dead host."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness import child_env, host_command, node, run_host, write_manifest

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


def test_generator_exit_raised_by_sync_node_code_is_a_node_error(
    shapes_env: Path, tmp_path: Path
) -> None:
    (tmp_path / "gexit.py").write_text(
        "from remotemedia import Node\n\n\n"
        "class Closer(Node):\n"
        "    def process(self, data):\n"
        "        raise GeneratorExit\n"
    )
    manifest = write_manifest(tmp_path, [node("before", "Scale"), node("x", "gexit:Closer")])
    result = run_host(
        ["run", manifest, "--input", "-"],
        env_dir=shapes_env,
        input_text="1\n",
        env={"PYTHONPATH": str(tmp_path)},
        timeout=30,
    )
    assert result.code == 1, result
    assert 'error: node "x" (gexit:Closer) failed: GeneratorExit' in result.stderr, result


def test_a_node_that_logs_while_stderr_cannot_be_written_does_not_hang(
    shapes_env: Path, tmp_path: Path
) -> None:
    (tmp_path / "noisy.py").write_text(
        "import logging\n\nfrom remotemedia import Node\n\n\n"
        "class Noisy(Node):\n"
        "    def process(self, data):\n"
        "        logging.getLogger('noisy').warning('item %s', data)\n"
        "        return data\n"
    )
    manifest = write_manifest(tmp_path, [node("n", "noisy:Noisy")])
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            host_command(["run", manifest, "--input", "-"], shapes_env),
            input="1\n2\n3\n",
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
            timeout=60,
            env=child_env({"PYTHONPATH": str(tmp_path)}),
            check=False,
        )
    assert (completed.returncode, completed.stdout) == (0, "1\n2\n3\n")
