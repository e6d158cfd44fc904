"""A node's `retry` and `timeout_ms` (DESIGN §3), alike on every engine: the host binary, the
Rust engine in-process (`Pipeline.run`) and the Python executor (`use_rust=False`).

The nodes are `retry_nodes`' (this folder), named by import path; the host finds them through
PYTHONPATH and runs them with the repository's own virtualenv.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import REPO, TESTS, jsonl, run_host
from remotemedia import _native
from remotemedia.driver import board as crash_board
from remotemedia.driver import deadlines
from remotemedia.errors import ManifestError, NodeError
from remotemedia.pipeline import Pipeline

VENV = REPO / ".venv"
ENGINES = ["host", "native", "python"]
HANG_GUARD = 60.0
"""Seconds after which a run counts as hung: a guard, never a speed check."""

ERROR_LINE = re.compile(r'error: node "(?P<id>[^"]*)" \([^)]*\) failed: (?P<type>\w+): (?P<msg>.*)')


@dataclass
class Outcome:
    """What a run gave: its outputs, or the node error (id, type, message), and the log."""

    outputs: list[Any] | None
    error: tuple[str, str, str] | None
    log: str


def manifest(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": "v1", "metadata": {"name": "retries"}, "nodes": list(nodes)}


def node(node_id: str, node_type: str, **fields: Any) -> dict[str, Any]:
    """A node entry: `params`, `retry` and `timeout_ms` among the fields."""
    return {"id": node_id, "node_type": node_type, **fields}


def run_on(
    engine: str, tmp_path: Path, doc: dict[str, Any], inputs: list[Any], caplog: Any
) -> Outcome:
    """Runs `doc` over `inputs` on `engine`; the log is the host's stderr, or what the
    `remotemedia` logger recorded."""
    if engine == "host":
        path = tmp_path / "manifest.json"
        path.write_text(json.dumps(doc))
        result = run_host(
            ["run", path, "--input", "-"],
            env_dir=VENV,
            input_text=jsonl(inputs),
            env={"PYTHONPATH": str(TESTS)},
        )
        if result.code == 0:
            return Outcome(result.items(), None, result.stderr)
        assert result.code == 1, result
        found = ERROR_LINE.search(result.stderr)
        assert found is not None, result
        return Outcome(None, (found["id"], found["type"], found["msg"]), result.stderr)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="remotemedia"):
        pipeline = Pipeline.from_manifest(doc)
        run = pipeline.run(inputs, use_rust=engine == "native")
        try:
            outputs = asyncio.run(asyncio.wait_for(run, HANG_GUARD))
        except NodeError as error:
            return Outcome(None, (error.node_id, error.error_type, error.message), caplog.text)
    return Outcome(outputs, None, caplog.text)


FLAKY_NODES = ["retry_nodes:Flaky", "retry_nodes:AsyncFlaky", "retry_nodes:FlakyGenerator"]
"""A node of each shape that `retry` applies to: a function, an `async def`, a generator."""


def flaky(node_type: str, failures: int, backoff_ms: int = 0) -> dict[str, Any]:
    """A manifest of one node `f` of `node_type` that fails each item's first `failures`
    calls, and may make three attempts per item."""
    retry = {"max_attempts": 3, "backoff_ms": backoff_ms}
    return manifest(node("f", node_type, params={"failures": failures}, retry=retry))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("node_type", FLAKY_NODES)
def test_a_flaky_node_recovers_on_its_third_attempt_and_keeps_order(
    engine: str, node_type: str, tmp_path: Path, caplog: Any
) -> None:
    doc = flaky(node_type, failures=2, backoff_ms=1)
    outcome = run_on(engine, tmp_path, doc, [1, 2, 3, 4], caplog)
    assert outcome.error is None, outcome
    firsts = [{"item": i, "attempt": 3} for i in (1, 2, 3, 4)]
    if node_type.endswith("Generator"):
        assert outcome.outputs == [x for i, first in enumerate(firsts, 1) for x in (first, i * 10)]
    else:
        assert outcome.outputs == firsts
    # Each failed attempt is logged at WARNING: two per item.
    assert outcome.log.count("failed (ValueError: item") == 8, outcome.log
    assert "node f: attempt 2 of 3 failed (ValueError: item 4 failed on attempt 2)" in outcome.log


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("node_type", FLAKY_NODES)
def test_giving_up_reports_the_last_error_and_how_many_attempts(
    engine: str, node_type: str, tmp_path: Path, caplog: Any
) -> None:
    outcome = run_on(engine, tmp_path, flaky(node_type, failures=5), [7], caplog)
    message = "item 7 failed on attempt 3 (after 3 attempts)"
    assert outcome.error == ("f", "ValueError", message), outcome


@pytest.mark.parametrize("engine", ENGINES)
def test_a_generator_that_failed_after_yielding_is_not_retried(
    engine: str, tmp_path: Path, caplog: Any
) -> None:
    retry = {"max_attempts": 3, "backoff_ms": 0}
    doc = manifest(node("g", "retry_nodes:FailsAfterYielding", retry=retry))
    outcome = run_on(engine, tmp_path, doc, [5], caplog)
    assert outcome.error == (
        "g",
        "ValueError",
        "item 5 failed after yielding, on attempt 1 (not retried: it had yielded for this item)",
    ), outcome
    assert "attempt 1 of 3 failed" not in outcome.log


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("node_type", "message"),
    [
        ("retry_nodes:Busy", "process() did not finish within timeout_ms=100"),
        ("retry_nodes:AwaitsForever", "process() did not finish within timeout_ms=100"),
        (
            "retry_nodes:BusyGenerator",
            "process() did not yield its next output or finish within timeout_ms=100",
        ),
    ],
    ids=["busy-function", "awaiting-async-def", "busy-generator"],
)
def test_a_call_past_its_timeout_is_interrupted_as_a_timeout_error(
    engine: str, node_type: str, message: str, tmp_path: Path, caplog: Any
) -> None:
    doc = manifest(node("slow", node_type, timeout_ms=100))
    outcome = run_on(engine, tmp_path, doc, [1], caplog)
    assert outcome.error == ("slow", "TimeoutError", message), outcome


@pytest.mark.parametrize("engine", ENGINES)
def test_a_timed_out_call_is_retried_and_then_succeeds(
    engine: str, tmp_path: Path, caplog: Any
) -> None:
    retry = {"max_attempts": 2, "backoff_ms": 1}
    doc = manifest(node("b", "retry_nodes:BusyFirstTime", retry=retry, timeout_ms=50))
    outcome = run_on(engine, tmp_path, doc, [1, 2], caplog)
    assert outcome.outputs == [{"item": 1, "attempt": 2}, {"item": 2, "attempt": 2}], outcome
    assert "attempt 1 of 2 failed (TimeoutError: process() did not finish" in outcome.log


@pytest.mark.parametrize("engine", ENGINES)
def test_a_busy_streaming_node_times_out_but_not_while_it_awaits(
    engine: str, tmp_path: Path, caplog: Any
) -> None:
    busy = manifest(node("s", "retry_nodes:BusyStream", timeout_ms=100))
    outcome = run_on(engine, tmp_path, busy, [1, 2, -1, 3], caplog)
    message = "process() ran for longer than timeout_ms=100 without yielding or awaiting"
    assert outcome.error == ("s", "TimeoutError", message), outcome
    # Waiting (here three times its timeout per item) is not its code running.
    patient = manifest(node("p", "retry_nodes:PatientStream", timeout_ms=100))
    assert run_on(engine, tmp_path, patient, [1, 2], caplog).outputs == [1, 2]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_streaming_nodes_timeout_does_not_count_its_upstreams_time(
    engine: str, tmp_path: Path, caplog: Any
) -> None:
    # On the host the sleeping node runs inside the streaming node's input, in one stage.
    doc = manifest(
        node("sleep", "retry_nodes:Sleeps", params={"seconds": 0.3}),
        node("s", "retry_nodes:BusyStream", timeout_ms=100),
    )
    assert run_on(engine, tmp_path, doc, [1, 2], caplog).outputs == [1, 2]


@pytest.mark.parametrize("engine", ENGINES)
def test_calls_that_end_around_their_deadline_never_leak_the_interrupt(
    engine: str, tmp_path: Path, caplog: Any
) -> None:
    # About half the calls pass 1 ms, many of them just as the watchdog acts: each is a
    # timeout, retried, or a success; the interrupt never reaches the driver's own code.
    retry = {"max_attempts": 1000, "backoff_ms": 0}
    doc = manifest(node("j", "retry_nodes:Jittery", retry=retry, timeout_ms=1))
    outcome = run_on(engine, tmp_path, doc, list(range(200)), caplog)
    assert outcome.outputs == list(range(200)), outcome.error


@pytest.fixture
def stuck_reports() -> Iterator[list[tuple[str, str]]]:
    reports: list[tuple[str, str]] = []
    deadlines.set_stuck_handler(lambda node_id, message: reports.append((node_id, message)))
    try:
        yield reports
    finally:
        deadlines.set_stuck_handler(None)


@pytest.mark.parametrize("engine", ["native", "python"])
def test_a_call_that_cannot_be_interrupted_is_reported_to_the_stuck_handler(
    engine: str, tmp_path: Path, caplog: Any, stuck_reports: list[tuple[str, str]]
) -> None:
    doc = manifest(node("s", "retry_nodes:Sleeps", params={"seconds": 1.5}, timeout_ms=100))
    outcome = run_on(engine, tmp_path, doc, [1], caplog)
    message = "process() did not finish within timeout_ms=100"
    # The interrupt lands once time.sleep returns; meanwhile the handler was told, once.
    assert outcome.error == ("s", "TimeoutError", message), outcome
    assert stuck_reports == [("s", message)]


@pytest.mark.parametrize("engine", ENGINES)
def test_without_a_stuck_handler_a_call_that_cannot_be_interrupted_is_logged(
    engine: str, tmp_path: Path, caplog: Any
) -> None:
    doc = manifest(node("s", "retry_nodes:Sleeps", params={"seconds": 1.5}, timeout_ms=100))
    outcome = run_on(engine, tmp_path, doc, [1], caplog)
    assert outcome.error is not None, outcome
    assert outcome.error[1] == "TimeoutError", outcome
    assert "has not ended 1 s after it was interrupted" in outcome.log, outcome.log


@pytest.mark.parametrize("use_rust", [True, False], ids=["native", "python"])
def test_process_streams_through_a_node_with_retry_and_timeout(use_rust: bool) -> None:
    # On the Rust engine such a chain is not driven on the caller's thread (which would not
    # apply the options) but on the host's stage threads.
    retry = {"max_attempts": 3, "backoff_ms": 0}
    doc = manifest(
        node("f", "retry_nodes:Flaky", params={"failures": 2}, retry=retry, timeout_ms=1000)
    )

    async def outputs() -> list[Any]:
        pipeline = Pipeline.from_manifest(doc)
        return [item async for item in pipeline.process([1, 2], use_rust=use_rust)]

    got = asyncio.run(asyncio.wait_for(outputs(), HANG_GUARD))
    assert got == [{"item": 1, "attempt": 3}, {"item": 2, "attempt": 3}]


def test_retry_and_timeout_survive_a_round_trip_through_the_builder() -> None:
    doc = manifest(
        node("f", "retry_nodes:Flaky", retry={"max_attempts": 3, "backoff_ms": 5}, timeout_ms=40),
        node("b", "retry_nodes:Busy", timeout_ms=100),
        node("p", "retry_nodes:Busy"),
    )
    written = Pipeline.from_manifest(doc).to_manifest()["nodes"]
    assert [{k: v for k, v in n.items() if k in ("retry", "timeout_ms")} for n in written] == [
        {"retry": {"max_attempts": 3, "backoff_ms": 5}, "timeout_ms": 40},
        {"timeout_ms": 100},
        {},
    ]


STREAMING_RETRY = (
    'nodes[0].retry: retry does not apply to a streaming node: "retry_nodes:BusyStream" '
    "takes the whole stream, so no single item's call can be made again"
)

MANIFEST_ERRORS = [
    (
        [node("s", "retry_nodes:BusyStream", retry={"max_attempts": 2}, timeout_ms=10)],
        [STREAMING_RETRY],
    ),
    (
        [
            node("m", "Multiply", params={"factor": 2}, retry={"max_attempts": 2}),
            node("a", "PassThrough", timeout_ms=10),
        ],
        [
            'nodes[0].retry: retry applies to Python nodes only, and "Multiply" is a Rust node',
            "nodes[1].timeout_ms: timeout_ms applies to Python nodes only, and "
            '"PassThrough" is a Rust node',
        ],
    ),
    (
        [
            node("a", "retry_nodes:Flaky", retry={"max_attempts": 0, "backoff_ms": -1}),
            node("b", "retry_nodes:Flaky", retry={"backoff_ms": 2, "tries": 1}, timeout_ms=0),
            node("c", "retry_nodes:Flaky", retry=3, timeout_ms=1.5),
        ],
        [
            "nodes[0].retry.max_attempts: must be at least 1, got 0",
            "nodes[0].retry.backoff_ms: must be at least 0, got -1",
            'nodes[1].retry: missing required field "max_attempts"',
            'nodes[1].retry.tries: unknown field "tries"',
            "nodes[1].timeout_ms: must be at least 1, got 0",
            "nodes[2].retry: expected an object, got integer 3",
            "nodes[2].timeout_ms: expected an integer, got number 1.5",
        ],
    ),
]


@pytest.mark.parametrize("checks", ["host", "native", "sdk-only"])
@pytest.mark.parametrize(
    ("nodes", "problems"), MANIFEST_ERRORS, ids=["streaming", "rust-nodes", "bad-values"]
)
def test_retry_and_timeout_where_they_do_not_apply_are_manifest_errors(
    checks: str,
    nodes: list[dict[str, Any]],
    problems: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = manifest(*nodes)
    if checks == "host":
        path = tmp_path / "manifest.json"
        path.write_text(json.dumps(doc))
        result = run_host(["validate", path], env_dir=VENV, env={"PYTHONPATH": str(TESTS)})
        assert result.code == 2, result
        assert [line[4:] for line in result.stderr.splitlines()[1:]] == problems
        return
    if checks == "sdk-only":
        monkeypatch.setattr(_native, "module", lambda: None)
    with pytest.raises(ManifestError) as caught:
        Pipeline.from_manifest(doc)
    assert caught.value.problems == problems


@pytest.mark.parametrize("node_type", ["retry_nodes:ReadsBoard", "retry_nodes:AsyncReadsBoard"])
def test_a_stage_marks_the_node_whose_code_runs_on_an_attached_board(node_type: str) -> None:
    # In-process there is no board; a worker attaches one. The stage threads of the Rust
    # engine run in this process, so attaching one here shows what a worker's stage writes.
    words = bytearray(8 * 16)
    crash_board.attach_board(words)
    try:
        doc = manifest(
            node("first", "retry_nodes:Flaky", params={"failures": 0}),
            node("reader", node_type),
        )
        outputs = asyncio.run(asyncio.wait_for(Pipeline.from_manifest(doc).run([1]), HANG_GUARD))
    finally:
        crash_board.attach_board(None)
    assert outputs == [[2]]  # the second node of its stage runs: index 1, plus one
    assert memoryview(words).cast("Q").tolist() == [0] * 16  # back to 0 once it returned


@pytest.mark.parametrize("use_rust", [True, False], ids=["native", "python"])
def test_a_pipeline_without_retry_or_timeout_starts_no_watchdog(use_rust: bool) -> None:
    source = f"""
        import asyncio, sys, threading
        sys.path.insert(0, {str(TESTS)!r})
        from remotemedia.pipeline import Pipeline
        doc = {{"version": "v1", "nodes": [
            {{"id": "f", "node_type": "retry_nodes:Flaky", "params": {{"failures": 0}}}},
            {{"id": "a", "node_type": "retry_nodes:AsyncReadsBoard"}}]}}
        print(asyncio.run(Pipeline.from_manifest(doc).run([1], use_rust={use_rust})))
        print("remotemedia.driver.deadlines" in sys.modules)
        print(any(t.name == "remotemedia-watchdog" for t in threading.enumerate()))
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[[]]", "False", "False"]
