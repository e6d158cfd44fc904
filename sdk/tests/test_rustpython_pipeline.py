"""What the SDK decides for a pipeline with `runtime.python: "rustpython"` (DESIGN §8, §10)
before any native code runs: it never runs on the Python executor, the caller's own node
objects cannot cross into its VM, and its native handle (which holds the VM) is kept across
runs. The native module is stood in for by a recorder: these are the SDK's decisions only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from remotemedia import Node, Pipeline, _native
from remotemedia.errors import UsageError


class Echo(Node):
    """A node of an importable module: the VM imports it by its manifest entry."""

    def process(self, data: Any) -> Any:
        return data


class _Main(Node):
    def process(self, data: Any) -> Any:
        return data


_Main.__module__ = "__main__"  # as if the caller's script defined it


class FakeNative:
    """Records what the engine asks of the native module; a short run returns its inputs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def WorkerHandle(self) -> object:
        handle = object()
        self.calls.append(("WorkerHandle", handle))
        return handle

    def _execute(self, manifest: Any, inputs: Any, live: Any, *rest: Any) -> list[Any]:
        self.calls.append(("_execute", (manifest, live, rest[-1])))
        return list(inputs or [])

    def _caller_chain(self, *args: Any) -> None:
        self.calls.append(("_caller_chain", args))

    def Session(self, manifest: Any, live: Any, streamed: bool, worker: Any) -> FakeSession:
        self.calls.append(("Session", (manifest, live, worker)))
        return FakeSession()


class FakeSession:
    """A stream that gives back what was pushed, once the input has ended."""

    def __init__(self) -> None:
        self.pushed: list[Any] = []
        self.closed = False

    def try_push(self, items: list[Any]) -> bool:
        self.pushed += items
        return True

    def close(self) -> None:
        self.closed = True

    def pull(self) -> list[Any] | None:
        if not self.closed:
            return []
        outputs, self.pushed = self.pushed, []
        return outputs or None


@pytest.fixture
def native(monkeypatch: pytest.MonkeyPatch) -> FakeNative:
    fake = FakeNative()
    monkeypatch.setattr(_native, "module", lambda: fake)
    return fake


def in_a_vm(node: Node) -> Pipeline:
    pipeline = Pipeline(f"vm-{node.name}", runtime={"python": "rustpython"})
    pipeline.add_node(node)
    return pipeline


async def drain(pipeline: Pipeline, **options: Any) -> list[Any]:
    return [item async for item in pipeline.process([1], **options)]


def test_a_rustpython_pipeline_never_runs_on_the_python_executor() -> None:
    pipeline = in_a_vm(Echo(name="e"))
    expected = (
        r"pipeline 'vm-e' asks for runtime\.python \"rustpython\", but use_rust=False asks for "
        r"the Python executor, which runs nodes in this interpreter, not in a RustPython VM: "
        r"run with use_rust=True, or drop runtime\.python$"
    )
    with pytest.raises(UsageError, match=expected):
        asyncio.run(pipeline.run([1], use_rust=False))
    with pytest.raises(UsageError, match=expected):
        pipeline.process([1], use_rust=False)
    assert pipeline._worker is None


def test_without_the_native_module_a_rustpython_pipeline_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_native, "module", lambda: None)
    pipeline = in_a_vm(Echo(name="e"))
    with pytest.raises(UsageError, match="the native module is missing") as caught:
        asyncio.run(pipeline.run([1]))
    assert "install remotemedia with its native module, or drop runtime.python" in str(caught.value)


def test_a_node_of_the_callers_own_code_cannot_cross_into_the_vm(native: FakeNative) -> None:
    class Mine(Node):
        def process(self, data: Any) -> Any:
            return data

    for node in (Mine(name="mine"), _Main(name="main")):
        pipeline = in_a_vm(node)
        words = (
            rf"node '{node.name}' is an object of this program \({type(node).__module__}\."
            rf"{type(node).__qualname__}\), which cannot cross into a RustPython VM "
            r"\(runtime\.python \"rustpython\"\): define its class in an importable module"
        )
        with pytest.raises(UsageError, match=words):
            asyncio.run(pipeline.run([1]))
        with pytest.raises(UsageError, match=words):
            asyncio.run(drain(pipeline))
        assert pipeline._worker is None
    assert native.calls == [], "native code was reached for a refused pipeline"


def test_the_vm_handle_is_kept_across_runs_and_no_node_goes_live(native: FakeNative) -> None:
    pipeline = in_a_vm(Echo(name="e"))
    assert asyncio.run(pipeline.run([1])) == [1]
    assert asyncio.run(pipeline.run([2])) == [2]
    made = [handle for name, handle in native.calls if name == "WorkerHandle"]
    runs = [args for name, args in native.calls if name == "_execute"]
    assert len(made) == 1
    assert [(live, worker) for _, live, worker in runs] == [({}, made[0]), ({}, made[0])]
    assert runs[0][0]["nodes"][0]["node_type"] == f"{__name__}:Echo"


def test_an_in_process_cpython_pipeline_passes_its_node_live_and_keeps_no_handle(
    native: FakeNative,
) -> None:
    pipeline = Pipeline("here")
    node = pipeline.add_node(Echo(name="e"))
    assert asyncio.run(pipeline.run([1])) == [1]
    assert native.calls == [("_execute", (pipeline.to_manifest(), {"e": node}, None))]


def test_a_stream_runs_in_the_vm_never_on_a_chain_the_caller_drives(native: FakeNative) -> None:
    # A chain the caller drives would run the Python nodes in this interpreter.
    pipeline = in_a_vm(Echo(name="e"))
    assert asyncio.run(drain(pipeline)) == [1]
    assert [name for name, _ in native.calls] == ["WorkerHandle", "Session"]
    assert native.calls[1][1][1:] == ({}, native.calls[0][1])
