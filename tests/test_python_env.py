"""Which Python the host starts, when, and with which virtualenv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import jsonl, node, pip_install, run_host, write_manifest

STARTING = "starting CPython"
"""What the host logs at debug level when it starts the interpreter."""

BUILTIN_ONLY = [
    node("src", "PassThroughNode"),  # the SDK's Python type too: the Rust one wins
    node("mul", "Multiply", factor=2),
    node("add", "Add", addend=1),
]


def linked_version() -> str:
    """`major.minor` of the Python running the tests: the dev environment's (`.venv`), which
    the host is built against and the test virtualenvs are made with."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def fake_venv(root: Path, version: str) -> Path:
    """A directory laid out as a virtualenv of `version` (nothing installed)."""
    major_minor = ".".join(version.split(".")[:2])
    (root / "lib" / f"python{major_minor}" / "site-packages").mkdir(parents=True)
    (root / "pyvenv.cfg").write_text(
        f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {version}\n"
    )
    return root


@pytest.mark.parametrize(
    ("args", "input_text"),
    [
        (["run", "{manifest}", "--input", "-"], "1\n2\n"),
        (["validate", "{manifest}"], None),
        (["graph", "{manifest}"], None),
    ],
)
def test_builtin_pipeline_never_starts_python(
    shapes_env: Path, tmp_path: Path, args: list[str], input_text: str | None
) -> None:
    manifest = str(write_manifest(tmp_path, BUILTIN_ONLY))
    argv = [manifest if a == "{manifest}" else a for a in args]
    result = run_host(argv, env_dir=shapes_env, input_text=input_text, env={"RUST_LOG": "debug"})
    assert result.code == 0, result
    assert STARTING not in result.stderr, result
    if args[0] == "run":
        assert result.items() == [3, 5]


def test_python_pipeline_starts_python(shapes_env: Path, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, [*BUILTIN_ONLY, node("s", "Scale")])
    result = run_host(
        ["run", manifest, "--input", "-"],
        env_dir=shapes_env,
        input_text="1\n",
        env={"RUST_LOG": "debug"},
    )
    assert result.code == 0, result
    assert result.items() == [6]
    assert STARTING in result.stderr, result


def test_builtin_pipeline_runs_with_a_virtualenv_without_the_sdk(
    bare_env: Path, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, BUILTIN_ONLY)
    result = run_host(["run", manifest, "--input", "-"], env_dir=bare_env, input_text="1\n2\n")
    assert result.code == 0, result
    assert result.items() == [3, 5]


def test_python_node_in_a_virtualenv_without_the_sdk_says_so(
    bare_env: Path, tmp_path: Path
) -> None:
    manifest = write_manifest(tmp_path, [node("s", "Scale")])
    result = run_host(["run", manifest, "--input", "-"], env_dir=bare_env, input_text="1\n")
    assert result.code == 2, result
    assert 'unknown node type "Scale"' in result.stderr
    assert "the remotemedia SDK is not installed" in result.stderr


COMMANDS = [
    pytest.param(["run", "{manifest}", "--input", "-"], id="run"),
    pytest.param(["validate", "{manifest}"], id="validate"),
    pytest.param(["nodes", "--json"], id="nodes"),
]


@pytest.mark.parametrize("args", COMMANDS)
def test_virtualenv_of_another_python_version_is_refused(tmp_path: Path, args: list[str]) -> None:
    linked = linked_version()
    other = "3.12.1" if linked != "3.12" else "3.11.9"
    venv = fake_venv(tmp_path / "venv", other)
    manifest = str(write_manifest(tmp_path, [node("s", "Scale")]))
    argv = [manifest if a == "{manifest}" else a for a in args]
    result = run_host(argv, env_dir=venv, input_text="1\n")
    assert result.code == 2, result
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: "), result
    assert f"Python {other}" in first
    assert f"Python {linked}" in first


@pytest.mark.parametrize("args", COMMANDS)
def test_python_env_that_is_not_a_virtualenv_is_refused(tmp_path: Path, args: list[str]) -> None:
    manifest = str(write_manifest(tmp_path, [node("s", "Scale")]))
    argv = [manifest if a == "{manifest}" else a for a in args]
    result = run_host(argv, env_dir=tmp_path / "missing", input_text="1\n")
    assert result.code == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("error: --python-env: "), result
    assert "is not a virtualenv" in result.stderr


def test_version_names_the_embedded_python() -> None:
    result = run_host(["--version"], env_dir=None)
    assert result.code == 0, result
    assert result.stdout.startswith("remotemedia-host ")
    assert f"CPython {linked_version()}" in result.stdout


@pytest.mark.parametrize(
    ("virtual_env", "flag", "expected"),
    [
        ("shapes", None, [2, 4]),  # the active virtualenv
        ("bare", "shapes", [2, 4]),  # --python-env wins over $VIRTUAL_ENV
    ],
)
def test_active_virtualenv_is_used_unless_a_flag_names_one(
    shapes_env: Path,
    bare_env: Path,
    tmp_path: Path,
    virtual_env: str,
    flag: str | None,
    expected: list[Any],
) -> None:
    envs = {"shapes": shapes_env, "bare": bare_env}
    manifest = write_manifest(tmp_path, [node("s", "Scale")])
    result = run_host(
        ["run", manifest, "--input", "-"],
        env_dir=envs[flag] if flag else None,
        input_text=jsonl([1, 2]),
        env={"VIRTUAL_ENV": str(envs[virtual_env])},
    )
    assert result.code == 0, result
    assert result.items() == expected


def test_another_python_first_on_path_does_not_lend_its_standard_library(
    shapes_env: Path, tmp_path: Path
) -> None:
    # A `python3` first on PATH whose prefix looks like a Python of the same version (the
    # landmark `lib/python3.X/os.py` is there) but holds no usable standard library: an
    # embedded CPython left to find its home from PATH would load it and fail to start.
    impostor = tmp_path / "impostor"
    (impostor / "bin").mkdir(parents=True)
    (impostor / "bin" / "python3").write_text("#!/bin/sh\nexit 1\n")
    (impostor / "bin" / "python3").chmod(0o755)
    stdlib = impostor / "lib" / f"python{linked_version()}"
    stdlib.mkdir(parents=True)
    (stdlib / "os.py").write_text("raise ImportError('the impostor standard library')\n")
    manifest = write_manifest(tmp_path, [node("s", "Scale", factor=3)])
    result = run_host(
        ["run", manifest, "--input", "-"],
        env_dir=shapes_env,
        input_text="2\n",
        env={"PATH": f"{impostor / 'bin'}:/usr/bin:/bin", "VIRTUAL_ENV": None},
    )
    assert (result.code, result.items()) == (0, [6]), result


@pytest.mark.parametrize(
    ("system_site", "found"), [(True, "AttributeError"), (False, "ModuleNotFoundError")]
)
def test_the_base_interpreters_packages_are_seen_only_where_the_virtualenv_includes_them(
    envs: Any, tmp_path: Path, system_site: bool, found: str
) -> None:
    # pip is installed in the base interpreter, not in this virtualenv (made without pip).
    venv = tmp_path / "venv"
    flags = ["--system-site-packages"] if system_site else []
    subprocess.run(
        [envs.shapes / "bin" / "python", "-m", "venv", "--without-pip", *flags, venv], check=True
    )
    pip_install(envs.shapes, venv, ["pluggy>=1.5", "tomli_w", envs.sdk_wheel])
    manifest = write_manifest(tmp_path, [node("n", "pip:NoSuchClass")])
    result = run_host(["validate", manifest], env_dir=venv)
    assert result.code == 2, result
    assert f'cannot import "pip:NoSuchClass": {found}' in result.stderr
