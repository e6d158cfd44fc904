"""`validate` knows Python nodes before a run: their parameters, their import paths, sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness import jsonl, node, run_host, write_manifest


def validate(env: Path, manifest: Path) -> tuple[int, list[str]]:
    """Exit status of `validate`, and its problems as `LOCATION: message (help)`."""
    result = run_host(["validate", manifest], env_dir=env)
    problems: list[str] = []
    for line in result.stderr.splitlines():
        if line.startswith("  - "):
            problems.append(line[4:])
        elif line.startswith("      help: ") and problems:
            problems[-1] += f" ({line.removeprefix('      help: ')})"
    return result.code, problems


@pytest.mark.parametrize(
    ("params", "problems"),
    [
        (
            {"factr": 2.0},
            [
                'nodes[0].params: missing required parameter "factor" (number)',
                'nodes[0].params.factr: unknown parameter "factr" (did you mean "factor"?)',
            ],
        ),
        ({"factor": "loud"}, ['nodes[0].params.factor: expected a number, got string "loud"']),
        (
            {"factor": 2, "offset": 1.5},
            ["nodes[0].params.offset: expected an integer, got number 1.5"],
        ),
        ({"factor": 2, "label": ["a"]}, ["nodes[0].params.label: expected a string, got an array"]),
    ],
)
def test_validate_checks_python_params_like_builtin_ones(
    shapes_env: Path, tmp_path: Path, params: dict[str, Any], problems: list[str]
) -> None:
    manifest = write_manifest(tmp_path, [node("gain", "Gain", **params)])
    code, found = validate(shapes_env, manifest)
    assert (code, found) == (2, problems)


def test_valid_python_params_pass_and_run(shapes_env: Path, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, [node("gain", "Gain", factor=2.0, offset=1)])
    assert validate(shapes_env, manifest) == (0, [])
    result = run_host(["run", manifest, "--input", "-"], env_dir=shapes_env, input_text="3\n")
    assert (result.code, result.items()) == (0, [7.0]), result


@pytest.mark.parametrize(
    ("node_type", "message"),
    [
        (
            "no_such_module_anywhere:Node",
            'cannot import "no_such_module_anywhere:Node": ModuleNotFoundError: '
            "No module named 'no_such_module_anywhere'",
        ),
        (
            "remotemedia_testshapes.shapes:Missing",
            'cannot import "remotemedia_testshapes.shapes:Missing": AttributeError:',
        ),
        ("os:makedirs", '"os:makedirs" is not a remotemedia.Node subclass'),
        ("json:JSONDecoder", '"json:JSONDecoder" is not a remotemedia.Node subclass'),
        (":Node", '":Node" is not of the form "package.module:ClassName"'),
    ],
)
def test_validate_reports_an_import_path_that_is_not_a_node_class(
    shapes_env: Path, tmp_path: Path, node_type: str, message: str
) -> None:
    manifest = write_manifest(tmp_path, [node("n", node_type)])
    code, found = validate(shapes_env, manifest)
    assert code == 2
    assert len(found) == 1, found
    assert found[0].startswith(f"nodes[0].node_type: {message}"), found


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_callable_that_is_not_a_node_is_never_called(
    shapes_env: Path, tmp_path: Path, command: str
) -> None:
    # tarfile.open(name="victim", mode="w") would truncate (create) the file named by the id.
    victim = tmp_path / "victim"
    manifest = write_manifest(tmp_path, [node(str(victim), "tarfile:open", mode="w")])
    result = run_host([command, manifest], env_dir=shapes_env)
    assert result.code == 2, result
    assert '"tarfile:open" is not a remotemedia.Node subclass' in result.stderr
    assert not victim.exists(), "the manifest called tarfile.open"


def test_an_import_path_node_class_is_checked_and_runs(shapes_env: Path, tmp_path: Path) -> None:
    path = "remotemedia_testshapes.shapes:Gain"
    bad = write_manifest(tmp_path, [node("g", path, factor=1, ofset=2)])
    assert validate(shapes_env, bad) == (
        2,
        ['nodes[0].params.ofset: unknown parameter "ofset" (did you mean "offset"?)'],
    )
    good = write_manifest(tmp_path, [node("g", path, factor=3)])
    result = run_host(["run", good, "--input", "-"], env_dir=shapes_env, input_text="2\n")
    assert (result.code, result.items()) == (0, [6]), result


def test_input_into_a_python_source_is_a_manifest_error(shapes_env: Path, tmp_path: Path) -> None:
    chained = write_manifest(tmp_path, [node("a", "Scale"), node("clock", "Clock")])
    code, found = validate(shapes_env, chained)
    assert code == 2
    assert found[0].startswith('nodes[1]: node "clock" is a source and takes no input'), found
    connected = write_manifest(
        tmp_path, [node("a", "Scale"), node("clock", "Clock")], connections=[("a", "clock")]
    )
    code, found = validate(shapes_env, connected)
    assert (code, found) == (
        2,
        ['connections[0].to: node "clock" (Clock) is a source and takes no input'],
    )


def test_a_python_source_emits_without_input_and_input_for_it_alone_is_refused(
    shapes_env: Path, tmp_path: Path
) -> None:
    manifest = write_manifest(
        tmp_path, [node("clock", "Clock", count=4), node("g", "Gain", factor=2)]
    )
    result = run_host(["run", manifest], env_dir=shapes_env)
    assert (result.code, result.items()) == (0, [0, 2, 4, 6]), result
    result = run_host(["run", manifest, "--input", "-"], env_dir=shapes_env, input_text=jsonl([1]))
    assert result.code == 2, result
    assert "no node would receive them" in result.stderr


def test_inputs_reach_the_transforms_beside_a_python_source(
    shapes_env: Path, tmp_path: Path
) -> None:
    manifest = write_manifest(
        tmp_path,
        [
            node("clock", "Clock", count=2),
            node("scale", "Scale", factor=10),
            node("sink", "PassThrough"),
        ],
        connections=[("clock", "sink"), ("scale", "sink")],
    )
    result = run_host(
        ["run", manifest, "--input", "-"], env_dir=shapes_env, input_text=jsonl([1, 2])
    )
    assert result.code == 0, result
    assert sorted(result.items()) == [0, 1, 10, 20]


def test_nodes_json_lists_an_import_path_free_registry_only(shapes_env: Path) -> None:
    # `nodes` lists registered types only; import paths are described per manifest.
    result = run_host(["nodes", "--json"], env_dir=shapes_env)
    assert result.code == 0, result
    assert all(":" not in entry["node_type"] for entry in json.loads(result.stdout))
