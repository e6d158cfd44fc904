"""Helpers of the end-to-end tests: building virtualenvs, writing manifests, running the host.

Every child process gets a timeout, so a hang fails a test instead of stalling CI. Children
never inherit `VIRTUAL_ENV`: each test names its environment with `--python-env`, or sets the
variable itself.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SDK = REPO / "sdk"
PLUGINS = TESTS / "fixtures" / "plugins"
DEV_PYTHON = REPO / ".venv" / "bin" / "python"

SETUP_TIMEOUT = 300
"""Seconds a virtualenv or pip step may take (a cold pip cache downloads pluggy)."""


def host_binary() -> Path:
    """The host under test: `$REMOTEMEDIA_HOST`, else `.venv/bin/remotemedia-host`."""
    explicit = os.environ.get("REMOTEMEDIA_HOST")
    return Path(explicit) if explicit else REPO / ".venv" / "bin" / "remotemedia-host"


def child_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment of a child process: ours without `VIRTUAL_ENV`, plus `extra`, where
    `None` removes a variable."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _check(command: Sequence[str | Path]) -> None:
    result = subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT,
        env=child_env({"PIP_DISABLE_PIP_VERSION_CHECK": "1"}),
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{result.stdout}\n{result.stderr}")


def make_venv(path: Path, *, with_pip: bool) -> Path:
    """Creates a virtualenv of the dev environment's Python version (the host links it)."""
    python = DEV_PYTHON if DEV_PYTHON.exists() else Path(sys.executable)
    _check([python, "-m", "venv", *([] if with_pip else ["--without-pip"]), path])
    return path


def build_wheels(builder: Path, sources: Sequence[Path], scratch: Path) -> dict[str, Path]:
    """Builds a wheel of each source folder with `builder`'s pip, by folder name.

    The build runs on a copy of each folder: an in-tree build would leave `build/` and
    `*.egg-info` in the repository.
    """
    wheels: dict[str, Path] = {}
    for source in sources:
        copy = scratch / "src" / source.name
        out = scratch / "wheels" / source.name
        shutil.copytree(
            source, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
        )
        pip = [builder / "bin" / "python", "-m", "pip"]
        _check([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out, copy])
        (wheels[source.name],) = out.glob("*.whl")
    return wheels


def pip_install(pip_venv: Path, target: Path, packages: Sequence[str | Path]) -> None:
    """Installs into `target` with the pip of `pip_venv` (`target` may have no pip)."""
    python = pip_venv / "bin" / "python"
    target_python = target / "bin" / "python"
    _check(
        [python, "-m", "pip", "--python", target_python, "install", "-q", "--no-deps", *packages]
    )


@dataclass(frozen=True, repr=False)
class Result:
    """What a host run gave."""

    code: int
    stdout: str
    stderr: str

    def items(self) -> list[Any]:
        """The output items: stdout's JSON lines."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def host_command(args: Sequence[str | Path], env_dir: Path | None) -> list[str]:
    """The command line of a host run; `env_dir` goes to `--python-env`."""
    command = [str(host_binary()), *(str(a) for a in args)]
    if env_dir is not None:
        command += ["--python-env", str(env_dir)]
    return command


def run_host(
    args: Sequence[str | Path],
    *,
    env_dir: Path | None,
    input_text: str | None = None,
    timeout: float = 60,
    env: Mapping[str, str | None] | None = None,
) -> Result:
    """Runs `remotemedia-host ARGS [--python-env ENV_DIR]` to its end.

    Args:
        args: The command and its arguments.
        env_dir: The virtualenv for `--python-env`; `None` passes no flag.
        input_text: Written to the host's stdin (`--input -`); `None` gives an empty stdin.
        timeout: Seconds before the host is killed and the test fails.
        env: Variables set in the child's environment (`None`: removed).

    Returns:
        The exit status, stdout and stderr.
    """
    completed = subprocess.run(
        host_command(args, env_dir),
        input=input_text or "",
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(env),
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


LINE_TIMEOUT = 20.0
"""Seconds to wait for one output line before the test fails (not a speed bound)."""


class LiveHost:
    """A running host whose stdout lines are timestamped as they arrive."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[tuple[float, str | None]] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line))
        self.lines.put((time.monotonic(), None))

    def next_line(self) -> tuple[float, str | None]:
        """The next stdout line and when it arrived; `None` at the end of stdout."""
        try:
            return self.lines.get(timeout=LINE_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no output line within {LINE_TIMEOUT} s")

    def exit_code(self) -> int:
        """Waits for the host to end; its exit status."""
        return self.process.wait(timeout=LINE_TIMEOUT)

    def send(self, text: str) -> None:
        """Writes `text` to the host's stdin at once."""
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def close_input(self) -> None:
        """Ends the host's input."""
        assert self.process.stdin is not None
        self.process.stdin.close()


@contextmanager
def live_host(
    args: Sequence[str | Path], env_dir: Path, scratch: Path, **env: str | None
) -> Iterator[LiveHost]:
    """Starts the host with pipes on stdin and stdout (stderr to a file in `scratch`); kills
    it if the test ends early."""
    with (scratch / "stderr.txt").open("w+") as stderr:
        process = subprocess.Popen(
            host_command(args, env_dir),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=child_env(env),
        )
        host = LiveHost(process)
        try:
            yield host
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=LINE_TIMEOUT)
            host.reader.join(timeout=LINE_TIMEOUT)  # at the end of stdout, before closing it
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


def node(node_id: str, node_type: str, **params: Any) -> dict[str, Any]:
    """A manifest node entry; `runtime_hint` may be passed among `params`."""
    entry: dict[str, Any] = {"id": node_id, "node_type": node_type}
    if "runtime_hint" in params:
        entry["runtime_hint"] = params.pop("runtime_hint")
    if params:
        entry["params"] = params
    return entry


def write_manifest(
    directory: Path,
    nodes: Sequence[dict[str, Any]],
    connections: Sequence[tuple[str, str]] | None = None,
) -> Path:
    """Writes a v1 manifest of `nodes` (a chain in list order unless `connections` is given)."""
    document: dict[str, Any] = {
        "version": "v1",
        "metadata": {"name": "e2e"},
        "nodes": list(nodes),
    }
    if connections is not None:
        document["connections"] = [{"from": a, "to": b} for a, b in connections]
    path = directory / "manifest.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def jsonl(items: Sequence[Any]) -> str:
    """Items as JSON lines."""
    return "".join(json.dumps(item) + "\n" for item in items)
