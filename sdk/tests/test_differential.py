"""Differential tests: random valid manifests run on the Rust engine and on the Python executor
give the same outputs, and both agree with a model of DESIGN §7 computed here.

How outputs are compared, soundly although the native module returns one flat list:

- Whole pipeline: the multiset of all outputs, for both engines (the native `_execute`,
  `Pipeline.run(use_rust=True)`, `executor.execute`, `Pipeline.run(use_rust=False)`); the Python
  executor's `(sink, item)` pairs are also compared per sink, as multisets.
- Per sink: a sink's items depend only on the sink and its ancestors, so the manifest restricted
  to them (same nodes, edges, capacities, runtime) makes exactly that sink's items, alone. Both
  engines run that restricted manifest. If its roots are all `Range` sources it is run without
  input items, which sources ignore anyway (with them, it would be a usage error that the full
  pipeline, with another root to receive them, is not).
- Order is compared exactly where DESIGN defines it: a restricted manifest that is a single
  chain of one-in-one-out nodes from one root keeps input order. Everywhere else (fan-in,
  several roots), outputs are compared as multisets.
- Errors: when both engines must fail (input items but every root is a `Range`), both raise the
  same `remotemedia.errors` class.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _engines import python_pairs, run_async, rust_outputs
from remotemedia.errors import RemoteMediaError, UsageError
from remotemedia.pipeline import Pipeline

Manifest = dict[str, Any]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Manifest, list[int] | None]:
    """A valid DAG manifest of 2..7 shared node types, and input items or None."""
    count = draw(st.integers(2, 7))
    implied_chain = draw(st.booleans())  # no "connections": the nodes chain in list order
    nodes: list[dict[str, Any]] = []
    for i in range(count):
        may_be_source = i == 0 or not implied_chain
        kind = draw(
            st.sampled_from(
                ["PassThrough", "PassThroughNode", "Multiply", "Add"]
                + (["Range", "Range"] if may_be_source else [])
            )
        )
        node: dict[str, Any] = {"id": f"n{i}", "node_type": kind}
        if kind == "Multiply":
            node["params"] = {"factor": draw(st.integers(-3, 3))}
        elif kind == "Add":
            node["params"] = {"addend": draw(st.integers(-5, 5))}
        elif kind == "Range":
            params = {"stop": draw(st.integers(-8, 8))}
            if draw(st.booleans()):
                params["start"] = draw(st.integers(-8, 8))
            if draw(st.booleans()):
                params["step"] = draw(st.sampled_from([-3, -2, -1, 1, 2, 3]))
            node["params"] = params
        nodes.append(node)
    manifest: Manifest = {"version": "v1", "metadata": {"name": "diff"}, "nodes": nodes}
    if draw(st.booleans()):
        manifest["runtime"] = {"channel_capacity": draw(st.integers(1, 8))}
    if not implied_chain:
        connections = []
        for j in range(1, count):
            if nodes[j]["node_type"] == "Range":
                continue  # a source takes no edges in
            for i in range(j):
                if draw(st.booleans()):
                    edge: dict[str, Any] = {"from": f"n{i}", "to": f"n{j}"}
                    if draw(st.booleans()):
                        edge["capacity"] = draw(st.integers(1, 8))
                    connections.append(edge)
        manifest["connections"] = draw(st.permutations(connections))
    inputs = draw(st.none() | st.lists(st.integers(-20, 20), max_size=8))
    return manifest, inputs


def _edges(manifest: Manifest) -> list[tuple[str, str]]:
    if "connections" in manifest:
        return [(c["from"], c["to"]) for c in manifest["connections"]]
    ids = [n["id"] for n in manifest["nodes"]]
    return list(itertools.pairwise(ids))


def _parents(manifest: Manifest) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {n["id"]: [] for n in manifest["nodes"]}
    for a, b in _edges(manifest):
        parents[b].append(a)
    return parents


def _sinks(manifest: Manifest) -> list[str]:
    has_downstream = {a for a, _ in _edges(manifest)}
    return [n["id"] for n in manifest["nodes"] if n["id"] not in has_downstream]


def _ancestors(manifest: Manifest, sink: str) -> set[str]:
    parents = _parents(manifest)
    seen = {sink}
    todo = [sink]
    while todo:
        for parent in parents[todo.pop()]:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def _restricted(manifest: Manifest, keep: set[str]) -> Manifest:
    """The manifest of the nodes in `keep` and the edges between them, with explicit edges."""
    capacities = {(c["from"], c["to"]): c.get("capacity") for c in manifest.get("connections", [])}
    sub: Manifest = {k: v for k, v in manifest.items() if k not in ("nodes", "connections")}
    sub["nodes"] = [n for n in manifest["nodes"] if n["id"] in keep]
    sub["connections"] = [
        {"from": a, "to": b, **({"capacity": c} if (c := capacities.get((a, b))) else {})}
        for a, b in _edges(manifest)
        if a in keep and b in keep
    ]
    return sub


def _is_chain(manifest: Manifest) -> bool:
    """One root and every node one-in-one-out: DESIGN's chain, whose order is defined."""
    edges = _edges(manifest)
    ins = Counter(b for _, b in edges)
    outs = Counter(a for a, _ in edges)
    ids = [n["id"] for n in manifest["nodes"]]
    roots = [i for i in ids if not ins[i]]
    return len(roots) == 1 and all(ins[i] <= 1 and outs[i] <= 1 for i in ids)


def _sources_only(manifest: Manifest) -> bool:
    parents = _parents(manifest)
    return all(n["node_type"] == "Range" for n in manifest["nodes"] if not parents[n["id"]])


def _model(manifest: Manifest, inputs: list[int] | None) -> dict[str, list[int]]:
    """Each node's outputs by DESIGN §7, in the order a chain keeps (node list order is a
    topological order: edges only go from lower to higher index)."""
    parents = _parents(manifest)
    out: dict[str, list[int]] = {}
    for node in manifest["nodes"]:
        params = node.get("params", {})
        kind = node["node_type"]
        if kind == "Range":
            out[node["id"]] = list(
                range(params.get("start", 0), params["stop"], params.get("step", 1))
            )
            continue
        received = (
            [x for p in parents[node["id"]] for x in out[p]]
            if parents[node["id"]]
            else list(inputs or [])
        )
        if kind == "Multiply":
            out[node["id"]] = [x * params["factor"] for x in received]
        elif kind == "Add":
            out[node["id"]] = [x + params["addend"] for x in received]
        else:
            out[node["id"]] = received
    return out


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "ok", run()
    except RemoteMediaError as error:
        return "error", error


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(cases())
def test_engines_agree_on_random_dags(case: tuple[Manifest, list[int] | None]) -> None:
    manifest, inputs = case
    context = f"manifest={manifest!r} inputs={inputs!r}"
    must_fail = inputs is not None and _sources_only(manifest)

    rust = _outcome(lambda: rust_outputs(manifest, inputs))
    python = _outcome(lambda: python_pairs(manifest, inputs))
    rust_run = _outcome(lambda: run_async(Pipeline.from_manifest(manifest).run(inputs)))
    python_run = _outcome(
        lambda: run_async(Pipeline.from_manifest(manifest).run(inputs, use_rust=False))
    )
    if must_fail:
        for name, (status, value) in {
            "rust": rust,
            "python": python,
            "rust run()": rust_run,
            "python run()": python_run,
        }.items():
            assert status == "error", f"{name} gave {value!r}; {context}"
            assert type(value) is UsageError, f"{name} raised {value!r}; {context}"
        return
    for name, (status, value) in {
        "rust": rust,
        "python": python,
        "rust run()": rust_run,
        "python run()": python_run,
    }.items():
        assert status == "ok", f"{name} raised {value!r}; {context}"

    model = _model(manifest, inputs)
    sinks = _sinks(manifest)
    expected_all = Counter(x for s in sinks for x in model[s])
    python_per_sink: dict[str, list[int]] = {s: [] for s in sinks}
    for sink, item in python[1]:
        assert sink in python_per_sink, f"python output from non-sink {sink}; {context}"
        python_per_sink[sink].append(item)
    assert Counter(rust[1]) == expected_all, f"rust={rust[1]!r} python={python[1]!r}; {context}"
    assert Counter(x for _, x in python[1]) == expected_all, f"python={python[1]!r}; {context}"
    assert Counter(rust_run[1]) == expected_all, f"rust run()={rust_run[1]!r}; {context}"
    assert Counter(python_run[1]) == expected_all, f"python run()={python_run[1]!r}; {context}"
    for sink in sinks:
        assert Counter(python_per_sink[sink]) == Counter(model[sink]), (
            f"sink {sink}: python={python_per_sink[sink]!r}; {context}"
        )

    for sink in sinks:
        sub = _restricted(manifest, _ancestors(manifest, sink))
        sub_inputs = None if _sources_only(sub) else inputs
        sub_context = f"sink {sink}: sub-manifest={sub!r} inputs={sub_inputs!r}; {context}"
        rust_sink = rust_outputs(sub, sub_inputs)
        python_sink = [item for _, item in python_pairs(sub, sub_inputs)]
        if _is_chain(sub):
            assert rust_sink == model[sink], f"rust={rust_sink!r}; {sub_context}"
            assert python_sink == model[sink], f"python={python_sink!r}; {sub_context}"
        else:
            assert Counter(rust_sink) == Counter(model[sink]), f"rust={rust_sink!r}; {sub_context}"
            assert Counter(python_sink) == Counter(model[sink]), (
                f"python={python_sink!r}; {sub_context}"
            )


@pytest.mark.parametrize(
    "manifest",
    [
        {
            "version": "v1",
            "nodes": [
                {"id": "a", "node_type": "Range", "params": {"stop": 3}},
                {"id": "b", "node_type": "Range", "params": {"stop": 2}},
                {"id": "m", "node_type": "Multiply", "params": {"factor": 2}},
            ],
            "connections": [{"from": "a", "to": "m"}, {"from": "b", "to": "m"}],
        },
        {
            "version": "v1",
            "nodes": [{"id": "a", "node_type": "Range", "params": {"stop": 3}}],
        },
    ],
)
@pytest.mark.parametrize("inputs", [[], [1]])
def test_both_engines_reject_inputs_for_sources_only_with_usage_error(
    manifest: Manifest, inputs: list[int]
) -> None:
    with pytest.raises(UsageError):
        rust_outputs(manifest, inputs)
    with pytest.raises(UsageError):
        python_pairs(manifest, inputs)


def test_model_and_engines_agree_on_a_fan_out_and_fan_in_example() -> None:
    # A fixed case the generator also covers, so a broken strategy cannot hide every check.
    manifest: Manifest = {
        "version": "v1",
        "nodes": [
            {"id": "p", "node_type": "PassThrough"},
            {"id": "m", "node_type": "Multiply", "params": {"factor": 10}},
            {"id": "a", "node_type": "Add", "params": {"addend": 1}},
            {"id": "j", "node_type": "PassThroughNode"},
        ],
        "connections": [
            {"from": "p", "to": "m"},
            {"from": "p", "to": "a", "capacity": 1},
            {"from": "m", "to": "j"},
            {"from": "a", "to": "j"},
        ],
    }
    expected = [10, 20, 2, 3]
    assert _model(manifest, [1, 2])["j"] == expected
    assert sorted(rust_outputs(manifest, [1, 2])) == sorted(expected)
    assert sorted(python_pairs(manifest, [1, 2])) == sorted(("j", x) for x in expected)
