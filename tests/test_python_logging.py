"""What Python node code logs or prints reaches the host's stderr, never its output stream, tagged
with the node id, on CPython and on RustPython."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import Result, jsonl, node, run_host, write_manifest

ANSI = re.compile(r"\x1b\[[0-9;]*m")

PRINTING = """
from remotemedia import Node


class Printer(Node):
    def process(self, data):
        print("printed by a node", data)
        return data
"""


def run_warn(
    env_dir: Path, tmp_path: Path, runtime: str, rust_log: str | None, **env: str | None
) -> Result:
    nodes = [node("first", "Scale", factor=1), node("chatty", "Warn")]
    return run_host(
        ["run", write_manifest(tmp_path, nodes), "--input", "-", "--runtime", runtime],
        env_dir=env_dir,
        input_text=jsonl([1, 2]),
        env={"RUST_LOG": rust_log, **env},
    )


def log_lines(result: Result, text: str) -> list[str]:
    """The stderr lines holding `text`, without terminal colours."""
    return [line for line in ANSI.sub("", result.stderr).splitlines() if text in line]


@pytest.mark.parametrize("rust_log", [None, "warn", "info", "debug"])
def test_node_warning_reaches_stderr_tagged_with_the_node_id(
    shapes_env: Path, tmp_path: Path, runtime: str, rust_log: str | None
) -> None:
    result = run_warn(shapes_env, tmp_path, runtime, rust_log)
    assert result.code == 0, result
    assert result.items() == [1, 2]
    lines = log_lines(result, "saw item")
    assert [line.split("saw item ")[1].split()[0] for line in lines] == ["1", "2"], result
    for line in lines:
        assert "WARN" in line
        assert 'node="chatty"' in line
        assert "remotemedia_testshapes.lifecycle" in line  # the Python logger's name


def test_node_warning_is_filtered_by_the_host_level(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    result = run_warn(shapes_env, tmp_path, runtime, "error")
    assert result.code == 0, result
    assert result.items() == [1, 2]
    assert log_lines(result, "saw item") == [], result


def test_log_lines_carry_no_terminal_colours_when_stderr_is_not_a_terminal(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    result = run_warn(shapes_env, tmp_path, runtime, None, NO_COLOR=None, TERM="xterm-256color")
    assert result.code == 0, result
    assert "saw item 1" in result.stderr
    assert "\x1b[" not in result.stderr, repr(result.stderr)


def test_print_in_a_node_does_not_corrupt_the_output_stream(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "printing.py").write_text(PRINTING)
    manifest = write_manifest(tmp_path, [node("p", "printing:Printer")])
    result = run_host(
        ["run", manifest, "--input", "-", "--runtime", runtime],
        env_dir=shapes_env,
        input_text=jsonl([1, 2]),
        env={"PYTHONPATH": str(code)},
    )
    assert result.code == 0, result
    assert result.stdout.splitlines() == ["1", "2"], result
    assert "printed by a node 1" in result.stderr, result
