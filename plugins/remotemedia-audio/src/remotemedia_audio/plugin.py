"""Registers the audio nodes through the SDK's `remotemedia_node_types` hook."""

from __future__ import annotations

from remotemedia import Node, hookimpl
from remotemedia_audio.logmel import LogMel
from remotemedia_audio.loudness import LoudnessNormalize
from remotemedia_audio.segments import SegmentWriter


@hookimpl
def remotemedia_node_types() -> list[type[Node]]:
    """Returns `audio.LoudnessNormalize`, `audio.LogMel` and `audio.SegmentWriter`."""
    return [LoudnessNormalize, LogMel, SegmentWriter]
