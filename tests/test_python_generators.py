"""A generator node's outputs travel as they are made and only while someone reads them: an
endless generator streams in bounded memory, and closing the output ends the run, on CPython
and on RustPython."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from harness import LINE_TIMEOUT, child_env, host_command, node, write_manifest


@pytest.mark.parametrize(
    "chain",
    [
        ["remotemedia.testing:Endless"],
        ["remotemedia.testing:Endless", "remotemedia.testing:Double"],
        # An async node puts the generator in an asyncio stage.
        ["remotemedia.testing:Endless", "remotemedia.testing:AsyncAdd"],
    ],
)
def test_an_endless_generator_streams_and_ends_when_the_reader_closes(
    shapes_env: Path, tmp_path: Path, runtime: str, chain: list[str]
) -> None:
    nodes = [node(f"n{i}", node_type) for i, node_type in enumerate(chain)]
    manifest = write_manifest(tmp_path, nodes)
    process = subprocess.Popen(
        host_command(["run", manifest, "--input", "-", "--runtime", runtime], shapes_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    # A regression would hang in readline: the guard kills the host, and the test fails.
    guard = threading.Timer(3 * LINE_TIMEOUT, process.kill)
    guard.start()
    try:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write("1\n")
        process.stdin.flush()  # one input item, and the input stays open
        lines = [process.stdout.readline() for _ in range(3)]
        process.stdout.close()  # as `| head -3` does
        process.stdin.close()
        process.wait(timeout=LINE_TIMEOUT)
        assert process.stderr is not None
        stderr = process.stderr.read()
        process.stderr.close()
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=LINE_TIMEOUT)
    assert all(line.strip() for line in lines), lines
    assert process.returncode == 0, stderr
