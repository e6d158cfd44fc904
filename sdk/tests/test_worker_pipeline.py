"""A `Pipeline` isolated in a worker process (DESIGN §10) from the SDK: the worker is kept
across runs and replaced when it died, a crash in it leaves the caller's process and its other
pipelines running, and what cannot cross into a worker is refused."""

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

import remotemedia_runtime
from remotemedia import Node, Pipeline
from remotemedia.errors import NodeError, UsageError

NODES = textwrap.dedent(
    """
    import ctypes
    import os
    import time

    from remotemedia import Node


    class Pid(Node):
        def process(self, data):
            return [os.getpid(), data]


    class SegvOn(Node):
        def __init__(self, bad=2, **kwargs):
            super().__init__(**kwargs)
            self.bad = bad

        def process(self, data):
            if data == self.bad:
                ctypes.string_at(0)
            return data


    class Slow(Node):
        def process(self, data):
            time.sleep(0.05)
            return data * 10


    class Sleep(Node):
        def process(self, data):
            time.sleep(600)
    """
)


@pytest.fixture
def nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module of node classes the worker imports: on `sys.path`, which it inherits."""
    name = f"worker_nodes_{os.getpid()}_{time.monotonic_ns()}"
    (tmp_path / f"{name}.py").write_text(NODES)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def isolated(*nodes: dict[str, Any]) -> Pipeline:
    return Pipeline.from_manifest(
        {"version": "v1", "runtime": {"isolation": "process"}, "nodes": list(nodes)}
    )


def alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie would still)."""
    return Path(f"/proc/{pid}").exists()


def test_a_pipeline_keeps_its_worker_across_runs_until_closed(nodes: str) -> None:
    pipeline = isolated({"id": "p", "node_type": f"{nodes}:Pid"})
    first = asyncio.run(pipeline.run([1, 2]))
    second = asyncio.run(pipeline.run(3))
    pid = first[0][0]
    assert pid != os.getpid()
    assert [p for p, _ in first] == [pid, pid]
    assert second == [pid, 3]
    assert pipeline._worker.pid == pid
    pipeline.close()
    assert not alive(pid), "the closed pipeline's worker is still there"
    assert asyncio.run(pipeline.run(4))[1] == 4, "a closed pipeline runs again with a new worker"
    pipeline.close()


def test_process_streams_through_the_worker(nodes: str) -> None:
    pipeline = isolated(
        {"id": "s", "node_type": f"{nodes}:Slow"}, {"id": "p", "node_type": f"{nodes}:Pid"}
    )

    async def collect() -> list[Any]:
        return [item async for item in pipeline.process([1, 2, 3])]

    with pipeline:
        out = asyncio.run(collect())
    assert [data for _, data in out] == [10, 20, 30]
    assert {pid for pid, _ in out} != {os.getpid()}


def test_a_crash_leaves_the_caller_and_its_other_pipelines_running(nodes: str) -> None:
    crashing = isolated({"id": "c", "node_type": f"{nodes}:SegvOn", "params": {"bad": 2}})
    steady = isolated({"id": "s", "node_type": f"{nodes}:Slow"})
    in_process = Pipeline.from_manifest(
        {"version": "v1", "nodes": [{"id": "s", "node_type": f"{nodes}:Slow"}]}
    )

    async def both() -> list[Any]:
        assert await crashing.run([1]) == [1]  # starts its worker
        return await asyncio.gather(
            crashing.run([1, 2, 3]),
            steady.run(list(range(10))),
            in_process.run(list(range(10))),
            return_exceptions=True,
        )

    with crashing, steady:
        failed, steady_out, in_process_out = asyncio.run(both())
        assert isinstance(failed, NodeError), failed
        assert (failed.node_id, failed.node_type, failed.error_type) == (
            "c",
            f"{nodes}:SegvOn",
            "WorkerCrashed",
        )
        assert 'killed by SIGSEGV (segmentation fault) while node "c" ran' in str(failed)
        assert "Segmentation fault" in (failed.traceback or "")
        assert steady_out == [i * 10 for i in range(10)]
        assert in_process_out == [i * 10 for i in range(10)]
        # The dead worker was reaped (no zombie), and the next run gets a new one.
        assert crashing._worker.pid is None
        assert asyncio.run(crashing.run([5])) == [5]
        crashing_pid = crashing._worker.pid
        assert crashing_pid is not None
        assert alive(crashing_pid)
    assert not alive(crashing_pid)


def test_a_cancelled_run_stops_a_blocked_worker_and_the_next_run_replaces_it(nodes: str) -> None:
    pipeline = isolated({"id": "z", "node_type": f"{nodes}:Sleep"})

    async def cancel_it() -> None:
        task = asyncio.ensure_future(pipeline.run([1]))
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with pipeline:
        started = time.monotonic()
        asyncio.run(cancel_it())
        # A call blocked in C ignores interrupts: its worker is killed after a grace period
        # instead of waiting for the call.
        assert time.monotonic() - started < 30
        assert pipeline._worker.pid is None
    again = isolated({"id": "p", "node_type": f"{nodes}:Pid"})
    with again:
        assert asyncio.run(again.run(1))[1] == 1


def test_a_node_of_the_callers_own_code_is_refused(nodes: str) -> None:
    class Mine(Node):
        def process(self, data: Any) -> Any:
            return data

    pipeline = Pipeline("mine")
    pipeline.runtime["isolation"] = "process"
    pipeline.add_node(Mine(name="mine"))
    with pytest.raises(
        UsageError, match=r"node 'mine' is an object of this program .*worker process"
    ):
        asyncio.run(pipeline.run([1]))


def test_an_isolated_pipeline_never_runs_on_the_python_executor(nodes: str) -> None:
    pipeline = isolated({"id": "p", "node_type": f"{nodes}:Pid"})
    with pytest.raises(UsageError, match="isolation"):
        asyncio.run(pipeline.run([1], use_rust=False))


def test_a_pipeline_built_in_code_is_isolated_with_retry_and_timeout(nodes: str) -> None:
    module = __import__(nodes)
    pipeline = Pipeline("built", runtime={"isolation": "process"})
    pipeline.add_node(
        module.Pid(name="p"), retry={"max_attempts": 2, "backoff_ms": 5}, timeout_ms=500
    )
    entry = pipeline.to_manifest()["nodes"][0]
    assert entry["retry"] == {"max_attempts": 2, "backoff_ms": 5}
    assert entry["timeout_ms"] == 500

    async def use() -> tuple[Any, int | None]:
        async with pipeline:
            out = await pipeline.run(1)
            return out, pipeline._worker.pid

    (pid, data), worker = asyncio.run(use())
    assert (data, pid) == (1, worker)
    assert not alive(pid), "leaving `async with` did not stop the worker"
    with pytest.raises(TypeError, match="max_attempts"):
        pipeline.add_node(module.Pid(name="q"), retry=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_attempts must be from 1"):
        pipeline.add_node(module.Pid(name="q"), retry={"max_attempts": 0})
    with pytest.raises(TypeError, match="timeout_ms must be an integer"):
        pipeline.add_node(module.Pid(name="q"), timeout_ms=True)
    with pytest.raises(ValueError, match="unknown keys"):
        pipeline.add_node(module.Pid(name="q"), retry={"max_attempts": 2, "jitter": 1})


def test_a_child_forked_by_the_caller_leaves_the_callers_worker_alone(nodes: str) -> None:
    pipeline = isolated({"id": "p", "node_type": f"{nodes}:Pid"})
    with pipeline:
        pid = asyncio.run(pipeline.run(1))[0]
        child = os.fork()
        if child == 0:  # what the child's exit would do: stop "its" workers
            remotemedia_runtime.shutdown()
            os._exit(0)
        deadline = time.monotonic() + 30
        while os.waitpid(child, os.WNOHANG) == (0, 0):
            assert time.monotonic() < deadline, "the forked child did not exit"
            time.sleep(0.05)
        assert alive(pid), "the child stopped its parent's worker"
        assert asyncio.run(pipeline.run(2)) == [pid, 2]
