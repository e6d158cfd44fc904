"""The error hierarchy both engines raise: messages, attributes, keyword construction."""

from __future__ import annotations

import pickle

import pytest

from remotemedia.errors import (
    ManifestError,
    NodeError,
    PipelineCancelled,
    RemoteMediaError,
    UsageError,
)


def test_node_error_reads_as_the_hosts_message_and_keeps_its_fields() -> None:
    error = NodeError(
        node_id="mul",
        node_type="Multiply",
        error_type="TypeError",
        message='Multiply expects a number, got string "x"',
        traceback="Traceback ...",
    )
    assert (
        str(error)
        == 'node "mul" (Multiply) failed: TypeError: Multiply expects a number, got string "x"'
    )
    assert (error.node_id, error.node_type, error.error_type) == ("mul", "Multiply", "TypeError")
    assert error.traceback == "Traceback ..."
    assert error.partial_outputs == []


def test_manifest_error_lists_every_problem_under_a_summary() -> None:
    error = ManifestError(problems=["version: bad", "nodes[0].id: bad"], source="m.json")
    assert error.problems == ["version: bad", "nodes[0].id: bad"]
    assert (
        str(error) == "invalid manifest m.json: 2 problems\n  - version: bad\n  - nodes[0].id: bad"
    )
    assert str(ManifestError("one")).startswith("invalid manifest <memory>: 1 problem\n")


@pytest.mark.parametrize(
    "error",
    [
        ManifestError(["a: b"], "x.toml"),
        NodeError("n", "T", "ValueError", "m", None, [1, 2]),
        PipelineCancelled(),
        UsageError("no node would receive the input"),
    ],
)
def test_errors_are_remotemedia_errors_and_survive_pickling(error: RemoteMediaError) -> None:
    assert isinstance(error, RemoteMediaError)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), vars(copy)) == (type(error), str(error), vars(error))


def test_usage_error_is_also_a_value_error() -> None:
    with pytest.raises(ValueError, match="no node"):
        raise UsageError("no node would receive the input")


def test_pipeline_cancelled_has_the_hosts_message() -> None:
    assert str(PipelineCancelled()) == "pipeline cancelled"
