"""The crash-attribution board: where a worker process's driver notes which node's code runs.

A worker process (DESIGN §10) shares a page of 64-bit words with the host. Each stage owns the
word at `slot(stage id)`; before a node's code is entered the stage writes the node's index in
the stage plus one there, and 0 once the stage is back in driver code. When the worker dies
(a segfault, `os._exit`, a memory limit), the host reads the word of each stage that was
running and names the node. A sync stage writes once per node per morsel, an async stage
around each call and each step of a node's coroutine or generator.

In-process there is no board (`board` is None), and a stage pays one `is None` check per node
per morsel for it. A board is attached once, before any stage is created: stages read it when
they are made.
"""

from __future__ import annotations

board: memoryview | None = None
"""The attached board (format "Q", one word a slot), or None."""


def attach_board(buffer: object) -> None:
    """Attaches the board every stage made from now on writes to.

    Args:
        buffer: A writable buffer of whole 64-bit words (an `mmap`, or a memoryview of one,
            any format), or None to detach.

    Raises:
        TypeError: `buffer` does not support the buffer protocol, is read-only, or is not a
            whole number of words.
        ValueError: It holds no word.
    """
    global board
    if buffer is None:
        board = None
        return
    view = memoryview(buffer)  # type: ignore[arg-type]  # any buffer; memoryview checks it
    if view.readonly:
        raise TypeError("the board must be writable")
    words = view.cast("B").cast("Q")
    if len(words) == 0:
        raise ValueError("the board holds no word")
    board = words


def slot(stage_id: int) -> int:
    """The word of the stage `stage_id` on the attached board (0 without one)."""
    return stage_id % len(board) if board is not None else 0
