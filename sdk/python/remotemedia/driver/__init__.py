"""The Python side of remotemedia-host's interpreter threads.

The host never touches the interpreter from its own threads: it queues requests in the Rust
mailbox of one of its Python threads and writes a byte to a socket that thread watches. The
service thread (`Driver(mailbox, wake_fd)`) answers discovery and descriptions; each stage has a
thread of its own (`StageDriver(mailbox, wake_fd, owns_process)`) from its creation to its
cleanup.

A *stage* is a run of consecutive Python nodes driven as one, so items pass from node to node
without returning to Rust. Layout:

- `serve`: `Serving`, what every thread does: wait for requests (a blocking read, or an asyncio
  loop once a stage needs one), dispatch each, answer every one;
- `dispatch`: `Driver` (the service thread) and `StageDriver` (one stage's thread);
- `stage`: what both kinds of stage share;
- `sync_stage`: a stage of sync functions and generators, processed as its morsels arrive;
- `async_stage`: a stage with `async def` or streaming nodes, a chain of async generators on
  the event loop of its thread;
- `guarded` (and `guarded_async`, on an event loop), `deadlines`: a node's `retry` and
  `timeout_ms` applied around its calls; `board`: the crash-attribution board of a worker;
- `logs`: the handler that sends Python `logging` to the host's log, tagged with the node.

Importing this package is part of the interpreter's start-up, which is measured: it imports no
asyncio, typing, inspect, logging, pluggy or importlib.metadata. Each is imported where it is
first needed.
"""

from remotemedia.driver.dispatch import Driver, StageDriver

__all__ = ["Driver", "StageDriver"]
