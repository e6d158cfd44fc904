"""A run with Python nodes stops promptly, and cleans up, on an error elsewhere, on an
interrupt, and when the reader of its output goes away."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness import LINE_TIMEOUT, child_env, host_command, live_host, node, run_host, write_manifest


def events(log: Path) -> list[str]:
    return log.read_text().splitlines()


def test_error_downstream_stops_a_sleeping_python_source(shapes_env: Path, tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    nodes = [
        # Left alone, the source would sleep 2 x 60 s: a run that waits for it times out.
        node("tick", "Ticker", count=3, pause=60),
        node("pass", "PassThrough"),
        node("life", "AsyncLifecycle", log=str(log)),
        node("boom", "FailOn", bad=0),
    ]
    result = run_host(["run", write_manifest(tmp_path, nodes)], env_dir=shapes_env, timeout=40)
    assert result.code == 1, result
    assert result.stderr.startswith('error: node "boom" (FailOn) failed: ValueError: bad item 0')
    assert events(log) == ["initialize life", "process:0 life", "cleanup life"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_cancels_python_nodes_and_cleans_up(
    shapes_env: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    log = tmp_path / "events.log"
    nodes = [
        node("tick", "Ticker", count=3, pause=60),
        node("first", "SyncLifecycle", log=str(log)),
        node("pass", "PassThrough"),
        node("last", "AsyncLifecycle", log=str(log)),
    ]
    with live_host(["run", write_manifest(tmp_path, nodes)], shapes_env, tmp_path) as host:
        assert host.next_line()[1] == "0\n"  # every node is running
        host.process.send_signal(stop)
        assert host.exit_code() == 130
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "error: pipeline cancelled" in stderr
    for node_id in ("first", "last"):
        mine = [e.split()[0] for e in events(log) if e.endswith(f" {node_id}")]
        assert mine == ["initialize", "process:0", "cleanup"], events(log)


def test_closed_output_ends_the_run_quietly_and_cleans_up(shapes_env: Path, tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    nodes = [
        node("tick", "Ticker", count=100_000_000),
        node("life", "SyncLifecycle", log=str(log)),
        node("scale", "Scale", factor=2),
    ]
    process = subprocess.Popen(
        host_command(["run", write_manifest(tmp_path, nodes)], shapes_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert process.stdout is not None
        assert [process.stdout.readline() for _ in range(3)] == ["0\n", "2\n", "4\n"]
        process.stdout.close()  # as `| head -3` does
        _, stderr = process.communicate(timeout=LINE_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=LINE_TIMEOUT)
    assert process.returncode == 0, stderr
    lines = events(log)
    assert lines[0] == "initialize life"
    assert lines[-1] == "cleanup life"
    assert len(lines) < 100_000_000


BUSY = '''
from remotemedia import Node


class Busy(Node):
    """Loops forever in pure Python on its first item, holding the interpreter."""

    def __init__(self, log: str, name=None):
        super().__init__(name=name)
        self.log = log

    def note(self, word):
        with open(self.log, "a") as f:
            f.write(word + "\\n")

    def process(self, data):
        self.note("busy")
        while True:
            pass

    def cleanup(self):
        self.note("cleanup")


class AsyncBusy(Busy):
    async def process(self, data):
        self.note("busy")
        while True:
            pass
'''


def wait_for_line(path: Path, line: str) -> None:
    """Waits (at most LINE_TIMEOUT seconds) until `path` holds `line`."""
    deadline = time.monotonic() + LINE_TIMEOUT
    while not (path.exists() and line in events(path)):
        assert time.monotonic() < deadline, f"{path} never got {line!r}"
        time.sleep(0.02)


@pytest.mark.parametrize("node_type", ["Busy", "AsyncBusy"])
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_interrupts_busy_python_code_and_cleans_up(
    shapes_env: Path, tmp_path: Path, node_type: str, stop: signal.Signals
) -> None:
    (tmp_path / "busy.py").write_text(BUSY)
    log = tmp_path / "events.log"
    manifest = write_manifest(tmp_path, [node("b", f"busy:{node_type}", log=str(log))])
    process = subprocess.Popen(
        host_command(["run", manifest, "--input", "-"], shapes_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env({"PYTHONPATH": str(tmp_path)}),
    )
    try:
        assert process.stdin is not None
        process.stdin.write("1\n")
        process.stdin.flush()
        wait_for_line(log, "busy")
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=LINE_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=LINE_TIMEOUT)
    assert process.returncode == 130, stderr
    assert events(log) == ["busy", "cleanup"]
