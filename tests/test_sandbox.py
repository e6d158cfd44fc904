"""`runtime.sandbox` in the binary (DESIGN §3, §10): the pipeline's Python nodes run in a worker
the kernel confines, deny by default. The escape table of issue 12 runs as plugin nodes
(`remotemedia_testshapes.escapes`): every attempt is denied inside node code, which catches
it and reports it, and the positive controls succeed; the host survives all of it and leaves
no process behind."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import node, run_host
from test_worker_isolation import tagged_processes

SECRET = "hunter2-do-not-leak"


def sandboxed(tmp_path: Path, nodes: list[dict[str, Any]], **sandbox: Any) -> Path:
    """Writes a manifest of `nodes` (a chain) under `runtime.sandbox`."""
    document = {"version": "v1", "runtime": {"sandbox": sandbox}, "nodes": nodes}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    return path


def run_sandboxed(path: Path, env_dir: Path, items: list[Any], **env: str) -> Any:
    """Runs the manifest with `items`, the secret in the host's environment; checks that no
    process of the run is left once the host exits (the tag reaches the worker only because
    the tests' policies name it)."""
    tag = uuid.uuid4().hex
    result = run_host(
        ["run", path, "--input", "-"],
        env_dir=env_dir,
        input_text="".join(json.dumps(i) + "\n" for i in items),
        env={"RM_SECRET": SECRET, "RM_TEST_RUN": tag, **env},
        timeout=60,
    )
    assert tagged_processes(tag) == [], f"processes left behind\n{result}"
    return result


def node_module(tmp_path: Path, module: str, cls: str, *process: str) -> None:
    """Writes `module.py` beside the manifest: a node class `cls` whose `process` runs the
    lines `process`."""
    body = "".join(f"        {line}\n" for line in process)
    (tmp_path / f"{module}.py").write_text(
        f"from remotemedia import Node\nclass {cls}(Node):\n    def process(self, data):\n{body}"
    )


@pytest.fixture
def listeners(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A TCP port and a Unix socket that listen, so that a connection fails only if the
    sandbox stops it."""
    tcp = socket.create_server(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX)
    unix_path = tmp_path / "listening.sock"
    unix.bind(str(unix_path))
    unix.listen()
    try:
        yield {"port": str(tcp.getsockname()[1]), "unix": str(unix_path)}
    finally:
        tcp.close()
        unix.close()


def test_the_escape_table(shapes_env: Path, tmp_path: Path, listeners: dict[str, str]) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    readable = tmp_path / "readable"
    readable.mkdir()
    (readable / "data.txt").write_text("to be read")
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("not yours")
    victim.chmod(0o600)
    datagrams = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    datagrams.bind(str(tmp_path / "datagrams.sock"))
    home = Path.home()
    attempts = [
        ("read_file", "/etc/passwd"),
        ("read_file", str(home / ".bashrc") if (home / ".bashrc").exists() else str(home)),
        ("list_dir", str(home)),
        ("list_dir", "/"),
        ("write_file", str(outside / "escaped.txt")),
        ("write_file", "/etc/remotemedia-escaped"),
        ("tcp_connect", listeners["port"]),
        ("tcp_bind", ""),
        ("unix_connect", listeners["unix"]),
        ("subprocess", "/bin/true"),
        ("os_system", str(allowed / "by-os-system")),
        ("libc_system", str(allowed / "by-libc-system")),
        ("fork", ""),
        ("environ", "RM_SECRET"),
        ("proc_environ", SECRET),
        ("parent_mem_file", ""),
        ("process_vm_readv", ""),
        ("ptrace", ""),
        ("signal_parent", ""),
        ("chmod", str(victim)),
        ("utime", str(victim)),
        ("truncate_board", ""),
        ("datagram_to", str(tmp_path / "datagrams.sock")),
        ("memfd", ""),
        ("shared_mmap", ""),
        ("renice_user", ""),
        ("grows_down", ""),
        ("big_buffer", ""),
        ("lease", str(readable / "data.txt")),
        ("chattr", str(readable / "data.txt")),
    ]
    controls = [
        ("write_and_read", str(allowed / "note.txt")),
        ("read_file", str(readable / "data.txt")),
        ("list_dir", str(readable)),
        ("environ", "RM_VISIBLE"),
    ]
    path = sandboxed(
        tmp_path,
        [node("escape", "Escape")],
        read=[str(readable)],
        write=[str(allowed)],
        env=["RM_TEST_RUN", "RM_VISIBLE"],
    )
    items = [{"what": w, "target": t} for w, t in attempts + controls]
    result = run_sandboxed(path, shapes_env, items, RM_VISIBLE="seen")
    assert result.code == 0, result
    outcomes = result.items()
    assert [o["what"] for o in outcomes] == [w for w, _ in attempts + controls]
    for (what, target), outcome in zip(attempts, outcomes, strict=False):
        assert outcome["denied"], f"{what} {target} was let through: {outcome}"
    for (what, target), outcome in zip(controls, outcomes[len(attempts) :], strict=True):
        assert not outcome["denied"], f"{what} {target} was denied: {outcome}"
    by_what = {(w, t): o for (w, t), o in zip(attempts, outcomes, strict=False)}
    # Denials are errors node code sees and may catch, never a killed worker.
    assert by_what["read_file", "/etc/passwd"]["error"].startswith("PermissionError")
    assert by_what["tcp_connect", listeners["port"]]["error"].startswith("PermissionError")
    assert by_what["fork", ""]["error"].startswith("PermissionError")
    assert by_what["environ", "RM_SECRET"]["error"] == "KeyError: 'RM_SECRET'"
    assert not (outside / "escaped.txt").exists()
    assert not (allowed / "by-os-system").exists()
    assert (allowed / "note.txt").read_text() == "inside the sandbox"
    assert SECRET not in result.stdout + result.stderr
    assert victim.stat().st_mode & 0o7777 == 0o600
    datagrams.setblocking(False)
    with pytest.raises(BlockingIOError):
        datagrams.recv(100)
    datagrams.close()


def test_a_memory_bomb_is_a_node_error_naming_memory(shapes_env: Path, tmp_path: Path) -> None:
    node_module(
        tmp_path,
        "bomb",
        "Bomb",
        "hoard = []",
        "while True:",
        "    hoard.append(bytearray(1 << 20))",
    )
    path = sandboxed(tmp_path, [node("bomb", "bomb:Bomb")], memory_mb=256, env=["RM_TEST_RUN"])
    result = run_sandboxed(path, shapes_env, [1], PYTHONPATH=str(tmp_path))
    assert result.code == 1, result
    assert 'node "bomb" (bomb:Bomb) failed: MemoryError' in result.stderr
    assert "runtime.sandbox.memory_mb is 256 MiB" in result.stderr


def test_cpu_time_past_cpu_s_ends_the_worker_naming_the_limit(
    shapes_env: Path, tmp_path: Path
) -> None:
    node_module(tmp_path, "spin", "Spin", "while True:", "    pass")
    path = sandboxed(tmp_path, [node("spin", "spin:Spin")], cpu_s=1, env=["RM_TEST_RUN"])
    result = run_sandboxed(path, shapes_env, [1], PYTHONPATH=str(tmp_path))
    assert result.code == 1, result
    assert "killed by SIGXCPU (CPU time limit) past the sandbox's runtime.sandbox.cpu_s" in (
        result.stderr
    )
    assert 'while node "spin" ran' in result.stderr


def test_a_path_that_does_not_exist_is_a_manifest_error(shapes_env: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    path = sandboxed(tmp_path, [node("escape", "Escape")], write=[str(missing)])
    for command in (["run", path, "--input", "-"], ["validate", path]):
        result = run_host(command, env_dir=shapes_env, input_text="", timeout=60)
        assert result.code == 2, result
        assert (
            f'runtime.sandbox.write[0]: "{missing}" does not exist (the sandbox opens every '
            "path it is given: create it first)"
        ) in result.stderr
        assert result.stdout == ""


def test_in_process_isolation_cannot_run_a_sandbox(shapes_env: Path, tmp_path: Path) -> None:
    path = sandboxed(tmp_path, [node("escape", "Escape")])
    result = run_host(
        ["run", path, "--input", "-", "--isolation", "in_process"],
        env_dir=shapes_env,
        input_text='{"what": "fork"}\n',
        timeout=60,
    )
    assert result.code == 2, result
    assert "--isolation in_process cannot run a sandboxed pipeline" in result.stderr


def test_validate_stays_outside_the_sandbox(shapes_env: Path, tmp_path: Path) -> None:
    path = sandboxed(tmp_path, [node("escape", "Escape")], memory_mb=64)
    result = run_host(["validate", path], env_dir=shapes_env, timeout=60)
    assert result.code == 0, result


def test_network_true_lets_node_code_connect(
    shapes_env: Path, tmp_path: Path, listeners: dict[str, str]
) -> None:
    path = sandboxed(tmp_path, [node("escape", "Escape")], network=True, env=["RM_TEST_RUN"])
    result = run_sandboxed(path, shapes_env, [{"what": "tcp_connect", "target": listeners["port"]}])
    assert result.code == 0, result
    assert result.items() == [{"what": "tcp_connect", "denied": False, "result": "None"}]


def test_the_host_environment_reaches_an_unsandboxed_worker_unchanged(
    shapes_env: Path, tmp_path: Path
) -> None:
    # The scrubbing is the sandbox's: a plain worker process sees the host's environment.
    document = {
        "version": "v1",
        "runtime": {"isolation": "process"},
        "nodes": [node("escape", "Escape")],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(document))
    result = run_sandboxed(path, shapes_env, [{"what": "environ", "target": "RM_SECRET"}])
    assert result.code == 0, result
    assert result.items()[0]["result"] == repr(SECRET)
    assert os.environ.get("RM_SECRET") is None


def test_a_sandboxed_worker_reads_the_discovery_cache_and_writes_none(
    shapes_env: Path, tmp_path: Path, discovery_cache: Path
) -> None:
    # `nodes` (in the host, unsandboxed) leaves the environment's cache; the worker's
    # discovery then reads it inside its sandbox, so no plugin module is imported there.
    assert run_host(["nodes"], env_dir=shapes_env, timeout=60).code == 0
    cached = sorted(discovery_cache.iterdir())
    path = sandboxed(tmp_path, [node("escape", "Escape")], env=["RM_TEST_RUN"])
    probe = {"what": "module_loaded", "target": "remotemedia_testshapes.plugin"}
    result = run_sandboxed(path, shapes_env, [probe])
    assert result.code == 0, result
    assert result.items() == [{"what": "module_loaded", "denied": False, "result": "False"}]
    # Without the cache (another directory), the worker scans, importing the plugin, and
    # writes nothing there.
    elsewhere = tmp_path / "no-cache-yet"
    elsewhere.mkdir()
    result = run_sandboxed(path, shapes_env, [probe], REMOTEMEDIA_CACHE_DIR=str(elsewhere))
    assert result.items() == [{"what": "module_loaded", "denied": False, "result": "True"}]
    assert list(elsewhere.iterdir()) == []
    assert sorted(discovery_cache.iterdir()) == cached
