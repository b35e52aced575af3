"""Durable conversation memory: SQLite by default, PostgreSQL when a URI is set.

``langgraph.json`` declares :func:`checkpointer` under ``"checkpointer"``, which
replaces the dev server's pickle files (and works the same in the production
server image). Both savers keep only each thread's latest checkpoint: a
conversation's state already holds every message, so the older checkpoints
(one per step, each with the whole message list) only made storage grow with
the square of the conversation's length. What that costs: time travel to an
earlier step (``threads.get_history`` returns the latest turn's states only).
``CHATBOT_KEEP_HISTORY=true`` keeps every checkpoint instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent import settings

IN_MEMORY = ":memory:"
"""``langgraph dev`` sets ``DATABASE_URI=:memory:`` for its own runtime; that
value means "no PostgreSQL" here. ``POSTGRES_URI`` wins over ``DATABASE_URI``."""

CONNECT_TIMEOUT_S = 10.0


class CheckpointerConfigError(RuntimeError):
    """The configured database cannot be used; the message says which variable and why."""


def keep_history() -> bool:
    """Tell whether every checkpoint is kept (``CHATBOT_KEEP_HISTORY=true``), for time travel."""
    return settings.HISTORY_TURNS.get() is None


class _KeepLatest(BaseCheckpointSaver[Any]):
    """Prune a thread to its latest checkpoint whenever a new turn starts.

    A turn writes a few checkpoints (input, then one per step); pruning when the
    next turn's input checkpoint is saved keeps at most one turn's worth, so the
    bytes stored per thread grow linearly with its length.
    """

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        saved = await super().aput(config, checkpoint, metadata, new_versions)
        configurable = saved.get("configurable", {})
        if (
            metadata.get("source") == "input"
            and not configurable.get("checkpoint_ns")
            and not keep_history()
        ):
            await self.aprune([configurable["thread_id"]], strategy="keep_latest")
        return saved


class SqliteSaver(_KeepLatest, AsyncSqliteSaver):
    """``AsyncSqliteSaver`` that keeps each thread's latest checkpoint only."""

    async def athreads(self) -> list[tuple[str, dict[str, Any]]]:
        """Return every stored thread id with its latest checkpoint's metadata."""
        await self.setup()
        async with (
            self.lock,
            self.conn.execute(
                """SELECT thread_id, metadata FROM checkpoints AS c
               WHERE checkpoint_ns = '' AND checkpoint_id = (
                   SELECT MAX(checkpoint_id) FROM checkpoints
                   WHERE thread_id = c.thread_id AND checkpoint_ns = '')"""
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [(str(row[0]), json.loads(row[1]) if row[1] else {}) for row in rows]

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete threads (``delete``) or all but their latest checkpoint (``keep_latest``)."""
        if isinstance(thread_ids, str):
            raise TypeError("thread_ids must be a sequence of thread ids, not a str")
        if strategy == "delete":
            for thread_id in thread_ids:
                await self.adelete_thread(thread_id)
            return
        if strategy != "keep_latest":
            raise ValueError(f"Unknown prune strategy: {strategy!r}")
        await self.setup()
        async with self.lock:
            for thread_id in map(str, thread_ids):
                for table in ("checkpoints", "writes"):
                    await self.conn.execute(
                        f"""DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < (
                               SELECT MAX(checkpoint_id) FROM checkpoints AS latest
                               WHERE latest.thread_id = {table}.thread_id
                                 AND latest.checkpoint_ns = {table}.checkpoint_ns)""",
                        (thread_id,),
                    )
            await self.conn.commit()

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the runs' checkpoints and writes, except each thread's latest checkpoint.

        Older checkpoints are pruned, so the latest one is a thread's only copy
        of its conversation: deleting a run must never wipe the thread.
        """
        ids = [str(run_id) for run_id in run_ids]
        if not ids:
            return
        await self.setup()
        marks = ",".join("?" * len(ids))
        doomed = f"""SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints AS c
                     WHERE json_extract(CAST(metadata AS TEXT), '$.run_id') IN ({marks})
                       AND checkpoint_id < (SELECT MAX(checkpoint_id) FROM checkpoints
                                            WHERE thread_id = c.thread_id
                                              AND checkpoint_ns = c.checkpoint_ns)"""
        async with self.lock:
            for table in ("writes", "checkpoints"):
                await self.conn.execute(
                    f"DELETE FROM {table} WHERE (thread_id, checkpoint_ns, checkpoint_id) "
                    f"IN ({doomed})",
                    ids,
                )
            await self.conn.commit()


class PostgresSaver(_KeepLatest, AsyncPostgresSaver):
    """``AsyncPostgresSaver`` that keeps each thread's latest checkpoint only."""

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the runs' checkpoints and writes, except each thread's latest checkpoint."""
        ids = [str(run_id) for run_id in run_ids]
        if not ids:
            return
        doomed = """SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints AS c
                    WHERE metadata->>'run_id' = ANY(%(ids)s)
                      AND checkpoint_id < (SELECT MAX(checkpoint_id) FROM checkpoints
                                           WHERE thread_id = c.thread_id
                                             AND checkpoint_ns = c.checkpoint_ns)"""
        async with self._cursor() as cursor:
            for table in ("checkpoint_writes", "checkpoints"):
                await cursor.execute(
                    f"DELETE FROM {table} WHERE (thread_id, checkpoint_ns, checkpoint_id) "
                    f"IN ({doomed})",
                    {"ids": ids},
                )

    async def athreads(self) -> list[tuple[str, dict[str, Any]]]:
        """Return every stored thread id with its latest checkpoint's metadata."""
        async with self._cursor() as cursor:
            await cursor.execute(
                """SELECT DISTINCT ON (thread_id) thread_id, metadata FROM checkpoints
                   WHERE checkpoint_ns = '' ORDER BY thread_id, checkpoint_id DESC"""
            )
            rows = await cursor.fetchall()
        return [(str(row["thread_id"]), dict(row["metadata"] or {})) for row in rows]


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
async def _postgres(variable: str, uri: str) -> AsyncIterator[PostgresSaver]:
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
        saver = PostgresSaver(pool)
        await saver.setup()
        yield saver
    finally:
        await pool.close()


@asynccontextmanager
async def _sqlite(path: Path) -> AsyncIterator[SqliteSaver]:
    import aiosqlite

    try:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path)
    except (OSError, aiosqlite.Error) as error:
        raise CheckpointerConfigError(
            f"CHATBOT_DATA_DIR: cannot open the SQLite database {path} ({error}). "
            "Point CHATBOT_DATA_DIR at a writable directory."
        ) from None
    try:
        saver = SqliteSaver(connection)
        await saver.setup()
        yield saver
    finally:
        await connection.close()


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Yield the configured saver (the entry point ``langgraph.json`` declares)."""
    if configured := database_uri():
        async with _postgres(*configured) as postgres:
            yield postgres
    else:
        async with _sqlite(sqlite_path()) as sqlite:
            yield sqlite


async def check_database() -> str:
    """Open the configured database once, creating its tables; return a description.

    Called at server start so that a wrong URI stops the server there, with a
    clear message, instead of failing the first chat.
    """
    async with checkpointer() as saver:
        if isinstance(saver, PostgresSaver):
            variable, uri = database_uri() or ("", "")
            return f"PostgreSQL {redact(uri)}, schema {postgres_schema()} (from {variable})"
        return f"SQLite {await asyncio.to_thread(sqlite_path().resolve)}"
