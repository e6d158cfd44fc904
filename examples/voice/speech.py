"""Speech spoken by espeak-ng, for the voice demo, the end-to-end tests and the benchmark.

`compose` puts utterances one after another with pauses between them and says where each
one's voice starts and ends, so a test can check what a voice activity detector finds.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

UTTERANCES = (
    "Hello, and welcome to remote media.",
    "Voice activity detection finds each sentence, even with short pauses between the words.",
    "Every sentence is written to a file of its own.",
)

# A sample quieter than this (about -50 dBFS) counts as silence when placing utterances.
_VOICED = 100


@dataclass(frozen=True)
class Speech:
    """Mono int16 samples, their rate, and each utterance's voiced span in seconds."""

    samples: npt.NDArray[np.int16]
    rate: int
    spans: list[tuple[float, float]]

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def espeak() -> str:
    """The espeak-ng executable; a clear error when it is not installed."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise RuntimeError("espeak-ng is not installed: `make setup` installs it (apt-get)")
    return path


def speak(text: str, *, speed: int = 160) -> tuple[npt.NDArray[np.int16], int]:
    """One utterance, trimmed to its voice: (int16 samples, rate)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "utterance.wav"
        subprocess.run([espeak(), "-s", str(speed), "-w", str(path), text], check=True)
        samples, rate = read_wav(path)
    voiced = np.flatnonzero(np.abs(samples.astype(np.int32)) > _VOICED)
    return samples[voiced[0] : voiced[-1] + 1], rate


def compose(
    utterances: tuple[str, ...] | list[str] = UTTERANCES,
    *,
    lead: float = 0.6,
    pause: float = 1.2,
    tail: float = 0.8,
) -> Speech:
    """The utterances with `pause` seconds of silence between them, `lead` before, `tail` after."""
    parts: list[npt.NDArray[np.int16]] = []
    spans: list[tuple[float, float]] = []
    rate = 0
    position = 0
    for i, text in enumerate(utterances):
        voice, rate = speak(text)
        gap = np.zeros(round((lead if i == 0 else pause) * rate), dtype=np.int16)
        parts += [gap, voice]
        position += len(gap)
        spans.append((position / rate, (position + len(voice)) / rate))
        position += len(voice)
    parts.append(np.zeros(round(tail * rate), dtype=np.int16))
    return Speech(np.concatenate(parts), rate, spans)


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """A 16-bit mono WAV file: (samples, rate)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono")
        data = wav.readframes(wav.getnframes())
        return np.frombuffer(data, dtype="<i2").astype(np.int16), wav.getframerate()


def write_wav(path: Path, samples: npt.NDArray[np.int16], rate: int) -> None:
    """Writes 16-bit mono samples."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())
