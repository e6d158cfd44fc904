"""A stream that fails upstream is never taken for a whole one downstream: a node after the
failure (in another task, here after a Python stage) stops without finishing, so
`audio.WavSink` neither writes its file nor prints its summary."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from harness import node, run_host, write_manifest

FAILS_MIDWAY = '''
from remotemedia import Node

class FailAt(Node):
    """Passes frames on and raises on the `at`-th."""

    def __init__(self, at: int, name: str | None = None) -> None:
        super().__init__(name=name)
        self.at, self.seen = at, 0

    def process(self, data):
        self.seen += 1
        if self.seen == self.at:
            raise ValueError(f"failing on frame {self.seen}, as asked")
        return data
'''


def speech_file(path: Path) -> None:
    """Two seconds of a 16-bit mono ramp at 16 kHz: 100 frames of 20 ms."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"".join((i % 1000).to_bytes(2, "little") for i in range(32000)))


@pytest.mark.parametrize(
    ("failing", "message"),
    [
        (node("fail", "failmidway:FailAt", at=50), "failing on frame 50"),
        (node("fail", "remotemedia.testing:FailOn", where="construct"), "in the constructor"),
        (node("fail", "remotemedia.testing:FailOn", where="initialize"), "in initialize"),
    ],
    ids=["midway", "construct", "initialize"],
)
def test_a_sink_after_a_failed_python_stage_writes_nothing(
    shapes_env: Path, tmp_path: Path, failing: dict[str, object], message: str
) -> None:
    (tmp_path / "failmidway.py").write_text(FAILS_MIDWAY)
    speech_file(tmp_path / "in.wav")
    out = tmp_path / "out.wav"
    manifest = write_manifest(
        tmp_path,
        [
            node("src", "audio.WavSource", path=str(tmp_path / "in.wav")),
            failing,
            node("gain", "audio.Gain", db=-6.0),
            node("sink", "audio.WavSink", path=str(out)),
        ],
    )
    # Several runs: before the fix the outcome depended on which task saw what first.
    for _ in range(3):
        result = run_host(
            ["run", manifest],
            env_dir=shapes_env,
            env={"PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert result.code == 1, result.stderr
        assert message in result.stderr
        assert result.stdout == ""
        assert not out.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "failmidway.py",
            "in.wav",
            "manifest.json",
        ]
