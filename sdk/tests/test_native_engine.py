"""The native module `remotemedia_runtime` (DESIGN §8): its functions, its errors, Python nodes
run in this interpreter, the interpreter lock released while Rust works, and cancellation."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
import tomllib
from typing import Any

import pytest

import remotemedia_runtime
from _engines import HANG_GUARD, REPO, Recorder, run_async, run_python_script
from remotemedia.errors import (
    ManifestError,
    NodeError,
    PipelineCancelled,
    RemoteMediaError,
    UsageError,
)
from remotemedia.node import Node
from remotemedia.nodes.base import PassThroughNode
from remotemedia.pipeline import Pipeline

RANGE_TIMES_THREE = {
    "version": "v1",
    "metadata": {"name": "range"},
    "nodes": [
        {"id": "src", "node_type": "Range", "params": {"start": 0, "stop": 5}},
        {"id": "mul", "node_type": "Multiply", "params": {"factor": 3}},
    ],
}

ADD_ONE = {
    "version": "v1",
    "nodes": [{"id": "add", "node_type": "Add", "params": {"addend": 1}}],
}


def _execute_in_thread(*args: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Starts `_execute(*args)` on a thread; the dict gets its "result" or "error"."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = remotemedia_runtime._execute(*args)
        except BaseException as error:  # noqa: BLE001 -- handed to the test to assert on
            outcome["error"] = error

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, outcome


def test_version_is_the_crate_version() -> None:
    cargo = tomllib.loads((REPO / "Cargo.toml").read_text())
    assert isinstance(remotemedia_runtime.__version__, str)
    assert remotemedia_runtime.__version__ == cargo["workspace"]["package"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", remotemedia_runtime.__version__)


def test_execute_pipeline_takes_a_dict() -> None:
    outputs = remotemedia_runtime.execute_pipeline(RANGE_TIMES_THREE)
    assert type(outputs) is list
    assert outputs == [0, 3, 6, 9, 12]


def test_execute_pipeline_takes_json_text() -> None:
    outputs = remotemedia_runtime.execute_pipeline(json.dumps(RANGE_TIMES_THREE))
    assert type(outputs) is list
    assert outputs == [0, 3, 6, 9, 12]


def test_execute_pipeline_with_input_runs_every_input_item() -> None:
    outputs = remotemedia_runtime.execute_pipeline_with_input(ADD_ONE, [1, 2, 3])
    assert type(outputs) is list
    assert outputs == [2, 3, 4]
    text = json.dumps(ADD_ONE)
    assert remotemedia_runtime.execute_pipeline_with_input(text, (x for x in [10, 20])) == [11, 21]


def test_execute_pipeline_with_input_keeps_json_like_values() -> None:
    manifest = {"version": "v1", "nodes": [{"id": "p", "node_type": "PassThrough"}]}
    items = [None, True, 1.5, "text", [1, [2]], {"b": 1, "a": [None]}]
    assert remotemedia_runtime.execute_pipeline_with_input(manifest, items) == items


def test_unknown_node_type_is_a_located_manifest_error_with_a_suggestion() -> None:
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "src", "node_type": "Range", "params": {"stop": 3}},
            {"id": "mul", "node_type": "Multipy", "params": {"factor": 2}},
        ],
    }
    with pytest.raises(ManifestError) as caught:
        remotemedia_runtime.execute_pipeline(manifest)
    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0].startswith("nodes[1].node_type")
    assert 'did you mean "Multiply"' in problems[0]


def test_manifest_error_reports_every_problem_at_once() -> None:
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "a", "node_type": "Ad", "params": {"addend": 1}},
            {"id": "b", "node_type": "Multiply", "params": {"factor": 2}},
        ],
        "connections": [{"from": "a", "to": "bb"}],
    }
    with pytest.raises(ManifestError) as caught:
        remotemedia_runtime.execute_pipeline_with_input(manifest, [1])
    problems = caught.value.problems
    assert any(p.startswith("nodes[0].node_type") for p in problems), problems
    assert any(p.startswith("connections[0].to") and '"bb"' in p for p in problems), problems


def test_invalid_json_text_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError) as caught:
        remotemedia_runtime.execute_pipeline('{"version": "v1", "nodes": [')
    assert caught.value.problems


def test_rust_node_failure_is_a_node_error_with_its_attributes() -> None:
    with pytest.raises(NodeError) as caught:
        remotemedia_runtime.execute_pipeline_with_input(ADD_ONE, [1, "x"])
    error = caught.value
    assert (error.node_id, error.node_type, error.error_type) == ("add", "Add", "TypeError")
    assert "string" in error.message
    assert error.traceback is None


def test_python_node_failure_is_a_node_error_with_a_traceback() -> None:
    class Fragile(Node):
        cleaned = False

        def process(self, data: int) -> int:
            if data == 2:
                raise LookupError("no luck with two")
            return data

        def cleanup(self) -> None:
            self.cleaned = True

    pipeline = Pipeline("fragile")
    node = pipeline.add_node(Fragile(name="frag"))
    manifest = pipeline.to_manifest()
    with pytest.raises(NodeError) as caught:
        remotemedia_runtime._execute(manifest, [1, 2, 3], {"frag": node})
    error = caught.value
    assert error.node_id == "frag"
    assert error.node_type == manifest["nodes"][0]["node_type"]
    assert error.node_type.endswith("Fragile")
    assert error.error_type == "LookupError"
    assert error.message == "no luck with two"
    assert error.traceback is not None
    assert "LookupError: no luck with two" in error.traceback
    assert "in process" in error.traceback
    assert node.cleaned


def test_inputs_for_a_pipeline_of_sources_only_are_a_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        remotemedia_runtime.execute_pipeline_with_input(RANGE_TIMES_THREE, [1])
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, RemoteMediaError)
    assert "src" in str(caught.value)


def test_errors_are_the_sdk_classes_themselves() -> None:
    with pytest.raises(RemoteMediaError) as caught:
        remotemedia_runtime.execute_pipeline({"version": "v2", "nodes": []})
    assert type(caught.value) is ManifestError


def test_sdk_python_node_with_python_hint_runs_in_this_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, Any]] = []

    def spy(self: PassThroughNode, data: Any) -> Any:
        calls.append((os.getpid(), data))
        return data

    # The engine's interpreter is this one: patching the SDK's class here changes what it runs.
    monkeypatch.setattr(PassThroughNode, "process", spy)
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "py", "node_type": "PassThroughNode", "runtime_hint": "python"},
            {"id": "mul", "node_type": "Multiply", "params": {"factor": 10}},
        ],
    }
    assert remotemedia_runtime.execute_pipeline_with_input(manifest, [1, 2, 3]) == [10, 20, 30]
    assert calls == [(os.getpid(), 1), (os.getpid(), 2), (os.getpid(), 3)]


def test_builtin_node_without_hint_does_not_run_the_python_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Any] = []

    def spy(self: PassThroughNode, data: Any) -> Any:
        calls.append(data)
        return data

    monkeypatch.setattr(PassThroughNode, "process", spy)
    manifest = {"version": "v1", "nodes": [{"id": "p", "node_type": "PassThroughNode"}]}
    assert remotemedia_runtime.execute_pipeline_with_input(manifest, [1, 2]) == [1, 2]
    assert calls == []


def test_sdk_arithmetic_with_python_hint_fails_as_a_python_node() -> None:
    manifest = {
        "version": "v1",
        "nodes": [
            {
                "id": "mul",
                "node_type": "Multiply",
                "params": {"factor": 2},
                "runtime_hint": "python",
            }
        ],
    }
    assert remotemedia_runtime.execute_pipeline_with_input(manifest, [4]) == [8]
    with pytest.raises(NodeError) as caught:
        remotemedia_runtime.execute_pipeline_with_input(manifest, ["x"])
    assert caught.value.error_type == "TypeError"
    assert caught.value.traceback is not None  # a Rust node has none
    assert "arithmetic.py" in caught.value.traceback


def test_node_named_by_import_path_runs_in_this_process() -> None:
    Recorder.seen.clear()
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "src", "node_type": "Range", "params": {"start": 1, "stop": 4}},
            {"id": "rec", "node_type": "_engines:Recorder"},
        ],
    }
    assert remotemedia_runtime.execute_pipeline(manifest) == [1, 2, 3]
    assert [item for _, _, item in Recorder.seen] == [1, 2, 3]
    assert {pid for pid, _, _ in Recorder.seen} == {os.getpid()}
    # Python nodes run on the engine's interpreter thread, not on the caller's.
    assert threading.get_ident() not in {thread for _, thread, _ in Recorder.seen}


def test_caller_defined_node_runs_as_the_live_instance() -> None:
    class Collect(Node):
        def __init__(self, name: str | None = None) -> None:
            super().__init__(name=name)
            self.items: list[Any] = []
            self.initialized = 0
            self.cleaned = 0

        def initialize(self) -> None:
            self.initialized += 1

        def process(self, data: int) -> int:
            self.items.append(data)
            return data + 100

        def cleanup(self) -> None:
            self.cleaned += 1

    pipeline = Pipeline("live")
    collector = Collect(name="collect")
    assert pipeline.add_node(collector) is collector
    outputs = run_async(pipeline.run([5, 6, 7], use_rust=True))
    assert outputs == [105, 106, 107]
    assert collector.items == [5, 6, 7]
    assert (collector.initialized, collector.cleaned) == (1, 1)


def test_interpreter_lock_is_released_while_rust_runs() -> None:
    counter = [0]
    ready = threading.Event()
    stop = threading.Event()

    def count() -> None:
        ready.set()
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)  # lets the lock go: with the long interval below, only here

    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "src", "node_type": "Range", "params": {"stop": 1_000_000}},
            *({"id": f"n{i}", "node_type": "Add", "params": {"addend": 1}} for i in range(20)),
        ],
    }
    interval = sys.getswitchinterval()
    thread = threading.Thread(target=count, daemon=True)
    # With a switch interval this long, nobody takes the lock from a thread that holds it: this
    # thread keeps it from reading the counter to the call, and from the call's return to the
    # second reading, so the counter can only move while the call has let the lock go (a C
    # call that holds it, as `sum(range(10**7))`, leaves the counter where it was).
    sys.setswitchinterval(1000)
    try:
        thread.start()
        assert ready.wait(HANG_GUARD)
        before = counter[0]
        outputs = remotemedia_runtime.execute_pipeline(manifest)
        after = counter[0]
    finally:
        stop.set()
        sys.setswitchinterval(interval)
        thread.join(HANG_GUARD)
    assert len(outputs) == 1_000_000
    assert outputs[:2] == [20, 21]
    assert after > before


def test_cancel_handle_stops_an_endless_pipeline_and_cleans_up() -> None:
    class Drop(Node):
        def __init__(self, name: str | None = None) -> None:
            super().__init__(name=name)
            self.started = threading.Event()
            self.cleaned = threading.Event()

        def process(self, data: int) -> None:
            self.started.set()

        def cleanup(self) -> None:
            self.cleaned.set()

    pipeline = Pipeline("endless")
    pipeline.add_node(Drop(name="drop"))
    node = pipeline.nodes[0]
    assert isinstance(node, Drop)
    manifest = {
        "version": "v1",
        "nodes": [
            {"id": "src", "node_type": "Range", "params": {"stop": 10**15}},
            pipeline.to_manifest()["nodes"][0],
        ],
    }
    handle = remotemedia_runtime.CancelHandle()
    thread, outcome = _execute_in_thread(manifest, None, {"drop": node}, handle)
    assert node.started.wait(HANG_GUARD), outcome
    canceller = threading.Thread(target=handle.cancel)
    canceller.start()
    canceller.join(HANG_GUARD)
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), "the cancelled run did not stop"
    assert isinstance(outcome.get("error"), PipelineCancelled), outcome
    assert node.cleaned.is_set()


def test_cancel_handle_cancelled_before_the_run_stops_it_at_once() -> None:
    handle = remotemedia_runtime.CancelHandle()
    handle.cancel()
    manifest = {
        "version": "v1",
        "nodes": [{"id": "src", "node_type": "Range", "params": {"stop": 10**15}}],
    }
    thread, outcome = _execute_in_thread(manifest, None, None, handle)
    thread.join(HANG_GUARD)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), PipelineCancelled), outcome


def test_mixed_rust_and_python_chain_keeps_input_order() -> None:
    class Offset(Node):
        def process(self, data: int) -> int:
            return data + 1000

    class Twice(Node):
        def process(self, data: int) -> Any:
            yield data
            yield -data

    pipeline = Pipeline("mixed")
    manifest_nodes = [
        {"id": "mul", "node_type": "Multiply", "params": {"factor": 3}},
        {"id": "off", "node_type": ""},
        {"id": "add", "node_type": "Add", "params": {"addend": 1}},
        {"id": "pass", "node_type": "PassThroughNode", "runtime_hint": "python"},
        {"id": "twice", "node_type": ""},
        {"id": "last", "node_type": "PassThrough"},
    ]
    live = {"off": Offset(name="off"), "twice": Twice(name="twice")}
    for node in live.values():
        pipeline.add_node(node)
    types = {spec["id"]: spec["node_type"] for spec in pipeline.to_manifest()["nodes"]}
    for spec in manifest_nodes:
        if spec["id"] in types:
            spec["node_type"] = types[spec["id"]]
    manifest = {"version": "v1", "nodes": manifest_nodes}
    inputs = list(range(500))
    outputs = remotemedia_runtime._execute(manifest, inputs, live)
    expected = [v for x in inputs for v in (x * 3 + 1001, -(x * 3 + 1001))]
    assert outputs == expected


def test_process_exits_after_a_direct_native_call_with_a_python_node() -> None:
    # A clean exit takes a second; 20 s is only the hang guard (the bug hangs forever).
    done = run_python_script(
        timeout=20,
        source="""
        import remotemedia_runtime
        manifest = {"version": "v1", "nodes": [
            {"id": "p", "node_type": "PassThroughNode", "runtime_hint": "python"}]}
        print(remotemedia_runtime.execute_pipeline_with_input(manifest, [1, 2, 3]), flush=True)
        """,
    )
    assert done.stdout == "[1, 2, 3]\n"
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_values_nested_too_deep_or_containing_themselves_are_errors_not_crashes() -> None:
    # Run in a fresh interpreter: before the depth bound, these took the process down.
    result = run_python_script(
        """
        import remotemedia_runtime
        from remotemedia.errors import ManifestError, UsageError

        chain = {"version": "v1", "nodes": [{"id": "p", "node_type": "PassThrough"}]}
        looped = [1]
        looped.append(looped)
        deep = 1
        for _ in range(5000):
            deep = [deep]
        for items in ([looped], [deep]):
            try:
                remotemedia_runtime.execute_pipeline_with_input(chain, items)
            except UsageError as error:
                assert "nested deeper than 1000 levels" in str(error), error
            else:
                raise AssertionError("accepted")
        manifest = dict(chain)
        manifest["metadata"] = manifest
        try:
            remotemedia_runtime.validate(manifest)
        except ManifestError as error:
            assert "nested deeper than 1000 levels" in str(error), error
        print("ok")
        """
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_a_module_that_exits_while_described_leaves_python_working(tmp_path: Any) -> None:
    (tmp_path / "exits_here.py").write_text("raise SystemExit(3)\n")
    result = run_python_script(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import remotemedia_runtime
        from remotemedia.errors import ManifestError

        bad = {{"version": "v1", "nodes": [{{"id": "x", "node_type": "exits_here:X"}}]}}
        try:
            remotemedia_runtime.validate(bad)
        except ManifestError as error:
            assert 'cannot import "exits_here:X": SystemExit: 3' in str(error), error
        good = {{"version": "v1", "nodes": [
            {{"id": "p", "node_type": "PassThroughNode", "runtime_hint": "python"}}]}}
        print(remotemedia_runtime.execute_pipeline_with_input(good, [1, 2]))
        """
    )
    assert (result.returncode, result.stdout.strip()) == (0, "[1, 2]"), result.stderr
