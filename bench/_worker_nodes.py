"""The audio nodes of worker_frames.py, in a module of their own: a pipeline isolated in a
worker process (`runtime.isolation: "process"`) has its nodes constructed there, by import path,
so their classes cannot live in the benchmark's `__main__`."""

from __future__ import annotations

import numpy as np

from remotemedia import AudioFrame, Node


class Gain(Node):
    """Scales the samples: a new float32 array per frame (the input is read-only)."""

    def __init__(self, name: str | None = None, gain: float = 0.5) -> None:
        super().__init__(name=name)
        self.gain = gain

    def process(self, frame: AudioFrame) -> AudioFrame:
        samples = frame.samples * np.float32(self.gain)
        return AudioFrame(samples, frame.sample_rate, frame.timestamp)


class PeakMeter(Node):
    """Reads the frame's peak level (kept on the node) and returns the frame as it came."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)
        self.peak = 0.0

    def process(self, frame: AudioFrame) -> AudioFrame:
        self.peak = float(np.abs(frame.samples).max())
        return frame


class Forward(Node):
    """Returns the frame unchanged (a custom Python node, so the engine must call it)."""

    def process(self, frame: AudioFrame) -> AudioFrame:
        return frame
