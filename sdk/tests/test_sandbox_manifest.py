"""`runtime.sandbox` in the manifest checks (DESIGN §3): the schema's rules for its fields and
what the schema cannot say (a sandbox needs a worker process, `env` holds names), located and
in the same words from the SDK's own checks and from the host's through the native module."""

from __future__ import annotations

import json
from typing import Any

import pytest

import remotemedia_runtime
from remotemedia import _native
from remotemedia.errors import ManifestError
from remotemedia.manifest.validate import check_manifest, validate
from remotemedia.pipeline import Pipeline

IN_PROCESS = (
    'runtime.sandbox: a sandbox confines a worker process, and runtime.isolation is "in_process" '
    '(remove it, or make it "process")'
)


def manifest(runtime: dict[str, Any]) -> dict[str, Any]:
    return {"version": "v1", "runtime": runtime, "nodes": [{"id": "a", "node_type": "PassThrough"}]}


def host_problems(doc: Any) -> list[str]:
    """The host's problems, through the native module."""
    try:
        remotemedia_runtime.validate(doc)
    except ManifestError as error:
        return list(error.problems)
    return []


def sdk_problems(doc: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SDK's own problems, as it reports them without the native module; `validate` and
    `Pipeline.from_manifest` agree with `check_manifest`."""
    found = check_manifest(doc)[1]
    with monkeypatch.context() as m:
        m.setattr(_native, "module", lambda: None)
        assert validate(doc) == found
        if found:
            with pytest.raises(ManifestError) as caught:
                Pipeline.from_manifest(json.dumps(doc))
            assert caught.value.problems == found
        else:
            assert Pipeline.from_manifest(json.dumps(doc)).runtime == doc["runtime"]
    return found


CASES = [
    pytest.param({"isolation": "in_process", "sandbox": {}}, [IN_PROCESS], id="in-process"),
    pytest.param(
        {"isolation": "in_process", "sandbox": {"env": ["HOME", "A=B"]}},
        [
            IN_PROCESS,
            'runtime.sandbox.env[1]: "A=B" is not an environment variable\'s name (no "=" or NUL)',
        ],
        id="in-process-and-env",
    ),
    pytest.param(
        {"sandbox": {"env": ["HOME", "A=B", "C\0D", "=", ""]}},
        [
            # The schema's problems come first, then the ones it cannot say.
            "runtime.sandbox.env[4]: must not be empty",
            'runtime.sandbox.env[1]: "A=B" is not an environment variable\'s name (no "=" or NUL)',
            'runtime.sandbox.env[2]: "C\0D" is not an environment variable\'s name (no "=" or NUL)',
            'runtime.sandbox.env[3]: "=" is not an environment variable\'s name (no "=" or NUL)',
        ],
        id="env-not-names",
    ),
    pytest.param(
        {"isolation": "process", "sandbox": {"netwrok": True, "envs": ["HOME"]}},
        [
            'runtime.sandbox.netwrok: unknown field "netwrok" (did you mean "network"?)',
            'runtime.sandbox.envs: unknown field "envs" (did you mean "env"?)',
        ],
        id="misspelt-keys",
    ),
    pytest.param(
        {"sandbox": {"memory_mb": 63}},
        ["runtime.sandbox.memory_mb: must be at least 64, got 63"],
        id="memory-below-64",
    ),
    pytest.param(
        {"sandbox": {"memory_mb": 0, "cpu_s": 0}},
        [
            "runtime.sandbox.memory_mb: must be at least 64, got 0",
            "runtime.sandbox.cpu_s: must be at least 1, got 0",
        ],
        id="limits-below-their-minimum",
    ),
    pytest.param(
        {"sandbox": {"memory_mb": 1048577, "cpu_s": 1.5}},
        [
            "runtime.sandbox.memory_mb: must be at most 1048576, got 1048577",
            "runtime.sandbox.cpu_s: expected an integer, got number 1.5",
        ],
        id="limits-out-of-kind-or-range",
    ),
    pytest.param(
        {"sandbox": {"read": [""], "write": [1], "env": "HOME"}},
        [
            "runtime.sandbox.read[0]: must not be empty",
            "runtime.sandbox.write[0]: expected a string, got integer 1",
            'runtime.sandbox.env: expected an array, got string "HOME"',
        ],
        id="paths-and-env-of-the-wrong-kind",
    ),
    pytest.param(
        {"sandbox": []}, ["runtime.sandbox: expected an object, got an array"], id="not-an-object"
    ),
    pytest.param({"sandbox": {}}, [], id="empty-policy"),
    pytest.param(
        {"sandbox": {"read": ["/usr", "/no/such/remotemedia/dir"], "write": ["/no/such/out"]}},
        [
            'runtime.sandbox.read[1]: "/no/such/remotemedia/dir" does not exist (the sandbox '
            "opens every path it is given: create it first)",
            'runtime.sandbox.write[0]: "/no/such/out" does not exist (the sandbox opens every '
            "path it is given: create it first)",
        ],
        id="paths-that-do-not-exist",
    ),
    pytest.param(
        {"sandbox": {"read": ["/usr"], "write": ["/tmp"], "memory_mb": 64, "env": ["HOME"]}},
        [],
        id="valid-without-isolation",
    ),
    pytest.param(
        {
            "isolation": "process",
            "sandbox": {"read": ["/usr"], "memory_mb": 1048576, "cpu_s": 1, "env": ["A_B"]},
        },
        [],
        id="valid-with-process-isolation",
    ),
]


@pytest.mark.parametrize(("runtime", "problems"), CASES)
def test_the_sdk_reports_sandbox_problems_located(
    runtime: dict[str, Any], problems: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sdk_problems(manifest(runtime), monkeypatch) == problems


@pytest.mark.parametrize(("runtime", "problems"), CASES)
def test_the_host_reports_sandbox_problems_in_the_same_words(
    runtime: dict[str, Any], problems: list[str]
) -> None:
    doc = manifest(runtime)
    assert host_problems(doc) == problems
    assert validate(doc) == problems  # with the native module, the host's checks
    assert host_problems(json.dumps(doc)) == problems


def test_a_valid_sandbox_survives_the_manifest_round_trip() -> None:
    runtime = {"sandbox": {"read": ["/usr"], "write": ["/tmp"], "memory_mb": 256, "env": ["X"]}}
    pipeline = Pipeline.from_manifest(manifest(runtime))
    assert pipeline.to_manifest()["runtime"] == runtime
    assert validate(pipeline.to_manifest()) == []


# `network` is a boolean, a kind the SDK's schema checks do not know.
NETWORK_CASES = [
    pytest.param({"sandbox": {"network": True}}, [], id="network-true"),
    pytest.param({"isolation": "process", "sandbox": {"network": False}}, [], id="network-false"),
    pytest.param(
        {"sandbox": {"network": "yes"}},
        ['runtime.sandbox.network: expected a boolean, got string "yes"'],
        id="network-not-a-boolean",
    ),
    pytest.param(
        {"isolation": "in_process", "sandbox": {"network": 1}},
        ["runtime.sandbox.network: expected a boolean, got integer 1", IN_PROCESS],
        id="network-an-integer",
    ),
]


@pytest.mark.parametrize(("runtime", "problems"), NETWORK_CASES)
def test_the_host_checks_network_as_a_boolean(runtime: dict[str, Any], problems: list[str]) -> None:
    assert host_problems(manifest(runtime)) == problems


@pytest.mark.parametrize(("runtime", "problems"), NETWORK_CASES)
def test_the_sdk_checks_network_as_a_boolean(
    runtime: dict[str, Any], problems: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sdk_problems(manifest(runtime), monkeypatch) == problems


@pytest.mark.parametrize("sandbox", [[], None, "on"], ids=["array", "null", "string"])
def test_a_sandbox_that_is_no_object_under_in_process_is_reported_alike(sandbox: Any) -> None:
    doc = manifest({"isolation": "in_process", "sandbox": sandbox})
    assert check_manifest(doc)[1] == host_problems(doc)
