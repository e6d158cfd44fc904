"""Helpers shared by the engine tests: running both engines, subprocesses, and a node class
that a manifest can name by import path (`_engines:Recorder`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, ClassVar

import remotemedia_runtime
from remotemedia import executor
from remotemedia.node import Node
from remotemedia.pipeline import Pipeline

HANG_GUARD = 60.0
"""Seconds after which a run or a subprocess counts as hung: a guard, never a speed check."""

REPO = Path(__file__).resolve().parents[2]


def run_async(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Runs a coroutine to its end in a fresh event loop, failing if it hangs."""

    async def guarded() -> Any:
        return await asyncio.wait_for(coroutine, timeout=HANG_GUARD)

    return asyncio.run(guarded())


def rust_outputs(manifest: dict[str, Any], inputs: list[Any] | None) -> list[Any]:
    """The Rust engine's outputs (all sinks, flat), through the native module."""
    return remotemedia_runtime._execute(manifest, inputs)


def python_pairs(manifest: dict[str, Any], inputs: list[Any] | None) -> list[tuple[str, Any]]:
    """The Python executor's `(sink id, item)` outputs for a manifest."""
    pipeline = Pipeline.from_manifest(manifest)
    bounds = executor.queue_bounds(pipeline.runtime)
    return run_async(executor.execute(pipeline.nodes, pipeline.edges, inputs, **bounds))


def run_python_script(source: str, timeout: float = HANG_GUARD) -> subprocess.CompletedProcess[str]:
    """Runs `source` (dedented) in a fresh interpreter of this virtualenv; raises
    `subprocess.TimeoutExpired` if it has not exited after `timeout` seconds (a hang guard)."""
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
        check=False,
    )


class Recorder(Node):
    """A node of an importable module: records the process id and thread of every item it
    sees in the class-level `seen` list, and forwards the item."""

    seen: ClassVar[list[tuple[int, int, Any]]] = []

    def process(self, data: Any) -> Any:
        Recorder.seen.append((os.getpid(), threading.get_ident(), data))
        return data
