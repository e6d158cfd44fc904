"""`audio.LoudnessNormalize`: brings a stream to a target loudness (LUFS, ITU-R BS.1770)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from remotemedia import Node
from remotemedia_audio._common import (
    INT16_SCALE,
    as_float,
    audio_frame,
    format_of,
    number,
    same_format,
)

if TYPE_CHECKING:
    import numpy as np

    from remotemedia.media import AudioFrame
    from remotemedia_audio.meter import StreamingMeter

_TYPE = "audio.LoudnessNormalize"


class LoudnessNormalize(Node):
    """Normalises the loudness of a stream of audio frames to `target_lufs`, as it streams.

    Each frame goes out as it comes, with the same timestamp, rate, shape and dtype (float32
    stays float32 within [-1, 1]; int16 stays int16, rounded and saturated). Memory is fixed:
    the measurement keeps a filter state, the last 400 ms block's sums and a histogram (see
    `remotemedia_audio.meter`).

    How the gain is found, frame by frame:

    - the frame is measured first: the gain aims at `target_lufs` minus the gated integrated
      loudness of the stream so far, including this frame (pyloudnorm's measurement);
    - before the first 400 ms block is measured, and while the stream so far is silent (no
      block above -70 LUFS), the gain stays where it is: unity at the start, so leading
      silence stays silence and nothing is boosted on a guess;
    - the gain (in dB) moves towards its aim exponentially with the time constant
      `smoothing_ms`, the same for any cut of the stream into frames, and never rises above
      `max_gain_db` (quiet noise is not pulled up without bound);
    - within a frame the gain is a straight ramp from the last frame's end value to the new
      one, so it has no steps, except:
    - the ceiling: the gain is capped so that the frame's peak stays at `ceiling_db` dBFS
      (sample peak). If the last frame's gain would already exceed that at the frame's start,
      the ramp starts from the cap (a limiter's instant attack, with no look-ahead); the cap
      then eases off with the same smoothing. A final clip to the ceiling only catches
      rounding.

    With the defaults, a steady signal is within a few hundredths of an LU of the target after
    about 3 s (seven time constants after the first block).

    Parameters (also manifest params):
        target_lufs: The loudness to reach, from -70 to 0 LUFS.
        max_gain_db: The largest gain applied, from 0 to 60 dB.
        smoothing_ms: The time constant with which the gain follows the measurement, from 0
            (jumps from frame to frame, still ramped within a frame) to 60000.
        ceiling_db: The highest sample peak of the output, from -60 to 0 dBFS.
    """

    node_type = _TYPE

    def __init__(
        self,
        target_lufs: float = -23.0,
        max_gain_db: float = 30.0,
        smoothing_ms: float = 500.0,
        ceiling_db: float = -1.0,
        name: str | None = None,
    ) -> None:
        """Creates the node.

        Raises:
            ValueError: A parameter out of its range (see the class docstring).
        """
        super().__init__(name=name)
        self.target_lufs = number(_TYPE, "target_lufs", target_lufs, -70.0, 0.0)
        self.max_gain_db = number(_TYPE, "max_gain_db", max_gain_db, 0.0, 60.0)
        self.smoothing_ms = number(_TYPE, "smoothing_ms", smoothing_ms, 0.0, 60000.0)
        self.ceiling_db = number(_TYPE, "ceiling_db", ceiling_db, -60.0, 0.0)
        self._ceiling = 10.0 ** (self.ceiling_db / 20.0)
        self._gain_db = 0.0  # the gain at the end of the last frame
        self._first: AudioFrame | None = None
        self._meter: StreamingMeter | None = None

    @property
    def gain_db(self) -> float:
        """The gain at the end of the last frame, in dB (0 before the first frame)."""
        return self._gain_db

    def process(self, data: Any) -> AudioFrame:
        """Returns the frame with the gain applied.

        Raises:
            TypeError: An item that is not an audio frame.
            ValueError: A rate, channel count or dtype other than the first frame's, or more
                than 5 channels.
        """
        import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

        from remotemedia.media import AudioFrame  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

        frame = audio_frame(_TYPE, data)
        meter = self._meter
        if meter is None or self._first is None:
            # Imported on the first frame: the meter needs scipy.signal and pyloudnorm (1 s to
            # import together), which plugin discovery must not pay.
            from remotemedia_audio.meter import StreamingMeter  # noqa: PLC0415 -- see above

            meter = self._meter = StreamingMeter(frame.sample_rate, frame.channels)
            self._first = format_of(frame)
        else:
            same_format(_TYPE, self._first, frame)
        samples = as_float(frame.samples)
        count = samples.shape[0]
        if count == 0:
            return frame
        meter.add(samples)
        measured = meter.integrated()
        aim = (
            self._gain_db
            if measured is None
            else min(self.target_lufs - measured, self.max_gain_db)
        )
        start_db, end_db = self._gain_db, self._follow(aim, count / frame.sample_rate)
        peak = float(np.abs(samples).max())
        if peak > 0.0:
            cap = 20.0 * math.log10(self._ceiling / peak)
            start_db, end_db = min(start_db, cap), min(end_db, cap)
        self._gain_db = end_db
        start, end = 10.0 ** (start_db / 20.0), 10.0 ** (end_db / 20.0)
        ramp = start + (end - start) * (np.arange(1, count + 1) / count)
        out = np.clip(samples * ramp[:, None], -self._ceiling, self._ceiling)
        return AudioFrame(self._as_dtype(out, frame.samples), frame.sample_rate, frame.timestamp)

    def _follow(self, aim: float, seconds: float) -> float:
        """The gain after `seconds` of following `aim` from the current gain."""
        if self.smoothing_ms == 0.0:
            return aim
        keep = math.exp(-seconds * 1000.0 / self.smoothing_ms)
        return aim + (self._gain_db - aim) * keep

    @staticmethod
    def _as_dtype(
        out: np.ndarray[Any, np.dtype[np.float64]], like: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, Any]:
        """`out` (shape `(n, channels)`) in the dtype and shape of the input samples."""
        import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

        out = out.reshape(like.shape)
        if like.dtype == np.int16:
            scaled = np.rint(out * INT16_SCALE)
            return np.clip(scaled, -32768, 32767).astype(np.int16)
        return out.astype(np.float32)
