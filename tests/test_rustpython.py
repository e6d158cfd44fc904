"""The RustPython runtime (`--runtime rustpython`, `runtime.python: "rustpython"`; DESIGN §4,
§8, §10): a VM and modules of its own per pipeline, no C extensions, what validation refuses,
what cannot cross into a VM, and a busy node on Ctrl-C.

The Python-node tests of the other files run on both runtimes (the `runtime` fixture); these
are the RustPython runtime's own; its media values are in test_rustpython_media.py.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from harness import (
    DEV_PYTHON,
    PLUGINS,
    Result,
    child_env,
    host_command,
    jsonl,
    node,
    run_host,
    write_manifest,
)
from remotemedia import Node, Pipeline
from remotemedia.errors import UsageError

SHAPES_SRC = PLUGINS / "remotemedia-testshapes" / "src"
"""The test plugin's modules: on `PYTHONPATH`, a program of the dev environment imports them."""


def run(env_dir: Path, tmp_path: Path, runtime: str, node_type: str, items: list[Any]) -> Result:
    """Runs the one-node pipeline `node_type` on `items` with `--runtime runtime`."""
    manifest = write_manifest(tmp_path, [node("n", node_type)])
    return run_host(
        ["run", manifest, "--input", "-", "--runtime", runtime],
        env_dir=env_dir,
        input_text=jsonl(items),
    )


def outputs(env_dir: Path, tmp_path: Path, runtime: str, node_type: str, items: list[Any]) -> Any:
    """The output items of `run`, which must succeed."""
    result = run(env_dir, tmp_path, runtime, node_type, items)
    assert result.code == 0, result
    return result.items()


# Module state (DESIGN §10): what pipelines of one process share.

STATE_SCRIPT = """
import asyncio, json
from remotemedia import Pipeline

def counted(name, python):
    return Pipeline.from_manifest({
        "version": "v1",
        "metadata": {"name": name},
        "runtime": {"python": python},
        "nodes": [{"id": "c", "node_type": "remotemedia_testshapes.counter:Counted"}],
    })

async def main():
    seen = {}
    here = [counted(f"cpython-{i}", "cpython") for i in range(2)]
    seen["cpython"] = [await pipeline.run([0, 0, 0]) for pipeline in here]
    apart = [counted(f"rustpython-{i}", "rustpython") for i in range(2)]
    seen["rustpython"] = [await pipeline.run([0, 0, 0]) for pipeline in apart]
    seen["rustpython_again"] = await apart[0].run([0, 0, 0])
    seen["rustpython_stream"] = [item async for item in apart[1].process([0, 0])]
    print(json.dumps(seen))

asyncio.run(main())
"""


def test_each_rustpython_pipeline_has_its_own_modules_and_cpython_ones_share_theirs() -> None:
    # One program, as a caller of the SDK: a node module's global counts every call it sees.
    completed = subprocess.run(
        [str(DEV_PYTHON), "-c", textwrap.dedent(STATE_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env({"PYTHONPATH": str(SHAPES_SRC)}),
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    # Each item gives [the module's count, the node instance's count].
    fresh = [[1, 1], [2, 2], [3, 3]]
    # In-process CPython: one interpreter, one module; the second pipeline counts on.
    assert seen["cpython"] == [fresh, [[4, 1], [5, 2], [6, 3]]]
    # A VM each: both start from zero, and neither sees the CPython module's count.
    assert seen["rustpython"] == [fresh, fresh]
    # A pipeline keeps its VM across runs (its module counts on), with fresh node instances.
    assert seen["rustpython_again"] == [[4, 1], [5, 2], [6, 3]]
    assert seen["rustpython_stream"] == [[4, 1], [5, 2]]


# C extensions.


@pytest.mark.parametrize("node_type", ["needs_numpy:Total", "late_numpy:Late"])
def test_a_node_that_needs_numpy_runs_on_cpython_and_is_a_clear_error_on_rustpython(
    shapes_env: Path, tmp_path: Path, node_type: str
) -> None:
    node_type = f"remotemedia_testshapes.{node_type}"
    assert outputs(shapes_env, tmp_path, "cpython", node_type, [[1, 2.5]]) == [3.5]
    result = run(shapes_env, tmp_path, "rustpython", node_type, [[1, 2.5]])
    # Imported by validation (exit 2), or in `process` (a node error, exit 1).
    assert result.code in (1, 2), result
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: "), result
    assert "numpy" in result.stderr
    assert "RustPython cannot load C extensions" in result.stderr, result
    assert result.stdout == ""


# Media (DESIGN §4): arrays are read-only memoryviews in a VM, frames `AudioFrame`s with them.


def rustpython_manifest(tmp_path: Path, runtime: dict[str, Any], **entry: Any) -> Path:
    document = {
        "version": "v1",
        "runtime": {"python": "rustpython", **runtime},
        "nodes": [{"id": "d", "node_type": "remotemedia.testing:Double", **entry}],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("runtime", "entry", "problem"),
    [
        pytest.param(
            {},
            {"timeout_ms": 500},
            "  - nodes[0].timeout_ms: not supported by the RustPython runtime",
            id="timeout_ms",
        ),
        pytest.param(
            {"isolation": "process"},
            {},
            "  - runtime.isolation: the RustPython runtime runs in the host process",
            id="isolation-process",
        ),
        pytest.param(
            {"sandbox": {}},
            {},
            "  - runtime.sandbox: a sandbox runs CPython in a worker process",
            id="sandbox",
        ),
    ],
)
def test_validate_refuses_what_the_rustpython_runtime_cannot_do(
    shapes_env: Path,
    tmp_path: Path,
    runtime: dict[str, Any],
    entry: dict[str, Any],
    problem: str,
) -> None:
    manifest = rustpython_manifest(tmp_path, runtime, **entry)
    commands: list[list[str | Path]] = [["validate", manifest], ["run", manifest, "--input", "-"]]
    for command in commands:
        result = run_host(command, env_dir=shapes_env, input_text="1\n")
        assert result.code == 2, result
        assert result.stderr.startswith("error: invalid manifest"), result
        assert any(line.startswith(problem) for line in result.stderr.splitlines()), result
        assert result.stdout == ""


def test_timeout_ms_is_refused_when_the_command_line_asks_for_rustpython(
    shapes_env: Path, tmp_path: Path
) -> None:
    # The manifest alone is valid (CPython); `--runtime` overrides its runtime (DESIGN §8), so
    # the run is refused as the same manifest with `runtime.python: "rustpython"` would be.
    log = tmp_path / "journal.txt"
    nodes = [
        node("j", "remotemedia.testing:Journal", path=str(log)),
        {**node("d", "remotemedia.testing:Double"), "timeout_ms": 500},
    ]
    manifest = write_manifest(tmp_path, nodes)
    assert run_host(["validate", manifest], env_dir=shapes_env).code == 0
    result = run_host(
        ["run", manifest, "--input", "-", "--runtime", "rustpython"],
        env_dir=shapes_env,
        input_text="1\n",
    )
    assert result.code == 2, result
    assert "nodes[1].timeout_ms: not supported by the RustPython runtime" in result.stderr
    assert not log.exists(), "a node was started for a refused run"


def test_rustpython_with_a_worker_process_on_the_command_line_is_refused_as_the_manifest_would_be(
    shapes_env: Path, tmp_path: Path
) -> None:
    """The flags override the manifest's fields (DESIGN §8): the refusal is the manifest's."""
    manifest = write_manifest(tmp_path, [node("d", "remotemedia.testing:Double")])
    flags = ["--runtime", "rustpython", "--isolation", "process"]
    result = run_host(["run", manifest, *flags], env_dir=shapes_env)
    assert result.code == 2, result
    assert (
        "  - runtime.isolation: the RustPython runtime runs in the host process; a worker "
        'process (isolation "process") runs CPython\n'
    ) in result.stderr


def test_the_command_lines_cpython_lifts_what_rustpython_refuses(
    shapes_env: Path, tmp_path: Path
) -> None:
    """A manifest asking for RustPython with a timeout runs when --runtime cpython overrides."""
    path = tmp_path / "m.json"
    document = {
        "version": "v1",
        "runtime": {"python": "rustpython"},
        "nodes": [{"id": "d", "node_type": "remotemedia.testing:Double", "timeout_ms": 5000}],
    }
    path.write_text(json.dumps(document))
    refused = run_host(["run", path, "--input", "-"], env_dir=shapes_env, input_text="2\n")
    assert refused.code == 2, refused
    assert "nodes[0].timeout_ms: not supported by the RustPython runtime" in refused.stderr
    flags = ["--runtime", "cpython", "--input", "-"]
    result = run_host(["run", path, *flags], env_dir=shapes_env, input_text="2\n")
    assert result.code == 0, result
    assert result.stdout == "4\n"


def test_a_node_of_the_callers_own_code_cannot_cross_into_a_vm() -> None:
    class Mine(Node):
        def process(self, data: Any) -> Any:
            return data

    pipeline = Pipeline("mine-in-a-vm", runtime={"python": "rustpython"})
    pipeline.add_node(Mine(name="mine"))
    with pytest.raises(UsageError, match=r"^node 'mine' is an object of this program") as caught:
        asyncio.run(pipeline.run([1]))
    assert "cannot cross into a RustPython VM" in str(caught.value)


# Cancellation: RustPython cannot interrupt running code; the host leaves a busy stage.

STOP_GUARD = 15.0
"""Seconds the host may take to exit after the signal: a hang guard, not a speed bound."""


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("spinning", ["process", "cleanup"])
def test_a_stop_signal_ends_a_run_whose_node_spins_for_ever(
    shapes_env: Path, tmp_path: Path, stop: signal.Signals, spinning: str
) -> None:
    started = tmp_path / "started"
    if spinning == "process":
        spin = node("spin", "remotemedia.testing:Spin", started=str(started), until="/nonexistent")
    else:
        spin = node("spin", "remotemedia_testshapes.busy:SpinsInCleanup", started=str(started))
    manifest = write_manifest(tmp_path, [spin])
    command: list[str | Path] = ["run", manifest, "--input", "-", "--runtime", "rustpython"]
    process = subprocess.Popen(
        host_command(command, shapes_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert process.stdin is not None
        process.stdin.write("1\n")
        process.stdin.flush()  # the input stays open: the run ends only by the signal
        if spinning == "cleanup":
            process.stdin.close()  # the input ends, and the stage's cleanup spins
            process.stdin = None  # communicate() writes nothing more
        deadline = time.monotonic() + 60
        while not started.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the node never started"
            time.sleep(0.05)
        process.send_signal(stop)
        stdout, stderr = process.communicate(timeout=STOP_GUARD)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert "error: pipeline cancelled" in stderr
    # A node spinning in cleanup had passed its item on before.
    assert stdout == ("1\n" if spinning == "cleanup" else "")


def test_ctypes_pythonapi_is_refused_in_a_vm_not_a_crash(shapes_env: Path, tmp_path: Path) -> None:
    """The process's libpython is the host's CPython: called from a VM it crashed the host."""
    manifest = write_manifest(tmp_path, [node("c", "remotemedia_testshapes.capi:CallsPythonApi")])
    for runtime, code in (("cpython", 0), ("rustpython", 1)):
        flags = ["--input", "-", "--runtime", runtime]
        result = run_host(["run", manifest, *flags], env_dir=shapes_env, input_text="1\n")
        assert result.code == code, result
    assert "ctypes.pythonapi.Py_IsInitialized: a RustPython VM has no CPython C API" in (
        result.stderr
    ), result
