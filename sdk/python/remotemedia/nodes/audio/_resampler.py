"""A streaming windowed-sinc resampler in numpy: the rational ratio `up / down` exactly, any
frame boundaries, the same output whatever they are.

Output sample `k` is input time `t = k * down / up` (in input samples, from input sample 0):

    y[k] = sum over n of x[n] * h(t - n),   h(d) = c * g(c * d),   c = cutoff in input cycles

where `g(u) = sinc(u) * kaiser(u / ZERO_CROSSINGS)` is the low-pass prototype, cut at
`ROLLOFF` of the lower rate's Nyquist frequency (`c = ROLLOFF * min(1, up / down)`), and `x` is
zero before the stream and after its end. So output sample 0 is input sample 0's instant (no
delay to remove), and the tail is whatever the filter still holds at the end, cut at
`round(n * up / down)` outputs for `n` inputs.

`g` is tabulated once, `OVERSAMPLE` points per zero crossing, and read with linear
interpolation (error below 1e-6 of full scale); for ratios with few phases (`up` small, as
48 kHz <-> 16 kHz or 44.1 kHz -> 16 kHz) each phase's taps are tabulated too. The filter has
`ZERO_CROSSINGS` zero crossings each side (at the lower rate): 70 taps upsampling, 210 at
48 kHz -> 16 kHz. With the Kaiser window (beta `KAISER_BETA`) the response is flat to 0.1 dB
up to 80% of the lower rate's Nyquist frequency, -6 dB at 92%, and below -88 dB from 100% on
(what would alias); a 1 kHz tone comes out within -100 dB or better of the ideal one.

Outputs are computed in blocks of a fixed number of samples, counted from the first: a block
is computed as soon as the input it reads has arrived, with the same array shapes whatever the
framing, so the floating-point sums, and the output, do not depend on how the stream was cut.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Samples = np.ndarray[Any, Any]

ZERO_CROSSINGS = 32
"""Zero crossings of the prototype on each side: the filter's length, at the lower rate."""

ROLLOFF = 0.92
"""The cutoff, as a fraction of the lower rate's Nyquist frequency."""

KAISER_BETA = 9.5
"""The Kaiser window's shape: the stopband's depth against the transition's width."""

OVERSAMPLE = 1024
"""Points of the prototype's table per zero crossing."""

PHASE_TABLE_MAX = 1 << 20
"""The most coefficients tabulated per phase (`up * taps`); beyond it taps are interpolated
for each block."""

BLOCK_ELEMENTS = 1 << 16
"""About how many products (outputs x taps x channels) one block computes."""


def _prototype() -> Samples:
    """`g` at `OVERSAMPLE` points per unit from 0 to `ZERO_CROSSINGS`, then two zeros."""
    u = np.arange(ZERO_CROSSINGS * OVERSAMPLE + 1) / OVERSAMPLE
    x = u / ZERO_CROSSINGS
    window = np.i0(KAISER_BETA * np.sqrt(np.maximum(0.0, 1.0 - x * x))) / np.i0(KAISER_BETA)
    return np.concatenate((np.sinc(u) * window, np.zeros(2)))


class SincResampler:
    """Resamples one stream of `(n, channels)` float32 samples by `up / down` (in lowest
    terms); `push` takes input and returns the outputs it completes, `flush` the rest."""

    def __init__(self, up: int, down: int, out_rate: int, channels: int) -> None:
        """Prepares the filter.

        Args:
            up: The output rate over the input rate's gcd with it.
            down: The input rate over that gcd.
            out_rate: The output rate, which sets the block length (about 5 ms).
            channels: Interleaved channels.
        """
        self.up, self.down, self.channels = up, down, channels
        self.cutoff = ROLLOFF * min(1.0, up / down)
        self.half = math.ceil(ZERO_CROSSINGS / self.cutoff)
        self.taps = 2 * self.half
        self.block = max(1, min(out_rate // 200, BLOCK_ELEMENTS // (self.taps * channels)))
        self._table = _prototype()
        self._phases: Samples | None = None
        if up * self.taps <= PHASE_TABLE_MAX:
            self._phases = self._coefficients(np.arange(up, dtype=np.int64))
        # The input from index `self._first` on; the stream is preceded by silence.
        self._buffer: Samples = np.zeros((self.half, channels), np.float32)
        self._first = -self.half
        self.received = 0
        self._next = 0  # the next output's index

    def _coefficients(self, phases: Samples) -> Samples:
        """The taps for outputs of phases `phases` (`k * down % up`), `(len, taps)`."""
        offsets = (self.half - 1) - np.arange(self.taps, dtype=np.float64)
        d = phases[:, None] / self.up + offsets[None, :]  # t - n for each tap
        position = np.abs(d) * (self.cutoff * OVERSAMPLE)
        index = np.minimum(np.floor(position), ZERO_CROSSINGS * OVERSAMPLE + 1)
        weight = np.minimum(position - index, 1.0)
        i = index.astype(np.int64)
        table = self._table
        taps: Samples = self.cutoff * (table[i] + (table[i + 1] - table[i]) * weight)
        return taps

    def _needs(self, k: int) -> int:
        """The last input index output `k` reads."""
        return k * self.down // self.up + self.half

    def _blocks(self, until: int) -> Samples:
        """Computes the blocks that start before output `until` and whose input has arrived."""
        out = []
        block, half, taps = self.block, self.half, self.taps
        while self._next < until and self._needs(self._next + block - 1) < self.received:
            k = self._next + np.arange(block, dtype=np.int64)
            at = k * self.down
            phases, bases = at % self.up, at // self.up
            starts = bases - (half - 1) - self._first
            window = self._buffer[starts[:, None] + np.arange(taps)[None, :]]
            coefficients = (
                self._phases[phases] if self._phases is not None else self._coefficients(phases)
            )
            with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN in, out
                out.append((window * coefficients[:, :, None]).sum(axis=1))
            self._next += block
        keep = self._next * self.down // self.up - (half - 1)
        if keep > self._first:
            self._buffer = self._buffer[keep - self._first :]
            self._first = keep
        if not out:
            return np.zeros((0, self.channels), np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            return np.concatenate(out).astype(np.float32)

    def _append(self, samples: Samples) -> None:
        self._buffer = np.concatenate((self._buffer, samples))

    def push(self, samples: Samples) -> Samples:
        """Takes `(n, channels)` float32 samples; returns the `(m, channels)` float32 outputs
        now complete (none while the filter fills)."""
        self._append(samples)
        self.received += len(samples)
        return self._blocks(until=1 << 62)

    def flush(self) -> Samples:
        """The outputs after the last `push`, up to `round(received * up / down)` in all."""
        target = (self.received * self.up + self.down // 2) // self.down
        if self._next >= target:
            return np.zeros((0, self.channels), np.float32)
        first = self._next
        last = first + -(-(target - first) // self.block) * self.block - 1
        silence = self._needs(last) + 1 - self.received
        self._append(np.zeros((silence, self.channels), np.float32))
        self.received += silence  # as if the stream went on in silence
        return self._blocks(until=target)[: target - first]
