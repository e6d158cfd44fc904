"""`runtime.isolation: "process"` in the binary (DESIGN §10): the pipeline's Python nodes run in
a worker process, and a crash, an exit or a hang there ends the pipeline with a node error
naming the node, leaving no process behind; the fault table of issue 11."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import child_env, host_command, node, run_host

FAULTS = """
import ctypes
import os
import time

from remotemedia import Node


class Pid(Node):
    def process(self, data):
        return {"pid": os.getpid(), "ppid": os.getppid(), "data": data}


class Segv(Node):
    def process(self, data):
        if data == 2:
            ctypes.string_at(0)
        return data


class Abort(Node):
    def process(self, data):
        os.abort()


class Exit(Node):
    def process(self, data):
        os._exit(3)


class Spin(Node):
    def process(self, data):
        while True:
            pass


class Sleep(Node):
    def process(self, data):
        time.sleep(600)


class InitFails(Node):
    def initialize(self):
        raise ValueError("no model file")

    def process(self, data):
        return data


class CleanupFails(Node):
    def process(self, data):
        return data

    def cleanup(self):
        raise RuntimeError("cannot release the device")


class Spawn(Node):
    # Leaves a subprocess behind, holding the worker's stderr.

    def process(self, data):
        import subprocess

        subprocess.Popen(["sleep", "60"])
        return data


class ForkThenSegv(Node):
    # Forks a child that sleeps (holding the worker's socket and stderr), then crashes.

    def process(self, data):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        ctypes.string_at(0)


class Flaky(Node):
    def __init__(self, failures=2, **kwargs):
        super().__init__(**kwargs)
        self.failures = failures
        self.calls = 0

    def process(self, data):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"attempt {self.calls} failed")
        return [data, self.calls]
"""


def manifest(tmp_path: Path, nodes: list[dict[str, Any]], **runtime: Any) -> Path:
    """Writes an isolated manifest of `nodes` (a chain) and the fault module beside it."""
    (tmp_path / "faults.py").write_text(FAULTS)
    document = {
        "version": "v1",
        "runtime": {"isolation": "process", **runtime},
        "nodes": nodes,
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    return path


def between(fault: dict[str, Any]) -> list[dict[str, Any]]:
    """`fault` as node "x" between two Python nodes, so an error must name it, not a
    neighbour."""
    return [node("before", "Scale", factor=1), fault, node("after", "Echo", times=1)]


def tagged_processes(tag: str) -> list[int]:
    """Processes whose environment holds `tag` (a run's workers inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if tag.encode() in environ:
            found.append(int(entry.name))
    return found


def run_isolated(
    path: Path, env_dir: Path, tmp_path: Path, input_text: str = "1\n2\n3\n", *args: str
) -> Any:
    """Runs the manifest; checks that no process of the run is left once the host exits."""
    tag = uuid.uuid4().hex
    result = run_host(
        ["run", path, "--input", "-", *args],
        env_dir=env_dir,
        input_text=input_text,
        env={"PYTHONPATH": str(tmp_path), "RM_TEST_RUN": tag},
        timeout=60,
    )
    assert tagged_processes(tag) == [], f"processes left behind\n{result}"
    return result


def test_python_nodes_run_in_a_child_process_of_the_host(shapes_env: Path, tmp_path: Path) -> None:
    path = manifest(tmp_path, [node("p", "faults:Pid")])
    process = subprocess.Popen(
        host_command(["run", path, "--input", "-"], shapes_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env({"PYTHONPATH": str(tmp_path)}),
    )
    stdout, stderr = process.communicate("1\n2\n", timeout=60)
    assert process.returncode == 0, stderr
    items = [json.loads(line) for line in stdout.splitlines()]
    assert [i["data"] for i in items] == [1, 2]
    assert {i["ppid"] for i in items} == {process.pid}, "not a child of the host"
    assert len({i["pid"] for i in items}) == 1, "one worker per pipeline"


def test_the_flag_overrides_the_manifest(shapes_env: Path, tmp_path: Path) -> None:
    path = manifest(tmp_path, [node("p", "faults:Pid")])
    process = subprocess.Popen(
        host_command(["run", path, "--input", "-", "--isolation", "in_process"], shapes_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env({"PYTHONPATH": str(tmp_path)}),
    )
    stdout, _ = process.communicate("1\n", timeout=60)
    assert json.loads(stdout)["pid"] == process.pid


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (
            "Segv",
            "WorkerCrashed: the worker process was killed by SIGSEGV (segmentation fault) "
            'while node "x" ran',
        ),
        (
            "Abort",
            'WorkerCrashed: the worker process was killed by SIGABRT (abort) while node "x" ran',
        ),
        ("Exit", 'WorkerExited: the worker process exited with status 3 while node "x" ran'),
    ],
)
def test_a_crash_in_the_worker_is_a_node_error_naming_the_node(
    shapes_env: Path, tmp_path: Path, fault: str, error: str
) -> None:
    path = manifest(tmp_path, between(node("x", f"faults:{fault}")))
    result = run_isolated(path, shapes_env, tmp_path)
    assert result.code == 1, result
    assert f'error: node "x" (faults:{fault}) failed: {error}' in result.stderr, result


def test_a_segfault_reports_the_python_stack_it_happened_in(
    shapes_env: Path, tmp_path: Path
) -> None:
    path = manifest(tmp_path, between(node("x", "faults:Segv")))
    result = run_isolated(path, shapes_env, tmp_path)
    # The fault handler's dump is in the error.
    error = result.stderr[result.stderr.index("error: node") :]
    assert "Segmentation fault" in error, result
    assert "faults.py" in error, result
    assert "in process" in error, result


def test_a_busy_loop_past_its_timeout_is_interrupted_in_the_worker(
    shapes_env: Path, tmp_path: Path
) -> None:
    path = manifest(tmp_path, between({**node("x", "faults:Spin"), "timeout_ms": 200}))
    result = run_isolated(path, shapes_env, tmp_path)
    assert result.code == 1, result
    assert 'error: node "x" (faults:Spin) failed: TimeoutError' in result.stderr, result
    assert "timeout_ms=200" in result.stderr, result


def test_a_call_that_cannot_be_interrupted_gets_its_worker_killed(
    shapes_env: Path, tmp_path: Path
) -> None:
    path = manifest(tmp_path, between({**node("x", "faults:Sleep"), "timeout_ms": 200}))
    started = time.monotonic()
    result = run_isolated(path, shapes_env, tmp_path)
    assert time.monotonic() - started < 50, "the sleeping call was waited for"
    assert result.code == 1, result
    assert 'error: node "x" (faults:Sleep) failed: TimeoutError' in result.stderr, result
    assert "worker process was killed" in result.stderr, result


def start_sleeping_run(shapes_env: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    """Starts a host whose worker's node sleeps in a C call on the first item; returns the
    host, once the item has had time to reach the node, and the run's tag."""
    path = manifest(tmp_path, between(node("x", "faults:Sleep")))
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        host_command(["run", path, "--input", "-"], shapes_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env({"PYTHONPATH": str(tmp_path), "RM_TEST_RUN": tag}),
    )
    assert process.stdin is not None
    process.stdin.write("1\n")
    process.stdin.flush()
    wait_until(lambda: tagged_processes(tag) != [])
    time.sleep(0.5)  # the item reaches the sleeping node
    return process, tag


def wait_until(condition: Callable[[], bool]) -> None:
    """Polls `condition` for up to 30 s (a bound against hangs, not a speed check)."""
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_hang_without_a_timeout_is_stopped_by_ctrl_c(shapes_env: Path, tmp_path: Path) -> None:
    process, tag = start_sleeping_run(shapes_env, tmp_path)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert tagged_processes(tag) == [], "the worker was left behind"


def test_an_exception_in_initialize_names_the_node(shapes_env: Path, tmp_path: Path) -> None:
    path = manifest(tmp_path, between(node("x", "faults:InitFails")))
    result = run_isolated(path, shapes_env, tmp_path)
    assert result.code == 1, result
    assert 'node "x" (faults:InitFails) failed: ValueError: no model file' in result.stderr


def test_an_exception_in_cleanup_is_reported_and_outputs_are_kept(
    shapes_env: Path, tmp_path: Path
) -> None:
    path = manifest(tmp_path, between(node("x", "faults:CleanupFails")))
    isolated = run_isolated(path, shapes_env, tmp_path)
    in_process = run_isolated(path, shapes_env, tmp_path, "1\n2\n3\n", "--isolation", "in_process")
    assert isolated.items() == [1, 2, 3], isolated
    assert "cannot release the device" in isolated.stderr, isolated
    # The same outcome as in-process.
    assert (isolated.code, isolated.items()) == (in_process.code, in_process.items())


def test_a_retry_recovers_a_flaky_node_in_the_worker(shapes_env: Path, tmp_path: Path) -> None:
    flaky = {**node("x", "faults:Flaky", failures=2), "retry": {"max_attempts": 3, "backoff_ms": 1}}
    path = manifest(tmp_path, [flaky])
    result = run_isolated(path, shapes_env, tmp_path, "7\n8\n")
    assert result.code == 0, result
    assert result.items() == [[7, 3], [8, 4]]


def test_large_arrays_cross_through_shared_memory_unchanged(
    shapes_env: Path, tmp_path: Path
) -> None:
    data = np.arange(1 << 18, dtype=np.float32)  # 1 MiB: a shared-memory segment
    item = {
        "$array": {
            "dtype": "float32",
            "shape": [data.size],
            "data": base64.b64encode(data.tobytes()).decode(),
        }
    }
    path = manifest(tmp_path, [node("a", "Echo", times=1), node("b", "Echo", times=1)])
    result = run_isolated(path, shapes_env, tmp_path, json.dumps(item) + "\n")
    assert result.code == 0, result
    assert result.items() == [item]


def test_a_worker_whose_host_was_killed_exits(shapes_env: Path, tmp_path: Path) -> None:
    process, tag = start_sleeping_run(shapes_env, tmp_path)
    process.kill()
    process.communicate(timeout=30)
    wait_until(lambda: tagged_processes(tag) == [])
    left = tagged_processes(tag)
    assert left == [], [Path(f"/proc/{p}/cmdline").read_bytes() for p in left]


@pytest.mark.parametrize("fault", ["Spawn", "ForkThenSegv"])
def test_what_node_code_leaves_behind_neither_holds_the_run_nor_outlives_it(
    shapes_env: Path, tmp_path: Path, fault: str
) -> None:
    path = manifest(tmp_path, between(node("x", f"faults:{fault}")))
    started = time.monotonic()
    result = run_isolated(path, shapes_env, tmp_path, "1\n")
    assert time.monotonic() - started < 30, "the run waited for a grandchild"
    if fault == "Spawn":
        assert (result.code, result.items()) == (0, [1]), result
    else:
        assert "failed: WorkerCrashed: the worker process was killed by SIGSEGV" in result.stderr


def test_a_crash_names_its_node_whichever_stage_hears_of_it_first(
    shapes_env: Path, tmp_path: Path
) -> None:
    # Two Python stages in one worker: "before" ahead of a Rust node, and "x" after it.
    nodes = [
        node("before", "Scale", factor=1),
        node("rust", "PassThrough"),
        node("x", "faults:Segv"),
    ]
    path = manifest(tmp_path, nodes)
    for _ in range(5):
        result = run_isolated(path, shapes_env, tmp_path, "1\n2\n3\n")
        assert 'error: node "x" (faults:Segv) failed: WorkerCrashed' in result.stderr, result
