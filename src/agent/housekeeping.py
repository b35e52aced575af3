"""Work after a reply, off its path: a queue of chores, one entry per thread.

A turn's reply is saved as soon as it is written; what the bot does for
itself afterwards (learn what the user said about themselves, fold old turns
into the summary, prepare the model for the next message) is scheduled here
and done in this process's background, so neither ``runs.wait`` nor the next
message waits for it. A thread has at most one chore waiting: a newer turn's
chore replaces it, since each chore works from the thread's latest messages.

Chores are derived from what is stored, never remembered only here: a chore
lost to a restart or ``kill -9`` is found due again at the thread's next turn
and done then. A chore that fails is logged; it never fails a turn.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Chore = Callable[[], Awaitable[None]]
"""Background work for one thread; it must be safe to run again (it may be redone)."""

WORKERS = 4
"""Chores done at once (different threads), where the model serves requests in parallel."""


class Housekeeper:
    """Runs each thread's latest chore in the background, a few threads at a time."""

    def __init__(self, workers: int = WORKERS) -> None:
        """Create an idle housekeeper that does up to ``workers`` chores at once."""
        self.workers = workers
        self._waiting: dict[str, Chore] = {}
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def schedule(self, key: str, chore: Chore) -> None:
        """Do ``chore`` for ``key`` (a thread) soon, replacing the one waiting for it."""
        self._waiting[key] = chore
        self._idle.clear()
        if len(self._tasks) < self.workers:
            # A fresh context: the chore must not inherit the finished run's config,
            # callbacks or stream (LangGraph keeps them in context variables).
            task = asyncio.get_running_loop().create_task(
                self._work(), context=contextvars.Context()
            )
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _next(self) -> tuple[str, Chore] | None:
        for key in self._waiting:
            if key not in self._running:
                return key, self._waiting.pop(key)
        return None

    async def _work(self) -> None:
        while (picked := self._next()) is not None:
            key, chore = picked
            self._running.add(key)
            try:
                await chore()
            except Exception:
                logger.exception("Background work for %s failed; it is tried again next turn", key)
            finally:
                self._running.discard(key)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        startable = any(key not in self._running for key in self._waiting)
        if startable and len(self._tasks) < self.workers:
            restart = asyncio.get_running_loop().create_task(
                self._work(), context=contextvars.Context()
            )
            self._tasks.add(restart)
            restart.add_done_callback(self._finished)
        elif not self._tasks:
            self._idle.set()

    async def drained(self) -> None:
        """Return once no chore is waiting or running."""
        await self._idle.wait()

    def busy(self) -> bool:
        """Tell whether a chore is waiting or running."""
        return not self._idle.is_set()


_housekeepers: dict[asyncio.AbstractEventLoop, Housekeeper] = {}


def housekeeper(workers: int = WORKERS) -> Housekeeper:
    """Return this event loop's housekeeper (made with ``workers`` on first use)."""
    loop = asyncio.get_running_loop()
    if loop not in _housekeepers:
        for stale in [known for known in _housekeepers if known.is_closed()]:
            del _housekeepers[stale]
        _housekeepers[loop] = Housekeeper(workers)
    return _housekeepers[loop]


async def drained() -> None:
    """Return once this process has no background work left (tests and benchmarks)."""
    await housekeeper().drained()
