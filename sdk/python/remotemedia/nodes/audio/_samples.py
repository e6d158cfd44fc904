"""Sample arithmetic of the audio nodes, in numpy, as the host does it bit for bit: building
frames, int16 to float32, gain, and the mean of the channels.

Imported by the nodes when they first need it, never at discovery (numpy takes a tenth of a
second to import).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from remotemedia.media import AudioFrame

Samples = np.ndarray[Any, Any]
"""An array of samples, shape `(n, channels)` unless said otherwise."""

INT16_SCALE = 1.0 / 32_768.0
"""int16 to float32: full scale is [-1, 1), as in numpy and most audio libraries."""


def interleaved(frame: AudioFrame) -> Samples:
    """The frame's samples as `(n, channels)`, in native byte order (not copied if they are)."""
    samples = frame.samples
    if samples.ndim == 1:
        samples = samples.reshape(-1, 1)
    return samples.astype(samples.dtype.newbyteorder("="), copy=False)


def make_frame(node: str, samples: Samples, rate: int, timestamp: float) -> AudioFrame:
    """A frame over `(n, channels)` samples: shape `(n,)` for one channel.

    Raises:
        ValueError: An invalid frame (a timestamp that overflowed), naming the node.
    """
    if samples.shape[1] == 1:
        samples = samples.reshape(-1)
    try:
        return AudioFrame(samples, rate, timestamp)
    except ValueError as e:
        raise ValueError(f"{node}: {e}") from None


def to_f32(frame: AudioFrame) -> Samples:
    """The frame's `(n, channels)` samples as float32: int16 is scaled by 1/32768."""
    samples = interleaved(frame)
    if samples.dtype == np.int16:
        return samples.astype(np.float32) * np.float32(INT16_SCALE)
    return samples


def round_half_away(x: Samples) -> Samples:
    """Floats rounded to the nearest integer, halves away from zero (Rust's `f64::round`)."""
    whole = np.trunc(x)
    # x - trunc(x) is exact, so a half is seen as a half.
    return whole + np.where(np.abs(x - whole) >= 0.5, np.sign(x), 0.0)


def gain(node: str, frame: AudioFrame, factor: float) -> AudioFrame:
    """The frame scaled by `factor`, in its own dtype: int16 rounds and saturates, float32 is
    multiplied by the factor rounded to float32, without clipping."""
    samples = interleaved(frame)
    out: Samples
    if samples.dtype == np.int16:
        scaled = round_half_away(samples.astype(np.float64) * factor)
        out = np.clip(scaled, -32_768, 32_767).astype(np.int16)
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN are samples too
            out = samples * np.float32(factor)
    return make_frame(node, out, frame.sample_rate, frame.timestamp)


def downmix(node: str, frame: AudioFrame) -> AudioFrame:
    """The mean of the frame's channels, in its own dtype: summed in float64 channel after
    channel (the host's order, so float32 results match bit for bit), int16 rounded."""
    samples = interleaved(frame)
    channels = samples.shape[1]
    total = samples[:, 0].astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for c in range(1, channels):
            total += samples[:, c]
        mean = total / channels
        if samples.dtype == np.int16:
            out = round_half_away(mean).astype(np.int16)  # a mean of int16s fits
        else:
            out = mean.astype(np.float32)
    return make_frame(node, out.reshape(-1, 1), frame.sample_rate, frame.timestamp)
