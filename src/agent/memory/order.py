"""Facts follow the order the user said them, not the order chores finish.

A single-valued fact (``location``) lives under one store key, so two chores
saving it race: read the stored one, then write. Were the older statement's
chore the last to write, it would win. :func:`put_unless_said_later` writes a
fact unless the one stored was said later (:func:`said_later`: in the same
thread by the messages' positions, across threads by the time of the turn
that first read them), and does it in **one statement** of the database the
store keeps its items in: PostgreSQL's and SQLite's ``INSERT ... ON CONFLICT
DO UPDATE ... WHERE``, which checks the stored row and writes under its lock.
The ``BaseStore`` interface has no conditional write, and a read, then a
write, from two processes or replicas can always interleave; the row lock is
what PostgreSQL (several workers) and SQLite (``langgraph dev``) offer for it.

Any other store (``InMemoryStore``, tests) gets the same check in Python: a
read, then a write, with no other step of the event loop in between, and a
read after it that writes again when an older statement landed last.

The SQL writes the store's own table through its private cursor: what that
relies on is named in :data:`STORE_COLUMNS` and :func:`missing_internals`
(``tests/unit_tests/test_dependency_fences.py`` fails when a release moves
it), and a store that lacks it is written the generic way, with a warning.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import Any

import orjson
from langgraph.store.base import BaseStore
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore
from psycopg.types.json import Jsonb

from agent.memory.facts import POSITION, SAID_AT
from agent.storage.fences import missing_attributes, missing_columns, versions

logger = logging.getLogger(__name__)

STORE_PACKAGES = ("langgraph", "langgraph-checkpoint-sqlite", "langgraph-checkpoint-postgres")
"""The packages whose store tables the ordered write relies on."""

STORE_COLUMNS = {"store": ("prefix", "key", "value", "created_at", "updated_at")}
"""The store's table and the columns the ordered write names."""

CURSOR = "_cursor"
"""The stores' private method that lends a cursor on their own connection."""

_COLUMNS_SQLITE = "SELECT name FROM pragma_table_info('store')"
_COLUMNS_POSTGRES = (
    "SELECT column_name FROM information_schema.columns "
    "WHERE table_name = 'store' AND table_schema = current_schema()"
)

_fenced: weakref.WeakKeyDictionary[BaseStore, bool] = weakref.WeakKeyDictionary()
"""Stores checked already, and whether the ordered write's SQL fits them."""

REPAIRS = 3
"""Times the generic path writes a fact again when an older one landed after it."""

_POSTGRES = """
INSERT INTO store (prefix, key, value, created_at, updated_at)
VALUES (%(prefix)s, %(key)s, %(value)s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)
ON CONFLICT (prefix, key) DO UPDATE
SET value = EXCLUDED.value, updated_at = CURRENT_TIMESTAMP
WHERE NOT (
    CASE
        WHEN COALESCE(store.value->>'thread_id', '') <> ''
            AND store.value->>'thread_id' = EXCLUDED.value->>'thread_id'
            AND jsonb_typeof(store.value->'position') = 'number'
            AND jsonb_typeof(EXCLUDED.value->'position') = 'number'
        THEN (store.value->>'position')::numeric > (EXCLUDED.value->>'position')::numeric
        ELSE COALESCE(store.value->>'said_at', store.value->>'updated_at', '')
            > COALESCE(EXCLUDED.value->>'said_at', EXCLUDED.value->>'updated_at', '')
    END
)
"""

_SQLITE = """
INSERT INTO store (prefix, key, value, created_at, updated_at)
VALUES (:prefix, :key, :value, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)
ON CONFLICT (prefix, key) DO UPDATE
SET value = excluded.value, updated_at = CURRENT_TIMESTAMP
WHERE NOT (
    CASE
        WHEN COALESCE(json_extract(CAST(store.value AS TEXT), '$.thread_id'), '') <> ''
            AND json_extract(CAST(store.value AS TEXT), '$.thread_id')
                = json_extract(CAST(excluded.value AS TEXT), '$.thread_id')
            AND json_type(CAST(store.value AS TEXT), '$.position') = 'integer'
            AND json_type(CAST(excluded.value AS TEXT), '$.position') = 'integer'
        THEN json_extract(CAST(store.value AS TEXT), '$.position')
            > json_extract(CAST(excluded.value AS TEXT), '$.position')
        ELSE COALESCE(
                json_extract(CAST(store.value AS TEXT), '$.said_at'),
                json_extract(CAST(store.value AS TEXT), '$.updated_at'),
                '')
            > COALESCE(
                json_extract(CAST(excluded.value AS TEXT), '$.said_at'),
                json_extract(CAST(excluded.value AS TEXT), '$.updated_at'),
                '')
    END
)
"""


def _when(value: Mapping[str, Any]) -> str:
    return str(value.get(SAID_AT) or value.get("updated_at") or "")


def said_later(stored: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Tell whether the fact ``stored`` was said after ``new`` (two store values).

    In one thread by the positions of their messages (a later message of a
    branch was said later); else by when the turns that read them ran. An
    item without either (saved before facts were ordered, or corrected by the
    user) counts by when it was saved.
    """
    thread = stored.get("thread_id")
    mine, theirs = stored.get(POSITION), new.get(POSITION)
    if thread and thread == new.get("thread_id") and isinstance(mine, int):
        if isinstance(theirs, int):
            return mine > theirs
    return _when(stored) > _when(new)


def _prefix(namespace: tuple[str, ...]) -> str:
    """Return the store's own text for a namespace (both SQL stores join it with dots)."""
    return ".".join(namespace)


async def _postgres(
    store: AsyncPostgresStore, namespace: tuple[str, ...], key: str, value: dict[str, Any]
) -> bool:
    params = {"prefix": _prefix(namespace), "key": key, "value": Jsonb(value)}
    async with store._cursor() as cursor:
        await cursor.execute(_POSTGRES, params)
        return cursor.rowcount > 0


async def _sqlite(
    store: AsyncSqliteStore, namespace: tuple[str, ...], key: str, value: dict[str, Any]
) -> bool:
    params = {"prefix": _prefix(namespace), "key": key, "value": orjson.dumps(value)}
    async with store._cursor() as cursor:
        await cursor.execute(_SQLITE, params)
        return cursor.rowcount > 0


async def _generic(
    store: BaseStore, namespace: tuple[str, ...], key: str, value: dict[str, Any]
) -> bool:
    written = False
    for _ in range(REPAIRS):
        stored = await store.aget(namespace, key)
        if stored is not None and (stored.value == value or said_later(stored.value, value)):
            return written
        await store.aput(namespace, key, value, index=False)
        written = True
    return written


async def missing_internals(store: AsyncPostgresStore | AsyncSqliteStore) -> list[str]:
    """Return what the ordered write relies on that ``store`` lacks (empty: all there)."""
    missing = missing_attributes(type(store), [CURSOR])
    if missing:
        return missing
    query = _COLUMNS_POSTGRES if isinstance(store, AsyncPostgresStore) else _COLUMNS_SQLITE
    async with store._cursor() as cursor:
        await cursor.execute(query)
        rows = await cursor.fetchall()
    found = {str(row["column_name"] if isinstance(row, dict) else row[0]) for row in rows}
    return missing_columns({"store": found}, STORE_COLUMNS)


async def _fits(store: AsyncPostgresStore | AsyncSqliteStore) -> bool:
    """Tell whether the ordered write's SQL fits ``store`` (checked once per store)."""
    if store not in _fenced:
        missing = await missing_internals(store)
        if missing:
            logger.warning(
                "The memory store lacks %s (%s): facts are ordered by a read, then a "
                "write, which two workers saving one fact at once can still interleave",
                ", ".join(missing),
                versions(STORE_PACKAGES),
            )
        _fenced[store] = not missing
    return _fenced[store]


async def put_unless_said_later(
    store: BaseStore, namespace: tuple[str, ...], key: str, value: dict[str, Any]
) -> bool:
    """Store ``value`` under ``key`` unless the item there was said later; tell whether written."""
    if isinstance(store, AsyncPostgresStore) and await _fits(store):
        return await _postgres(store, namespace, key, value)
    if isinstance(store, AsyncSqliteStore) and await _fits(store):
        return await _sqlite(store, namespace, key, value)
    return await _generic(store, namespace, key, value)
