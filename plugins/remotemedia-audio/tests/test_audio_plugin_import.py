"""Plugin discovery imports the entry-point module and the node classes without numpy.

The host and the SDK import `remotemedia_audio.plugin` to list the node types and read their
constructors; numpy (~95 ms), scipy, pyloudnorm and librosa are imported when a node runs.
Each check runs in a fresh interpreter, since this one has imported them already.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "scipy", "pyloudnorm", "onnxruntime", "librosa")

_SCRIPT = f"""
import json, sys
import remotemedia_audio.plugin
from remotemedia_audio import LogMel, LoudnessNormalize, SegmentWriter
from remotemedia.signature import constructor_params
types = remotemedia_audio.plugin.remotemedia_node_types()
assert types == [LoudnessNormalize, LogMel, SegmentWriter], types
params = {{t.type_name(): constructor_params(t)[0] for t in types}}
loaded = [name for name in {HEAVY!r} if name in sys.modules]
print(json.dumps({{"loaded": loaded, "params": params}}))
"""


def _discover() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_discovery_imports_neither_numpy_nor_scipy() -> None:
    assert _discover()["loaded"] == []


def test_the_parameter_kinds_still_come_from_the_annotations() -> None:
    params = _discover()["params"]
    assert isinstance(params, dict)
    kinds = {node: {p["name"]: p["kind"] for p in ps} for node, ps in params.items()}
    assert kinds == {
        "audio.LoudnessNormalize": {
            "target_lufs": "number",
            "max_gain_db": "number",
            "smoothing_ms": "number",
            "ceiling_db": "number",
        },
        "audio.LogMel": {
            "n_mels": "int",
            "n_fft": "int",
            "hop_ms": "number",
            "fmin": "number",
            "fmax": "number",
            "power": "number",
            "mel_scale": "string",
            "window": "string",
            "log_floor": "number",
        },
        "audio.SegmentWriter": {"directory": "string", "pre_roll_ms": "number", "prefix": "string"},
    }
