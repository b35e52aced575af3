"""The PostgreSQL saver: ``AsyncPostgresSaver`` with turn-window retention and rollback.

Its SQL reads and rewrites ``langgraph-checkpoint-postgres``'s tables
(``checkpoints``, ``checkpoint_writes``, ``checkpoint_blobs``) and uses the
saver's own blob upsert; :data:`TABLE_COLUMNS` and :data:`SAVER_ATTRIBUTES`
list what it relies on and :meth:`PostgresSaver.missing_internals` says
which a release lacks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg.types.json import Jsonb

from agent.storage.kept_runs import runs_to_forget
from agent.storage.recent_turns import TRANSCRIPT, RecentTurnsSaver, grouped
from agent.storage.retention import Lineage

TABLE_COLUMNS = {
    "checkpoints": (
        "thread_id",
        "checkpoint_ns",
        "checkpoint_id",
        "parent_checkpoint_id",
        "checkpoint",
        "metadata",
    ),
    "checkpoint_writes": ("thread_id", "checkpoint_ns", "checkpoint_id"),
    "checkpoint_blobs": ("thread_id", "checkpoint_ns", "channel", "version"),
}
"""The columns of ``langgraph-checkpoint-postgres``'s tables that this module's SQL uses."""

SAVER_ATTRIBUTES = ("_cursor", "_dump_blobs", "UPSERT_CHECKPOINT_BLOBS_SQL")
"""``AsyncPostgresSaver``'s private members it uses (to store a transcript's full copy)."""

TABLE_COLUMNS_SQL = """
SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ANY(%(tables)s)
"""
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
POSTGRES_THREADS_SINCE = """
SELECT thread_id, metadata FROM (
    SELECT DISTINCT ON (thread_id) thread_id, checkpoint_id, metadata FROM checkpoints
    WHERE checkpoint_ns = '' ORDER BY thread_id, checkpoint_id DESC) AS latest
WHERE checkpoint_id >= %(since)s
"""


class PostgresSaver(RecentTurnsSaver, AsyncPostgresSaver):
    """``AsyncPostgresSaver`` with turn-window retention and run deletion."""

    saver_attributes = SAVER_ATTRIBUTES
    table_columns = TABLE_COLUMNS

    async def read_columns(self) -> dict[str, set[str]]:
        """Return the columns PostgreSQL's tables have now, by table."""
        async with self._cursor() as cursor:
            await cursor.execute(TABLE_COLUMNS_SQL, {"tables": list(self.table_columns)})
            rows = await cursor.fetchall()
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(str(row["table_name"]), set()).add(str(row["column_name"]))
        return found

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
        for (thread_id, namespace), ids in grouped(checkpoints).items():
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
        self, saved: CheckpointTuple, transcript: Any, counters: dict[str, Any]
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

    async def athreads(self, since: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Return stored thread ids with their latest checkpoint's metadata.

        Args:
            since: Only threads whose latest checkpoint id is at least this one
                (ids sort in creation order); None for every thread.
        """
        async with self._cursor() as cursor:
            if since is None:
                await cursor.execute(POSTGRES_THREADS)
            else:
                await cursor.execute(POSTGRES_THREADS_SINCE, {"since": since})
            rows = await cursor.fetchall()
        return [(str(row["thread_id"]), dict(row["metadata"] or {})) for row in rows]
