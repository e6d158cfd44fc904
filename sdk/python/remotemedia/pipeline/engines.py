"""Which engine runs a pipeline, and running it there: the Rust executor in this process
through the native module `remotemedia_runtime`, or the pure-Python executor.

`run` and `process` are the one place the engine is chosen (`Pipeline.run` and
`Pipeline.process` call them).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from remotemedia import _native, executor
from remotemedia.errors import RemoteMediaError, UsageError
from remotemedia.pipeline.caller import CallerChain

if TYPE_CHECKING:
    from remotemedia.node import Node
    from remotemedia.pipeline.builder import Pipeline

logger = logging.getLogger("remotemedia")


def process(
    pipeline: Pipeline, stream: AsyncIterable[Any] | Iterable[Any] | None, *, use_rust: bool
) -> AsyncIterator[Any]:
    """`Pipeline.process`: the engine chosen as for `run`, outputs streamed as they come."""
    native = _native_for(pipeline, use_rust=use_rust)
    logger.info("pipeline %r runs on the %s engine", pipeline.name, "rust" if native else "python")
    if native is not None:
        return _process_native(native, pipeline, stream)
    bounds = executor.queue_bounds(pipeline.runtime)
    return executor.stream(pipeline.nodes, pipeline.edges, stream, **bounds)


async def run(pipeline: Pipeline, inputs: list[Any] | None, *, use_rust: bool) -> list[Any]:
    """THE place where a run's engine is chosen; every `Pipeline.run` goes through here.

    With `use_rust`, the native engine runs the pipeline if `remotemedia_runtime` imports;
    if it does not, why is logged at DEBUG and the Python executor runs it. A run that fails
    raises its error: it is never run again on the other engine.
    """
    native = _native_for(pipeline, use_rust=use_rust)
    logger.info("pipeline %r runs on the %s engine", pipeline.name, "rust" if native else "python")
    if native is None:
        return await _run_python(pipeline, inputs)
    return await _run_native(native, pipeline, inputs)


def _isolated(pipeline: Pipeline) -> bool:
    """Whether the pipeline's Python nodes must run in a worker process (DESIGN §10): it asks
    for one, or for a sandbox, which confines one."""
    return pipeline.runtime.get("isolation") == "process" or "sandbox" in pipeline.runtime


def _rustpython(pipeline: Pipeline) -> bool:
    """Whether the pipeline's Python nodes run in a RustPython VM of its own (DESIGN §10)."""
    return pipeline.runtime.get("python") == "rustpython"


def _apart(pipeline: Pipeline) -> bool:
    """Whether the pipeline's Python nodes run apart from this interpreter, in a worker process
    or a RustPython VM: only the native module can run it, it constructs every node from its
    manifest entry, and it keeps that process or VM across runs (`Pipeline._worker_handle`)."""
    return _isolated(pipeline) or _rustpython(pipeline)


def _apart_words(pipeline: Pipeline) -> tuple[str, str]:
    """How the pipeline asks to run apart, and where its nodes then run, in a message."""
    if _rustpython(pipeline):
        return 'runtime.python "rustpython"', "a RustPython VM"
    asked = "runtime.sandbox" if "sandbox" in pipeline.runtime else 'runtime.isolation "process"'
    return asked, "a worker process"


def _native_for(pipeline: Pipeline, *, use_rust: bool) -> Any:
    """The native module for this run, or None for the Python executor. A pipeline whose nodes
    run apart (in a worker process, in a RustPython VM) never runs on the Python executor,
    which runs nodes in this interpreter: it needs the native module (DESIGN §8)."""
    native = _native.module() if use_rust else None
    if native is None and _apart(pipeline):
        why = "use_rust=False asks for" if not use_rust else "the native module is missing, so only"
        fix = (
            "run with use_rust=True"
            if not use_rust
            else "install remotemedia with its native module"
        )
        asked, where = _apart_words(pipeline)
        runs = "in this process"
        if _rustpython(pipeline):  # a VM is in this process too: the executor lacks the VM
            runs = f"in this interpreter, not in {where}"
        raise UsageError(
            f"pipeline {pipeline.name!r} asks for {asked}, but {why} the Python executor, "
            f"which runs nodes {runs}: {fix}, or drop {asked.split()[0]}"
        )
    return native


async def _run_native(native: Any, pipeline: Pipeline, inputs: list[Any] | None) -> list[Any]:
    """Runs the pipeline in the Rust executor, in this process, on a worker thread (the call
    releases the interpreter lock). Nodes of classes no plugin registers run as the live
    instances the caller made. Cancelling the awaiting task cancels the run and waits for its
    cleanup before `CancelledError` propagates."""
    manifest = pipeline.to_manifest()
    live = _live_nodes(pipeline, manifest)
    worker = _worker(native, pipeline)
    # A run bounded by its few input items through Rust nodes is done in tens of microseconds,
    # less than handing it to a worker thread costs (~120 us here): the host decides, knowing
    # its built-in nodes, and runs it here; anything else comes back as None, not run.
    short: list[Any] | None = native._execute(manifest, inputs, live, None, True, worker)
    if short is not None:
        return short
    cancel = native.CancelHandle()
    loop = asyncio.get_running_loop()
    # A thread of the run's own, not one of the loop's default pool: a run waits for as long as
    # it lasts, and a few long runs must not hold every pool thread (the next call would wait).
    lane = _lane()
    work = asyncio.ensure_future(
        loop.run_in_executor(lane, native._execute, manifest, inputs, live, cancel, False, worker)
    )
    try:
        outputs: list[Any] = await asyncio.shield(work)
    except asyncio.CancelledError:
        cancel.cancel()
        with contextlib.suppress(RemoteMediaError):
            await work
        raise
    finally:
        lane.shutdown(wait=False)
    return outputs


def _lane() -> concurrent.futures.ThreadPoolExecutor:
    """A thread of one run's or stream's own, for its blocking calls (which release the
    interpreter lock). With the loop's default pool, six waiting streams held every thread on
    two cores, and the calls that would have let them go on waited for a thread: a deadlock."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="remotemedia")


def _worker(native: Any, pipeline: Pipeline) -> Any:
    """The pipeline's kept native handle (made on first use): of its worker process or its
    RustPython VM; None when its nodes run in this interpreter."""
    if not _apart(pipeline):
        return None
    return pipeline._worker_handle(native)


def _live_nodes(pipeline: Pipeline, manifest: dict[str, Any]) -> dict[str, Node]:
    """The nodes the native engine must use as they are: those of classes no plugin registers
    (written as `module:QualName`). A pipeline whose nodes run apart (a worker process, a
    RustPython VM) has none: every node is constructed there from its manifest entry, and a
    class that cannot be imported there (one defined in `__main__` or inside a function) is a
    `UsageError` naming the node."""
    if _apart(pipeline):
        asked, where = _apart_words(pipeline)
        runs = "cross into" if _rustpython(pipeline) else "run in"
        for spec, node in zip(manifest["nodes"], pipeline.nodes, strict=True):
            cls = type(node)
            if ":" in spec["node_type"] and (
                cls.__module__ == "__main__" or "<locals>" in cls.__qualname__
            ):
                raise UsageError(
                    f"node {spec['id']!r} is an object of this program "
                    f"({cls.__module__}.{cls.__qualname__}), which cannot {runs} {where} "
                    f"({asked}): define its class in an importable module"
                )
        return {}
    return {
        spec["id"]: node
        for spec, node in zip(manifest["nodes"], pipeline.nodes, strict=True)
        if ":" in spec["node_type"]
    }


async def _process_native(
    native: Any, pipeline: Pipeline, stream: AsyncIterable[Any] | Iterable[Any] | None
) -> AsyncIterator[Any]:
    """`process` on the Rust engine. A chain the caller can drive runs here, item by item
    (`remotemedia.pipeline.caller`); any other shape runs on the host's threads: items are
    pushed as the stream yields them and outputs pulled as the sinks emit them, each blocking
    call on one of the stream's own two threads (pushes on one, pulls on the other), never on
    the loop's shared pool."""
    manifest = pipeline.to_manifest()
    live = _live_nodes(pipeline, manifest)
    loop = asyncio.get_running_loop()
    pulls, pushes = _lane(), _lane()
    try:
        # The caller drives a chain's Python nodes in this interpreter: never those of a
        # pipeline whose nodes run apart.
        if stream is not None and not _apart(pipeline):
            plan = await loop.run_in_executor(pulls, native._caller_chain, manifest, live)
            chain = CallerChain.make(plan) if plan is not None else None
            if chain is not None:
                # Closed here, not left to the collector: when the consumer stops (`aclose`,
                # `break`), every node is cleaned up before that call returns.
                async with contextlib.aclosing(chain.run(stream)) as outputs:
                    async for item in outputs:
                        yield item
                return
        session = await loop.run_in_executor(
            pulls, native.Session, manifest, live, stream is not None, _worker(native, pipeline)
        )

        async def feed() -> None:
            try:
                if stream is not None:
                    items = stream if isinstance(stream, AsyncIterable) else _aiter(stream)
                    async for item in items:
                        # At once when the pipeline has room (no thread hand-off per item);
                        # else on the push thread, which waits for room.
                        fed = session.try_push([item])
                        if fed is None:
                            fed = await loop.run_in_executor(pushes, session.push, [item])
                        if not fed:
                            break
            finally:
                session.close()

        feeder = asyncio.ensure_future(feed())
        finished = False
        try:
            while True:
                pulled = loop.run_in_executor(pulls, session.pull)
                if not feeder.done():
                    await asyncio.wait((pulled, feeder), return_when=asyncio.FIRST_COMPLETED)
                failed = feeder.exception() if feeder.done() and not feeder.cancelled() else None
                if failed is not None:
                    # A bad input item, or the caller's stream raised: the run stops, and
                    # that is the error (the pull would otherwise wait for ever).
                    session.cancel()
                    with contextlib.suppress(RemoteMediaError):
                        await pulled
                    raise failed
                outputs = await pulled
                if outputs is None:
                    break
                for item in outputs:
                    yield item
            finished = True
            await feeder
        finally:
            if not finished:
                feeder.cancel()
                session.cancel()
                with contextlib.suppress(RemoteMediaError):
                    await loop.run_in_executor(pulls, session.wait)
    finally:
        pulls.shutdown(wait=False)
        pushes.shutdown(wait=False)


async def _aiter(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def _run_python(pipeline: Pipeline, inputs: list[Any] | None) -> list[Any]:
    """Runs the pipeline on the pure-Python executor; returns the outputs' items."""
    bounds = executor.queue_bounds(pipeline.runtime)
    pairs = await executor.execute(pipeline.nodes, pipeline.edges, inputs, **bounds)
    return [item for _, item in pairs]
