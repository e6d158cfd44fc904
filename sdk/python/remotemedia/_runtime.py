"""The driver's former path, for a host built before it imports `remotemedia.driver`.

Such a host owned its logging wherever it ran, which this keeps.
"""

from __future__ import annotations

from remotemedia.driver import Driver as _Driver

# typing costs start-up time and is needed for annotations only (mypy reads this name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from remotemedia.driver.dispatch import Mailbox


class Driver(_Driver):
    """The driver, as a host built before `remotemedia.driver` made it."""

    def __init__(self, host: Mailbox, wake_fd: int, owns_process: bool = True) -> None:
        """Prepares the driver; see `remotemedia.driver.Driver`."""
        super().__init__(host, wake_fd, owns_process)
