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

Both savers also keep LangGraph's contract for the extended capabilities they
implement (``adelete_for_runs``, ``aprune``), checked by
``langgraph-checkpoint-conformance`` in the test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, get_args

from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg.types.json import Jsonb

from agent import settings
from agent.conversation.state import Transcript
from agent.storage.decoded import RecentBlobsSerializer
from agent.storage.kept_runs import runs_to_forget
from agent.storage.retention import Lineage, plan

IN_MEMORY = ":memory:"
"""``langgraph dev`` sets ``DATABASE_URI=:memory:`` for its own runtime; that
value means "no PostgreSQL" here. ``POSTGRES_URI`` wins over ``DATABASE_URI``."""

CONNECT_TIMEOUT_S = 10.0

BATCH = 500
"""Checkpoint ids per DELETE statement."""

TRANSCRIPT = "messages"
"""The state channel that holds the transcript as deltas."""

TRANSCRIPT_CHANNEL: DeltaChannel[Any] = get_args(Transcript)[1]
"""Its channel, as the graph declares it (to replay its writes)."""

logger = logging.getLogger(__name__)

# --- SQLite -------------------------------------------------------------------
SQLITE_LINEAGE = """
SELECT checkpoint_id, parent_checkpoint_id,
       json_extract(CAST(metadata AS TEXT), '$.source'),
       COALESCE(json_extract(CAST(metadata AS TEXT), '$.counters_since_delta_snapshot'), '{}')
FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ''
"""
SQLITE_DELETE_WRITES = """
DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id IN ({ids})
"""
SQLITE_DELETE_CHECKPOINTS = """
DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id IN ({ids})
"""
SQLITE_ORPHAN_CHILDREN = """
UPDATE checkpoints SET parent_checkpoint_id = NULL
WHERE thread_id = ? AND checkpoint_ns = ? AND parent_checkpoint_id IN ({ids})
"""
SQLITE_STORE_SNAPSHOT = """
UPDATE checkpoints SET type = ?, checkpoint = ?, metadata = ?
WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?
"""
SQLITE_RUN_CHECKPOINTS = """
SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints
WHERE json_extract(CAST(metadata AS TEXT), '$.run_id') IN ({ids})
"""
SQLITE_USES_DELTA_CHANNELS = """
SELECT 1 FROM checkpoints WHERE thread_id = ?
AND json_extract(CAST(metadata AS TEXT), '$.counters_since_delta_snapshot') IS NOT NULL
LIMIT 1
"""
SQLITE_KEEP_LATEST = """
DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < (
    SELECT MAX(checkpoint_id) FROM checkpoints AS latest
    WHERE latest.thread_id = {table}.thread_id
      AND latest.checkpoint_ns = {table}.checkpoint_ns)
"""
SQLITE_THREADS = """
SELECT thread_id, metadata FROM checkpoints AS c
WHERE checkpoint_ns = '' AND checkpoint_id = (
    SELECT MAX(checkpoint_id) FROM checkpoints
    WHERE thread_id = c.thread_id AND checkpoint_ns = '')
"""

# --- PostgreSQL -----------------------------------------------------------------
POSTGRES_LINEAGE = """
SELECT checkpoint_id, parent_checkpoint_id, metadata ->> 'source' AS source,
       COALESCE(metadata -> 'counters_since_delta_snapshot', '{}'::jsonb) = '{}'::jsonb
           AS snapshot
FROM checkpoints WHERE thread_id = %(thread_id)s AND checkpoint_ns = ''
"""
POSTGRES_DELETE_WRITES = """
DELETE FROM checkpoint_writes
WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(ns)s AND checkpoint_id = ANY(%(ids)s)
"""
POSTGRES_DELETE_CHECKPOINTS = """
DELETE FROM checkpoints
WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(ns)s AND checkpoint_id = ANY(%(ids)s)
"""
POSTGRES_ORPHAN_CHILDREN = """
UPDATE checkpoints SET parent_checkpoint_id = NULL
WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(ns)s
  AND parent_checkpoint_id = ANY(%(ids)s)
"""
POSTGRES_UNREFERENCED_BLOBS = """
DELETE FROM checkpoint_blobs AS b
WHERE b.thread_id = %(thread_id)s AND b.checkpoint_ns = %(ns)s AND NOT EXISTS (
    SELECT 1 FROM checkpoints AS c
    WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
      AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)
"""
POSTGRES_STORE_SNAPSHOT = """
UPDATE checkpoints
SET checkpoint = jsonb_set(checkpoint, '{channel_values,messages}', 'true'::jsonb),
    metadata = CASE WHEN %(counters)s = '{}'::jsonb
                    THEN metadata - 'counters_since_delta_snapshot'
                    ELSE jsonb_set(metadata, '{counters_since_delta_snapshot}', %(counters)s) END
WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(ns)s AND checkpoint_id = %(checkpoint_id)s
"""
POSTGRES_RUN_CHECKPOINTS = """
SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints
WHERE metadata ->> 'run_id' = ANY(%(ids)s)
"""
POSTGRES_THREADS = """
SELECT DISTINCT ON (thread_id) thread_id, metadata FROM checkpoints
WHERE checkpoint_ns = '' ORDER BY thread_id, checkpoint_id DESC
"""


class CheckpointerConfigError(RuntimeError):
    """The configured database cannot be used; the message says which variable and why."""


class _RecentTurns(BaseCheckpointSaver[Any]):
    """Keep every checkpoint of each thread's last turns; prune older ones when a turn starts.

    Subclasses say how to read a thread's lineage and delete checkpoints.
    """

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save the checkpoint; when it starts a turn, prune turns beyond the window."""
        saved = await super().aput(config, checkpoint, metadata, new_versions)
        configurable = saved.get("configurable", {})
        turns = settings.HISTORY_TURNS.get()
        if (
            metadata.get("source") == "input"
            and not configurable.get("checkpoint_ns")
            and turns is not None
        ):
            await self.aprune_history(str(configurable["thread_id"]), turns)
        return saved

    async def aprune_history(self, thread_id: str, turns: int) -> None:
        """Delete the thread's checkpoints older than its last ``turns`` turns.

        A kept checkpoint whose parent goes first gets a full copy of the
        transcript, so it still reads whole. Pruning never fails a turn: a
        failure is logged and the checkpoints stay until the next try.
        """
        try:
            lineage = await self.alineage(thread_id)
            pruning = plan(lineage, turns)
            if pruning is None:
                return
            for checkpoint_id in pruning.snapshot:
                await self._snapshot(thread_id, checkpoint_id)
            doomed = [row.checkpoint_id for row in lineage if row.checkpoint_id not in pruning.keep]
            await self._forget([(thread_id, "", checkpoint_id) for checkpoint_id in doomed])
        except Exception:
            logger.exception("Could not prune the history of thread %s", thread_id)

    async def _snapshot(self, thread_id: str, checkpoint_id: str) -> None:
        """Store the full transcript in this checkpoint, so it reads without its ancestors."""
        config: RunnableConfig = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": "",
                "checkpoint_id": checkpoint_id,
            }
        }
        saved = await self.aget_tuple(config)
        if saved is None or TRANSCRIPT not in saved.checkpoint["channel_versions"]:
            return
        if TRANSCRIPT in saved.checkpoint["channel_values"]:
            return  # it holds a copy already
        history = await self.aget_delta_channel_history(config=config, channels=[TRANSCRIPT])
        channel = TRANSCRIPT_CHANNEL.from_checkpoint(history[TRANSCRIPT].get("seed"))
        channel.replay_writes(history[TRANSCRIPT]["writes"])
        transcript = _DeltaSnapshot(channel.get())
        counters = dict(saved.metadata.get("counters_since_delta_snapshot") or {})
        counters.pop(TRANSCRIPT, None)
        await self._store_snapshot(saved, transcript, counters)

    async def _store_snapshot(
        self, saved: CheckpointTuple, transcript: _DeltaSnapshot, counters: dict[str, Any]
    ) -> None:
        """Write ``transcript`` into the saved checkpoint and its snapshot counters."""
        raise NotImplementedError

    async def alineage(self, thread_id: str) -> list[Lineage]:
        """Return the lineage of the thread's root-namespace checkpoints."""
        raise NotImplementedError

    async def _forget(self, checkpoints: Sequence[tuple[str, str, str]]) -> None:
        """Delete ``(thread_id, checkpoint_ns, checkpoint_id)`` checkpoints and their writes.

        A remaining checkpoint whose parent is deleted becomes a root.
        """
        raise NotImplementedError


def _grouped(
    checkpoints: Sequence[tuple[str, str, str]],
) -> dict[tuple[str, str], list[str]]:
    groups: dict[tuple[str, str], list[str]] = {}
    for thread_id, namespace, checkpoint_id in checkpoints:
        groups.setdefault((str(thread_id), str(namespace)), []).append(str(checkpoint_id))
    return groups


def _batches(ids: list[str]) -> list[list[str]]:
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]


class SqliteSaver(_RecentTurns, AsyncSqliteSaver):
    """``AsyncSqliteSaver`` with turn-window retention, run deletion and pruning."""

    async def alineage(self, thread_id: str) -> list[Lineage]:
        """Return the lineage of the thread's root-namespace checkpoints."""
        await self.setup()
        async with self.lock, self.conn.execute(SQLITE_LINEAGE, (thread_id,)) as cursor:
            rows = await cursor.fetchall()
        return [
            Lineage(str(row[0]), row[1], row[2], json.loads(row[3] or "{}") == {}) for row in rows
        ]

    async def _forget(self, checkpoints: Sequence[tuple[str, str, str]]) -> None:
        await self.setup()
        async with self.lock:
            for (thread_id, namespace), ids in _grouped(checkpoints).items():
                for batch in _batches(ids):
                    marks = ",".join("?" * len(batch))
                    for statement in (
                        SQLITE_DELETE_WRITES,
                        SQLITE_DELETE_CHECKPOINTS,
                        SQLITE_ORPHAN_CHILDREN,
                    ):
                        await self.conn.execute(
                            statement.format(ids=marks), (thread_id, namespace, *batch)
                        )
            await self.conn.commit()

    async def _store_snapshot(
        self, saved: CheckpointTuple, transcript: _DeltaSnapshot, counters: dict[str, Any]
    ) -> None:
        checkpoint = {
            **saved.checkpoint,
            "channel_values": {**saved.checkpoint["channel_values"], TRANSCRIPT: transcript},
        }
        kind, blob = self.serde.dumps_typed(checkpoint)
        metadata = {k: v for k, v in saved.metadata.items() if k != "counters_since_delta_snapshot"}
        if counters:
            metadata["counters_since_delta_snapshot"] = counters
        configurable = saved.config["configurable"]
        async with self.lock:
            await self.conn.execute(
                SQLITE_STORE_SNAPSHOT,
                (
                    kind,
                    blob,
                    json.dumps(metadata, ensure_ascii=False).encode(),
                    configurable["thread_id"],
                    configurable.get("checkpoint_ns", ""),
                    configurable["checkpoint_id"],
                ),
            )
            await self.conn.commit()

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete every checkpoint (and its writes) that these runs saved (a rollback)."""
        ids = runs_to_forget(run_ids)
        if not ids:
            return
        await self.setup()
        marks = ",".join("?" * len(ids))
        async with (
            self.lock,
            self.conn.execute(SQLITE_RUN_CHECKPOINTS.format(ids=marks), ids) as cursor,
        ):
            rows = await cursor.fetchall()
        await self._forget([(str(row[0]), str(row[1]), str(row[2])) for row in rows])

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Delete threads (``delete``) or all but their latest checkpoint per namespace.

        Raises:
            NotImplementedError: ``keep_latest`` on a thread whose transcript is
                stored as deltas (it would lose its messages; the turn window
                prunes those threads).
        """
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
                async with self.conn.execute(SQLITE_USES_DELTA_CHANNELS, (thread_id,)) as cursor:
                    if await cursor.fetchone():
                        raise NotImplementedError(
                            f"keep_latest can't prune thread {thread_id}: it uses a "
                            "DeltaChannel; CHATBOT_HISTORY_TURNS prunes it instead."
                        )
                for table in ("checkpoints", "writes"):
                    await self.conn.execute(SQLITE_KEEP_LATEST.format(table=table), (thread_id,))
            await self.conn.commit()

    async def athreads(self) -> list[tuple[str, dict[str, Any]]]:
        """Return every stored thread id with its latest checkpoint's metadata."""
        await self.setup()
        async with self.lock, self.conn.execute(SQLITE_THREADS) as cursor:
            rows = await cursor.fetchall()
        return [(str(row[0]), json.loads(row[1]) if row[1] else {}) for row in rows]


class PostgresSaver(_RecentTurns, AsyncPostgresSaver):
    """``AsyncPostgresSaver`` with turn-window retention and run deletion."""

    async def alineage(self, thread_id: str) -> list[Lineage]:
        """Return the lineage of the thread's root-namespace checkpoints."""
        async with self._cursor() as cursor:
            await cursor.execute(POSTGRES_LINEAGE, {"thread_id": thread_id})
            rows = await cursor.fetchall()
        return [
            Lineage(
                str(row["checkpoint_id"]),
                row["parent_checkpoint_id"],
                row["source"],
                bool(row["snapshot"]),
            )
            for row in rows
        ]

    async def _forget(self, checkpoints: Sequence[tuple[str, str, str]]) -> None:
        for (thread_id, namespace), ids in _grouped(checkpoints).items():
            params = {"thread_id": thread_id, "ns": namespace, "ids": ids}
            async with self._cursor() as cursor, cursor.connection.transaction():
                for statement in (
                    POSTGRES_DELETE_WRITES,
                    POSTGRES_DELETE_CHECKPOINTS,
                    POSTGRES_ORPHAN_CHILDREN,
                    POSTGRES_UNREFERENCED_BLOBS,
                ):
                    await cursor.execute(statement, params)

    async def _store_snapshot(
        self, saved: CheckpointTuple, transcript: _DeltaSnapshot, counters: dict[str, Any]
    ) -> None:
        configurable = saved.config["configurable"]
        thread_id = configurable["thread_id"]
        namespace = configurable.get("checkpoint_ns", "")
        version = saved.checkpoint["channel_versions"][TRANSCRIPT]
        blobs = await asyncio.to_thread(
            self._dump_blobs, thread_id, namespace, {TRANSCRIPT: transcript}, {TRANSCRIPT: version}
        )
        async with self._cursor() as cursor, cursor.connection.transaction():
            await cursor.executemany(self.UPSERT_CHECKPOINT_BLOBS_SQL, blobs)
            await cursor.execute(
                POSTGRES_STORE_SNAPSHOT,
                {
                    "thread_id": thread_id,
                    "ns": namespace,
                    "checkpoint_id": configurable["checkpoint_id"],
                    "counters": Jsonb(counters),
                },
            )

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete every checkpoint (and its writes and blobs) that these runs saved (a rollback)."""
        ids = runs_to_forget(run_ids)
        if not ids:
            return
        async with self._cursor() as cursor:
            await cursor.execute(POSTGRES_RUN_CHECKPOINTS, {"ids": ids})
            rows = await cursor.fetchall()
        await self._forget(
            [(row["thread_id"], row["checkpoint_ns"], row["checkpoint_id"]) for row in rows]
        )

    async def athreads(self) -> list[tuple[str, dict[str, Any]]]:
        """Return every stored thread id with its latest checkpoint's metadata."""
        async with self._cursor() as cursor:
            await cursor.execute(POSTGRES_THREADS)
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


@asynccontextmanager
async def _postgres(variable: str, uri: str) -> AsyncIterator[PostgresSaver]:
    async with postgres_pool(variable, uri) as pool:
        saver = PostgresSaver(pool, serde=RecentBlobsSerializer())
        await saver.setup()
        yield saver


@asynccontextmanager
async def _sqlite(path: Path) -> AsyncIterator[SqliteSaver]:
    async with sqlite_connection(path) as connection:
        saver = SqliteSaver(connection, serde=RecentBlobsSerializer())
        await saver.setup()
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
        _open_savers.append(saver)
        try:
            yield saver
        finally:
            _open_savers.remove(saver)


_open_savers: list[SqliteSaver | PostgresSaver] = []


def open_saver() -> SqliteSaver | PostgresSaver | None:
    """Return the saver the server opened first and still holds, if any (for its own checks)."""
    return _open_savers[0] if _open_savers else None


async def has_checkpoint(thread_id: str, checkpoint_id: str) -> bool | None:
    """Tell whether the thread still has that checkpoint (None: no saver is open here)."""
    saver = open_saver()
    if saver is None:
        return None
    config: RunnableConfig = {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": "",
            "checkpoint_id": checkpoint_id,
        }
    }
    return await saver.aget_tuple(config) is not None


async def kept_turns(thread_id: str) -> tuple[int, str | None]:
    """Return how many turns of the thread keep their checkpoints, and the oldest turn's id."""
    saver = open_saver()
    if saver is None:
        return 0, None
    inputs = sorted(
        row.checkpoint_id for row in await saver.alineage(thread_id) if row.source == "input"
    )
    return len(inputs), inputs[0] if inputs else None


async def describe(saver: SqliteSaver | PostgresSaver) -> str:
    """Say where ``saver`` keeps the conversations (never with a password)."""
    if isinstance(saver, PostgresSaver):
        variable, uri = database_uri() or ("", "")
        return f"PostgreSQL {redact(uri)}, schema {postgres_schema()} (from {variable})"
    return f"SQLite {await asyncio.to_thread(sqlite_path().resolve)}"
