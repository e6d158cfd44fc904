"""SileroVad in a `remotemedia` Pipeline, on the Python executor and on the native engine."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

import remotemedia
import silero_speech as speech
from remotemedia import AudioFrame, Pipeline
from remotemedia.errors import NodeError
from remotemedia_silero import SileroVad

ENGINES = [
    pytest.param(False, id="python"),
    pytest.param(
        True,
        id="rust",
        marks=pytest.mark.skipif(
            not remotemedia.runtime_available(), reason="the native engine is not built"
        ),
    ),
]


def _pipeline(**params: Any) -> Pipeline:
    pipeline = Pipeline("vad")
    pipeline.add_node(SileroVad(name="vad", **params))
    return pipeline


def _run(pipeline: Pipeline, items: list[Any], use_rust: bool) -> list[Any]:
    outputs: list[Any] = asyncio.run(pipeline.run(items, use_rust=use_rust))
    return outputs


def test_the_manifest_names_the_plugin_type_and_its_params() -> None:
    manifest = _pipeline(threshold=0.6, min_silence_ms=1500).to_manifest()
    assert manifest["nodes"] == [
        {
            "id": "vad",
            "node_type": "SileroVad",
            "params": {"threshold": 0.6, "min_silence_ms": 1500},
        }
    ]
    rebuilt = Pipeline.from_manifest(manifest).nodes[0]
    assert isinstance(rebuilt, SileroVad)
    assert (rebuilt.threshold, rebuilt.min_silence_ms, rebuilt.speech_pad_ms) == (0.6, 1500, 30)


@pytest.mark.skipif(speech.ESPEAK is None, reason="espeak-ng is not installed")
@pytest.mark.parametrize("use_rust", ENGINES)
@pytest.mark.parametrize("params", [{}, {"min_silence_ms": 1500}], ids=["defaults", "joined"])
def test_a_pipeline_forwards_the_frames_and_inserts_the_events_of_the_node(
    use_rust: bool, params: dict[str, Any]
) -> None:
    audio, _ = speech.speech_with_pauses()
    inputs = speech.frames(audio, speech.RATE // 50)
    expected = speech.drive(SileroVad(**params), inputs)
    outputs = _run(_pipeline(**params), inputs, use_rust)
    assert [type(item) for item in outputs] == [type(item) for item in expected]
    assert [f for f in outputs if isinstance(f, AudioFrame)] == inputs
    assert speech.events(outputs) == speech.events(expected)
    assert len(speech.events(outputs)) == (6 if not params else 2)


@pytest.mark.parametrize("use_rust", ENGINES)
@pytest.mark.parametrize(
    ("item", "names"),
    [
        (AudioFrame(np.zeros(960, np.float32), 48000), "audio.Resample"),
        (AudioFrame(np.zeros((320, 2), np.float32), 16000), "audio.Downmix"),
        ("hello", "audio frames"),
        (AudioFrame(np.full(320, np.nan, np.float32), 16000), "320 of 320 samples NaN"),
    ],
    ids=["48kHz", "stereo", "string", "nan"],
)
def test_wrong_input_is_a_node_error_naming_the_fix(use_rust: bool, item: Any, names: str) -> None:
    good = AudioFrame(np.zeros(320, np.float32), speech.RATE)
    with pytest.raises(NodeError, match=names) as caught:
        _run(_pipeline(), [good, item], use_rust)
    assert (caught.value.node_id, caught.value.node_type) == ("vad", "SileroVad")
