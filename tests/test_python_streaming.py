"""Python outputs travel as they are produced, and chains across Rust and Python keep order, on
CPython and on RustPython (`--runtime`).

The timing tests use short real pauses with wide margins: they assert order and spread,
never speed.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from harness import jsonl, live_host, node, run_host, write_manifest


def test_source_items_reach_stdout_as_they_are_yielded(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    nodes = [node("tick", "Ticker", count=5, pause=0.2), node("pass", "PassThrough")]
    with live_host(
        ["run", write_manifest(tmp_path, nodes), "--runtime", runtime], shapes_env, tmp_path
    ) as host:
        arrivals = []
        while (line := host.next_line())[1] is not None:
            arrivals.append(line)
        assert host.exit_code() == 0, (tmp_path / "stderr.txt").read_text()
    assert [int(text) for _, text in arrivals] == [0, 1, 2, 3, 4]
    times = [t for t, _ in arrivals]
    # Four pauses of 0.2 s separate the first item from the last: 0.8 s; allow 0.6 s.
    assert times[-1] - times[0] >= 0.6, times
    assert sum(1 for a, b in pairwise(times) if b - a >= 0.1) >= 3, times


def test_python_node_downstream_sees_items_before_the_source_ends(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    nodes = [
        node("tick", "Ticker", count=5, pause=0.2),
        node("pass", "PassThrough"),
        node("stamp", "Stamp"),
    ]
    result = run_host(
        ["run", write_manifest(tmp_path, nodes), "--runtime", runtime], env_dir=shapes_env
    )
    assert result.code == 0, result
    items = result.items()
    assert [item["item"] for item in items] == [0, 1, 2, 3, 4]
    stamps = [item["t"] for item in items]
    assert stamps == sorted(stamps)
    assert stamps[-1] - stamps[0] >= 0.6, stamps


@pytest.mark.parametrize(
    "nodes",
    [
        pytest.param([node("sum", "RunningSum")], id="streaming"),
        pytest.param([node("sum", "RunningSum"), node("m", "Multiply", factor=1)], id="to-rust"),
        pytest.param(
            [node("p", "PassThrough"), node("sum", "RunningSum"), node("s", "Scale", factor=1)],
            id="rust-python-python",
        ),
    ],
)
def test_each_input_line_gets_its_output_before_the_next_is_sent(
    shapes_env: Path, tmp_path: Path, runtime: str, nodes: list[dict[str, Any]]
) -> None:
    manifest = write_manifest(tmp_path, nodes)
    with live_host(
        ["run", manifest, "--input", "-", "--runtime", runtime], shapes_env, tmp_path
    ) as host:
        outputs = []
        for item in [1, 2, 3, 4]:
            host.send(f"{item}\n")  # the next input is sent only once this one's output came
            outputs.append(host.next_line()[1])
        host.close_input()
        assert host.next_line()[1] is None
        assert host.exit_code() == 0, (tmp_path / "stderr.txt").read_text()
    assert [int(text or "") for text in outputs] == [1, 3, 6, 10]


def test_mixed_chain_from_a_rust_source_keeps_order(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    n = 3000
    nodes = [
        node("range", "Range", stop=n),
        node("scale", "Scale", factor=2),
        node("add", "Add", addend=1),
        node("echo", "Echo", times=2),
        node("mul", "Multiply", factor=3),
    ]
    result = run_host(
        ["run", write_manifest(tmp_path, nodes), "--runtime", runtime], env_dir=shapes_env
    )
    assert result.code == 0, result
    assert result.items() == [3 * (2 * i + 1) for i in range(n) for _ in range(2)]


def test_mixed_chain_from_input_keeps_order(shapes_env: Path, tmp_path: Path, runtime: str) -> None:
    inputs = list(range(5000))
    nodes = [
        node("p", "PassThroughNode", runtime_hint="python"),
        node("add", "Add", addend=1),
        node("inc", "AsyncIncrement", step=1),
        node("even", "KeepEven"),
        node("mul", "Multiply", factor=-1),
        node("sum", "RunningSum"),
    ]
    result = run_host(
        ["run", write_manifest(tmp_path, nodes), "--input", "-", "--runtime", runtime],
        env_dir=shapes_env,
        input_text=jsonl(inputs),
    )
    assert result.code == 0, result
    expected, total = [], 0
    for x in inputs:
        if (x + 2) % 2 == 0:
            total -= x + 2
            expected.append(total)
    assert result.items() == expected


def test_fan_out_from_a_python_source_reaches_every_branch(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    nodes = [
        node("tick", "Ticker", count=3),
        node("py", "Scale", factor=10),
        node("rust", "Multiply", factor=-1),
    ]
    manifest = write_manifest(tmp_path, nodes, [("tick", "py"), ("tick", "rust")])
    result = run_host(["run", manifest, "--tagged", "--runtime", runtime], env_dir=shapes_env)
    assert result.code == 0, result
    by_sink: dict[str, list[int]] = {}
    for item in result.items():
        by_sink.setdefault(item["node"], []).append(item["value"])
    assert by_sink == {"py": [0, 10, 20], "rust": [0, -1, -2]}


def test_fan_in_from_rust_and_python_sources_keeps_each_source_in_order(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    nodes = [
        node("range", "Range", stop=50),
        node("tick", "Ticker", count=50, start=1000),
        node("scale", "Scale", factor=2),
        node("sum", "RunningSum"),
    ]
    connections = [("range", "scale"), ("tick", "scale"), ("scale", "sum")]
    result = run_host(
        ["run", write_manifest(tmp_path, nodes, connections), "--runtime", runtime],
        env_dir=shapes_env,
    )
    assert result.code == 0, result
    sums = result.items()
    steps = [b - a for a, b in pairwise([0, *sums])]  # the items that reached the sum
    assert [s for s in steps if s < 2000] == [2 * i for i in range(50)]
    assert [s for s in steps if s >= 2000] == [2 * i for i in range(1000, 1050)]
