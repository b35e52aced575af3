"""Durable conversation memory: SQLite by default, PostgreSQL when a URI is set.

``langgraph.json`` declares :func:`checkpointer` under ``"checkpointer"``, which
replaces the dev server's pickle files (and works the same in the production
server image). Every checkpoint of a thread's last ``CHATBOT_HISTORY_TURNS``
turns is kept (default 50, ``all`` keeps everything), so ``get_history``,
time travel, edit and regenerate work for those turns; older checkpoints are
pruned as ``agent.storage.retention`` decides. The transcript is stored as
per-step deltas (see ``agent.conversation.state``), so keeping many
checkpoints does not store the same messages again, and the full copy they
build on is decoded once, not at every turn (``agent.storage.decoded``).

The pieces: ``connections`` (where, and the connections the store borrows),
``sqlite`` and ``postgres`` (each saver and its SQL), ``recent_turns`` (what
they share), ``lookups`` (the server's checks through the open saver) and
``fences`` (the dependency internals they rely on). Both savers keep
LangGraph's contract for the extended capabilities they implement
(``adelete_for_runs``, ``aprune``), checked by
``langgraph-checkpoint-conformance`` in the test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from agent.storage.connections import (
    CheckpointerConfigError,
    database_uri,
    postgres_pool,
    postgres_schema,
    redact,
    sqlite_connection,
    sqlite_path,
)
from agent.storage.decoded import RecentBlobsSerializer
from agent.storage.lookups import open_savers
from agent.storage.postgres import PostgresSaver
from agent.storage.sqlite import SqliteSaver

__all__ = [
    "CheckpointerConfigError",
    "PostgresSaver",
    "SqliteSaver",
    "checkpointer",
    "database_uri",
    "describe",
    "postgres_schema",
    "redact",
    "sqlite_path",
]


@asynccontextmanager
async def _postgres(variable: str, uri: str) -> AsyncIterator[PostgresSaver]:
    async with postgres_pool(variable, uri) as pool:
        saver = PostgresSaver(pool, serde=RecentBlobsSerializer())
        await saver.setup()
        await saver.check_internals()
        yield saver


@asynccontextmanager
async def _sqlite(path: Path) -> AsyncIterator[SqliteSaver]:
    async with sqlite_connection(path) as connection:
        saver = SqliteSaver(connection, serde=RecentBlobsSerializer())
        await saver.setup()
        await saver.check_internals()
        yield saver


@asynccontextmanager
async def checkpointer() -> AsyncIterator[SqliteSaver | PostgresSaver]:
    """Yield the configured saver (the entry point ``langgraph.json`` declares)."""
    saver: SqliteSaver | PostgresSaver
    async with contextlib.AsyncExitStack() as stack:
        if configured := database_uri():
            saver = await stack.enter_async_context(_postgres(*configured))
        else:
            saver = await stack.enter_async_context(_sqlite(sqlite_path()))
        open_savers.append(saver)
        try:
            yield saver
        finally:
            open_savers.remove(saver)


async def describe(saver: SqliteSaver | PostgresSaver) -> str:
    """Say where ``saver`` keeps the conversations (never with a password)."""
    if isinstance(saver, PostgresSaver):
        variable, uri = database_uri() or ("", "")
        return f"PostgreSQL {redact(uri)}, schema {postgres_schema()} (from {variable})"
    return f"SQLite {await asyncio.to_thread(sqlite_path().resolve)}"
