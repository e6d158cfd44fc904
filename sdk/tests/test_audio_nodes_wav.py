"""`audio.WavSource` and `audio.WavSink` on both engines: the host's built-ins (hound) on the
Rust engine, the SDK's classes on the Python executor. Files written from the same frames are
the same bytes; files of every depth and header layout read as the same frames; files that
cannot be read fail in the same words; a run that fails leaves no file behind.
"""

from __future__ import annotations

import itertools
import logging
import os
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import remotemedia_runtime
from _engines import run_async
from remotemedia.errors import ManifestError, NodeError
from remotemedia.media import AudioFrame
from remotemedia.node import Node
from remotemedia.nodes import Gain, WavSink, WavSource
from remotemedia.pipeline import Pipeline

ENGINES = [True, False]
ENGINE_IDS = ["rust", "python"]

PCM, FLOAT, EXTENSIBLE, ADPCM = 1, 3, 0xFFFE, 2
GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
GUID_PCM, GUID_FLOAT = b"\x01\x00" + GUID_TAIL, b"\x03\x00" + GUID_TAIL


def run(nodes: list[Node], inputs: list[Any] | None, *, use_rust: bool) -> list[Any]:
    pipeline = Pipeline("wav")
    for node in nodes:
        pipeline.add_node(node)
    outputs: list[Any] = run_async(pipeline.run(inputs, use_rust=use_rust))
    return outputs


def failure(nodes: Callable[[], list[Node]], *, use_rust: bool, inputs: Any = None) -> NodeError:
    with pytest.raises(NodeError) as caught:
        run(nodes(), inputs, use_rust=use_rust)
    return caught.value


def key(frame: AudioFrame) -> Any:
    samples = frame.samples
    return (
        frame.sample_rate,
        frame.timestamp,
        samples.dtype.name,
        samples.shape,
        samples.tobytes(),
    )


def read_both(path: Path, frame_ms: float = 20) -> list[AudioFrame]:
    """The frames of `path` from `WavSource` on both engines, which must agree."""
    rust, python = (
        run([WavSource(str(path), frame_ms=frame_ms)], None, use_rust=use) for use in ENGINES
    )
    assert [key(f) for f in python] == [key(f) for f in rust]
    return python


@pytest.fixture
def wav_dir(tmp_path: Path) -> Path:
    """An empty directory for the files of one test (`wav_dir` also holds the discovery
    cache)."""
    path = tmp_path / "wav"
    path.mkdir()
    return path


def fmt(tag: int, channels: int, rate: int, container: int, extra: bytes = b"") -> bytes:
    """A `fmt ` chunk's body: WAVEFORMAT, container bits, then `extra`."""
    align = channels * container // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, container) + extra


def extensible(channels: int, rate: int, container: int, valid: int, guid: bytes) -> bytes:
    return fmt(EXTENSIBLE, channels, rate, container, struct.pack("<HHI", 22, valid, 3) + guid)


def riff(*chunks: tuple[bytes, bytes]) -> bytes:
    """A RIFF WAVE file of `(id, body)` chunks, each padded to an even length."""
    body = b"WAVE" + b"".join(
        name + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)
        for name, data in chunks
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def frames_of(dtype: str, channels: int, seed: int) -> list[AudioFrame]:
    rng = np.random.default_rng(seed)
    if dtype == "int16":
        values: Any = rng.integers(-32768, 32767, (1000, channels), dtype=np.int16, endpoint=True)
    else:
        values = rng.standard_normal((1000, channels)).astype(np.float32)
        values[:4, 0] = [np.inf, -0.0, 3.4e38, 1e-45]
    if channels == 1:
        values = values[:, 0]
    cuts = [0, 1, 1, 441, 1000]
    return [AudioFrame(values[a:b], 22050, a / 22050) for a, b in itertools.pairwise(cuts)]


@pytest.mark.parametrize(
    ("dtype", "channels"),
    [("int16", 1), ("int16", 2), ("float32", 1), ("float32", 2), ("int16", 3), ("float32", 6)],
)
def test_the_same_frames_make_the_same_file_and_read_back_bit_for_bit(
    wav_dir: Path, dtype: str, channels: int
) -> None:
    frames = frames_of(dtype, channels, channels)
    written = {}
    for use_rust in ENGINES:
        path = wav_dir / f"{use_rust}.wav"
        [summary] = run([WavSink(str(path))], frames, use_rust=use_rust)
        assert summary == {
            "path": str(path),
            "sample_rate": 22050,
            "channels": channels,
            "dtype": dtype,
            "samples": 1000,
            "duration": 1000 / 22050,
        }
        written[use_rust] = path.read_bytes()
    assert written[True] == written[False]
    assert sorted(os.listdir(wav_dir)) == ["False.wav", "True.wav"]  # no temporary file left

    read = read_both(wav_dir / "True.wav", frame_ms=7)
    assert {f.samples.dtype.name for f in read} == {dtype}
    assert [f.samples.shape[0] for f in read] == [154] * 6 + [76]  # round(22050 * 0.007)
    assert [f.timestamp for f in read] == [154 * i / 22050 for i in range(7)]
    for use_rust in ENGINES:  # WavSource -> WavSink copies the file, byte for byte
        copy = wav_dir / f"copy-{use_rust}.wav"
        run([WavSource(str(wav_dir / "True.wav")), WavSink(str(copy))], None, use_rust=use_rust)
        assert copy.read_bytes() == written[True]


def _ints(bits: int) -> list[int]:
    full = 1 << (bits - 1)
    return [-full, 0, full // 2, -full // 4, full - 1, 1]


SCALED = [-1.0, 0.0, 0.5, -0.25]
"""What `_ints(bits)[:4]` read as: divided by 2^(bits-1)."""


def _depth_files() -> list[tuple[str, bytes, str]]:
    """Files of each depth and header layout hound reads, and the dtype they read as."""
    s8 = bytes(v + 128 for v in _ints(8))
    s24 = b"".join(v.to_bytes(3, "little", signed=True) for v in _ints(24))
    s32 = struct.pack("<6i", *_ints(32))
    s16 = struct.pack("<6h", *_ints(16))
    f32 = struct.pack("<6f", 0.5, -0.25, 1.0, -1.0, 1e-40, 3.0)
    listed = (b"LIST", b"INFOISFT\x06\x00\x00\x00hound\x00")
    return [
        ("8-bit", riff((b"fmt ", fmt(PCM, 2, 8000, 8)), (b"data", s8)), "float32"),
        ("24-bit", riff((b"fmt ", fmt(PCM, 2, 8000, 24)), (b"data", s24)), "float32"),
        (
            "32-bit",
            riff((b"fmt ", extensible(2, 8000, 32, 32, GUID_PCM)), (b"data", s32)),
            "float32",
        ),
        ("16-bit-ex", riff((b"fmt ", fmt(PCM, 2, 8000, 16, b"\0\0")), (b"data", s16)), "int16"),
        (
            "16-bit-extensible",
            riff((b"fmt ", extensible(3, 8000, 16, 16, GUID_PCM)), (b"data", s16)),
            "int16",
        ),
        (
            "16-bit-chunks",
            riff(
                listed,
                (b"fmt ", fmt(PCM, 1, 8000, 16)),
                (b"fact", b"\6\0\0\0"),
                (b"data", s16),
                (b"LIST", b"ab"),
            ),
            "int16",
        ),
        ("float-ex", riff((b"fmt ", fmt(FLOAT, 1, 8000, 32, b"\0\0")), (b"data", f32)), "float32"),
        (
            "float-extensible",
            riff((b"fmt ", extensible(2, 8000, 32, 0, GUID_FLOAT)), (b"data", f32)),
            "float32",
        ),
    ]


@pytest.mark.parametrize(
    ("name", "data", "dtype"), _depth_files(), ids=[f[0] for f in _depth_files()]
)
def test_every_depth_and_header_layout_reads_alike(
    wav_dir: Path, name: str, data: bytes, dtype: str
) -> None:
    path = wav_dir / "in.wav"
    path.write_bytes(data)
    frames = read_both(path, frame_ms=0.25)  # 2 samples per channel a frame
    assert {f.samples.dtype.name for f in frames} == {dtype}
    samples = np.concatenate([f.samples.reshape(-1) for f in frames])
    if name[0].isdigit() and dtype == "float32":
        assert samples[:4].tolist() == SCALED
    elif dtype == "int16":
        assert samples.tolist() == _ints(16)


def test_an_empty_file_gives_one_empty_frame_and_copies_to_an_empty_file(wav_dir: Path) -> None:
    path = wav_dir / "empty.wav"
    path.write_bytes(riff((b"fmt ", fmt(PCM, 2, 16000, 16)), (b"data", b"")))
    [empty] = read_both(path)
    assert (empty.samples.shape, empty.samples.dtype.name, empty.timestamp) == (
        (0, 2),
        "int16",
        0.0,
    )
    for use_rust in ENGINES:
        copy = wav_dir / f"copy-{use_rust}.wav"
        [summary] = run([WavSource(str(path)), WavSink(str(copy))], None, use_rust=use_rust)
        assert (summary["samples"], summary["channels"], summary["duration"]) == (0, 2, 0.0)
        assert copy.read_bytes() == path.read_bytes()


UNREADABLE = [
    ("not-riff", b"RIFX" + b"\0" * 40),
    ("not-wave", b"RIFF\0\0\0\0AVI " + b"\0" * 40),
    ("short", b"RIFF\0\0"),
    ("no-fmt", riff((b"data", b"\0\0"))),
    ("no-data", riff((b"fmt ", fmt(PCM, 1, 8000, 16)))),
    ("adpcm", riff((b"fmt ", fmt(ADPCM, 1, 8000, 16)), (b"data", b""))),
    (
        "zero-channels",
        riff((b"fmt ", struct.pack("<HHIIHH", 1, 0, 8000, 0, 0, 16)), (b"data", b"")),
    ),
    ("inconsistent", riff((b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 1, 2, 16)), (b"data", b""))),
    ("12-bit", riff((b"fmt ", fmt(PCM, 1, 8000, 12)), (b"data", b""))),
    ("odd-data", riff((b"fmt ", fmt(PCM, 1, 8000, 16)), (b"data", b"\0\0\0"))),
    ("half-frame", riff((b"fmt ", fmt(PCM, 2, 8000, 16)), (b"data", b"\0\0"))),
    ("unknown-guid", riff((b"fmt ", extensible(1, 8000, 16, 16, b"\7" * 16)), (b"data", b""))),
    ("float-24", riff((b"fmt ", extensible(1, 8000, 32, 24, GUID_FLOAT)), (b"data", b""))),
    ("pcm-32-ex", riff((b"fmt ", fmt(PCM, 1, 8000, 32, b"\0\0")), (b"data", b""))),
    # Samples narrower than their container: hound would read the container's low bytes.
    ("24-in-32", riff((b"fmt ", extensible(2, 8000, 32, 24, GUID_PCM)), (b"data", b"\0" * 8))),
    ("16-in-32", riff((b"fmt ", extensible(1, 8000, 32, 16, GUID_PCM)), (b"data", b"\0" * 8))),
    ("8-in-16", riff((b"fmt ", extensible(1, 8000, 16, 8, GUID_PCM)), (b"data", b"\0" * 8))),
    ("rate-0", riff((b"fmt ", struct.pack("<HHIIHH", 1, 1, 0, 0, 2, 16)), (b"data", b""))),
]


@pytest.mark.parametrize(("name", "data"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_a_file_that_cannot_be_read_is_refused_in_the_hosts_words(
    wav_dir: Path, name: str, data: bytes
) -> None:
    path = wav_dir / "bad.wav"
    path.write_bytes(data)
    manifest = {
        "version": "v1",
        "metadata": {"name": "bad"},
        "nodes": [{"id": "src", "node_type": "audio.WavSource", "params": {"path": str(path)}}],
    }
    # The host opens the file when it validates the manifest; the Python executor, when the
    # node initializes.
    with pytest.raises(ManifestError) as host:
        remotemedia_runtime.validate(manifest)
    [problem] = host.value.problems
    python = failure(lambda: [WavSource(str(path))], use_rust=False)
    assert (python.error_type, python.message) == (
        "OSError",
        "audio.WavSource: " + problem.removeprefix("nodes[0].params.path: "),
    )


def test_a_missing_file_is_refused_in_the_hosts_words(wav_dir: Path) -> None:
    path = wav_dir / "missing.wav"
    python = failure(lambda: [WavSource(str(path))], use_rust=False)
    assert python.message == (
        f"audio.WavSource: cannot read WAV file {path}: No such file or directory (os error 2)"
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("truncated", riff((b"fmt ", fmt(PCM, 1, 8000, 16)), (b"data", b"\0" * 100))[:-40]),
    ],
)
def test_a_file_that_fails_while_streaming_fails_alike_after_its_first_frames(
    wav_dir: Path, name: str, data: bytes
) -> None:
    path = wav_dir / f"{name}.wav"
    path.write_bytes(data)
    nodes = lambda: [WavSource(str(path), frame_ms=1)]  # noqa: E731 -- a factory per engine
    rust, python = (failure(nodes, use_rust=use) for use in ENGINES)
    assert (python.error_type, python.message) == (rust.error_type, rust.message)
    assert python.error_type == "OSError"
    assert python.message.startswith(f"audio.WavSource: reading {path}: ")
    if name == "truncated":
        assert python.message.endswith("Failed to read enough bytes.")
        assert len(python.partial_outputs) == 3  # the file streams: 3 whole frames came first


def test_an_odd_chunk_is_skipped_with_its_pad_byte(wav_dir: Path) -> None:
    # hound skips no pad byte, so the host cannot read this file; the RIFF rule is kept here.
    path = wav_dir / "odd.wav"
    path.write_bytes(riff((b"junk", b"abc"), (b"fmt ", fmt(PCM, 1, 8000, 16)), (b"data", b"\1\0")))
    [one] = run([WavSource(str(path))], None, use_rust=False)
    assert one.samples.tolist() == [1]


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_no_audio_writes_no_file_and_reports_null_format(
    wav_dir: Path, use_rust: bool, caplog: pytest.LogCaptureFixture
) -> None:
    path = wav_dir / "out.wav"
    with caplog.at_level(logging.WARNING, logger="remotemedia"):
        [summary] = run([WavSink(str(path))], [], use_rust=use_rust)
    assert summary == {
        "path": str(path),
        "sample_rate": None,
        "channels": None,
        "dtype": None,
        "samples": 0,
        "duration": 0.0,
    }
    assert os.listdir(wav_dir) == []
    if not use_rust:
        assert f"audio.WavSink: no audio arrived; {path} not written" in caplog.messages


@pytest.mark.parametrize("use_rust", ENGINES, ids=ENGINE_IDS)
def test_a_run_that_fails_leaves_the_file_as_it_was(wav_dir: Path, use_rust: bool) -> None:
    path = wav_dir / "out.wav"
    path.write_bytes(b"before")
    good = AudioFrame(np.zeros(100, np.int16), 8000)
    with pytest.raises(NodeError) as caught:
        run([Gain(name="gain"), WavSink(str(path))], [good, good, "not audio"], use_rust=use_rust)
    assert caught.value.node_id == "gain"
    assert os.listdir(wav_dir) == ["out.wav"]
    assert path.read_bytes() == b"before"


def test_the_sink_writes_beside_the_path_and_renames_at_the_end(wav_dir: Path) -> None:
    path = wav_dir / "out.wav"
    sink = WavSink(str(path))
    seen: list[list[str]] = []

    async def frames() -> AsyncIterator[Any]:
        for _ in range(3):
            yield AudioFrame(np.zeros((10, 2), np.int16), 8000)
            seen.append(sorted(os.listdir(wav_dir)))  # the sink has written the frame

    async def drive() -> list[Any]:
        return [item async for item in sink.process(frames())]

    [summary] = run_async(drive())
    temp = f".out.wav.{os.getpid()}."
    assert all(len(names) == 1 and names[0].startswith(temp) for names in seen), seen
    assert seen[0][0].endswith(".part")
    assert os.listdir(wav_dir) == ["out.wav"]
    assert summary["samples"] == 30
    sink.cleanup()
    assert os.listdir(wav_dir) == ["out.wav"]
