"""What a worker process (DESIGN §10) sets up in its Python before it serves the host.

- The board: a page the host reads after a crash, where the driver notes which node of each
  stage runs (`remotemedia.driver.board`).
- The report of a timed-out call that does not stop when interrupted (code blocked in a C
  call): the host is told, and kills and replaces the worker.
- `faulthandler`, so a segfault or abort leaves Python's tracebacks on stderr, which the host
  keeps for its error.
"""

from __future__ import annotations

import faulthandler
import mmap
import sys
from collections.abc import Callable

from remotemedia.driver import board, deadlines

BOARD_BYTES = 512 * 8


def setup(
    board_fd: int,
    report_stuck: Callable[[str, str], None],
    sandboxed: bool = False,
    cache_file: str | None = None,
) -> None:
    """Prepares this worker's Python.

    Args:
        board_fd: The board's memory file (the worker keeps its own copy of the descriptor).
        report_stuck: Tells the host that a timed-out call of a node did not stop.
        sandboxed: Whether the worker entered a sandbox: the discovery cache is then never
            written, and read only from `cache_file`, the one file of it the sandbox lets the
            worker read (plugins are scanned when there is none, or it is stale).
        cache_file: The host's discovery cache file for this environment, if it has a cache.
    """
    if sandboxed:
        from pathlib import Path  # noqa: PLC0415 -- only in a sandbox

        from remotemedia import discovery_cache  # noqa: PLC0415 -- only in a sandbox

        discovery_cache.read_only(None if cache_file is None else Path(cache_file))
    page = mmap.mmap(board_fd, BOARD_BYTES)
    board.attach_board(memoryview(page).cast("Q"))
    deadlines.set_stuck_handler(report_stuck)
    faulthandler.enable(file=sys.stderr, all_threads=True)
