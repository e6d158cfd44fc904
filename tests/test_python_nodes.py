"""Python nodes of every shape give the expected outputs, alone, chained, and mixed with Rust,
on CPython and on RustPython (`--runtime`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import jsonl, node, run_host, write_manifest

SHAPES = [
    pytest.param([node("s", "Scale", factor=3)], [1, 2, 3], [3, 6, 9], id="sync"),
    pytest.param(
        [node("s", "Scale")],
        ["ab", 1.5, [1, None]],
        ["abab", 3.0, [1, None, 1, None]],
        id="sync-values",
    ),
    pytest.param([node("even", "KeepEven")], [1, 2, 3, 4, 7, 8], [2, 4, 8], id="sync-filter"),
    pytest.param([node("even", "KeepEven")], [1, 3, 5], [], id="sync-filter-drops-all"),
    pytest.param([node("c", "CountDown")], [3, 0, 2], [3, 2, 1, 2, 1], id="generator"),
    pytest.param([node("e", "Echo", times=0)], [1, 2], [], id="generator-no-outputs"),
    pytest.param([node("i", "AsyncIncrement", step=10)], [1, 2, 3], [11, 12, 13], id="async"),
    pytest.param([node("sum", "RunningSum")], [1, 2, 3, 4], [1, 3, 6, 10], id="streaming"),
    pytest.param([node("sum", "RunningSum")], [], [], id="streaming-empty-input"),
    pytest.param(
        [
            node("even", "KeepEven"),
            node("c", "CountDown"),
            node("sum", "RunningSum"),
            node("i", "AsyncIncrement", step=100),
            node("s", "Scale", factor=-1),
        ],
        [1, 2, 3, 4],
        [-102, -103, -107, -110, -112, -113],
        id="python-chain-of-every-shape",
    ),
    pytest.param(
        [
            node("c", "CountDown"),
            node("m", "Multiply", factor=10),
            node("sum", "RunningSum"),
            node("a", "Add", addend=1),
            node("even", "KeepEven"),
        ],
        [2, 1],
        [],
        id="mixed-chain-filtered-to-nothing",
    ),
    pytest.param(
        [node("c", "CountDown"), node("m", "Multiply", factor=10), node("sum", "RunningSum")],
        [2, 1],
        [20, 30, 40],
        id="mixed-chain",
    ),
    pytest.param(
        [node("p", "PassThroughNode", runtime_hint="python"), node("m", "Multiply", factor=2)],
        [1, 2.5],
        [2, 5.0],
        id="sdk-node-by-runtime-hint",
    ),
    pytest.param(
        [node("m", "Multiply", factor=2, runtime_hint="python"), node("a", "Add", addend=1)],
        [1, 2],
        [3, 5],
        id="sdk-multiply-by-runtime-hint",
    ),
]


@pytest.mark.parametrize(("nodes", "inputs", "expected"), SHAPES)
def test_node_shapes_give_expected_outputs(
    shapes_env: Path,
    tmp_path: Path,
    runtime: str,
    nodes: list[dict[str, Any]],
    inputs: list[Any],
    expected: list[Any],
) -> None:
    manifest = write_manifest(tmp_path, nodes)
    result = run_host(
        ["run", manifest, "--input", "-", "--runtime", runtime],
        env_dir=shapes_env,
        input_text=jsonl(inputs),
    )
    assert result.code == 0, result
    assert result.items() == expected


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        pytest.param([node("t", "Ticker", count=4, start=5)], [5, 6, 7, 8], id="alone"),
        pytest.param(
            [node("t", "Ticker", count=3), node("a", "Add", addend=1), node("s", "RunningSum")],
            [1, 3, 6],
            id="into-rust-and-python",
        ),
        pytest.param([node("t", "Ticker", count=0)], [], id="no-items"),
    ],
)
def test_streaming_source_runs_without_input(
    shapes_env: Path,
    tmp_path: Path,
    runtime: str,
    nodes: list[dict[str, Any]],
    expected: list[int],
) -> None:
    manifest = write_manifest(tmp_path, nodes)
    result = run_host(["run", manifest, "--runtime", runtime], env_dir=shapes_env)
    assert result.code == 0, result
    assert result.items() == expected


def test_initialize_and_cleanup_run_once_each_around_the_items(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    log = tmp_path / "events.log"
    nodes = [
        node("sync", "SyncLifecycle", log=str(log)),
        node("m", "Multiply", factor=2),
        node("async", "AsyncLifecycle", log=str(log)),
        node("sync2", "SyncLifecycle", log=str(log)),
    ]
    result = run_host(
        ["run", write_manifest(tmp_path, nodes), "--input", "-", "--runtime", runtime],
        env_dir=shapes_env,
        input_text=jsonl([1, 2, 3]),
    )
    assert result.code == 0, result
    assert result.items() == [2, 4, 6]
    events = log.read_text().splitlines()
    expected_items = {"sync": [1, 2, 3], "async": [2, 4, 6], "sync2": [2, 4, 6]}
    for node_id, items in expected_items.items():
        mine = [e.rsplit(" ", 1)[0] for e in events if e.rsplit(" ", 1)[1] == node_id]
        assert mine == ["initialize", *(f"process:{i}" for i in items), "cleanup"], events


MODULE = """
from remotemedia import Node


class Suffix(Node):
    def __init__(self, suffix="!", **kwargs):
        super().__init__(**kwargs)
        self.suffix = suffix

    def process(self, data):
        return f"{data}{self.suffix}"


class Outer:
    class Inner(Suffix):
        async def process(self, stream):
            async for item in stream:
                yield [self.name, item]
"""


@pytest.mark.parametrize(
    ("node_type", "params", "expected"),
    [
        ("mymodule:Suffix", {"suffix": "?"}, ["a?", "1?"]),
        ("mypkg.nodes:Suffix", {}, ["a!", "1!"]),
        ("mypkg.nodes:Outer.Inner", {}, [["n", "a"], ["n", 1]]),
    ],
)
def test_import_path_types_resolve_through_pythonpath(
    shapes_env: Path,
    tmp_path: Path,
    runtime: str,
    node_type: str,
    params: dict[str, Any],
    expected: list[Any],
) -> None:
    code = tmp_path / "code"
    (code / "mypkg").mkdir(parents=True)
    (code / "mymodule.py").write_text(MODULE)
    (code / "mypkg" / "__init__.py").write_text("")
    (code / "mypkg" / "nodes.py").write_text(MODULE)
    manifest = write_manifest(tmp_path, [node("n", node_type, **params)])
    result = run_host(
        ["run", manifest, "--input", "-", "--runtime", runtime],
        env_dir=shapes_env,
        input_text=jsonl(["a", 1]),
        env={"PYTHONPATH": str(code)},
    )
    assert result.code == 0, result
    assert result.items() == expected


def test_import_path_without_pythonpath_fails_naming_the_module(
    shapes_env: Path, tmp_path: Path, runtime: str
) -> None:
    manifest = write_manifest(tmp_path, [node("n", "nowhere_module_e2e:Suffix")])
    result = run_host(
        ["run", manifest, "--input", "-", "--runtime", runtime],
        env_dir=shapes_env,
        input_text="1\n",
    )
    assert result.code != 0, result
    assert "nowhere_module_e2e" in result.stderr
    assert result.stdout == ""
