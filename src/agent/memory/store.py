"""The durable long-term memory store ``langgraph.json`` declares under ``"store"``.

It lives where the conversations live, chosen the same way as the
checkpointer (``agent.storage.checkpointer``): PostgreSQL, in the chatbot's
schema, when ``POSTGRES_URI`` (or ``DATABASE_URI``) is set; otherwise SQLite,
in the same file as the checkpoints (``$CHATBOT_DATA_DIR/checkpoints.sqlite``),
in tables of its own (``store``, ``store_migrations``). The LangGraph server
opens it on first use and serves it at ``/store/...``; the graph reaches it as
``runtime.store``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore

from agent.storage.connections import (
    database_uri,
    postgres_pool,
    postgres_schema,
    redact,
    sqlite_connection,
    sqlite_path,
)

logger = logging.getLogger(__name__)


@asynccontextmanager
async def _postgres(variable: str, uri: str) -> AsyncIterator[AsyncPostgresStore]:
    async with postgres_pool(variable, uri) as pool:
        store = AsyncPostgresStore(pool)
        await store.setup()
        logger.info("Memory is stored in PostgreSQL %s, schema %s", redact(uri), postgres_schema())
        yield store


@asynccontextmanager
async def _sqlite(path: Path) -> AsyncIterator[AsyncSqliteStore]:
    # Autocommit: the store opens and commits its own transactions.
    async with sqlite_connection(path, isolation_level=None) as connection:
        # The checkpointer writes to the same file on its own connection: wait for its
        # lock instead of failing at once.
        await connection.execute("PRAGMA busy_timeout = 10000")
        store = AsyncSqliteStore(connection)
        await store.setup()
        logger.info("Memory is stored in SQLite %s", await asyncio.to_thread(path.resolve))
        yield store


@asynccontextmanager
async def store() -> AsyncIterator[AsyncSqliteStore | AsyncPostgresStore]:
    """Yield the configured memory store (the entry point ``langgraph.json`` declares)."""
    if configured := database_uri():
        async with _postgres(*configured) as opened:
            yield opened
    else:
        async with _sqlite(sqlite_path()) as opened_sqlite:
            yield opened_sqlite
