"""The audio nodes: Python twins of the host's built-in `audio.*` nodes, with their type names,
parameters, semantics and messages, so that a pipeline of them runs alike on the native engine
(which substitutes its built-ins) and on the Python executor (which runs these classes).

# Layout
- `wav_source`, `wav_sink`: WAV files in and out (`_wav`: RIFF parsed here, hound's bytes).
- `resample`: rate conversion (`_resampler`: a streaming windowed-sinc resampler).
- `gain`, `downmix`, `rechunk`: level, channels, frame length.
- `_common`: formats, frames, parameter checks; `_samples`: sample arithmetic in numpy.

The node modules do not import numpy: plugin discovery imports them, and numpy is loaded when
a node first handles audio.
"""

from remotemedia.nodes.audio.downmix import Downmix
from remotemedia.nodes.audio.gain import Gain
from remotemedia.nodes.audio.rechunk import Rechunk
from remotemedia.nodes.audio.resample import Resample
from remotemedia.nodes.audio.wav_sink import WavSink
from remotemedia.nodes.audio.wav_source import WavSource

__all__ = ["Downmix", "Gain", "Rechunk", "Resample", "WavSink", "WavSource"]
