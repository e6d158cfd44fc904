"""`audio.Gain {db = 0}`: the host's built-in, sample for sample
(host/src/node/builtin/audio/gain.rs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from remotemedia.node import Node
from remotemedia.nodes.audio._common import expect_audio, number_param, rust_number

if TYPE_CHECKING:
    from remotemedia.media import AudioFrame

NAME = "audio.Gain"

MAX_DB = 200.0
"""The largest gain or attenuation taken, in dB: beyond it a level is not changed but erased."""


class Gain(Node):
    """Scales audio by a gain in dB, keeping the dtype (int16 rounds and saturates).

    Every sample is multiplied by `10^(db / 20)`. int16 samples are rounded to the nearest
    integer, halves away from zero, and saturate at the ends of their range (never wrap);
    float32 samples are scaled as they are, without clipping. Anything but an audio frame is a
    `TypeError`. The host's built-in of the same name gives the same samples, bit for bit.
    """

    node_type = NAME

    def __init__(self, db: float = 0, name: str | None = None) -> None:
        """Creates the node.

        Args:
            db: The gain in decibels, -200 to 200; negative attenuates.
            name: The node id; defaults to the type name.

        Raises:
            TypeError: `db` is not a number.
            ValueError: `db` is outside -200..200.
        """
        super().__init__(name=name)
        value = number_param(NAME, "db", db)
        if not abs(value) <= MAX_DB:
            raise ValueError(
                f"{NAME} parameter db must be between -{rust_number(MAX_DB)} and "
                f"{rust_number(MAX_DB)}, got {rust_number(value)}"
            )
        self.db = db
        self._factor = 10.0 ** (value / 20.0)

    @property
    def params(self) -> dict[str, Any]:
        """The constructor parameters, as a manifest writes them."""
        return {"db": self.db}

    def process(self, data: Any) -> AudioFrame:
        """Scales one frame.

        Args:
            data: An audio frame.

        Returns:
            A new frame of the same dtype, rate, channels and timestamp.

        Raises:
            TypeError: `data` is not an audio frame.
        """
        frame = expect_audio(NAME, data)
        from remotemedia.nodes.audio import _samples  # noqa: PLC0415 -- numpy, not at discovery

        return _samples.gain(NAME, frame, self._factor)
