"""remotemedia-silero: the `SileroVad` node, voice activity from the Silero VAD ONNX model.

Layout:

- `vad`: `SileroVad`, the node: checks and forwards audio frames, cuts them into the model's
  windows, and inserts `speech_start` / `speech_end` events;
- `segmenter`: `Segmenter`, the reference `VADIterator`'s decisions (threshold, hysteresis,
  minimum silence, padding) on one window's probability at a time;
- `_frames`: the frame check and the copy into a window, with numpy (imported by
  `SileroVad.process`, so that plugin discovery does not import numpy);
- `model`: where the model file is, and `SileroModel`, one stream's ONNX session and state;
- `plugin`: registers `SileroVad` through the `remotemedia_node_types` hook.
"""

from remotemedia_silero.vad import SileroVad

__all__ = ["SileroVad"]
