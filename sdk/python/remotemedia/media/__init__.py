"""Media values (DESIGN §4): bytes, numpy arrays and audio frames, beside the JSON-like items.

- `AudioFrame`: samples (a float32 or int16 array, mono or interleaved), a sample rate and a
  start time, carried by reference like any item;
- `check_item`: what cannot pass between nodes (an array of another dtype), in the host's
  words, so both engines fail alike;
- `payload_bytes`: the media bytes an item holds, which the executor's byte-bounded queues
  count (`runtime.channel_bytes`);
- `to_json_form` / `from_json_form`: the JSON-lines form of these values (`{"$bytes": ...}`,
  `{"$array": ...}`, `{"$audio": ...}`), for the CLI and manifest parameters.

Arrays of the supported dtypes pass in either byte order (the host borrows a little-endian
array's memory and copies a big-endian one once); their JSON form is little-endian, C order.
The frame and dtype checks are in `frame`, the JSON forms in `json_form`.
"""

from remotemedia._payload import payload_bytes
from remotemedia.media.frame import MAX_DEPTH, SUPPORTED_DTYPES, AudioFrame, check_item
from remotemedia.media.json_form import from_json_form, to_json_form

# Named where users import it from.
AudioFrame.__module__ = __name__

__all__ = [
    "MAX_DEPTH",
    "SUPPORTED_DTYPES",
    "AudioFrame",
    "check_item",
    "from_json_form",
    "payload_bytes",
    "to_json_form",
]
