"""Python code that fights the host: values it cannot carry, modules that exit while they are
imported, classes that lie about themselves. Each ends in a clear error, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import Result, node, run_host, write_manifest

MODULE = '''
import sys

from remotemedia import Node

MARKER = {marker!r}


class Cycle(Node):
    def process(self, data):
        x = [data]
        x.append(x)
        return x


class Deep(Node):
    def process(self, data):
        for _ in range(5000):
            data = [data]
        return data


def make():
    class Made(Node):
        def process(self, data):
            return data + 100

    return Made


Alias = make()


class Liar(Node):
    """Says it is another class."""

    def process(self, data):
        return "liar"


Liar.__qualname__ = "Other"


class Other(Node):
    def process(self, data):
        return "other"


open(MARKER, "a").write("imported\\n")
'''


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A module directory for PYTHONPATH with the classes above, and its import marker file."""
    directory = tmp_path / "mods"
    directory.mkdir()
    marker = tmp_path / "imported.log"
    (directory / "hostile.py").write_text(MODULE.format(marker=str(marker)))
    (directory / "exits.py").write_text("raise SystemExit(3)\n")
    return directory, marker


def run(
    manifest: Path, env: Path, mods: Path, command: str, *args: str, input_text: str | None = None
) -> Result:
    """`remotemedia-host COMMAND MANIFEST ARGS` with `mods` on PYTHONPATH."""
    return run_host(
        [command, manifest, *args],
        env_dir=env,
        input_text=input_text,
        env={"PYTHONPATH": str(mods)},
    )


@pytest.mark.parametrize("node_type", ["hostile:Cycle", "hostile:Deep"])
def test_an_output_nested_too_deep_or_containing_itself_is_a_node_error(
    shapes_env: Path, tmp_path: Path, hostile: tuple[Path, Path], node_type: str
) -> None:
    manifest = write_manifest(tmp_path, [node("n", node_type)])
    result = run(manifest, shapes_env, hostile[0], "run", "--input", "-", input_text="1\n")
    assert result.code == 1, result
    assert 'node "n"' in result.stderr
    assert "nested deeper than 1000 levels" in result.stderr


def test_a_module_that_exits_while_imported_is_a_manifest_problem_beside_the_others(
    shapes_env: Path, tmp_path: Path, hostile: tuple[Path, Path]
) -> None:
    manifest = write_manifest(tmp_path, [node("a", "exits:Node"), node("b", "Gain", factr=1)])
    result = run(manifest, shapes_env, hostile[0], "validate")
    assert result.code == 2, result
    assert 'nodes[0].node_type: cannot import "exits:Node": SystemExit: 3' in result.stderr
    assert 'nodes[1].params.factr: unknown parameter "factr"' in result.stderr


def test_a_class_is_run_as_the_manifest_names_it(
    shapes_env: Path, tmp_path: Path, hostile: tuple[Path, Path]
) -> None:
    for node_type, output in [("hostile:Alias", 101), ("hostile:Liar", "liar")]:
        manifest = write_manifest(tmp_path, [node("n", node_type)])
        assert run(manifest, shapes_env, hostile[0], "validate").code == 0
        result = run(manifest, shapes_env, hostile[0], "run", "--input", "-", input_text="1\n")
        assert (result.code, result.items()) == (0, [output]), result


@pytest.mark.parametrize("node_type", ["remotemedia:Node", "remotemedia.node:Node"])
def test_the_node_base_class_is_not_a_node_type(
    shapes_env: Path, tmp_path: Path, node_type: str
) -> None:
    manifest = write_manifest(tmp_path, [node("n", node_type)])
    result = run_host(["validate", manifest], env_dir=shapes_env)
    assert result.code == 2, result
    assert f'"{node_type}" is not a remotemedia.Node subclass' in result.stderr


def test_a_node_that_must_be_rust_imports_nothing(
    shapes_env: Path, tmp_path: Path, hostile: tuple[Path, Path]
) -> None:
    manifest = write_manifest(tmp_path, [node("n", "hostile:Cycle", runtime_hint="rust")])
    result = run(manifest, shapes_env, hostile[0], "validate")
    assert result.code == 2, result
    assert 'is not a built-in Rust node, but runtime_hint is "rust"' in result.stderr
    assert not hostile[1].exists(), "the module was imported for a node that must be Rust"


def test_an_integer_beyond_64_bits_in_any_parameter_is_refused_by_validate(
    shapes_env: Path, tmp_path: Path
) -> None:
    # Scale takes **kwargs: the value reaches no declared parameter.
    manifest = tmp_path / "big.json"
    document = {
        "version": "v1",
        "nodes": [{"id": "s", "node_type": "Scale", "params": {"c": 2**64 - 1}}],
    }
    manifest.write_text(json.dumps(document))
    result = run_host(["validate", manifest], env_dir=shapes_env)
    assert result.code == 2, result
    assert "nodes[0].params.c: integer 18446744073709551615 is out of range" in result.stderr


def test_problems_never_forge_output_lines(shapes_env: Path, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, [node("n", "nope\n  - fake: forged\x1b[2J")])
    result = run_host(["validate", manifest], env_dir=shapes_env)
    assert result.code == 2, result
    assert "\x1b" not in result.stderr
    assert not any(line.startswith("  - fake") for line in result.stderr.splitlines())
    assert "nope\\n  - fake: forged\\u{1b}[2J" in result.stderr
