"""Mel scales and the triangular mel filterbank, as librosa defines them.

Two scales (both as in `librosa.hz_to_mel`):

- "slaney" (the Auditory Toolbox's): linear below 1 kHz, `mel = 3 f / 200`, so 1000 Hz is
  15 mel; logarithmic above, 27 mel per factor 6.4, so 6400 Hz is 42 mel;
- "htk": `mel = 2595 log10(1 + f / 700)`, so 700 Hz is 2595 log10(2) ~ 781.17 mel.

The filterbank is `librosa.filters.mel` with `norm="slaney"`: `n_mels` triangles whose corners
are `n_mels + 2` points evenly spaced in mel from `fmin` to `fmax`, each scaled by
`2 / (its upper corner - its lower corner)` in Hz, so that every filter has the same area.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

# numpy is imported by the functions, when a node runs: plugin discovery imports `logmel`, and
# with it this module.
if TYPE_CHECKING:
    import numpy as np

    Floats = np.ndarray[Any, np.dtype[np.float64]]

SCALES = ("slaney", "htk")
"""The mel scales `mel_filterbank` knows."""

_F_SP = 200.0 / 3  # Hz per mel below the break
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = math.log(6.4) / 27.0


def hz_to_mel(hz: Floats | float, scale: str = "slaney") -> Floats:
    """Frequencies in Hz to mel on `scale` ("slaney" or "htk")."""
    import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

    f = np.asarray(hz, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + f / 700.0)
    linear = f / _F_SP
    with np.errstate(divide="ignore"):  # log of 0 Hz is not taken: `where` picks linear there
        logarithmic = _MIN_LOG_MEL + np.log(np.maximum(f, 1e-300) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, logarithmic, linear)


def mel_to_hz(mel: Floats | float, scale: str = "slaney") -> Floats:
    """Mel on `scale` ("slaney" or "htk") to frequencies in Hz (the inverse of `hz_to_mel`)."""
    import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

    m = np.asarray(mel, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    linear = _F_SP * m
    logarithmic = _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, logarithmic, linear)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float, scale: str = "slaney"
) -> Floats:
    """The mel filterbank, shape `(n_mels, n_fft // 2 + 1)`, for power or magnitude spectra
    of `n_fft` points (`numpy.fft.rfft` bins).

    Raises:
        ValueError: An unknown scale, or not `0 <= fmin < fmax <= sample_rate / 2`.
    """
    import numpy as np  # noqa: PLC0415 -- numpy is imported when a node runs, not when plugins are discovered

    if scale not in SCALES:
        raise ValueError(f"unknown mel scale {scale!r} (scales: {', '.join(SCALES)})")
    if not 0.0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(
            f"mel filterbank needs 0 <= fmin < fmax <= sample_rate / 2 ({sample_rate / 2}), "
            f"got fmin {fmin} and fmax {fmax}"
        )
    bins = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    low, high = hz_to_mel(fmin, scale), hz_to_mel(fmax, scale)
    corners = mel_to_hz(np.linspace(low, high, n_mels + 2), scale)
    widths = np.diff(corners)
    ramps = corners[:, None] - bins[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return weights * (2.0 / (corners[2:] - corners[:-2]))[:, None]
