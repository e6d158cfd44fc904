"""`payload_bytes`, what the byte-bounded queues of both engines count (re-exported by
`remotemedia.media`), without importing numpy or `remotemedia.media`.

The host's driver counts every output of a stage with it. Importing those modules there
cost ~65 ms at the first list or map a stage saw, and two stage threads importing numpy at
once hung. None is needed: no array or `AudioFrame` can exist before numpy and
`remotemedia.media` were loaded, so they are looked up in `sys.modules`. In a RustPython VM
arrays are memoryviews and frames `remotemedia._vm.AudioFrame`s (looked up the same way), and
numpy is never imported.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SCALARS = frozenset({type(None), bool, int, float, str})
_CONTAINERS = (list, tuple, dict)
_MAX_DEPTH = 1000


def payload_bytes(value: Any) -> int:
    """Media payload bytes of an item: bytes, arrays and frames' samples, summed through
    lists, tuples and maps (each container once); 0 for a scalar, in one set lookup."""
    if type(value) in _SCALARS:
        return 0
    if not isinstance(value, _CONTAINERS):
        return _own(value)
    total, seen, todo = 0, set(), [(value, 0)]
    while todo:
        container, depth = todo.pop()
        if id(container) in seen or depth >= _MAX_DEPTH:
            continue
        seen.add(id(container))
        for child in container.values() if isinstance(container, dict) else container:
            if isinstance(child, _CONTAINERS):
                todo.append((child, depth + 1))
            elif type(child) not in _SCALARS:
                total += _own(child)
    return total


def _own(value: Any) -> int:
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, memoryview):
        return value.nbytes
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        return int(value.nbytes)
    media = sys.modules.get("remotemedia.media")
    if media is not None and isinstance(value, media.AudioFrame):
        return int(value.samples.nbytes)
    vm = sys.modules.get("remotemedia._vm")
    if vm is not None and isinstance(value, vm.AudioFrame):
        return int(value.samples.nbytes)
    return 0
