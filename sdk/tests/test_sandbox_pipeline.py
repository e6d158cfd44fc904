"""A sandboxed `Pipeline` from the SDK (DESIGN §3 `runtime.sandbox`, §10): its Python nodes
run in a worker process that reads and writes only what the policy allows, sees only the
environment variables it names and stays under its memory limit; the worker is kept while the
policy stays the same and replaced when it changes; and what cannot run in a sandboxed worker
is refused before any runs."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remotemedia import Node, Pipeline, _native
from remotemedia.errors import ManifestError, NodeError, UsageError

NODES = textwrap.dedent(
    """
    import os
    from pathlib import Path

    from remotemedia import Node


    class Files(Node):
        \"\"\"[op, path]: "read" returns the file's text, "write" writes the file and returns
        what reading it back gives; either returns the name of the error that stopped it.\"\"\"

        def process(self, data):
            op, path = data
            try:
                if op == "write":
                    Path(path).write_text(f"written by {os.getpid()}")
                return Path(path).read_text()
            except OSError as error:
                return type(error).__name__


    class Env(Node):
        \"\"\"The names of the environment variables the node sees, and the value of `data`'s.\"\"\"

        def process(self, data):
            return [sorted(os.environ), os.environ.get(data)]


    class PidWrite(Node):
        \"\"\"The worker's pid, and whether writing the file at `data` worked.\"\"\"

        def process(self, data):
            try:
                Path(data).write_text("x")
            except OSError as error:
                return [os.getpid(), type(error).__name__]
            return [os.getpid(), "written"]


    class Hog(Node):
        \"\"\"Asks for 4 GiB on "bomb"; else the worker's pid and the item.\"\"\"

        def process(self, data):
            if data == "bomb":
                return len(bytearray(4 << 30))
            return [os.getpid(), data]
    """
)


@pytest.fixture
def nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A module of node classes the worker imports: on `sys.path`, which it inherits (and which
    its sandbox lets it read)."""
    name = f"sandbox_nodes_{os.getpid()}_{time.monotonic_ns()}"
    (tmp_path / f"{name}.py").write_text(NODES)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield __import__(name)
    sys.modules.pop(name, None)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A directory for a policy's `write`."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def sandboxed(node: Node, **policy: Any) -> Pipeline:
    pipeline = Pipeline(f"sandboxed-{node.name}", runtime={"sandbox": policy})
    pipeline.add_node(node)
    return pipeline


def alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie would still)."""
    return Path(f"/proc/{pid}").exists()


def test_a_node_reads_and_writes_only_what_the_policy_allows(
    nodes: Any, tmp_path: Path, out: Path
) -> None:
    assert Path("/etc/passwd").read_text(), "the caller itself can read /etc/passwd"
    note, outside = out / "note.txt", tmp_path / "outside.txt"
    pipeline = sandboxed(nodes.Files(name="f"), write=[str(out)])
    with pipeline:
        denied, written, not_writable = asyncio.run(
            pipeline.run([["read", "/etc/passwd"], ["write", str(note)], ["write", str(outside)]])
        )
        worker = pipeline._worker.pid
    assert denied == "PermissionError"
    assert written == f"written by {worker}"
    assert note.read_text() == written, "the caller does not see what the node wrote"
    # The node's own module directory is readable (it is on `sys.path`), not writable.
    assert not_writable == "PermissionError"
    assert not outside.exists()
    assert worker != os.getpid()
    assert not alive(worker), "leaving `with` did not stop the worker"


def test_a_streaming_run_is_confined_too(nodes: Any) -> None:
    pipeline = sandboxed(nodes.Files(name="f"))

    async def collect() -> list[Any]:
        async with pipeline:
            return [item async for item in pipeline.process([["read", "/etc/passwd"]])]

    assert asyncio.run(collect()) == ["PermissionError"]


def test_a_node_sees_only_the_environment_variables_the_policy_names(
    nodes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMOTEMEDIA_TEST_SHOWN", "shown")
    monkeypatch.setenv("REMOTEMEDIA_TEST_HIDDEN", "hidden")
    assert "PATH" in os.environ
    pipeline = sandboxed(
        nodes.Env(name="e"), env=["REMOTEMEDIA_TEST_SHOWN", "REMOTEMEDIA_TEST_UNSET"]
    )
    with pipeline:
        (names, shown), (_, hidden) = asyncio.run(
            pipeline.run(["REMOTEMEDIA_TEST_SHOWN", "REMOTEMEDIA_TEST_HIDDEN"])
        )
    assert shown == "shown"
    assert hidden is None
    # Nothing else of the caller's (PATH, the test's REMOTEMEDIA_CACHE_DIR), nor a variable
    # named but unset, nor what the worker's start needed.
    assert names == ["REMOTEMEDIA_TEST_SHOWN"]


def test_the_worker_is_kept_while_the_policy_stays_and_replaced_when_it_changes(
    nodes: Any, out: Path
) -> None:
    target = str(out / "file")
    pipeline = sandboxed(nodes.PidWrite(name="p"), read=[str(out)])
    with pipeline:
        pid, first = asyncio.run(pipeline.run(target))
        handle = pipeline._worker_handle(_native.module())
        assert (pid, first) == (handle.pid, "PermissionError")
        assert pid != os.getpid()
        # An equal policy, even as a new dict, keeps the worker.
        pipeline.runtime["sandbox"] = {"read": [str(out)]}
        assert asyncio.run(pipeline.run(target)) == [pid, "PermissionError"]
        assert pipeline._worker_handle(_native.module()) is handle
        assert handle.pid == pid
        # A sandbox is entered once, for good: a policy that allows more needs a new worker,
        # and the old one is stopped.
        pipeline.runtime["sandbox"] = {"write": [str(out)]}
        new_pid, second = asyncio.run(pipeline.run(target))
        assert second == "written"
        assert new_pid != pid
        assert pipeline._worker_handle(_native.module()) is handle
        assert handle.pid == new_pid
        assert not alive(pid), "the worker of the old policy is still there"
        assert asyncio.run(pipeline.run(target)) == [new_pid, "written"]
    assert not alive(new_pid)


def test_dropping_or_adding_the_sandbox_replaces_the_worker(nodes: Any, out: Path) -> None:
    target = str(out / "file")
    pipeline = Pipeline("switch", runtime={"isolation": "process"})
    pipeline.add_node(nodes.PidWrite(name="p"))
    with pipeline:
        plain, written = asyncio.run(pipeline.run(target))
        assert written == "written"
        pipeline.runtime["sandbox"] = {}
        confined, denied = asyncio.run(pipeline.run(target))
        assert denied == "PermissionError"
        assert confined != plain
        assert not alive(plain)
        # The confined worker cannot be let out: without the sandbox, another one runs.
        del pipeline.runtime["sandbox"]
        again, written = asyncio.run(pipeline.run(target))
        assert written == "written"
        assert again not in (plain, confined)
        assert not alive(confined)
    assert not alive(again)


def test_a_sandboxed_pipeline_never_runs_on_the_python_executor(nodes: Any) -> None:
    pipeline = sandboxed(nodes.Files(name="f"))
    expected = (
        r"asks for runtime\.sandbox, but use_rust=False asks for the Python executor, which "
        r"runs nodes in this process: run with use_rust=True, or drop runtime\.sandbox"
    )
    with pytest.raises(UsageError, match=expected):
        asyncio.run(pipeline.run([["read", "/etc/passwd"]], use_rust=False))
    with pytest.raises(UsageError, match=expected):
        pipeline.process([["read", "/etc/passwd"]], use_rust=False)
    assert pipeline._worker is None, "a worker was started for a refused run"


class _Main(Node):
    def process(self, data: Any) -> Any:
        return data


_Main.__module__ = "__main__"  # as if the caller's script defined it


def test_a_node_of_the_callers_own_code_is_refused(nodes: Any) -> None:
    class Mine(Node):
        def process(self, data: Any) -> Any:
            return data

    for node in (Mine(name="mine"), _Main(name="main")):
        pipeline = sandboxed(node)
        words = (
            rf"node '{node.name}' is an object of this program \({type(node).__module__}\."
            rf"{type(node).__qualname__}\), which cannot run in a worker process "
            r"\(runtime\.sandbox\): define its class in an importable module"
        )
        with pytest.raises(UsageError, match=words):
            asyncio.run(pipeline.run([1]))

        async def stream(pipeline: Pipeline = pipeline) -> list[Any]:
            return [item async for item in pipeline.process([1])]

        with pytest.raises(UsageError, match=words):
            asyncio.run(stream())
        assert pipeline._worker is None, "a worker was started for a refused run"


def test_a_memory_bomb_is_a_node_error_naming_the_limit_and_the_pipeline_runs_again(
    nodes: Any,
) -> None:
    pipeline = sandboxed(nodes.Hog(name="h"), memory_mb=256)
    message = (
        "an allocation failed under the sandbox's memory limit "
        "(runtime.sandbox.memory_mb is 256 MiB)"
    )
    with pipeline:
        [[pid, _]] = asyncio.run(pipeline.run([1]))
        with pytest.raises(NodeError) as caught:
            asyncio.run(pipeline.run(["bomb"]))
        failed = caught.value
        assert (failed.node_id, failed.node_type, failed.error_type) == (
            "h",
            f"{nodes.__name__}:Hog",
            "MemoryError",
        )
        assert failed.message == message
        assert str(failed) == f'node "h" ({nodes.__name__}:Hog) failed: MemoryError: {message}'
        assert "bytearray(4 << 30)" in (failed.traceback or "")
        # The node's MemoryError left its worker sound: it runs the next items, and its limit
        # still holds.
        assert asyncio.run(pipeline.run([2, 3])) == [[pid, 2], [pid, 3]]
        with pytest.raises(NodeError, match=r"runtime\.sandbox\.memory_mb is 256 MiB"):
            asyncio.run(pipeline.run(["bomb"]))
        assert asyncio.run(pipeline.run(4)) == [pid, 4]
    assert not alive(pid)


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (
            {"netwrok": True},
            'runtime.sandbox.netwrok: unknown field "netwrok" (did you mean "network"?)',
        ),
        ({"memory_mb": 10}, "runtime.sandbox.memory_mb: must be at least 64, got 10"),
    ],
    ids=["misspelt-key", "memory-below-64"],
)
def test_an_invalid_policy_of_a_pipeline_built_in_code_is_a_manifest_error(
    nodes: Any, policy: dict[str, Any], problem: str
) -> None:
    pipeline = sandboxed(nodes.Files(name="f"), **policy)
    with pipeline, pytest.raises(ManifestError) as caught:
        asyncio.run(pipeline.run([["read", "/etc/passwd"]]))
    assert caught.value.problems == [problem]


def test_an_invalid_sandboxed_manifest_starts_no_worker(nodes: Any) -> None:
    pipeline = Pipeline("invalid", runtime={"isolation": "in_process", "sandbox": {}})
    pipeline.add_node(nodes.Files(name="f"))
    with pipeline:
        with pytest.raises(ManifestError) as caught:
            asyncio.run(pipeline.run([["read", "/etc/passwd"]]))
        assert caught.value.problems == [
            "runtime.sandbox: a sandbox confines a worker process, and runtime.isolation is "
            '"in_process" (remove it, or make it "process")'
        ]
        assert pipeline._worker is None or pipeline._worker.pid is None, (
            "a worker runs for a manifest that was refused"
        )
