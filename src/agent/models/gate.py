"""Replies first: background model calls wait for replies and give way to them.

The embedded model answers one request at a time, so a summary fold or a
memory extraction sent just before a user's message would make that reply
wait for it. Every reply passes through :meth:`ModelGate.replying`; every
background call goes through :meth:`ModelGate.background`, which waits until
no reply is being written and is cancelled (then sent again) when one starts.
Cancelling the request closes its connection. The embedded model server
(:mod:`agent.models.local.scheduling`) then stops it at its next small batch,
and from the moment a reply's request arrives it starts no background batch,
so a reply waits for one batch at most, and reads its prompt on a context no
summary or extraction has touched.

Whether a reply is being written and the start of a background call are
decided together, under one lock: a reply that comes as a background call is
woken finds it registered and cancels it before it begins, and a call woken
as a reply comes finds that reply and waits again.

One gate serves the whole process, whatever event loop a reply or a call
runs on: the LangGraph server may run each run in an event loop of its own
(``BG_JOB_ISOLATED_LOOPS``) while the housekeeping runs on its main loop.
Waiters are woken, and calls cancelled, on their own loop.

Work may be bounded (:class:`Patience`): after giving way a few times its
calls run to their end even if a reply comes (the embedded server pauses such
a call while a reply is written; another server may make the reply wait for
it). Work that can wait
(memory, a warm-up, a fold begun early) is not bounded; a fold the replies
already need (they leave out turns no summary covers) is, or a user who sends
message after message with no pause would starve it for good.

Endpoints that serve many requests at once (OpenAI, most servers) need no
gate: :func:`gate` then returns a gate that lets everything through.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

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


class GaveWay(Exception):
    """A background call was cancelled to let a reply through."""


def _on_its_loop(future: asyncio.Future[Any], action: Callable[[], object]) -> None:
    """Do ``action`` to ``future`` now if it belongs to this thread's loop, else on its own loop."""
    loop = future.get_loop()
    try:
        here = asyncio.get_running_loop()
    except RuntimeError:
        here = None
    if loop is here:
        action()  # at once: a task not started yet is then cancelled before it begins
    else:
        with contextlib.suppress(RuntimeError):  # its loop is closed: nothing waits there
            loop.call_soon_threadsafe(action)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ModelGate:
    """Lets replies through at once; background calls run only between replies."""

    def __init__(self, exclusive: bool = True) -> None:
        """Create a gate; ``exclusive`` False lets background calls run beside replies."""
        self.exclusive = exclusive
        self._lock = threading.Lock()
        self._replies = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self.preemptions = 0
        """Background calls cancelled so far to let a reply through (for benchmarks)."""

    @contextlib.asynccontextmanager
    async def replying(self) -> AsyncIterator[None]:
        """Hold the model for a reply: background calls in flight give way."""
        if not self.exclusive:
            yield
            return
        with self._lock:
            self._replies += 1
            cut = list(self._background)
            self.preemptions += len(cut)
        for task in cut:
            _on_its_loop(task, partial(task.cancel, PREEMPTED))
        try:
            yield
        finally:
            with self._lock:
                self._replies -= 1
                woken: list[asyncio.Future[None]] = []
                if not self._replies:
                    woken, self._waiters = self._waiters, []
            for waiter in woken:
                _on_its_loop(waiter, partial(_wake, waiter))

    async def _start(self, call: Callable[[], Awaitable[T]], cuttable: bool) -> asyncio.Task[T]:
        """Start ``call()`` once no reply is being written; a reply may cut it if ``cuttable``.

        The check and the registration are one step under the lock, so no reply
        can slip between them: a reply that comes after sees the call and cuts it.
        """
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if not self._replies:
                    task: asyncio.Task[T] = loop.create_task(_awaited(call))
                    if cuttable:
                        self._background.add(task)
                    return task
                waiter: asyncio.Future[None] = loop.create_future()
                self._waiters.append(waiter)
            try:
                await waiter
            finally:
                with self._lock, contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)

    async def _outcome(self, task: asyncio.Task[T]) -> T:
        """Return what ``task`` returns; raise :class:`GaveWay` if a reply cut it."""
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                task.cancel()  # we are being cancelled ourselves (shutdown): stop the call
                with contextlib.suppress(BaseException):
                    await task  # the call has stopped before our caller goes on
                raise
            if not task.cancelled():
                raise
            raise GaveWay from None
        finally:
            with self._lock:
                self._background.discard(task)

    async def background(
        self, call: Callable[[], Awaitable[T]], patience: Patience | None = None
    ) -> T:
        """Run ``call()`` when no reply is being written; run it again if a reply cuts in.

        Once ``patience`` has run out (None: never), the call is let finish.
        """
        if not self.exclusive:
            return await call()
        while True:
            cuttable = patience is None or patience.left > 0
            try:
                return await self._outcome(await self._start(call, cuttable))
            except GaveWay:
                # The call gave way to a reply: wait for the replies to end, then send it again.
                if patience is not None:
                    patience.left -= 1

    async def unless_cut(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``call()`` when no reply is being written; give up (None) if a reply cuts in.

        For work only worth doing before the next message, such as reading a prompt
        ahead: once a reply has cut in, that reply has read its prompt itself.
        """
        if not self.exclusive:
            return await call()
        try:
            return await self._outcome(await self._start(call, cuttable=True))
        except GaveWay:
            return None


async def _awaited(call: Callable[[], Awaitable[T]]) -> T:
    return await call()


_gates: dict[bool, ModelGate] = {}
_gates_lock = threading.Lock()


def gate(exclusive: bool) -> ModelGate:
    """Return the process's gate for an endpoint that does (or not) one request at a time."""
    with _gates_lock:
        if exclusive not in _gates:
            _gates[exclusive] = ModelGate(exclusive)
        return _gates[exclusive]
