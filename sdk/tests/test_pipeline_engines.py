"""Which engine `Pipeline.run()` uses (DESIGN §8): the log line naming it, `use_rust=False`,
the fallback when the native module cannot be imported, no silent re-run of a failed pipeline,
cancellation of a running `run()`, a clean interpreter exit after a native run, and the
caller's logging configuration left as it was."""

from __future__ import annotations

import asyncio
import logging
import textwrap
import threading
from typing import Any, ClassVar

import pytest

import remotemedia
from _engines import HANG_GUARD, run_async, run_python_script
from remotemedia.errors import NodeError
from remotemedia.node import Node
from remotemedia.nodes import Add, Multiply, Range
from remotemedia.pipeline import Pipeline


def _engine_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "remotemedia" and "engine" in r.getMessage() and r.levelno == logging.INFO
    ]


def _arithmetic() -> Pipeline:
    pipeline = Pipeline("arith")
    pipeline.add_node(Multiply(3, name="mul"))
    pipeline.add_node(Add(1, name="add"))
    return pipeline


def test_run_logs_the_rust_engine_at_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="remotemedia"):
        assert run_async(_arithmetic().run([1, 2], use_rust=True)) == [4, 7]
    records = _engine_records(caplog)
    assert len(records) == 1
    assert "rust" in records[0].getMessage()
    assert "python" not in records[0].getMessage()
    assert "arith" in records[0].getMessage()


def test_use_rust_false_runs_and_logs_the_python_engine(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="remotemedia"):
        assert run_async(_arithmetic().run([1, 2], use_rust=False)) == [4, 7]
    records = _engine_records(caplog)
    assert len(records) == 1
    assert "python" in records[0].getMessage()
    assert "rust" not in records[0].getMessage()


def test_use_rust_false_runs_python_nodes_on_the_callers_thread() -> None:
    # The Python executor runs sync node code on the event loop's thread; the Rust engine on
    # its interpreter thread. Where the node ran tells which engine ran it.
    class Where(Node):
        threads: ClassVar[set[int]] = set()

        def process(self, data: Any) -> Any:
            Where.threads.add(threading.get_ident())
            return data

    pipeline = Pipeline("where")
    pipeline.add_node(Where(name="where"))
    run_async(pipeline.run([1], use_rust=False))
    assert Where.threads == {threading.get_ident()}
    Where.threads.clear()
    run_async(pipeline.run([1], use_rust=True))
    assert Where.threads
    assert threading.get_ident() not in Where.threads


def test_runtime_is_available_in_this_environment() -> None:
    assert remotemedia.runtime_available() is True


_BLOCKERS = {
    "none_in_sys_modules": """
        import sys
        sys.modules["remotemedia_runtime"] = None
    """,
    "finder_raising_import_error": """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "remotemedia_runtime" or name.startswith("remotemedia_runtime."):
                    raise ImportError("blocked by the test's finder")
                return None

        sys.meta_path.insert(0, Block())
    """,
}

_FALLBACK_RUN = """
    import asyncio, logging
    logging.basicConfig(level=logging.DEBUG, format="LOG %(levelname)s %(name)s %(message)s")
    import remotemedia
    from remotemedia.pipeline import Pipeline
    from remotemedia.nodes import Add, Multiply

    try:
        import remotemedia_runtime
    except ImportError as error:
        reason = str(error)
    print("available", remotemedia.runtime_available())
    print("reason", reason)
    pipeline = Pipeline("fallback")
    pipeline.add_node(Multiply(2, name="mul"))
    pipeline.add_node(Add(5, name="add"))
    print("outputs", asyncio.run(pipeline.run([1, 2, 3], use_rust=True)))
"""


@pytest.mark.parametrize("blocker", sorted(_BLOCKERS))
def test_run_falls_back_to_python_when_the_native_module_cannot_be_imported(
    blocker: str,
) -> None:
    done = run_python_script(textwrap.dedent(_BLOCKERS[blocker]) + textwrap.dedent(_FALLBACK_RUN))
    assert done.returncode == 0, done.stderr
    available, reason, outputs = done.stdout.splitlines()
    assert available == "available False"
    assert outputs == "outputs [7, 9, 11]"
    reason = reason.removeprefix("reason ")
    if blocker == "finder_raising_import_error":
        assert reason == "blocked by the test's finder"
    lines = done.stderr.splitlines()
    debug = [line for line in lines if line.startswith("LOG DEBUG remotemedia ")]
    assert any(line.endswith(reason) for line in debug), done.stderr
    info = [line for line in lines if line.startswith("LOG INFO remotemedia ")]
    assert len(info) == 1, done.stderr
    assert "python" in info[0]
    assert "rust" not in info[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("use_rust", [True, False])
def test_failed_run_is_raised_and_never_run_again(use_rust: bool) -> None:
    class FailsOnTwo(Node):
        seen: ClassVar[list[Any]] = []

        def process(self, data: int) -> int:
            FailsOnTwo.seen.append(data)
            if data == 2:
                raise RuntimeError("two")
            return data

    pipeline = Pipeline("fails")
    pipeline.add_node(FailsOnTwo(name="fails"))
    with pytest.raises(NodeError) as caught:
        run_async(pipeline.run([1, 2, 3, 4], use_rust=use_rust))
    assert caught.value.node_id == "fails"
    assert caught.value.error_type == "RuntimeError"
    assert caught.value.message == "two"
    assert FailsOnTwo.seen == [1, 2]


def test_cancelling_a_running_run_raises_cancelled_error_after_cleanup(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Sink(Node):
        def __init__(self, name: str | None = None) -> None:
            super().__init__(name=name)
            self.started = threading.Event()
            self.cleaned = False

        def process(self, data: int) -> None:
            self.started.set()

        def cleanup(self) -> None:
            self.cleaned = True

    pipeline = Pipeline("endless")
    pipeline.add_node(Range(10**15, name="src"))
    sink = pipeline.add_node(Sink(name="sink"))
    assert isinstance(sink, Sink)

    async def main() -> asyncio.Task[Any]:
        task = asyncio.ensure_future(pipeline.run(use_rust=True))
        loop = asyncio.get_running_loop()
        started = await loop.run_in_executor(None, sink.started.wait, HANG_GUARD)
        assert started, "the pipeline never reached its Python node"
        assert not task.done()
        task.cancel()
        await asyncio.wait({task}, timeout=HANG_GUARD)
        return task

    with caplog.at_level(logging.INFO, logger="remotemedia"):
        task = asyncio.run(main())
    assert task.done(), "the cancelled run did not stop"
    assert task.cancelled()
    with pytest.raises(asyncio.CancelledError):
        task.result()
    assert sink.cleaned
    assert [r.getMessage() for r in _engine_records(caplog)] == [
        "pipeline 'endless' runs on the rust engine"
    ]


def test_interpreter_exits_cleanly_after_a_native_run_with_a_python_node() -> None:
    done = run_python_script(
        """
        import asyncio
        from remotemedia.node import Node
        from remotemedia.nodes import Multiply
        from remotemedia.pipeline import Pipeline

        class Negate(Node):
            def process(self, data):
                return -data

        pipeline = Pipeline("exit")
        pipeline.add_node(Multiply(2, name="mul"))
        pipeline.add_node(Negate(name="neg"))
        print(asyncio.run(pipeline.run([1, 2, 3], use_rust=True)), flush=True)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[-2, -4, -6]\n"
    assert "Traceback" not in done.stderr


def test_interpreter_exits_cleanly_after_a_cancelled_native_run() -> None:
    done = run_python_script(
        """
        import asyncio, threading
        from remotemedia.node import Node
        from remotemedia.nodes import Range
        from remotemedia.pipeline import Pipeline

        started = threading.Event()

        class Drop(Node):
            def process(self, data):
                started.set()

        async def main():
            pipeline = Pipeline("cancel")
            pipeline.add_node(Range(10**15, name="src"))
            pipeline.add_node(Drop(name="drop"))
            task = asyncio.ensure_future(pipeline.run())
            await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                print("cancelled", flush=True)

        asyncio.run(main())
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "cancelled\n"
    assert "Traceback" not in done.stderr


def test_a_native_run_with_a_python_node_leaves_the_callers_logging_alone() -> None:
    # A fresh interpreter: the host's interpreter thread starts in it with this run.
    done = run_python_script(
        """
        import asyncio, logging
        from remotemedia.node import Node
        from remotemedia.pipeline import Pipeline

        class Logs(Node):
            def process(self, data):
                logging.getLogger("caller.node").warning("item %s", data)
                return data

        root = logging.getLogger()
        before = (root.level, list(root.handlers))
        pipeline = Pipeline("logs")
        pipeline.add_node(Logs(name="logs"))
        print(asyncio.run(pipeline.run([1, 2], use_rust=True)), flush=True)
        print((root.level, list(root.handlers)) == before, flush=True)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[1, 2]\nTrue\n"
