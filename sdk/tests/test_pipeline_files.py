"""Manifest text (`remotemedia.pipeline.files`): every source `from_manifest` reads, TOML written
and read back, and text or files that cannot be read."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from remotemedia.errors import ManifestError
from remotemedia.nodes import Multiply, PassThroughNode, Range
from remotemedia.pipeline import Pipeline
from remotemedia.pipeline.files import load, to_toml

MANIFEST: dict[str, Any] = {
    "version": "v1",
    "metadata": {"name": "voice"},
    "runtime": {"channel_capacity": 16},
    "nodes": [
        {"id": "src", "node_type": "PassThrough"},
        {"id": "mul", "node_type": "Multiply", "params": {"factor": 2}},
        {"id": "add", "node_type": "Add", "params": {"addend": 1}},
    ],
    "connections": [{"from": "src", "to": "mul"}, {"from": "mul", "to": "add", "capacity": 4}],
}

TOML = """
version = "v1"
[metadata]
name = "voice"
[runtime]
channel_capacity = 16
[[nodes]]
id = "src"
node_type = "PassThrough"
[[nodes]]
id = "mul"
node_type = "Multiply"
params = { factor = 2 }
[[nodes]]
id = "add"
node_type = "Add"
params = { addend = 1 }
[[connections]]
from = "src"
to = "mul"
[[connections]]
from = "mul"
to = "add"
capacity = 4
"""


@pytest.mark.parametrize(
    "source",
    [
        lambda tmp: MANIFEST,
        lambda tmp: json.dumps(MANIFEST),
        lambda tmp: TOML,
        lambda tmp: _write(tmp / "m.json", json.dumps(MANIFEST)),
        lambda tmp: str(_write(tmp / "m.toml", TOML)),
    ],
    ids=["dict", "json-text", "toml-text", "json-path", "toml-path-as-str"],
)
def test_from_manifest_reads_every_source(source: Any, tmp_path: Path) -> None:
    pipeline = Pipeline.from_manifest(source(tmp_path))
    assert pipeline.name == "voice"
    assert [type(n) for n in pipeline.nodes][:2] == [PassThroughNode, Multiply]
    assert pipeline.edges == [("src", "mul", None), ("mul", "add", 4)]
    # The alias is written as the SDK class's own type name, which the host also knows.
    first = {"id": "src", "node_type": "PassThroughNode"}
    assert pipeline.to_manifest() == {**MANIFEST, "nodes": [first, *MANIFEST["nodes"][1:]]}
    assert asyncio.run(pipeline.run([1, 2])) == [3, 5]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_module_path_type_is_imported_and_constructed_with_its_params() -> None:
    pipeline = Pipeline.from_manifest(
        {
            "version": "v1",
            "nodes": [
                {"id": "r", "node_type": "remotemedia.nodes.range:Range", "params": {"stop": 3}}
            ],
        }
    )
    (node,) = pipeline.nodes
    assert isinstance(node, Range)
    assert (node.name, node.stop) == ("r", 3)
    assert pipeline.to_manifest()["nodes"] == [
        {"id": "r", "node_type": "Range", "params": {"stop": 3}}
    ]


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ('{"version": "v1",', "manifest: not valid JSON: "),
        ("version = ", "manifest: not valid TOML: "),
    ],
)
def test_text_that_does_not_parse_is_a_manifest_error(text: str, start: str) -> None:
    with pytest.raises(ManifestError) as caught:
        Pipeline.from_manifest(text)
    assert caught.value.problems[0].startswith(start)


def test_a_missing_file_is_a_manifest_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"cannot read .*missing\.json"):
        Pipeline.from_manifest(tmp_path / "missing.json")


def test_a_manifest_written_as_toml_reads_back_equal() -> None:
    doc = {
        **MANIFEST,
        "metadata": {"name": 'quote " and \\ and é', "description": "two\nlines"},
        "nodes": [
            *MANIFEST["nodes"],
            {"id": "odd key", "node_type": "Add", "params": {"addend": -0.5, "a b": [1, [2]]}},
        ],
    }
    assert load(to_toml(doc)) == (doc, "<memory>")


def test_toml_has_no_null_so_writing_one_is_a_value_error_naming_where() -> None:
    doc = {**MANIFEST, "nodes": [{"id": "a", "node_type": "Add", "params": {"addend": None}}]}
    with pytest.raises(
        ValueError, match=r"TOML has no null, but nodes\[0\]\.params\.addend is null"
    ):
        to_toml(doc)
