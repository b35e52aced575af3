"""Work after a reply, off its path: a queue of chores, one entry per thread.

A turn's reply is saved as soon as it is written; what the bot does for
itself afterwards (learn what the user said about themselves, fold old turns
into the summary, prepare the model for the next message) is scheduled here
and done in this process's background, so neither ``runs.wait`` nor the next
message waits for it. A thread has at most one chore waiting: a newer turn's
chore replaces it, since each chore works from the thread's latest messages.

One housekeeper serves the process. Under the LangGraph server it runs on
the server's main event loop, taken at the lifespan's start (:func:`serving`):
with ``BG_JOB_ISOLATED_LOOPS`` each run has an event loop of its own, which
stands still between runs, so a chore is handed over to the main loop
(thread-safe) instead of being left on the run's. There it uses the store the
main loop holds open (a run's store is opened on the run's loop). Without a
server (tests, benchmarks) it runs on the loop that first asks for it.

Chores are derived from what is stored, never remembered only here: a chore
lost to a restart, a shutdown or ``kill -9`` is found due again at the
thread's next turn and done then. At shutdown (the end of :func:`serving`)
waiting chores are dropped and running ones cancelled, and awaited, before
the lifespan closes the model server and the store under them. A chore that
fails is logged and counted (``agent.chore_health``); it never fails a turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

from langgraph.store.base import BaseStore

from agent import chore_health

logger = logging.getLogger(__name__)

Chore = Callable[[], Awaitable[None]]
"""Background work for one thread; it must be safe to run again (it may be redone)."""

WORKERS = 4
"""Chores done at once (different threads), where the model serves requests in parallel."""

STOP_WAIT_SECONDS = 10.0
"""How long a shutdown waits for cancelled chores to stop before it goes on regardless."""

SHUTTING_DOWN = "the server is shutting down"
"""The cancel message of a chore stopped by a shutdown."""


def _on(loop: asyncio.AbstractEventLoop) -> bool:
    """Tell whether this thread is running ``loop``."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class Housekeeper:
    """Runs each thread's latest chore in the background, a few threads at a time, on one loop."""

    def __init__(self, workers: int, loop: asyncio.AbstractEventLoop) -> None:
        """Create an idle housekeeper that does up to ``workers`` chores at once on ``loop``."""
        self.workers = workers
        self.loop = loop
        self.store: BaseStore | None = None
        """The store chores use on this loop (the server's), instead of a run's."""
        self.closed = False
        self._waiting: dict[str, Chore] = {}
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._handing_over = 0
        """Chores scheduled from other threads that this loop has not taken yet."""
        self._lock = threading.Lock()
        self._idle = asyncio.Event()
        self._idle.set()

    def schedule(self, key: str, chore: Chore) -> None:
        """Do ``chore`` for ``key`` (a thread) soon, replacing the one waiting for it.

        Safe from any thread and event loop: the chore is handed over to this
        housekeeper's loop, and ``chore()`` is called there.
        """
        if _on(self.loop):
            self._take(key, chore)
            return
        with self._lock:  # busy from now: drained() must not miss a chore on its way
            self._handing_over += 1
            self._idle.clear()
        try:
            self.loop.call_soon_threadsafe(self._handed_over, key, chore)
        except RuntimeError:  # the loop is closed: the server has stopped
            with self._lock:
                self._handing_over -= 1
            logger.info("Housekeeping for %s is left for the thread's next turn", key)

    def _handed_over(self, key: str, chore: Chore) -> None:
        with self._lock:
            self._handing_over -= 1
        self._take(key, chore)
        self._settle()

    def store_for(self, run_store: BaseStore | None) -> BaseStore | None:
        """Return the store a chore from a run with ``run_store`` uses here."""
        return self.store if run_store is not None and self.store is not None else run_store

    def _take(self, key: str, chore: Chore) -> None:
        if self.closed:
            logger.info("Shutting down: housekeeping for %s is left for its next turn", key)
            return
        self._waiting[key] = chore
        self._idle.clear()
        if len(self._tasks) < self.workers:
            self._start_worker()

    def _start_worker(self) -> None:
        # A fresh context: the chore must not inherit the finished run's config,
        # callbacks or stream (LangGraph keeps them in context variables).
        task = self.loop.create_task(self._work(), context=contextvars.Context())
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
            except Exception as error:
                logger.warning(
                    "Background work for %s failed; it is tried again next turn",
                    key,
                    exc_info=True,
                )
                chore_health.failed(error)
            else:
                chore_health.succeeded()
            finally:
                self._running.discard(key)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        startable = any(key not in self._running for key in self._waiting)
        if startable and not self.closed and len(self._tasks) < self.workers:
            self._start_worker()
        self._settle()

    def _settle(self) -> None:
        """Tell :meth:`drained` when nothing runs, waits, or is on its way here."""
        with self._lock:
            if not self._tasks and not self._handing_over:
                self._idle.set()

    async def stop(self) -> None:
        """Stop for good: drop the chores waiting, cancel those running and await them.

        Each is found due again at its thread's next turn (after a restart).
        """
        self.closed = True
        dropped = len(self._waiting)
        self._waiting.clear()
        running = list(self._tasks)
        for task in running:
            task.cancel(SHUTTING_DOWN)
        if running:
            _done, pending = await asyncio.wait(running, timeout=STOP_WAIT_SECONDS)
            if pending:
                logger.error("%d chores did not stop at shutdown", len(pending))
        if dropped or running:
            logger.info(
                "Shutting down: %d chores stopped, %d waiting dropped; "
                "each thread's is found due at its next turn",
                len(running),
                dropped,
            )
        self._idle.set()

    async def drained(self) -> None:
        """Return once no chore is waiting or running (awaitable from any loop)."""
        if _on(self.loop):
            await self._idle.wait()
        else:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.drained(), self.loop))

    def busy(self) -> bool:
        """Tell whether a chore is waiting or running."""
        return not self._idle.is_set()

    def counts(self) -> dict[str, int]:
        """Return how many chores wait and run now (for the health report)."""
        return {"waiting": len(self._waiting), "running": len(self._running)}


_home: asyncio.AbstractEventLoop | None = None
"""The server's main loop while :func:`serving` runs there; chores from every loop go to it."""

_housekeepers: dict[asyncio.AbstractEventLoop, Housekeeper] = {}
_lock = threading.Lock()


def housekeeper(workers: int | None = None) -> Housekeeper:
    """Return the process's housekeeper (this loop's when no server runs); ``workers`` sets its size.

    Under :func:`serving` it is the one on the server's main loop, whichever
    loop asks. Otherwise each event loop has its own, made on first use.
    """
    home = _home
    loop = home if home is not None and not home.is_closed() else asyncio.get_running_loop()
    with _lock:
        for stale in [known for known in _housekeepers if known.is_closed()]:
            del _housekeepers[stale]
        if loop not in _housekeepers:
            _housekeepers[loop] = Housekeeper(workers or WORKERS, loop)
        keeper = _housekeepers[loop]
    if workers:
        keeper.workers = workers
    return keeper


@contextlib.asynccontextmanager
async def serving(store: BaseStore | None = None) -> AsyncIterator[Housekeeper]:
    """Do the process's housekeeping on this loop, with ``store``, until the block ends; then stop.

    The server's lifespan runs this on its main loop. Leaving the block stops
    every chore (:meth:`Housekeeper.stop`), so nothing is left writing to the
    store or asking the model once the lifespan goes on to close them; chores
    scheduled afterwards are dropped until the loop closes.
    """
    global _home
    loop = asyncio.get_running_loop()
    keeper = Housekeeper(WORKERS, loop)
    keeper.store = store
    with _lock:
        _housekeepers[loop] = keeper
        _home = loop
    try:
        yield keeper
    finally:
        # It stays the process's housekeeper, closed: a run still ending that
        # schedules a chore now has it dropped (found due at the next turn).
        await keeper.stop()


async def drained() -> None:
    """Return once this process has no background work left (tests and benchmarks)."""
    await housekeeper().drained()
