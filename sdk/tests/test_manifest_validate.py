"""Manifest checks (`remotemedia.manifest`): the schema file the host embeds, every problem
reported at once, located, in the host's words, and which checks run: the host's through the
native module where it imports, the SDK's own without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import remotemedia_runtime
from remotemedia import _native
from remotemedia.discovery import discover
from remotemedia.errors import ManifestError
from remotemedia.manifest.schema import SCHEMA
from remotemedia.manifest.validate import check_manifest, validate
from remotemedia.node import Node
from remotemedia.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[2]
SHIPPED_SCHEMA = REPO / "sdk" / "python" / "remotemedia" / "manifest.schema.json"


@pytest.fixture
def sdk_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK as it is without the native module: its own checks, its own nodes."""
    monkeypatch.setattr(_native, "module", lambda: None)


def test_the_sdk_checks_the_schema_file_the_host_embeds() -> None:
    # One file: the host's include_str! names it, and the SDK's rules come from it.
    host_source = (REPO / "host" / "src" / "manifest" / "schema.rs").read_text()
    assert "sdk/python/remotemedia/manifest.schema.json" in host_source
    committed = json.loads(SHIPPED_SCHEMA.read_text())
    assert set(SCHEMA["properties"]) == set(committed["properties"])
    node_fields = SCHEMA["properties"]["nodes"]["items"]["properties"]
    assert set(node_fields) == set(committed["$defs"]["node"]["properties"])


def node(node_id: str, node_type: str, **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "node_type": node_type, **fields}


@pytest.mark.parametrize(
    ("doc", "problems"),
    [
        (
            {"version": "v1", "nodes": [node("a", "PassThrough"), node("b", "Multipy")]},
            [
                'nodes[1].node_type: unknown node type "Multipy" '
                f'(did you mean "Multiply"? (plugins seen: {", ".join(discover().plugins)}))'
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
            [
                "nodes[0].retry: retry applies to Python nodes only, "
                'and "PassThrough" is a Rust node'
            ],
        ),
        (
            {
                "version": "v1",
                "runtime": {"python": "rustpython", "isolation": "process"},
                "nodes": [node("a", "PassThrough")],
            },
            [
                "runtime.isolation: the RustPython runtime runs in the host process; a worker "
                'process (isolation "process") runs CPython'
            ],
        ),
        (
            {
                "version": "v1",
                "runtime": {"python": "rustpython", "sandbox": {}},
                "nodes": [node("a", "PassThrough")],
            },
            [
                "runtime.sandbox: a sandbox runs CPython in a worker process; the RustPython "
                "runtime runs in the host process"
            ],
        ),
        (
            {
                "version": "v1",
                "runtime": {"python": "rustpython"},
                "nodes": [
                    node("a", "PassThrough", runtime_hint="python", timeout_ms=100),
                    node("b", "PassThrough", timeout_ms=100),
                ],
            },
            [
                "nodes[0].timeout_ms: not supported by the RustPython runtime, which cannot "
                'interrupt running Python code (use runtime.python "cpython")',
                "nodes[1].timeout_ms: timeout_ms applies to Python nodes only, "
                'and "PassThrough" is a Rust node',
            ],
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
            {
                "version": "v1",
                "runtime": {"channel_capacity": 0, "channel_bytes": 0},
                "nodes": [node("a", "PassThrough")],
            },
            [
                "runtime.channel_capacity: must be at least 1, got 0",
                "runtime.channel_bytes: must be at least 1, got 0",
            ],
        ),
        (
            {
                "version": "v1",
                "runtime": {"channel_bytes": 1.5},
                "nodes": [node("a", "PassThrough")],
            },
            ["runtime.channel_bytes: expected an integer, got number 1.5"],
        ),
        (
            {
                "version": "v1",
                "nodes": [
                    node("r", "Range", params={"stop": 200.0}),
                    node("s", "Range", params={"stop": 1e20}),
                ],
                "connections": [],
            },
            [
                "nodes[0].params.stop: expected an integer, got number 200.0",
                "nodes[1].params.stop: number 1e+20 is out of range "
                "(-9223372036854775808 to 9223372036854775807)",
            ],
        ),
        ({"version": "v1", "nodes": []}, ["nodes: needs at least 1 entry"]),
        ([], ["manifest: expected an object, got an array"]),
    ],
    ids=[
        "unknown-type",
        "duplicate-id",
        "cycle",
        "every-problem-at-once",
        "retry-on-a-rust-node",
        "rustpython-in-a-worker",
        "rustpython-in-a-sandbox",
        "rustpython-timeout",
        "rust-hint-on-python-type",
        "source-in-implied-chain",
        "queue-bounds-below-one",
        "channel-bytes-not-an-integer",
        "whole-float-for-an-integer",
        "no-nodes",
        "not-an-object",
    ],
)
@pytest.mark.usefixtures("sdk_only")
def test_the_sdks_own_checks_report_every_problem_located(doc: Any, problems: list[str]) -> None:
    assert check_manifest(doc)[1] == problems
    assert validate(doc) == problems
    with pytest.raises(ManifestError) as caught:
        Pipeline.from_manifest(json.dumps(doc))
    assert caught.value.problems == problems


@pytest.mark.usefixtures("sdk_only")
def test_a_rustpython_manifest_keeps_retry_and_builds() -> None:
    # A retry makes the call again once it has returned: nothing needs interrupting.
    doc = {
        "version": "v1",
        "runtime": {"python": "rustpython", "isolation": "in_process"},
        "nodes": [node("a", "PassThrough", runtime_hint="python", retry={"max_attempts": 2})],
    }
    assert check_manifest(doc)[1] == []
    assert validate(doc) == []
    assert Pipeline.from_manifest(json.dumps(doc)).runtime == doc["runtime"]


class Picky(Node):
    """Refuses a negative `level` in its constructor, which no manifest check can know."""

    def __init__(self, level: int = 0, name: str | None = None) -> None:
        super().__init__(name=name)
        if level < 0:
            raise ValueError("level must not be negative")
        self.level = level

    def process(self, data: Any) -> Any:
        return data


@pytest.mark.parametrize("native", [True, False], ids=["native", "sdk-only"])
def test_a_constructor_error_is_a_problem_of_the_nodes_params(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not native:
        monkeypatch.setattr(_native, "module", lambda: None)
    picky = node("p", "test_manifest_validate:Picky", params={"level": -1})
    with pytest.raises(ManifestError) as caught:
        Pipeline.from_manifest({"version": "v1", "nodes": [picky]})
    assert caught.value.problems == [
        "nodes[0].params: test_manifest_validate:Picky: ValueError: level must not be negative"
    ]


def test_with_the_native_module_the_hosts_checks_run_and_not_the_sdks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Any] = []

    def host_validate(manifest: Any) -> None:
        seen.append(manifest)
        raise ManifestError(["nodes[0]: the host's word"])

    def sdk_checks(doc: Any) -> Any:
        pytest.fail("the SDK's own checks ran beside the native module")

    monkeypatch.setattr(remotemedia_runtime, "validate", host_validate)
    monkeypatch.setattr("remotemedia.manifest.validate.check_manifest", sdk_checks)
    doc = {"version": "v1", "nodes": [node("a", "PassThrough")]}
    with pytest.raises(ManifestError) as caught:
        Pipeline.from_manifest(json.dumps(doc))
    assert caught.value.problems == ["nodes[0]: the host's word"]
    assert seen == [doc]


def test_a_document_that_is_not_an_object_reaches_the_native_checks_as_json() -> None:
    with pytest.raises(ManifestError) as caught:
        Pipeline.from_manifest("[]")
    assert caught.value.problems == ["manifest: expected an object, got an array"]
