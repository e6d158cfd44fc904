"""`StreamingMeter`: the ITU-R BS.1770 gated integrated loudness of a stream, so far.

The measurement is pyloudnorm's (`pyloudnorm.Meter`, K-weighting), made incremental:

- the two K-weighting biquads are pyloudnorm's own (`pyloudnorm.IIRfilter`, the parameters its
  Meter uses for "K-weighting"), run as one second-order-section cascade whose state carries
  from frame to frame, so cutting the stream into frames does not change the filtered signal;
- gating blocks are 400 ms with 75 % overlap: the K-weighted, channel-weighted power is summed
  per 100 ms step, and each completed step closes the block of the last four;
- a block's energy goes into a histogram of 0.01 LU bins from the absolute gate (-70 LUFS) up
  (the approach of libebur128), which keeps each bin's energy sum and count, so the memory is
  fixed however long the stream runs. The relative gate (-10 LU under the absolute-gated mean)
  is applied at bin resolution: a block within 0.01 LU of it may be counted on the other side.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyloudnorm  # type: ignore[import-untyped]  # pyloudnorm ships no type information
import scipy.signal  # type: ignore[import-untyped]  # scipy ships no type information

ABSOLUTE_GATE = -70.0
"""LUFS under which a block never counts (BS.1770-4)."""

RELATIVE_GATE = -10.0
"""LU under the absolute-gated loudness at which a block stops counting (BS.1770-4)."""

CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
"""BS.1770 channel weights, in pyloudnorm's order: left, right, centre, left and right surround."""

_BIN = 0.01  # LU per histogram bin
_TOP = 10.0  # LUFS of the highest bin's top; louder blocks go into the highest bin
_BINS = round((_TOP - ABSOLUTE_GATE) / _BIN)
_BLOCK_STEPS = 4  # 400 ms blocks, 100 ms steps: 75 % overlap


def k_weighting(sample_rate: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """pyloudnorm's K-weighting filter (high shelf, then high pass) as second-order sections."""
    stages = (
        pyloudnorm.IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
        pyloudnorm.IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass"),
    )
    # pyloudnorm's coefficients are normalised (a0 == 1) and its passband gain is 1.
    return np.array([np.concatenate([stage.b, stage.a]) for stage in stages], dtype=np.float64)


def loudness(energy: float) -> float:
    """LUFS of a channel-weighted mean square; -inf for 0."""
    return -0.691 + 10.0 * math.log10(energy) if energy > 0.0 else -math.inf


class StreamingMeter:
    """The gated integrated loudness of everything `add` has been given, in fixed memory."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        """Creates a meter for a stream of `channels` channels at `sample_rate`.

        Raises:
            ValueError: More than 5 channels (BS.1770 weights only those) or a rate under 10 Hz.
        """
        if not 1 <= channels <= len(CHANNEL_WEIGHTS):
            raise ValueError(
                f"loudness is measured for 1 to {len(CHANNEL_WEIGHTS)} channels "
                f"(ITU-R BS.1770), got {channels}"
            )
        if sample_rate < 10:
            raise ValueError(f"loudness needs a sample rate of 10 Hz or more, got {sample_rate}")
        self._sos = k_weighting(sample_rate)
        self._zi = np.zeros((self._sos.shape[0], 2, channels))
        self._weights = np.array(CHANNEL_WEIGHTS[:channels])
        self._step = round(sample_rate * 0.1)  # samples per 100 ms step
        self._step_energy = 0.0  # weighted sum of squares in the current step so far
        self._step_filled = 0
        self._steps: list[float] = []  # the last up to four completed steps' sums
        self._energy = np.zeros(_BINS)  # per bin: the sum of its blocks' mean squares
        self._count = np.zeros(_BINS, dtype=np.int64)
        self._levels = ABSOLUTE_GATE + _BIN * np.arange(_BINS)  # each bin's lower edge

    @property
    def blocks(self) -> int:
        """How many blocks above the absolute gate have been measured."""
        return int(self._count.sum())

    def add(self, samples: np.ndarray[Any, np.dtype[np.float64]]) -> None:
        """Measures the next samples of the stream, shape `(n, channels)`, full scale 1.0."""
        filtered, self._zi = scipy.signal.sosfilt(self._sos, samples, axis=0, zi=self._zi)
        power = np.square(filtered) @ self._weights
        at = 0
        while at < power.shape[0]:
            take = min(self._step - self._step_filled, power.shape[0] - at)
            self._step_energy += float(power[at : at + take].sum())
            self._step_filled += take
            at += take
            if self._step_filled == self._step:
                self._close_step()

    def _close_step(self) -> None:
        self._steps.append(self._step_energy)
        self._step_energy, self._step_filled = 0.0, 0
        if len(self._steps) < _BLOCK_STEPS:
            return
        del self._steps[:-_BLOCK_STEPS]
        energy = sum(self._steps) / (_BLOCK_STEPS * self._step)
        level = loudness(energy)
        if level >= ABSOLUTE_GATE:
            index = min(int((level - ABSOLUTE_GATE) / _BIN), _BINS - 1)
            self._energy[index] += energy
            self._count[index] += 1

    def integrated(self) -> float | None:
        """The gated integrated loudness in LUFS so far; `None` before any block above the
        absolute gate (silence, or less than 400 ms of audio)."""
        count = int(self._count.sum())
        if count == 0:
            return None
        threshold = loudness(float(self._energy.sum()) / count) + RELATIVE_GATE
        # A bin counts if its lower edge is above the threshold: pyloudnorm's `l_j > Gamma_r`.
        kept = self._levels >= threshold - _BIN / 2
        kept_count = int(self._count[kept].sum())
        if kept_count == 0:
            return None
        return loudness(float(self._energy[kept].sum()) / kept_count)
