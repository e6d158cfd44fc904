"""The Python side of remotemedia-host's interpreter thread.

The host never touches the interpreter from its own threads: it queues requests in a Rust
mailbox and writes a byte to a socket this thread watches. `Driver(mailbox, wake_fd,
owns_process)` takes the requests, runs them, and answers through the mailbox.

A *stage* is a run of consecutive Python nodes driven as one, so items pass from node to node
without returning to Rust. Layout:

- `dispatch`: `Driver`, which waits on a plain `selectors` loop and answers each request; it
  moves onto an asyncio event loop only once a stage needs one;
- `sync_stage`: a stage of sync functions and generators, processed as its morsels arrive;
- `async_stage`: a stage with `async def` or streaming nodes, a chain of async generators on
  the event loop;
- `logs`: the handler that sends Python `logging` to the host's log, tagged with the node.

Importing this package is part of the interpreter's start-up, which is measured: it imports no
asyncio, typing, inspect, logging, pluggy or importlib.metadata. Each is imported where it is
first needed.
"""

from remotemedia.driver.dispatch import Driver

__all__ = ["Driver"]
