"""Reading manifests into pipelines: sources, node type resolution, and located problems."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from remotemedia._executor_plan import SCHEMA
from remotemedia.errors import ManifestError
from remotemedia.nodes import Multiply, PassThroughNode, Range
from remotemedia.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[2]
SHIPPED_SCHEMA = REPO / "sdk" / "python" / "remotemedia" / "manifest.schema.json"

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


def test_the_sdk_checks_the_schema_file_the_host_embeds() -> None:
    # One file: the host's include_str! names it, and the SDK's rules come from it.
    host_source = (REPO / "host" / "src" / "manifest" / "schema.rs").read_text()
    assert "sdk/python/remotemedia/manifest.schema.json" in host_source
    committed = json.loads(SHIPPED_SCHEMA.read_text())
    assert set(SCHEMA["properties"]) == set(committed["properties"])
    node_fields = SCHEMA["properties"]["nodes"]["items"]["properties"]
    assert set(node_fields) == set(committed["$defs"]["node"]["properties"])


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


def node(node_id: str, node_type: str, **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "node_type": node_type, **fields}


@pytest.mark.parametrize(
    ("doc", "problems"),
    [
        (
            {"version": "v1", "nodes": [node("a", "PassThrough"), node("b", "Multipy")]},
            [
                'nodes[1].node_type: unknown node type "Multipy" '
                '(did you mean "Multiply"?; plugins seen: remotemedia)'
            ],
        ),
        (
            {"version": "v1", "nodes": [node("a", "PassThrough"), node("a", "PassThrough")]},
            ['nodes[1].id: duplicate node id "a" (first used by nodes[0])'],
        ),
        (
            {
                "version": "v1",
                "nodes": [
                    node("src", "PassThrough"),
                    node("x", "PassThrough"),
                    node("y", "PassThrough"),
                ],
                "connections": [
                    {"from": "src", "to": "x"},
                    {"from": "x", "to": "y"},
                    {"from": "y", "to": "x"},
                ],
            },
            ["connections: cycle: x -> y -> x"],
        ),
        (
            {
                "version": "v2",
                "nodes": [node("a", "Add", parms={})],
                "connections": [{"from": "a", "to": "b"}],
            },
            [
                'version: expected one of "v1", got string "v2"',
                'nodes[0].parms: unknown field "parms" (did you mean "params"?)',
                'connections[0].to: unknown node "b" (node ids: a)',
            ],
        ),
        (
            {"version": "v1", "nodes": [node("a", "PassThrough", retry={"max_attempts": 2})]},
            ["nodes[0].retry: retries are not supported yet"],
        ),
        (
            {
                "version": "v1",
                "runtime": {"python": "rustpython"},
                "nodes": [node("a", "PassThrough")],
            },
            ["runtime.python: the RustPython runtime is not supported yet"],
        ),
        (
            {"version": "v1", "nodes": [node("a", "test_pipeline:Nope", runtime_hint="rust")]},
            [
                'nodes[0].node_type: "test_pipeline:Nope" is not a built-in Rust node, '
                'but runtime_hint is "rust"'
            ],
        ),
        (
            {
                "version": "v1",
                "nodes": [node("a", "PassThrough"), node("r", "Range", params={"stop": 2})],
            },
            [
                'nodes[1]: node "r" is a source and takes no input, but without "connections" '
                'the nodes form a chain in list order, so it would follow "a" (list the edges '
                'in "connections", or put the source first)'
            ],
        ),
        (
            {"version": "v1", "nodes": [node("m", "Multiply", params={"factor": "two"})]},
            [
                "nodes[0].params: Multiply: TypeError: "
                'Multiply parameter factor must be a number, got string "two"'
            ],
        ),
        ({"version": "v1", "nodes": []}, ["nodes: needs at least 1 entry"]),
        ("[]", ["manifest: expected an object, got an array"]),
    ],
    ids=[
        "unknown-type",
        "duplicate-id",
        "cycle",
        "every-problem-at-once",
        "retry-not-built",
        "rustpython-not-built",
        "rust-hint-on-python-type",
        "source-in-implied-chain",
        "constructor-error",
        "no-nodes",
        "not-an-object",
    ],
)
def test_an_invalid_manifest_reports_every_problem_located(doc: Any, problems: list[str]) -> None:
    with pytest.raises(ManifestError) as caught:
        Pipeline.from_manifest(doc)
    assert caught.value.problems == problems


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
