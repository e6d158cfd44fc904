"""The native module `remotemedia_runtime`, where it imports: the SDK's one way to native code.

The pipeline's engine choice and the manifest checks both ask here, so the module is imported
in one place, and the hook that stops its interpreter thread at exit is registered once.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("remotemedia")

_EXIT_HOOKED: list[bool] = []


def module() -> Any:
    """`remotemedia_runtime`, or None (the reason logged at DEBUG) when it cannot be imported."""
    try:
        import remotemedia_runtime  # noqa: PLC0415 -- optional: the SDK works without it
    except ImportError as error:
        logger.debug(
            "native module unavailable, using the Python executor and the SDK's manifest "
            "checks: %s",
            error,
        )
        return None
    if not _EXIT_HOOKED:
        # The native engine's interpreter thread must stop before the interpreter does: an
        # atexit hook runs while Python can still take it down cleanly.
        import atexit  # noqa: PLC0415 -- only with the native engine

        atexit.register(remotemedia_runtime.shutdown)
        _EXIT_HOOKED.append(True)
    return remotemedia_runtime
