"""A failing Python node stops the run with its id, type, exception and traceback, and every
initialized node is cleaned up, on CPython and on RustPython (`--runtime`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import Result, jsonl, node, run_host, write_manifest


def run(
    env_dir: Path, tmp_path: Path, runtime: str, nodes: list[dict[str, Any]], inputs: list[Any]
) -> Result:
    return run_host(
        ["run", write_manifest(tmp_path, nodes), "--input", "-", "--runtime", runtime],
        env_dir=env_dir,
        input_text=jsonl(inputs),
    )


def lifecycle(log: Path) -> dict[str, list[str]]:
    """The events of each node in the lifecycle log, by node id."""
    events: dict[str, list[str]] = {}
    for line in log.read_text().splitlines():
        event, node_id = line.rsplit(" ", 1)
        events.setdefault(node_id, []).append(event)
    return events


def test_exception_reports_node_type_message_and_traceback(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    nodes = [node("scale", "Scale", factor=1), node("boom", "FailOn", bad=3)]
    result = run(shapes_env, tmp_path, runtime, nodes, [1, 2, 3, 4])
    assert result.code == 1, result
    lines = result.stderr.splitlines()
    assert lines[0] == 'error: node "boom" (FailOn) failed: ValueError: bad item 3', result
    trace = "\n".join(lines[1:])
    assert "Traceback (most recent call last):" in trace
    assert "remotemedia_testshapes/lifecycle.py" in trace
    assert ", in process" in trace
    assert ", in explode" in trace
    assert 'raise ValueError(f"bad item {data!r}")' in trace
    assert lines[-1].strip() == "ValueError: bad item 3"
    assert 4 not in result.items()


@pytest.mark.parametrize(
    ("nodes", "inputs", "failing", "error"),
    [
        ([node("s", "Scale")], [None], 's" (Scale)', "TypeError: unsupported operand"),
        ([node("e", "KeepEven"), node("c", "CountDown")], ["a"], 'e" (KeepEven)', "TypeError"),
        ([node("s", "Scale"), node("c", "CountDown")], ["a"], 'c" (CountDown)', "TypeError"),
        ([node("i", "AsyncIncrement")], ["a"], 'i" (AsyncIncrement)', "TypeError: can only"),
        ([node("s", "Scale"), node("r", "RunningSum")], ["a"], 'r" (RunningSum)', "TypeError"),
        # An upstream node's error passes through a streaming node's input: not its own.
        ([node("f", "FailOn"), node("r", "RunningSum")], [1, 3], 'f" (FailOn)', "ValueError"),
        ([node("r", "RunningSum"), node("f", "FailOn")], [1, 2], 'f" (FailOn)', "ValueError"),
        ([node("s", "Scale", factr=2)], [1], 's" (Scale)', "TypeError: Scale got unexpected"),
        (
            [node("m", "Multiply", factor=2), node("f", "FailOn", bad=6)],
            [3],
            'f" (FailOn)',
            "ValueError",
        ),
        ([node("f", "FailOn", bad="x"), node("m", "Multiply", factor=2)], ["x"], "f", "Value"),
    ],
)
def test_error_is_attributed_to_the_node_that_raised(
    shapes_env: Path,
    tmp_path: Path,
    runtime: str,
    nodes: list[dict[str, Any]],
    inputs: list[Any],
    failing: str,
    error: str,
) -> None:
    result = run(shapes_env, tmp_path, runtime, nodes, inputs)
    assert result.code == 1, result
    first = result.stderr.splitlines()[0]
    assert first.startswith(f'error: node "{failing}'), result
    assert f"failed: {error}" in first, result


@pytest.mark.parametrize(
    "kinds",
    [
        ("SyncLifecycle", "SyncLifecycle"),
        ("AsyncLifecycle", "AsyncLifecycle"),
        ("SyncLifecycle", "AsyncLifecycle"),
        ("AsyncLifecycle", "SyncLifecycle"),
    ],
)
def test_every_initialized_node_is_cleaned_up_after_a_python_error(
    shapes_env: Path, tmp_path: Path, runtime: str, kinds: tuple[str, str]
) -> None:
    log = tmp_path / "events.log"
    nodes = [
        node("before", kinds[0], log=str(log)),
        node("boom", "FailOn", bad=3),
        node("rust", "Multiply", factor=1),
        node("after", kinds[1], log=str(log)),
    ]
    result = run(shapes_env, tmp_path, runtime, nodes, [1, 2, 3, 4, 5])
    assert result.code == 1, result
    assert result.stderr.startswith('error: node "boom" (FailOn) failed: ValueError'), result
    events = lifecycle(log)
    # "before" shares the failing node's stage, so it was initialized for sure; "after" may
    # not have started by the time the run stopped, but if it was initialized it is cleaned up.
    assert events["before"][0] == "initialize"
    assert "process:3" in events["before"]
    for mine in events.values():
        assert mine.count("initialize") == 1, events
        assert mine.count("cleanup") == 1, events
        assert mine[-1] == "cleanup", events


def test_python_nodes_are_cleaned_up_after_a_rust_node_error(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    log = tmp_path / "events.log"
    nodes = [
        node("first", "AsyncLifecycle", log=str(log)),
        node("rust", "Multiply", factor=2),
        node("last", "SyncLifecycle", log=str(log)),
    ]
    result = run(shapes_env, tmp_path, runtime, nodes, [1, "x", 2])
    assert result.code == 1, result
    assert result.stderr.startswith('error: node "rust" (Multiply) failed: TypeError'), result
    events = lifecycle(log)
    assert events["first"][:2] == ["initialize", "process:1"]
    for mine in events.values():
        assert (mine.count("initialize"), mine.count("cleanup"), mine[-1]) == (1, 1, "cleanup")


def test_failure_inside_a_streaming_source_stops_the_run(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    log = tmp_path / "events.log"
    nodes = [
        node("tick", "Ticker", count=5, start=1),
        node("life", "SyncLifecycle", log=str(log)),
        node("boom", "FailOn", bad=2),
    ]
    result = run_host(
        ["run", write_manifest(tmp_path, nodes), "--runtime", runtime],
        env_dir=shapes_env,
        timeout=30,
    )
    assert result.code == 1, result
    assert result.stderr.startswith('error: node "boom" (FailOn) failed: ValueError'), result
    assert lifecycle(log)["life"][-1] == "cleanup"
    assert 3 not in result.items()
