"""`audio.LogMel`: log-mel spectrogram frames of a stream of mono audio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from remotemedia import Node
from remotemedia_audio._common import (
    as_float,
    audio_frame,
    describe,
    format_of,
    integer,
    number,
    same_format,
)
from remotemedia_audio.mel import SCALES, mel_filterbank

if TYPE_CHECKING:
    import numpy as np

    from remotemedia.media import AudioFrame
    from remotemedia_audio.mel import Floats

_TYPE = "audio.LogMel"


class LogMel(Node):
    """Turns a stream of mono audio frames into log-mel spectrogram rows, as they become ready.

    Row `k` of the whole stream is the spectrum of samples `[k * hop, k * hop + n_fft)`
    (no centring or padding: librosa's `center=False`), where `hop` is `hop_ms` at the
    stream's rate, rounded to whole samples. Samples not yet covered by a whole window are
    kept for the next frame, so the rows do not depend on how the stream is cut into frames;
    at the end of the stream, samples short of a whole window make no row.

    Each row is `log(max(mel_filterbank @ |rfft(window * samples)| ** power, log_floor))`
    (natural log): a periodic window of `n_fft` points (`scipy.signal.get_window`, as
    librosa's), the mel filterbank of `remotemedia_audio.mel` (librosa's `filters.mel`,
    Slaney-normalised). int16 samples are read as `value / 32768`.

    Emits per input frame a float32 array of shape `(rows, n_mels)` with the rows that frame
    completed; a frame that completes none emits nothing (the item is dropped). The stream's
    frames must be mono (shape `(n,)` or `(n, 1)`) with one rate and dtype; the rate is read
    from the first frame.

    Parameters (also manifest params):
        n_mels: Mel bands per row, from 1 to 1024.
        n_fft: Window and FFT length in samples, from 16 to 65536.
        hop_ms: The hop between rows, in ms (more than 0, up to 10000).
        fmin: The lowest frequency of the filterbank, in Hz (0 or more).
        fmax: The highest, in Hz; 0 (the default) means half the sample rate.
        power: The exponent of the magnitude spectrum: 2 for power, 1 for magnitude.
        mel_scale: "slaney" (librosa's default) or "htk".
        window: A window name `scipy.signal.get_window` knows ("hann", "hamming", ...).
        log_floor: The smallest mel value taken before the log (more than 0).
    """

    node_type = _TYPE

    def __init__(
        self,
        n_mels: int = 80,
        n_fft: int = 400,
        hop_ms: float = 10.0,
        fmin: float = 0.0,
        fmax: float = 0.0,
        power: float = 2.0,
        mel_scale: str = "slaney",
        window: str = "hann",
        log_floor: float = 1e-10,
        name: str | None = None,
    ) -> None:
        """Creates the node; the filterbank is made for the first frame's rate.

        Raises:
            ValueError: A parameter out of its range, an unknown mel scale or window.
        """
        super().__init__(name=name)
        self.n_mels = integer(_TYPE, "n_mels", n_mels, 1, 1024)
        self.n_fft = integer(_TYPE, "n_fft", n_fft, 16, 65536)
        self.hop_ms = number(_TYPE, "hop_ms", hop_ms, 1e-3, 10000.0)
        self.fmin = number(_TYPE, "fmin", fmin, 0.0, 1e6)
        self.fmax = number(_TYPE, "fmax", fmax, 0.0, 1e6)
        self.power = number(_TYPE, "power", power, 0.1, 4.0)
        self.log_floor = number(_TYPE, "log_floor", log_floor, 1e-30, 1.0)
        if mel_scale not in SCALES:
            raise ValueError(
                f"{_TYPE} mel_scale must be one of {', '.join(SCALES)}, got {mel_scale!r}"
            )
        self.mel_scale = mel_scale
        # Imported here, not with the module: scipy.signal takes 0.6 s to import and numpy
        # ~95 ms, which plugin discovery (it imports this module for the class) must not pay.
        import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered
        import scipy.signal  # type: ignore[import-untyped]  # noqa: PLC0415 -- see above

        try:
            self._window: Floats = scipy.signal.get_window(window, n_fft).astype(np.float64)
        except ValueError as e:
            raise ValueError(f"{_TYPE} window {window!r} is not a scipy window: {e}") from None
        self.window = window
        self._first: AudioFrame | None = None
        self._filters: Floats = np.zeros((0, 0))
        self._hop = 0
        self._pending: Floats = np.zeros(0)  # samples not yet covered by a whole window
        self._skip = 0  # samples to drop before the next window (a hop longer than n_fft)

    def process(self, data: Any) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """Returns the rows this frame completed, shape `(rows, n_mels)`; `None` for none.

        Raises:
            TypeError: An item that is not an audio frame.
            ValueError: A frame with more than one channel; a rate or dtype other than the
                first frame's; an `fmin` / `fmax` that does not fit the rate.
        """
        import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

        frame = audio_frame(_TYPE, data)
        if frame.channels != 1:
            raise ValueError(
                f"{_TYPE} takes mono audio, got {describe(frame.samples)} with "
                f"{frame.channels} channels (put an audio.Downmix node before it)"
            )
        if self._first is None:
            self._start(frame)
        else:
            same_format(_TYPE, self._first, frame)
        samples = as_float(frame.samples)[:, 0]
        if self._skip:
            skipped = min(self._skip, samples.shape[0])
            samples, self._skip = samples[skipped:], self._skip - skipped
        pending = np.concatenate([self._pending, samples])
        rows = (
            0 if pending.shape[0] < self.n_fft else 1 + (pending.shape[0] - self.n_fft) // self._hop
        )
        if rows == 0:
            self._pending = pending
            return None
        windows = np.lib.stride_tricks.sliding_window_view(pending, self.n_fft)[:: self._hop][:rows]
        spectrum = np.abs(np.fft.rfft(windows * self._window, axis=1)) ** self.power
        mel = spectrum @ self._filters.T
        used = rows * self._hop
        self._skip = max(0, used - pending.shape[0])
        self._pending = pending[used:].copy()  # a copy: the rest of `pending` can be freed
        return np.log(np.maximum(mel, self.log_floor)).astype(np.float32)

    def _start(self, frame: AudioFrame) -> None:
        """Makes the filterbank and the hop for the stream's rate."""
        rate = frame.sample_rate
        fmax = self.fmax if self.fmax > 0.0 else rate / 2
        try:
            filters = mel_filterbank(rate, self.n_fft, self.n_mels, self.fmin, fmax, self.mel_scale)
        except ValueError as e:
            raise ValueError(f"{_TYPE} at {rate} Hz: {e}") from None
        self._hop = max(1, round(self.hop_ms * rate / 1000.0))
        self._filters = filters
        self._first = format_of(frame)
