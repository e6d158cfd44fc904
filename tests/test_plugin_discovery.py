"""Node types from pip-installed plugins: listing, providers, broken and clashing plugins."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Envs

from harness import jsonl, make_venv, node, pip_install, run_host, write_manifest

TESTSHAPES = "remotemedia-testshapes"
NODE_KEYS = {"node_type", "provider", "runtime", "doc", "source", "params"}


def listing(env_dir: Path) -> tuple[list[dict[str, Any]], str]:
    """`nodes --json` in `env_dir`: the parsed array and stderr."""
    result = run_host(["nodes", "--json"], env_dir=env_dir)
    assert result.code == 0, result
    return json.loads(result.stdout), result.stderr


def entries(types: list[dict[str, Any]], node_type: str) -> list[dict[str, Any]]:
    return [entry for entry in types if entry["node_type"] == node_type]


@pytest.mark.parametrize(
    ("node_type", "doc"),
    [
        # The first docstring paragraph, its lines joined.
        ("Scale", "Multiplies each number by a factor, one output per input."),
        ("KeepEven", "Passes even numbers and drops odd ones (returns None)."),
        # A class's `node_type` attribute names it, not the class name (Countdown).
        ("CountDown", "Emits n, n-1, ..., 1 for an input n: zero or more outputs per item."),
        ("RunningSum", "Streaming: emits the running sum after each input."),
        ("Ticker", "Streaming source: yields `count` numbers from `start`, pausing between them."),
    ],
)
def test_plugin_types_are_listed_with_provider_runtime_and_doc(
    shapes_env: Path, node_type: str, doc: str
) -> None:
    types, _ = listing(shapes_env)
    [entry] = entries(types, node_type)
    assert {k: entry[k] for k in ("node_type", "provider", "runtime", "doc")} == {
        "node_type": node_type,
        "provider": TESTSHAPES,
        "runtime": "python",
        "doc": doc,
    }


@pytest.mark.parametrize(
    ("node_type", "source", "params"),
    [
        (
            "Gain",
            False,
            [
                {"name": "factor", "kind": "number", "required": True},
                {"name": "offset", "kind": "int", "required": False, "default": 0},
                {"name": "label", "kind": "string", "required": False, "default": "gain"},
            ],
        ),
        ("Clock", True, [{"name": "count", "kind": "int", "required": False, "default": 3}]),
        ("KeepEven", False, []),
    ],
)
def test_plugin_types_are_listed_with_source_and_params_from_their_signature(
    shapes_env: Path, node_type: str, source: bool, params: list[dict[str, Any]]
) -> None:
    types, _ = listing(shapes_env)
    [entry] = entries(types, node_type)
    assert (entry["source"], entry["params"]) == (source, params)


def test_nodes_table_shows_plugin_params(shapes_env: Path) -> None:
    result = run_host(["nodes"], env_dir=shapes_env)
    assert result.code == 0, result
    assert "    factor (number, required)" in result.stdout
    assert '    label (string, default "gain")' in result.stdout


def test_class_name_is_not_listed_when_node_type_is_set(shapes_env: Path) -> None:
    types, _ = listing(shapes_env)
    assert entries(types, "Countdown") == []


@pytest.mark.parametrize("node_type", ["PassThroughNode", "Multiply", "Add"])
def test_sdk_nodes_are_listed_beside_the_builtin_ones(shapes_env: Path, node_type: str) -> None:
    types, _ = listing(shapes_env)
    found = {(e["provider"], e["runtime"]) for e in entries(types, node_type)}
    assert found == {("builtin", "rust"), ("remotemedia", "python")}


def test_listing_holds_only_node_types_and_plugin_errors_go_to_stderr(mixed_env: Path) -> None:
    types, stderr = listing(mixed_env)
    assert types, "no node types listed"
    assert all(set(entry) == NODE_KEYS for entry in types), types
    assert not any("broken" in json.dumps(entry) for entry in types)
    assert 'plugin "broken"' in stderr
    assert "ImportError: remotemedia_brokenplugin needs a library that is not installed" in stderr
    assert {e["provider"] for e in entries(types, "Negate")} == {"remotemedia-otherplugin"}


def test_broken_plugin_is_reported_and_others_load(mixed_env: Path, tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path, [node("scale", "Scale", factor=3), node("negate", "Negate")]
    )
    result = run_host(
        ["run", manifest, "--input", "-"], env_dir=mixed_env, input_text=jsonl([1, 2])
    )
    assert result.code == 0, result
    assert result.items() == [-3, -6]
    problems = [line for line in result.stderr.splitlines() if "broken" in line]
    assert len(problems) == 1, result
    assert "remotemedia-brokenplugin" in problems[0]
    assert "ImportError: remotemedia_brokenplugin needs a library" in problems[0]


def test_ambiguous_node_type_names_both_providers(mixed_env: Path, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, [node("count", "CountDown")])
    result = run_host(["run", manifest, "--input", "-"], env_dir=mixed_env, input_text=jsonl([2]))
    assert result.code == 2, result
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result
    assert 'nodes[0].node_type: node type "CountDown" is ambiguous' in result.stderr
    assert "remotemedia-testshapes" in result.stderr
    assert "remotemedia-otherplugin" in result.stderr


@pytest.mark.parametrize(
    ("node_type", "suggestion"),
    [
        ("RunningSun", 'did you mean "RunningSum"?'),
        ("scale", 'did you mean "Scale"'),
        ("TickerNode", '"Ticker"'),
    ],
)
def test_unknown_node_type_suggests_close_names_and_lists_plugins(
    shapes_env: Path, tmp_path: Path, node_type: str, suggestion: str
) -> None:
    manifest = write_manifest(tmp_path, [node("n", node_type)])
    result = run_host(["run", manifest, "--input", "-"], env_dir=shapes_env, input_text="1\n")
    assert result.code == 2, result
    assert f'unknown node type "{node_type}"' in result.stderr
    assert suggestion in result.stderr
    assert "plugins seen: remotemedia, shapes" in result.stderr


def test_validate_resolves_plugin_types_without_running(shapes_env: Path, tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    manifest = write_manifest(tmp_path, [node("life", "SyncLifecycle", log=str(log))])
    result = run_host(["validate", manifest], env_dir=shapes_env)
    assert result.code == 0, result
    assert not log.exists(), "validate constructed or initialized a Python node"


EDITABLE_PLUGIN = """\
from remotemedia import Node, hookimpl


class First(Node):
    \"\"\"The plugin's first node.\"\"\"

    def process(self, data):
        return data


@hookimpl
def remotemedia_node_types():
    return [First]
"""

EDITABLE_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "remotemedia-editme"
version = "0.1.0"

[project.entry-points.remotemedia]
editme = "remotemedia_editme"
"""


def test_editing_an_editable_plugin_is_seen_by_the_next_command(envs: Envs, tmp_path: Path) -> None:
    source = tmp_path / "editme"
    (source / "remotemedia_editme").mkdir(parents=True)
    (source / "pyproject.toml").write_text(EDITABLE_PYPROJECT)
    module = source / "remotemedia_editme" / "__init__.py"
    module.write_text(EDITABLE_PLUGIN)
    venv = make_venv(tmp_path / "venv", with_pip=False)
    pip_install(envs.shapes, venv, ["pluggy>=1.5", "tomli_w", "setuptools>=64", envs.sdk_wheel])
    pip_install(envs.shapes, venv, ["--no-build-isolation", "-e", source])
    names = lambda: {entry["node_type"] for entry in listing(venv)[0]}  # noqa: E731
    assert "First" in names()
    assert "First" in names()  # the second listing comes from the discovery cache
    # Add a node class in place, as a plugin author does: nothing is reinstalled.
    edited = EDITABLE_PLUGIN.replace("return [First]", "return [First, Second]")
    module.write_text(edited + '\n\nclass Second(Node):\n    """Added later."""\n')
    stamp = module.stat().st_mtime_ns + 1_000_000_000
    os.utime(module, ns=(stamp, stamp))  # a distinct time even on a coarse clock
    assert {"First", "Second"} <= names()
