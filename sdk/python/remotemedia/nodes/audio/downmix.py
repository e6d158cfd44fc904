"""`audio.Downmix`: the host's built-in, sample for sample
(host/src/node/builtin/audio/downmix.rs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from remotemedia.node import Node
from remotemedia.nodes.audio._common import expect_audio

if TYPE_CHECKING:
    from remotemedia.media import AudioFrame

NAME = "audio.Downmix"


class Downmix(Node):
    """Mixes audio down to mono: the mean of the channels. Mono passes unchanged.

    The dtype is kept: an int16 mean is rounded (halves away from zero) and always fits. A
    mono frame is passed on as it came, the same object. Anything but an audio frame is a
    `TypeError`. The host's built-in of the same name gives the same samples, bit for bit.
    """

    node_type = NAME

    def process(self, data: Any) -> AudioFrame:
        """Mixes one frame down.

        Args:
            data: An audio frame.

        Returns:
            A mono frame of the same dtype, rate and timestamp; a mono `data` itself.

        Raises:
            TypeError: `data` is not an audio frame.
        """
        frame = expect_audio(NAME, data)
        if frame.channels == 1:
            return frame
        from remotemedia.nodes.audio import _samples  # noqa: PLC0415 -- numpy, not at discovery

        return _samples.downmix(NAME, frame)
