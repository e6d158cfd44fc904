"""The native module `remotemedia_runtime`, where it imports: the SDK's one way to native code.

The pipeline's engine choice and the manifest checks both ask here, so the module is imported
in one place. (The module itself registers the atexit hook that stops its Python threads.)
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("remotemedia")


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
    return remotemedia_runtime
