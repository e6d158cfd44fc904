"""The SDK's audio nodes against the host's built-ins of the same names: the same declared
parameters and docs; the same frames out of `Gain`, `Downmix` and `Rechunk` on the Rust engine
(the built-ins) and on the Python executor (the SDK's classes); the same errors, word for word;
and a manifest of audio nodes that loads and runs on both engines.

WAV files are in test_audio_nodes_wav.py, resampling in test_audio_nodes_resample.py.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import remotemedia.nodes
import remotemedia_runtime
from _engines import run_async
from remotemedia.discovery import discover
from remotemedia.errors import ManifestError, NodeError
from remotemedia.media import AudioFrame
from remotemedia.node import Node
from remotemedia.nodes import Downmix, Gain, Rechunk, Resample, WavSink, WavSource
from remotemedia.pipeline import Pipeline

NEVER_WRITTEN = str(Path(tempfile.gettempdir()) / "remotemedia-never-written.wav")
"""A WavSink path in a directory that exists, for runs that fail before the end."""

ENGINES = [True, False]
ENGINE_IDS = ["rust", "python"]

Make = Callable[[], Node]


def run(make: Make, inputs: list[Any] | None, *, use_rust: bool) -> list[Any]:
    """The outputs of a one-node pipeline (a fresh node) on one engine."""
    pipeline = Pipeline("audio")
    pipeline.add_node(make())
    outputs: list[Any] = run_async(pipeline.run(inputs, use_rust=use_rust))
    return outputs


def failure(make: Make, inputs: list[Any] | None, *, use_rust: bool) -> NodeError:
    with pytest.raises(NodeError) as caught:
        run(make, inputs, use_rust=use_rust)
    return caught.value


def key(item: Any) -> Any:
    """What tells frames apart, bytes included (NaN and -0.0 compare as themselves)."""
    if isinstance(item, AudioFrame):
        samples = item.samples
        return (
            item.sample_rate,
            item.timestamp,
            samples.dtype.name,
            samples.shape,
            samples.tobytes(),
        )
    return item


def same_on_both_engines(make: Make, inputs: list[Any]) -> list[Any]:
    """Runs both engines; asserts they give the same items; returns the Python executor's."""
    rust = run(make, inputs, use_rust=True)
    python = run(make, inputs, use_rust=False)
    assert [key(item) for item in python] == [key(item) for item in rust]
    return python


def frame(
    values: Any, rate: int = 8000, timestamp: float = 0.0, dtype: str = "int16"
) -> AudioFrame:
    return AudioFrame(np.asarray(values, dtype=dtype), rate, timestamp)


# --- declared parameters


def test_sdk_nodes_declare_the_builtins_params_kinds_defaults_and_docs() -> None:
    host = {info["node_type"]: info for info in remotemedia_runtime.node_types()}
    ours = [info for info in discover(use_cache=False).types if info.provider == "remotemedia"]
    for info in ours:
        builtin = host[info.node_type]
        doc = host["PassThrough" if info.node_type == "PassThroughNode" else info.node_type]["doc"]
        assert (info.source, info.doc) == (builtin["source"], doc), info.node_type
        by_name = sorted(info.params, key=lambda p: p["name"])
        assert by_name == sorted(builtin["params"], key=lambda p: p["name"]), info.node_type
    audio = {name for name in host if name.startswith("audio.")}
    assert audio == {info.node_type for info in ours if info.node_type.startswith("audio.")}


def test_audio_nodes_are_exported_with_the_builtins_type_names() -> None:
    classes = [WavSource, WavSink, Resample, Gain, Downmix, Rechunk]
    assert [c.type_name() for c in classes] == [
        "audio.WavSource",
        "audio.WavSink",
        "audio.Resample",
        "audio.Gain",
        "audio.Downmix",
        "audio.Rechunk",
    ]
    assert all(c.__name__ in remotemedia.nodes.__all__ for c in classes)
    assert WavSource.is_source
    assert not WavSink.is_source


def test_a_pipeline_of_audio_nodes_writes_their_type_names_and_params() -> None:
    pipeline = Pipeline("audio")
    pipeline.add_node(Gain(db=-3.5, name="gain"))
    pipeline.add_node(Resample(16000, name="resample"))
    nodes = pipeline.to_manifest()["nodes"]
    assert nodes == [
        {"id": "gain", "node_type": "audio.Gain", "params": {"db": -3.5}},
        {"id": "resample", "node_type": "audio.Resample", "params": {"rate": 16000}},
    ]


BAD_PARAMS: list[tuple[str, dict[str, Any], Make]] = [
    ("audio.Gain", {"db": 300}, lambda: Gain(db=300)),
    ("audio.Gain", {"db": -200.5}, lambda: Gain(db=-200.5)),
    ("audio.Gain", {"db": 1e300}, lambda: Gain(db=1e300)),
    ("audio.Rechunk", {"frame_ms": 0}, lambda: Rechunk(frame_ms=0)),
    ("audio.Rechunk", {"frame_ms": 60000.5}, lambda: Rechunk(frame_ms=60000.5)),
    ("audio.WavSource", {"path": "x.wav", "frame_ms": -1}, lambda: WavSource("x.wav", -1)),
    ("audio.WavSource", {"path": ""}, lambda: WavSource("")),
    ("audio.Resample", {"rate": 0}, lambda: Resample(0)),
    ("audio.Resample", {"rate": 768001}, lambda: Resample(768001)),
    ("audio.WavSink", {"path": ""}, lambda: WavSink("")),
    ("audio.WavSink", {"path": "/"}, lambda: WavSink("/")),
    ("audio.WavSink", {"path": "out/.."}, lambda: WavSink("out/..")),
]


@pytest.mark.parametrize(("node_type", "params", "make"), BAD_PARAMS)
def test_a_bad_parameter_is_refused_in_the_hosts_words(
    node_type: str, params: dict[str, Any], make: Make
) -> None:
    manifest = {
        "version": "v1",
        "metadata": {"name": "bad"},
        "nodes": [{"id": "n", "node_type": node_type, "params": params}],
    }
    with pytest.raises(ManifestError) as host:
        remotemedia_runtime.validate(manifest)
    [problem] = host.value.problems
    at, _, message = problem.partition(": ")
    name = at.rpartition(".")[2]
    with pytest.raises(ValueError, match=r".") as ours:
        make()
    assert str(ours.value) == f"{node_type} parameter {name} {message}"


def test_a_parameter_of_the_wrong_kind_is_a_type_error() -> None:
    with pytest.raises(
        TypeError, match=r'^audio.Gain parameter db must be a number, got string "3"$'
    ):
        Gain(db="3")  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(
        TypeError, match=r"^audio.Resample parameter rate must be an integer, got float 16000.0$"
    ):
        Resample(16000.0)  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(
        TypeError, match=r"^audio.Rechunk parameter frame_ms must be a number, got bool true$"
    ):
        Rechunk(frame_ms=True)


# --- Gain, Downmix, Rechunk: the same frames


def _noise(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    if dtype == "int16":
        return rng.integers(-32768, 32767, shape, dtype=np.int16, endpoint=True)
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


@pytest.mark.parametrize("db", [-200, -20, -6.02, 0, 0.1, 3.5, 6, 40, 200])
@pytest.mark.parametrize("dtype", ["int16", "float32"])
def test_gain_gives_the_same_samples_on_both_engines(db: float, dtype: str) -> None:
    extremes = (
        [-32768, 32767, 1, -1, 0] if dtype == "int16" else [3.4e38, -3.4e38, 1e-45, -0.0, np.inf]
    )
    inputs = [
        frame(_noise(dtype, (300,), 1), 16000, 0.5, dtype),
        frame(_noise(dtype, (7, 2), 2), 16000, 1.25, dtype),
        frame(extremes, 16000, 2.0, dtype),
        frame(np.zeros((0, 3)), 16000, 3.0, dtype),
    ]
    outputs = same_on_both_engines(lambda: Gain(db=db), inputs)
    assert [f.samples.dtype.name for f in outputs] == [dtype] * 4


def test_gain_rounds_int16_halves_away_from_zero_and_saturates() -> None:
    [out] = run(lambda: Gain(db=6), [frame([1000, -1000, 30000, -30000])], use_rust=False)
    assert out.samples.tolist() == [1995, -1995, 32767, -32768]  # 10^(6/20) = 1.99526...
    [half] = run(lambda: Gain(db=0), [frame([3, -3])], use_rust=False)
    assert half.samples.tolist() == [3, -3]


@pytest.mark.parametrize("dtype", ["int16", "float32"])
@pytest.mark.parametrize("channels", [2, 3, 9])
def test_downmix_gives_the_same_samples_on_both_engines(dtype: str, channels: int) -> None:
    ties = [[100, 201], [-100, -201], [-32768, -32767], [7, 8]]
    inputs = [
        frame(_noise(dtype, (500, channels), channels), 8000, 0.25, dtype),
        frame(np.zeros((0, channels)), 8000, 1.0, dtype),
        frame(np.full((3, channels), -0.0), 8000, 2.0, dtype),
    ]
    if channels == 2:
        inputs.append(frame(ties, 8000, 3.0, dtype))
    outputs = same_on_both_engines(Downmix, inputs)
    assert all(f.channels == 1 and f.samples.dtype.name == dtype for f in outputs)
    if channels == 2 and dtype == "int16":
        assert outputs[-1].samples.tolist() == [151, -151, -32768, 8]


def test_downmix_passes_a_mono_frame_on_as_it_came() -> None:
    mono = frame([0.1, 0.2], dtype="float32")
    assert Downmix().process(mono) is mono
    same_on_both_engines(Downmix, [mono])


def test_rechunk_cuts_fixed_frames_with_continuous_times_on_both_engines() -> None:
    values = np.arange(2 * 23, dtype=np.int16).reshape(23, 2)
    inputs = [
        frame(values[:2], 1000, 10.0),
        frame(values[2:17], 1000, 99.0),  # later timestamps are not looked at
        frame(values[17:17], 1000, 0.0),
        frame(values[17:], 1000, 0.0),
    ]
    outputs = same_on_both_engines(lambda: Rechunk(frame_ms=3), inputs)
    assert [f.samples.shape[0] for f in outputs] == [3] * 7 + [2]
    assert [round(f.timestamp, 9) for f in outputs] == [10.0 + 0.003 * i for i in range(8)]
    assert np.array_equal(np.concatenate([f.samples for f in outputs]), values)


@pytest.mark.parametrize("frame_ms", [0.01, 1, 20, 21.3])
def test_rechunk_gives_the_same_frames_on_both_engines(frame_ms: float) -> None:
    noise = _noise("float32", (4410,), 3)
    cuts = [0, 1, 441, 442, 1000, 4410]
    inputs = [frame(noise[a:b], 44100, 0.5, "float32") for a, b in itertools.pairwise(cuts)]
    outputs = same_on_both_engines(lambda: Rechunk(frame_ms=frame_ms), inputs)
    assert np.array_equal(np.concatenate([f.samples for f in outputs]), noise)


def test_no_frames_give_no_frames() -> None:
    for make in (Rechunk, Gain, Downmix):
        assert run(make, [], use_rust=False) == []


@pytest.mark.parametrize(
    ("node_type", "params"),
    [
        ("audio.Gain", {"db": -3}),
        ("audio.Downmix", {}),
        ("audio.Rechunk", {"frame_ms": 3}),
        ("audio.Resample", {"rate": 16000}),
    ],
)
def test_the_sdk_nodes_run_alike_inside_the_host(node_type: str, params: dict[str, Any]) -> None:
    # runtime_hint "python": the Rust engine runs the SDK's class, not its built-in.
    spec = {"id": "n", "node_type": node_type, "params": params}
    hinted, builtin = (
        Pipeline.from_manifest(
            {"version": "v1", "metadata": {"name": "hint"}, "nodes": [{**spec, **hint}]}
        )
        for hint in ({"runtime_hint": "python"}, {})
    )
    inputs = [frame(_noise("int16", (500, 2), 4)[i : i + 125], 48000, i / 48000) for i in (0, 125)]
    inside = run_async(hinted.run(inputs, use_rust=True))
    python = run_async(hinted.run(inputs, use_rust=False))
    assert [key(item) for item in inside] == [key(item) for item in python]
    if node_type != "audio.Resample":  # the one built-in that is not bit for bit the same
        rust = run_async(builtin.run(inputs, use_rust=True))
        assert [key(item) for item in inside] == [key(item) for item in rust]


# --- errors: the same on both engines

NOT_AUDIO = [3, "x" * 100, np.zeros(3, np.float32), {"a": [1.5, None]}, b"\x00"]


@pytest.mark.parametrize(
    "make",
    [Gain, Downmix, Rechunk, lambda: Resample(16000), lambda: WavSink(NEVER_WRITTEN)],
    ids=["gain", "downmix", "rechunk", "resample", "wavsink"],
)
@pytest.mark.parametrize("item", NOT_AUDIO, ids=["int", "string", "array", "map", "bytes"])
def test_an_item_that_is_not_audio_fails_alike_on_both_engines(make: Make, item: Any) -> None:
    inputs = [frame([1, 2], 16000), item]
    rust, python = (failure(make, inputs, use_rust=use) for use in ENGINES)
    assert (python.error_type, python.message) == (rust.error_type, rust.message)
    assert str(python) == str(rust)
    assert python.error_type == "TypeError"
    assert python.message.startswith(f"{make().type_name()} expects an audio frame, got ")


FORMAT_CHANGES: list[tuple[Make, list[AudioFrame], str]] = [
    (Rechunk, [frame([1, 2]), frame([1, 2], 16000)], "from 8000 Hz, 1 channel, int16 to 16000 Hz"),
    (Rechunk, [frame([[1, 2]]), frame([0.5], dtype="float32")], "to 8000 Hz, 1 channel, float32"),
    (
        lambda: WavSink(NEVER_WRITTEN),
        [frame([[1, 2]]), frame([[1, 2, 3]])],
        "from 8000 Hz, 2 channels, int16 to 8000 Hz, 3 channels, int16",
    ),
    (
        lambda: Resample(16000),
        [frame([1, 2], 48000), frame([0.5], 48000, dtype="float32"), frame([1], 44100)],
        "from 48000 Hz, 1 channel, int16 to 44100 Hz, 1 channel, int16",
    ),
    (
        lambda: Resample(16000),
        [frame([1, 2], 48000), frame([[1, 2]], 48000)],
        "to 48000 Hz, 2 channels",
    ),
]


@pytest.mark.parametrize(("make", "inputs", "expected"), FORMAT_CHANGES)
def test_a_format_change_mid_stream_fails_alike_on_both_engines(
    make: Make, inputs: list[AudioFrame], expected: str
) -> None:
    rust, python = (failure(make, inputs, use_rust=use) for use in ENGINES)
    assert (python.error_type, python.message) == (rust.error_type, rust.message)
    assert python.error_type == "ValueError"
    assert python.message.startswith(f"{make().type_name()}: the stream changed format mid-stream")
    assert expected in python.message


# --- manifests

MANIFEST = """
version = "v1"

[metadata]
name = "audio_chain"

[[nodes]]
id = "source"
node_type = "audio.WavSource"
params = {{ path = "{source}", frame_ms = 20 }}

[[nodes]]
id = "gain"
node_type = "audio.Gain"
params = {{ db = -6 }}

[[nodes]]
id = "mono"
node_type = "audio.Downmix"

[[nodes]]
id = "resample"
node_type = "audio.Resample"
params = {{ rate = 16000 }}

[[nodes]]
id = "chunks"
node_type = "audio.Rechunk"
params = {{ frame_ms = 32 }}

[[nodes]]
id = "sink"
node_type = "audio.WavSink"
params = {{ path = "{sink}" }}
"""


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_a_manifest_of_audio_nodes_loads_and_runs(tmp_path: Path, use_rust: bool) -> None:
    source, sink = tmp_path / "in.wav", tmp_path / "out.wav"
    t = np.arange(48000) / 48000
    tone = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 880 * t)], 1) * 16000
    run(lambda: WavSink(str(source)), [frame(tone.astype(np.int16), 48000)], use_rust=True)
    path = tmp_path / "chain.toml"
    path.write_text(MANIFEST.format(source=source, sink=sink))
    pipeline = Pipeline.from_manifest(path)
    assert [n.type_name() for n in pipeline.nodes][::5] == ["audio.WavSource", "audio.WavSink"]
    summary = run_async(pipeline.run(None, use_rust=use_rust))
    assert summary == [
        {
            "path": str(sink),
            "sample_rate": 16000,
            "channels": 1,
            "dtype": "float32",
            "samples": 16000,
            "duration": 1.0,
        }
    ]
    [out] = run(lambda: WavSource(str(sink), frame_ms=1000), None, use_rust=False)
    expected = (tone[::3].mean(axis=1) / 32768 * 10 ** (-6 / 20)).astype(np.float32)
    error = out.samples[100:-100] - expected[100:-100]
    assert 20 * np.log10(np.sqrt(np.mean(error**2)) / np.sqrt(np.mean(expected**2))) < -45
