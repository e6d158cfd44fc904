"""A node's guard (`remotemedia.driver.guarded`) on an event loop: the wrappers of the async
stage and of the reference executor, whose backoff is awaited so the loop goes on meanwhile.

Only an `async def` node's coroutine and a streaming node's generator are stepped through
(`Stepped`), so their code is timed and marked while it runs, never while it awaits; a function
or a sync generator is called as in a sync stage (`guarded.attempt`, `guarded.started`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
from typing import Any

from remotemedia.driver.deadlines import NodeTimeout
from remotemedia.driver.guarded import Guard, attempt, started


class Stepped:
    """An awaitable (a coroutine, an async generator's `__anext__()`) whose every step runs
    with the guard entered: its code is timed and marked only while it runs, never while it
    waits. `restart` gives each step a deadline of its own (a streaming node's resumptions);
    else the deadline started before is the whole call's (`async def`)."""

    __slots__ = ("awaitable", "guard", "restart")

    def __init__(self, awaitable: Awaitable[Any], guard: Guard, restart: bool = False) -> None:
        self.awaitable, self.guard, self.restart = awaitable, guard, restart

    def __await__(self) -> Generator[Any, Any, Any]:
        inner: Any = self.awaitable.__await__()
        guard, deadline, restart = self.guard, self.guard.deadline, self.restart
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                if not guard.paused:  # a streaming node's input is delivering: not its time
                    if restart and deadline is not None:
                        deadline.start()
                    guard.enter()
                try:
                    signal = inner.send(value) if error is None else inner.throw(error)
                finally:
                    guard.leave()
                try:
                    value, error = (yield signal), None
                except GeneratorExit:
                    raise
                except BaseException as e:  # noqa: BLE001 -- passed on into the awaitable
                    value, error = None, e
        except StopIteration as stop:
            return stop.value
        except BaseException:
            inner.close()
            raise


async def awaited_attempt(guard: Guard, process: Callable[[Any], Any], item: Any) -> Any:
    """One call of an `async def` node, its steps guarded, its whole call bounded."""
    deadline = guard.deadline
    if deadline is None:
        return await Stepped(process(item), guard)
    deadline.start()
    scope = asyncio.timeout(deadline.seconds)
    try:
        async with scope:
            result = await Stepped(process(item), guard)
    except NodeTimeout as e:
        guard.leave()
        raise guard.timeout(e.__traceback__) from None
    except TimeoutError as e:
        if scope.expired():  # the await passed the deadline (else the node's own error)
            raise guard.timeout(e.__traceback__) from None
        raise
    if deadline.passed() or scope.expired():
        raise guard.timeout()
    return result


def _retrying(
    guard: Guard,
    process: Callable[[Any], Any],
    once: Callable[[Guard, Callable[[Any], Any], Any], Any],
    awaited: bool,
) -> Callable[[Any], Awaitable[Any]]:
    """`guarded.retried` with the backoff awaited: each try is `once(guard, process, item)`,
    awaited when `awaited`."""

    async def call(item: Any) -> Any:
        tried = 1
        while True:
            try:
                if awaited:
                    return await once(guard, process, item)
                return once(guard, process, item)
            except Exception as e:
                if tried >= guard.attempts:
                    raise guard.gave_up(e, tried) from e
                guard.failed_attempt(e, tried)
            await asyncio.sleep(guard.backoff)
            tried += 1

    return call


def retried(
    guard: Guard, process: Callable[[Any], Any], is_async: bool
) -> Callable[[Any], Awaitable[Any]]:
    """A function or `async def` node's `process` with the guard applied, as a coroutine
    function: its output for one item."""
    if is_async:
        return _retrying(guard, process, awaited_attempt, awaited=True)
    return _retrying(guard, process, attempt, awaited=False)


def retried_generator(
    guard: Guard, process: Callable[[Any], Any]
) -> Callable[[Any], Awaitable[Generator[Any, None, None]]]:
    """A sync generator node's `process` with the guard applied, as a coroutine function: its
    outputs for one item, started up to the first (`guarded.started`, the step a retry makes
    again), the others guarded as they are asked for."""
    return _retrying(guard, process, started, awaited=False)


async def stream(guard: Guard, outputs: Any) -> AsyncGenerator[Any, None]:
    """A streaming node's outputs, each resumption of its code guarded."""
    deadline = guard.deadline
    try:
        while True:
            try:
                out = await Stepped(outputs.__anext__(), guard, restart=True)
            except StopAsyncIteration:
                return
            except NodeTimeout as e:
                guard.leave()
                raise guard.timeout(e.__traceback__) from None
            if deadline is not None and deadline.passed():
                raise guard.timeout()
            yield out
    finally:
        await outputs.aclose()


async def paused(guard: Guard, inputs: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """A guarded streaming node's input: while it delivers an item (upstream nodes may run
    inside it) the node's deadline and mark are set aside; they start again when its code
    has the item."""
    while True:
        deadline = guard.deadline
        if deadline is not None and deadline.fired:
            raise NodeTimeout  # it passed its deadline, and the interrupt was taken back
        guard.leave()
        guard.paused = True
        try:
            item = await inputs.__anext__()
        except StopAsyncIteration:
            return
        finally:
            guard.paused = False
            if deadline is not None:
                deadline.start()
            guard.enter()
        yield item
