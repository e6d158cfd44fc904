"""The voice demo end to end: espeak-ng speech through the host, Silero VAD and the segment
writer of the plugins installed in the dev environment (`make setup`), one WAV per sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import scipy.io.wavfile

from harness import DEV_PYTHON, REPO, child_env, host_binary

DEMO = REPO / "examples" / "voice" / "demo.py"
TOLERANCE = 0.3
"""Seconds a segment's start may be from where its sentence's voice starts (the issue's bound)."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("voice")
    run = subprocess.run(
        [str(DEV_PYTHON), str(DEMO), "--out", str(out), "--host", str(host_binary())],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env({"VIRTUAL_ENV": str(DEV_PYTHON.parent.parent)}),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return out, json.loads((out / "summary.json").read_text())


def wav_seconds(path: Path) -> float:
    rate, samples = scipy.io.wavfile.read(path)
    return float(len(samples) / rate)


def test_every_sentence_becomes_one_segment_where_it_was_spoken(
    demo: tuple[Path, dict[str, object]],
) -> None:
    _, summary = demo
    spoken = summary["spoken"]
    segments = summary["segments"]
    assert isinstance(spoken, list)
    assert isinstance(segments, list)
    assert len(segments) == len(spoken) == 3, segments
    for said, found in zip(spoken, segments, strict=True):
        assert abs(found["start"] - said["start"]) <= TOLERANCE, (said, found)
        assert abs(found["end"] - said["end"]) <= TOLERANCE + 0.2, (said, found)


def test_each_segment_file_holds_its_span_of_audio(demo: tuple[Path, dict[str, object]]) -> None:
    out, summary = demo
    segments = summary["segments"]
    assert isinstance(segments, list)
    written = sorted((out / "segments").glob("*.wav"))
    assert [out / s["segment"] for s in segments] == written
    for segment in segments:
        seconds = wav_seconds(out / segment["segment"])
        assert seconds == pytest.approx(segment["end"] - segment["start"], abs=1 / 16000)


def test_the_host_reports_per_node_figures_on_stderr(tmp_path: Path) -> None:
    # The demo's stderr goes to the terminal; run the same pipeline here to read it.
    sys.path.insert(0, str(DEMO.parent))
    from speech import compose, write_wav  # noqa: PLC0415 -- examples/voice is put on the path here

    speech = compose(["One short sentence."])
    write_wav(tmp_path / "speech.wav", speech.samples, speech.rate)
    run = subprocess.run(
        [str(host_binary()), "run", str(DEMO.parent / "pipeline.toml"), "--metrics", "-"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env({"VIRTUAL_ENV": str(DEV_PYTHON.parent.parent)}),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    rows = {
        line.split()[0]: line.split()[2:]
        for line in run.stderr.splitlines()
        if line.split()[:1] in (["source"], ["resample"], ["vad"], ["segments"])
    }
    assert sorted(rows) == ["resample", "segments", "source", "vad"], run.stderr
    # items in, items out, busy ms, blocked ms: a Python node's busy time is not measured.
    assert float(rows["resample"][2]) > 0
    assert rows["vad"][2] == rows["segments"][2] == "-"
    [line] = run.stdout.splitlines()
    assert json.loads(line)["segment"].endswith(".wav")
