"""Where the conversations are stored, and the connections to it (the store borrows these).

SQLite by default (``$CHATBOT_DATA_DIR/checkpoints.sqlite``), PostgreSQL when
``POSTGRES_URI`` or ``DATABASE_URI`` is set. Both the checkpointer
(``agent.storage.checkpointer``) and the long-term memory store
(``agent.memory.store``) open their connections here, so they agree on the
database, the schema and the error messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from agent import settings

IN_MEMORY = ":memory:"
"""``langgraph dev`` sets ``DATABASE_URI=:memory:`` for its own runtime; that
value means "no PostgreSQL" here. ``POSTGRES_URI`` wins over ``DATABASE_URI``."""

CONNECT_TIMEOUT_S = 10.0


class CheckpointerConfigError(RuntimeError):
    """The configured database cannot be used; the message says which variable and why."""


def database_uri() -> tuple[str, str] | None:
    """Return ``(variable, uri)`` of the configured PostgreSQL database, if any."""
    for setting in (settings.POSTGRES_URI, settings.DATABASE_URI):
        uri = setting.get()
        if uri and uri != IN_MEMORY:
            return setting.name, uri
    return None


def postgres_schema() -> str:
    """Return the schema that holds the chatbot's tables (``$CHATBOT_DB_SCHEMA``, ``chatbot``).

    A schema of its own keeps these tables apart from the LangGraph server's
    own tables when both share the production database.
    """
    return settings.DB_SCHEMA.get()


def sqlite_path() -> Path:
    """Return the SQLite file: ``$CHATBOT_DATA_DIR/checkpoints.sqlite`` (default ``.chatbot/``).

    The default directory is hidden, so ``langgraph dev``'s file watcher ignores it.
    """
    return settings.DATA_DIR.get() / "checkpoints.sqlite"


def redact(uri: str) -> str:
    """Return ``uri`` without its password, for messages and logs."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(uri)
    except Exception:  # noqa: BLE001 - an unparsable URI is reported by the caller
        return "<unparsable URI>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **params)


@asynccontextmanager
async def postgres_pool(variable: str, uri: str) -> AsyncIterator[Any]:
    """Yield an open connection pool to ``uri``, in the chatbot's schema (created if needed).

    Raises:
        CheckpointerConfigError: the URI is malformed or the server cannot be
            reached; the message names ``variable`` and never the password.
    """
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
            f"{CONNECT_TIMEOUT_S:.0f} s ({error}). Check that the server runs, the database "
            f"exists and the credentials are right, or unset {variable} to use SQLite."
        ) from None
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def sqlite_connection(path: Path, **options: Any) -> AsyncIterator[Any]:
    """Yield an ``aiosqlite`` connection to ``path`` (its folder created if needed).

    Raises:
        CheckpointerConfigError: the file cannot be opened; the message names
            ``CHATBOT_DATA_DIR``.
    """
    import aiosqlite

    try:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, **options)
    except (OSError, aiosqlite.Error) as error:
        raise CheckpointerConfigError(
            f"CHATBOT_DATA_DIR: cannot open the SQLite database {path} ({error}). "
            "Point CHATBOT_DATA_DIR at a writable directory."
        ) from None
    try:
        yield connection
    finally:
        await connection.close()
