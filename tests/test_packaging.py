"""`pip install` of the repository's wheels puts the real `remotemedia-host` on the PATH.

The wheels of `host/` (the binary, maturin `bindings = "bin"`) and of the repository root (the
SDK and its native module) are built with the dev environment's pip, reusing the workspace's
`target/`, and installed into a fresh virtualenv; the binary found there must be the ELF
executable itself, and must run Python nodes of the SDK with the virtualenv it is installed in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness import DEV_PYTHON, REPO, SETUP_TIMEOUT, child_env, make_venv, node, write_manifest

BUILD_TIMEOUT = 1800
"""Seconds a wheel build may take: a cold release build of the workspace on 2 cores."""

RUN_TIMEOUT = 60


def _run(
    command: Sequence[str | Path], cwd: Path, timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Runs `command` in `cwd` without `VIRTUAL_ENV`."""
    return subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env({"PIP_DISABLE_PIP_VERSION_CHECK": "1"}),
        cwd=cwd,
        check=False,
    )


def _build_interpreter() -> str:
    """The Python the host wheel is built against: `make build`'s `$PYO3_PYTHON`, so that
    cargo redoes nothing of `make build` (`$PYO3_ENVIRONMENT_SIGNATURE`, which maturin sets
    too, is exported by the Makefile); else the dev environment's base interpreter."""
    return os.environ.get("PYO3_PYTHON") or os.path.realpath(sys._base_executable)


def _build_wheel(source: Path, out: Path, *build_args: str) -> Path:
    """Builds the wheel of `source` into `out` with the dev environment's pip and maturin
    (in place: cargo uses the workspace's `target/`)."""
    out.mkdir()
    settings = ["--config-settings", f"maturin.build-args={' '.join(build_args)}"]
    result = _run(
        [
            DEV_PYTHON,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            *(settings if build_args else []),
            "-w",
            out,
            source,
        ],
        out,
        BUILD_TIMEOUT,
    )
    assert result.returncode == 0, f"wheel of {source}:\n{result.stdout}\n{result.stderr}"
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the two wheels installed, as a user's `pip install` does."""
    root = tmp_path_factory.mktemp("packaging")
    # The root wheel first: its extension module makes cargo rebuild pyo3 (maturin sets
    # PYO3_BUILD_EXTENSION_MODULE); the host wheel, built as `make build` builds, then leaves
    # target/ as `make build` left it.
    # RustPython's parser crates declare a newer rustc than they need (see the Makefile).
    sdk = _build_wheel(REPO, root / "sdk", "--ignore-rust-version")
    host = _build_wheel(
        REPO / "host", root / "host", "--ignore-rust-version", "--interpreter", _build_interpreter()
    )
    venv = make_venv(root / "venv", with_pip=False)
    # With their dependencies, from the index (or pip's cache) as a user's install gets them.
    pip = [DEV_PYTHON, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q"]
    result = _run([*pip, sdk, host], root, SETUP_TIMEOUT)
    assert result.returncode == 0, f"install:\n{result.stdout}\n{result.stderr}"
    return venv


def test_the_installed_command_is_the_binary(installed: Path) -> None:
    command = installed / "bin" / "remotemedia-host"
    assert os.access(command, os.X_OK), command
    assert command.read_bytes()[:4] == b"\x7fELF", f"{command} is a script, not the binary"

    version = _run([command, "--version"], installed)
    assert version.returncode == 0, version
    assert version.stdout.startswith("remotemedia-host "), version
    assert "CPython 3." in version.stdout, version


def test_the_installed_binary_runs_sdk_nodes_with_its_own_virtualenv(
    installed: Path, tmp_path: Path
) -> None:
    manifest = write_manifest(
        tmp_path,
        [node("count", "Range", stop=3), node("py", "PassThroughNode", runtime_hint="python")],
    )
    # No --python-env, no VIRTUAL_ENV: the binary picks the virtualenv it is installed in.
    result = _run([installed / "bin" / "remotemedia-host", "run", manifest], tmp_path)
    assert result.returncode == 0, result
    assert result.stdout.split() == ["0", "1", "2"], result

    # The same binary in a virtualenv without the SDK fails: the SDK above came from the
    # binary's own virtualenv, not from the interpreter it embeds.
    bare = make_venv(tmp_path / "bare", with_pip=False)
    shutil.copy2(installed / "bin" / "remotemedia-host", bare / "bin")
    result = _run([bare / "bin" / "remotemedia-host", "run", manifest], tmp_path)
    assert result.returncode == 2, result
    assert "No module named 'remotemedia'" in result.stderr, result


def test_the_installed_binary_keeps_its_exit_codes(installed: Path, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, [node("m", "Multipy")])
    result = _run([installed / "bin" / "remotemedia-host", "validate", manifest], tmp_path)
    assert result.returncode == 2, result
    assert 'did you mean "Multiply"' in result.stderr, result
