"""remotemedia audio nodes on numpy: loudness normalisation, log-mel features, utterance files.

Layout:

- `loudness`: `audio.LoudnessNormalize`, a streaming gain to a target loudness in LUFS;
- `meter`: the streaming ITU-R BS.1770 gated loudness it follows (pyloudnorm's measurement);
- `logmel`: `audio.LogMel`, log-mel spectrogram rows of a mono stream;
- `mel`: the mel scales and filterbank (librosa's definitions);
- `segments`: `audio.SegmentWriter`, one WAV file per utterance between speech events;
- `plugin`: registers the three node types through the `remotemedia_node_types` hook;
- `_wavstream`: a WAV file written as samples arrive, renamed into place when complete;
- `_common`: parameter and frame checks the nodes share.
"""

from remotemedia_audio.logmel import LogMel
from remotemedia_audio.loudness import LoudnessNormalize
from remotemedia_audio.segments import SegmentWriter

__all__ = ["LogMel", "LoudnessNormalize", "SegmentWriter"]
