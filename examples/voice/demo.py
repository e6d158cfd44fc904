"""The voice demo (`make demo`): speech in, one WAV file per utterance out.

1. espeak-ng speaks three sentences with pauses between them (`speech.wav`, 22.05 kHz);
2. the host runs `pipeline.toml` on it: audio.WavSource -> audio.Resample {rate = 16000} ->
   SileroVad -> audio.SegmentWriter, showing a progress line and the per-node figures;
3. the segments it reports go into `summary.json`, beside where each sentence was spoken.

Usage: python examples/voice/demo.py [--out DIR] [--host PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from speech import compose, write_wav

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/voice"), help="output directory")
    parser.add_argument(
        "--host",
        type=Path,
        default=Path(sys.executable).parent / "remotemedia-host",
        help="the remotemedia-host binary (default: the one beside this Python)",
    )
    args = parser.parse_args()
    out: Path = args.out.resolve()
    (out / "segments").mkdir(parents=True, exist_ok=True)
    for old in (out / "segments").glob("*.wav"):
        old.unlink()

    speech = compose()
    write_wav(out / "speech.wav", speech.samples, speech.rate)
    print(f"spoke {len(speech.spans)} sentences, {speech.duration:.1f} s: {out / 'speech.wav'}")

    # The host's progress line and metrics table go to this terminal (stderr); the segments
    # it reports come back as JSON lines on stdout.
    run = subprocess.run(
        [str(args.host), "run", str(HERE / "pipeline.toml"), "--metrics", "-"],
        cwd=out,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        print(f"error: remotemedia-host exited with {run.returncode}", file=sys.stderr)
        return run.returncode
    segments: list[dict[str, Any]] = [json.loads(line) for line in run.stdout.splitlines()]
    for segment in segments:
        segment["segment"] = str((out / segment["segment"]).relative_to(out))
    summary = {
        "input": "speech.wav",
        "duration": round(speech.duration, 3),
        "spoken": [{"start": round(s, 3), "end": round(e, 3)} for s, e in speech.spans],
        "segments": segments,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"{len(segments)} segments in {out / 'segments'}; summary in {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
