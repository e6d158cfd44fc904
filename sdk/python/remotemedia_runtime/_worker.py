"""A worker process of the remotemedia host (DESIGN §10): `python -m remotemedia_runtime._worker`,
started by the native module for a pipeline isolated in a process. It serves the host on its
standard input and exits when the host stops it; it is never started by hand.
"""

import json
import os
import sys

_path = os.environ.pop("REMOTEMEDIA_WORKER_SYS_PATH", None)
if _path:
    sys.path[:] = json.loads(_path)

from remotemedia_runtime._native import _serve_worker  # noqa: E402 -- after sys.path is set

_serve_worker()
