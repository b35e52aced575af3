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
from typing import Any

from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore

from agent import settings
from agent.storage.checkpointer import (
    CONNECT_TIMEOUT_S,
    CheckpointerConfigError,
    database_uri,
    postgres_schema,
    redact,
    sqlite_path,
)

logger = logging.getLogger(__name__)


@asynccontextmanager
async def _postgres(variable: str, uri: str) -> AsyncIterator[AsyncPostgresStore]:
    from psycopg import OperationalError
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool, PoolTimeout

    try:
        conninfo_to_dict(uri)
    except Exception as error:
        raise CheckpointerConfigError(
            f"{variable} is not a valid PostgreSQL URI ({error}). "
            "Use e.g. postgresql://user:password@127.0.0.1:5432/dbname."
        ) from None
    schema = postgres_schema()

    async def create_schema(connection: Any) -> None:
        await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        uri,
        open=False,
        min_size=1,
        max_size=settings.DB_POOL_SIZE.get(),
        kwargs={
            "autocommit": True,
            "prepare_threshold": 0,
            "row_factory": dict_row,
            "options": f"-c search_path={schema}",
        },
        configure=create_schema,
    )
    try:
        await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
    except (PoolTimeout, OperationalError) as error:
        await pool.close()
        raise CheckpointerConfigError(
            f"{variable}: cannot connect to PostgreSQL at {redact(uri)} within "
            f"{CONNECT_TIMEOUT_S:.0f} s ({error}), so the memory store cannot open."
        ) from None
    try:
        store = AsyncPostgresStore(pool)
        await store.setup()
        logger.info("Memory is stored in PostgreSQL %s, schema %s", redact(uri), schema)
        yield store
    finally:
        await pool.close()


@asynccontextmanager
async def _sqlite(path: Path) -> AsyncIterator[AsyncSqliteStore]:
    import aiosqlite

    try:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        # Autocommit: the store opens and commits its own transactions.
        connection = await aiosqlite.connect(path, isolation_level=None)
    except (OSError, aiosqlite.Error) as error:
        raise CheckpointerConfigError(
            f"CHATBOT_DATA_DIR: cannot open the SQLite database {path} ({error}). "
            "Point CHATBOT_DATA_DIR at a writable directory."
        ) from None
    try:
        # The checkpointer writes to the same file on its own connection: wait for its
        # lock instead of failing at once.
        await connection.execute("PRAGMA busy_timeout = 10000")
        store = AsyncSqliteStore(connection)
        await store.setup()
        logger.info("Memory is stored in SQLite %s", await asyncio.to_thread(path.resolve))
        yield store
    finally:
        await connection.close()


@asynccontextmanager
async def store() -> AsyncIterator[AsyncSqliteStore | AsyncPostgresStore]:
    """Yield the configured memory store (the entry point ``langgraph.json`` declares)."""
    if configured := database_uri():
        async with _postgres(*configured) as opened:
            yield opened
    else:
        async with _sqlite(sqlite_path()) as opened_sqlite:
            yield opened_sqlite
