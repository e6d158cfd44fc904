"""The voice pipeline against the bare Silero model, over two minutes of speech.

- pipeline: `remotemedia-host run` of examples/voice/pipeline.toml's graph on a 22.05 kHz
  int16 WAV (espeak-ng speech with pauses, about two minutes): audio.WavSource (20 ms frames)
  -> audio.Resample {rate = 16000} -> SileroVad -> audio.SegmentWriter, from spawning the host
  to its exit (start-up, plugin discovery, WAV reading, resampling, every crossing into Python,
  the model, the segment files);
- bare: a fresh `python` process that reads the 16 kHz float32 WAV of the same samples the
  VAD sees (made beforehand by the host: WavSource -> Resample -> WavSink), loads the model with
  onnxruntime (one thread) and runs it over the same 512-sample windows with the 64-sample
  context and the recurrent state, as silero_vad's OnnxWrapper does; from spawn to exit too.

Runs are interleaved, R of each after a warm-up of each; prints medians and the ratio
pipeline / bare (the issue's target: at most 1.25). Never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "voice"))

from speech import UTTERANCES, compose, write_wav  # noqa: E402 -- put on the path above

BARE = r"""
import importlib.metadata, sys, time
import numpy as np, onnxruntime
from scipy.io import wavfile

rate, x = wavfile.read(sys.argv[1])
assert rate == 16000 and x.dtype == np.float32, (rate, x.dtype)
model = importlib.metadata.distribution("silero-vad").locate_file("silero_vad/data/silero_vad.onnx")
opts = onnxruntime.SessionOptions()
opts.inter_op_num_threads = 1
opts.intra_op_num_threads = 1
session = onnxruntime.InferenceSession(
    str(model), sess_options=opts, providers=["CPUExecutionProvider"]
)
state = np.zeros((2, 1, 128), np.float32)
sr = np.array(16000, dtype=np.int64)
window = np.zeros((1, 576), np.float32)
speech = 0
start = time.perf_counter()
for i in range(0, len(x) - 511, 512):
    window[0, :64] = window[0, -64:]
    window[0, 64:] = x[i : i + 512]
    out, state = session.run(None, {"input": window, "state": state, "sr": sr})
    speech += out[0, 0] >= 0.5
print(len(x) // 512, int(speech), time.perf_counter() - start)
"""


def manifest(nodes: list[tuple[str, str, dict[str, object]]]) -> str:
    return json.dumps(
        {
            "version": "v1",
            "nodes": [{"id": i, "node_type": t, "params": p} for i, t, p in nodes],
        }
    )


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True, help="the remotemedia-host binary")
    parser.add_argument("--python", default=sys.executable, help="python for the bare loop")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the speech")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, after a warm-up")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one = compose()
        speech = compose(UTTERANCES * max(1, math.ceil(args.seconds / one.duration)))
        write_wav(work / "speech.wav", speech.samples, speech.rate)
        source = ("source", "audio.WavSource", {"path": str(work / "speech.wav"), "frame_ms": 20})
        resample = ("resample", "audio.Resample", {"rate": 16000})
        (work / "prepare.json").write_text(
            manifest([source, resample, ("sink", "audio.WavSink", {"path": str(work / "16k.wav")})])
        )
        (work / "voice.json").write_text(
            manifest(
                [
                    source,
                    resample,
                    ("vad", "SileroVad", {"min_silence_ms": 300}),
                    ("segments", "audio.SegmentWriter", {"directory": str(work / "segments")}),
                ]
            )
        )
        timed([args.host, "run", str(work / "prepare.json")])
        pipeline_cmd = [args.host, "run", str(work / "voice.json")]
        bare_cmd = [args.python, "-c", BARE, str(work / "16k.wav")]

        pipeline: list[float] = []
        bare: list[float] = []
        loop: list[float] = []
        segments = ""
        for i in range(args.repeat + 1):
            p, segments = timed(pipeline_cmd)
            b, out = timed(bare_cmd)
            if i > 0:  # the first of each is the warm-up
                pipeline.append(p)
                bare.append(b)
                loop.append(float(out.split()[2]))
        windows = out.split()[0]

    p, b, lp = (statistics.median(v) for v in (pipeline, bare, loop))
    print(
        f"voice pipeline over {speech.duration:.1f} s of speech ({windows} windows of 512 "
        f"samples, {len(segments.splitlines())} segments), median of {args.repeat}:"
    )
    print(f"  pipeline (host, spawn to exit)        {p * 1000:8.1f} ms")
    print(f"  bare model loop (python, spawn to exit) {b * 1000:6.1f} ms")
    print(f"    of which the loop over the windows  {lp * 1000:8.1f} ms")
    print(f"  ratio pipeline / bare                 {p / b:8.2f}x  (target <= 1.25)")


if __name__ == "__main__":
    main()
