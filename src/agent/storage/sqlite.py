"""The SQLite saver: ``AsyncSqliteSaver`` with turn-window retention, rollback and pruning.

Its SQL reads and rewrites ``langgraph-checkpoint-sqlite``'s tables
(``checkpoints``, ``writes``); :data:`TABLE_COLUMNS` lists the columns it
uses and :meth:`SqliteSaver.missing_internals` says which a release lacks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.storage.kept_runs import runs_to_forget
from agent.storage.recent_turns import (
    SNAPSHOT_COUNTERS,
    TRANSCRIPT,
    RecentTurnsSaver,
    batches,
    grouped,
)
from agent.storage.retention import Lineage

TABLE_COLUMNS = {
    "checkpoints": (
        "thread_id",
        "checkpoint_ns",
        "checkpoint_id",
        "parent_checkpoint_id",
        "type",
        "checkpoint",
        "metadata",
    ),
    "writes": ("thread_id", "checkpoint_ns", "checkpoint_id"),
}
"""The columns of ``langgraph-checkpoint-sqlite``'s tables that this module's SQL uses."""

SAVER_ATTRIBUTES = ("conn", "lock", "serde", "setup", "adelete_thread")
"""``AsyncSqliteSaver`` members it uses."""

TABLE_INFO = "SELECT name FROM pragma_table_info(?)"
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

SQLITE_THREADS_SINCE = """
SELECT thread_id, metadata FROM checkpoints AS c
WHERE checkpoint_ns = '' AND checkpoint_id >= ? AND checkpoint_id = (
    SELECT MAX(checkpoint_id) FROM checkpoints
    WHERE thread_id = c.thread_id AND checkpoint_ns = '')
"""


class SqliteSaver(RecentTurnsSaver, AsyncSqliteSaver):
    """``AsyncSqliteSaver`` with turn-window retention, run deletion and pruning."""

    saver_attributes = SAVER_ATTRIBUTES
    table_columns = TABLE_COLUMNS

    async def read_columns(self) -> dict[str, set[str]]:
        """Return the columns SQLite's tables have now, by table."""
        await self.setup()
        found: dict[str, set[str]] = {}
        async with self.lock:
            for table in self.table_columns:
                async with self.conn.execute(TABLE_INFO, (table,)) as cursor:
                    found[table] = {str(row[0]) for row in await cursor.fetchall()}
        return found

    async def alineage(self, thread_id: str) -> list[Lineage]:
        """Return the lineage of the thread's root-namespace checkpoints."""
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
            for (thread_id, namespace), ids in grouped(checkpoints).items():
                for batch in batches(ids):
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
        self, saved: CheckpointTuple, transcript: Any, counters: dict[str, Any]
    ) -> None:
        checkpoint = {
            **saved.checkpoint,
            "channel_values": {**saved.checkpoint["channel_values"], TRANSCRIPT: transcript},
        }
        kind, blob = self.serde.dumps_typed(checkpoint)
        metadata = {k: v for k, v in saved.metadata.items() if k != SNAPSHOT_COUNTERS}
        if counters:
            metadata[SNAPSHOT_COUNTERS] = counters
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

    async def athreads(self, since: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Return stored thread ids with their latest checkpoint's metadata.

        Args:
            since: Only threads whose latest checkpoint id is at least this one
                (ids sort in creation order); None for every thread.
        """
        await self.setup()
        query, params = (SQLITE_THREADS, ()) if since is None else (SQLITE_THREADS_SINCE, (since,))
        async with self.lock, self.conn.execute(query, params) as cursor:
            rows = await cursor.fetchall()
        return [(str(row[0]), json.loads(row[1]) if row[1] else {}) for row in rows]
