"""Python `logging` into the host's log, tagged with the node whose code logged.

Installed only when the host owns the process (the `remotemedia-host` binary): a handler on the
root logger, which is set to DEBUG because the host filters by its own level. Inside a caller's
program the SDK leaves logging alone (DESIGN §8).
"""

from __future__ import annotations

import logging
import sys

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType

    from remotemedia.driver.serve import Mailbox


class HostLogHandler(logging.Handler):
    """Sends records to the host's log, tagged with the node whose code logged."""

    def __init__(self, host: Mailbox) -> None:
        """Creates the handler.

        Args:
            host: The host's mailbox, whose `log` takes the records.
        """
        super().__init__()
        self.host = host

    def emit(self, record: logging.LogRecord) -> None:
        """Sends one record; a failure goes to `handleError`, never to node code."""
        try:
            node_id = getattr(record, "node_id", None) or _current_node()
            self.host.log(record.levelno, record.name, node_id, self.format(record))
        except Exception:  # noqa: BLE001 -- logging must never break node code
            self.handleError(record)


def install(host: Mailbox) -> None:
    """Sends every record to the host: a handler on the root logger, which passes everything;
    once (a handler there already does it). The handler keeps the mailbox it is given, whose
    `log` uses nothing of its own thread: it serves the records of every thread."""
    root = logging.getLogger()
    if any(isinstance(handler, HostLogHandler) for handler in root.handlers):
        return
    root.addHandler(HostLogHandler(host))
    root.setLevel(logging.DEBUG)  # the host filters by its own level


def _current_node() -> str | None:
    # Walk the stack to the innermost method of a node: free on the hot path, paid only when
    # something is logged.
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        node_id = getattr(frame.f_locals.get("self"), "_remotemedia_node_id", None)
        if isinstance(node_id, str):
            return node_id
        frame = frame.f_back
    return None
