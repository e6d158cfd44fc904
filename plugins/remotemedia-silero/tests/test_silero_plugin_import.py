"""Plugin discovery imports the entry-point module and `SileroVad` without numpy.

The host and the SDK import `remotemedia_silero.plugin` to list the node types and read their
constructors; numpy (~95 ms) is imported when the node is initialized (with onnxruntime, when
the model is loaded) and runs. Each check runs in a fresh interpreter, since this one has
imported them already.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "scipy", "onnxruntime")

_SCRIPT = f"""
import json, sys
import remotemedia_silero.plugin
from remotemedia_silero import SileroVad
from remotemedia.signature import constructor_params
types = remotemedia_silero.plugin.remotemedia_node_types()
assert types == [SileroVad], types
SileroVad(threshold=0.4, min_silence_ms=200)  # constructing the node does not load the model
params = constructor_params(SileroVad)[0]
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


def test_discovery_imports_neither_numpy_nor_onnxruntime() -> None:
    assert _discover()["loaded"] == []


def test_the_parameter_kinds_still_come_from_the_annotations() -> None:
    params = _discover()["params"]
    assert isinstance(params, list)
    assert {p["name"]: p["kind"] for p in params} == {
        "threshold": "number",
        "min_silence_ms": "int",
        "speech_pad_ms": "int",
    }
