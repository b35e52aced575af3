"""Replies first: background model calls wait for replies and give way to them.

The embedded model answers one request at a time, so a summary fold or a
memory extraction sent just before a user's message would make that reply
wait for it. Every reply passes through :meth:`ModelGate.replying`; every
background call goes through :meth:`ModelGate.background`, which waits until
no reply is being written and is cancelled (then sent again) when one starts.
Cancelling the request closes its connection, and the model server stops
generating at its next token; what it cannot stop is reading a prompt it has
started, which bounds how long a reply can still wait.

Work may be bounded (:class:`Patience`): after giving way a few times its
calls run to their end even if a reply comes, which then waits for one call. Work that can wait
(memory, a warm-up, a fold begun early) is not bounded; a fold the replies
already need (they leave out turns no summary covers) is, or a user who sends
message after message with no pause would starve it for good.

Endpoints that serve many requests at once (OpenAI, most servers) need no
gate: :func:`gate` then returns a gate that lets everything through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

PREEMPTED = "preempted by a reply"
"""The cancel message of a background call that gave way to a reply."""

MAX_PREEMPTIONS = 2
"""Times a piece of urgent background work gives way to a reply before it is let finish."""


@dataclass
class Patience:
    """How many more times a piece of urgent work may give way to replies.

    Shared by all the calls of that work (a fold's summarizer calls), so the
    work as a whole, not each call, is bounded.
    """

    left: int = MAX_PREEMPTIONS


class ModelGate:
    """Lets replies through at once; background calls run only between replies."""

    def __init__(self, exclusive: bool = True) -> None:
        """Create a gate; ``exclusive`` False lets background calls run beside replies."""
        self.exclusive = exclusive
        self._replies = 0
        self._no_reply = asyncio.Event()
        self._no_reply.set()
        self._background: set[asyncio.Task[object]] = set()
        self.preemptions = 0
        """Background calls cancelled so far to let a reply through (for benchmarks)."""

    @contextlib.asynccontextmanager
    async def replying(self) -> AsyncIterator[None]:
        """Hold the model for a reply: background calls in flight give way."""
        if not self.exclusive:
            yield
            return
        self._replies += 1
        self._no_reply.clear()
        for task in list(self._background):
            self.preemptions += 1
            task.cancel(PREEMPTED)
        try:
            yield
        finally:
            self._replies -= 1
            if not self._replies:
                self._no_reply.set()

    async def background(
        self, call: Callable[[], Awaitable[T]], patience: Patience | None = None
    ) -> T:
        """Run ``call()`` when no reply is being written; run it again if a reply cuts in.

        Once ``patience`` has run out (None: never), the call is let finish.
        """
        if not self.exclusive:
            return await call()
        while True:
            await self._no_reply.wait()
            task: asyncio.Task[T] = asyncio.ensure_future(call())
            if patience is None or patience.left > 0:
                self._background.add(task)  # a reply may cancel it
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    task.cancel()  # we are being cancelled ourselves (shutdown): stop the call
                    raise
                if not task.cancelled():
                    raise
                # The call gave way to a reply: wait for the replies to end, then send it again.
                if patience is not None:
                    patience.left -= 1
            finally:
                self._background.discard(task)

    async def unless_cut(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``call()`` when no reply is being written; give up (None) if a reply cuts in.

        For work only worth doing before the next message, such as reading a prompt
        ahead: once a reply has cut in, that reply has read its prompt itself.
        """
        if not self.exclusive:
            return await call()
        await self._no_reply.wait()
        task: asyncio.Task[T] = asyncio.ensure_future(call())
        self._background.add(task)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                task.cancel()
                raise
            if not task.cancelled():
                raise
            return None
        finally:
            self._background.discard(task)


_gates: dict[tuple[asyncio.AbstractEventLoop, bool], ModelGate] = {}


def gate(exclusive: bool) -> ModelGate:
    """Return this event loop's gate for an endpoint that does (or not) one request at a time."""
    loop = asyncio.get_running_loop()
    key = (loop, exclusive)
    if key not in _gates:
        for stale in [k for k in _gates if k[0].is_closed()]:
            del _gates[stale]
        _gates[key] = ModelGate(exclusive)
    return _gates[key]
