"""Search over a user's conversations: a table of messages beside the checkpoints, and its queries.

One row per message of each thread's current branch (thread, owner, message
id, position, role, text, time), in the database the checkpointer uses, on the
connection the open saver holds. The chores write a thread's rows after each
reply, off its path (``agent.chores``); a deleted thread's rows go with it
(``agent.server.thread_deletion``), and a search only ever answers with
threads that still have checkpoints, whatever a race left behind.

Keyword search needs no model:

- SQLite: an FTS5 table with the ``trigram`` tokenizer over the rows' text
  (external content: the text is stored once). A term of three characters or
  more is a trigram phrase, a substring match in any script; a term of one or
  two characters (a Korean or Japanese word such as 서울 or 東京) is matched
  with ``instr`` over the rows the other terms, the owner and the order leave.
- PostgreSQL: ``ILIKE '%term%'`` per term (``LIKE`` for a term without
  case, such as Hangul or kana), which a ``pg_trgm`` GIN index serves for
  terms of three characters or more; shorter ones are looked for in the
  owner's rows, newest first, until enough are found.

Every term must be in the same message (AND); a term matches inside a word,
so a word with a particle attached (서울에서, 東京に) is found by its stem.
Newest messages first (the most recently indexed). Text and terms are NFC-normalized; case is ignored as
each database folds it (SQLite's short-term fallback folds ASCII only).
"""

from __future__ import annotations

import asyncio
import unicodedata
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_QUERY_CHARS = 200
"""The longest query taken, in characters: longer is a mistake, not a search."""

MAX_TERMS = 8
"""The most words a query may have."""

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
"""How many messages a search answers with by default, and at most."""

TRIGRAM = 3
"""Terms this long or longer use the trigram index; shorter ones the fallback."""

SNIPPET_CHARS = 160
"""About how many characters of a message a snippet shows around the first match."""

TITLE_CHARS = 60
"""Characters of a conversation's first message its default title keeps."""

NEWEST_ROWS = 2000
"""PostgreSQL: the owner's newest rows looked in first, which a common word fills the answer from."""

BATCH = 500
"""Message ids per SQL statement when a thread's rows are synced."""


class QueryError(ValueError):
    """A query that cannot be searched for; the message says what was wrong and what to send."""


@dataclass(frozen=True)
class Query:
    """A checked search: its terms (NFC, distinct) and how many messages to answer with."""

    terms: tuple[str, ...]
    limit: int = DEFAULT_LIMIT

    @property
    def long_terms(self) -> tuple[str, ...]:
        """Terms the trigram index can serve."""
        return tuple(term for term in self.terms if len(term) >= TRIGRAM)

    @property
    def short_terms(self) -> tuple[str, ...]:
        """Terms of one or two characters: matched by the fallback."""
        return tuple(term for term in self.terms if len(term) < TRIGRAM)


def parse_query(text: object, limit: object = None) -> Query:
    """Check a query and a limit as a client sent them; return the :class:`Query`.

    Raises:
        QueryError: empty, too long, too many words, control characters, or a
            limit that is not a whole number from 1 to :data:`MAX_LIMIT`.
    """
    if not isinstance(text, str) or not text.strip():
        raise QueryError("The query is empty: give q, the words to search your conversations for.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"The query is {len(text)} characters long; the most is {MAX_QUERY_CHARS}. "
            "Search for a few words from the message instead."
        )
    if any(unicodedata.category(ch) in ("Cc", "Cs") and not ch.isspace() for ch in text):
        raise QueryError("The query holds control characters; send plain words (UTF-8 text) only.")
    terms = tuple(dict.fromkeys(unicodedata.normalize("NFC", text).split()))
    if len(terms) > MAX_TERMS:
        raise QueryError(
            f"The query has {len(terms)} words; the most is {MAX_TERMS}. Leave out common words."
        )
    return Query(terms, _limit(limit))


def _limit(limit: object) -> int:
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    try:
        value = int(str(limit).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT or isinstance(limit, bool):
        raise QueryError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}.")
    return value


@dataclass(frozen=True)
class Entry:
    """One message of a thread's branch, as the index keeps it."""

    message_id: str
    role: str
    """``user`` or ``assistant``."""
    text: str


Period = tuple[datetime, datetime]
"""From a moment (included) to another (excluded), each with its time zone."""


@dataclass(frozen=True)
class Indexed:
    """A message as the index holds it: where it is in its thread, who said it, and when."""

    thread_id: str
    message_id: str
    position: int
    role: str
    text: str
    at: str


@dataclass(frozen=True)
class Hit:
    """A message that matches: where it is, a plain-text snippet around the match, and when."""

    thread_id: str
    message_id: str
    role: str
    snippet: str
    at: str
    """When the message was indexed (about when it was said), ISO 8601 UTC."""
    title: str = ""
    """The conversation's first words (its first user message); a client shows its own title."""

    def as_json(self) -> dict[str, str]:
        """Return the hit as the HTTP route answers with it."""
        return {
            "thread_id": self.thread_id,
            "title": self.title,
            "message_id": self.message_id,
            "role": self.role,
            "snippet": self.snippet,
            "at": self.at,
        }


def snippet(text: str, terms: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """Return about ``width`` characters of ``text`` around its first match, "…" where cut."""
    flat = " ".join(text.split())
    folded = flat.lower()
    places = [p for p in (folded.find(term.lower()) for term in terms) if p >= 0]
    if len(folded) != len(flat) or not places:
        places = [0]
    first = min(places)
    start = max(0, first - width // 3)
    end = min(len(flat), start + width)
    start = max(0, min(start, end - width))
    return f"{'…' if start else ''}{flat[start:end].strip()}{'…' if end < len(flat) else ''}"


def title_from(text: str, limit: int = TITLE_CHARS) -> str:
    """Return a conversation's default title from its first message: its start, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else f"{flat[:limit].rstrip()}…"


def now() -> str:
    """Return the current time as the index stores it (ISO 8601, UTC, microseconds)."""
    return datetime.now(UTC).isoformat()


def _changes(
    stored: Iterable[str], entries: Sequence[Entry]
) -> tuple[list[str], list[tuple[int, Entry]]]:
    """Return the stored ids the branch no longer holds, and the branch's new entries."""
    branch = {entry.message_id for entry in entries}
    known = set(stored)
    gone = sorted(known - branch)
    new = [(place, entry) for place, entry in enumerate(entries) if entry.message_id not in known]
    return gone, new


def _batches(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


class SearchIndex(ABC):
    """A thread's messages, kept searchable for their owner; one implementation per backend."""

    def __init__(self) -> None:
        """Create the index; :meth:`setup` creates its tables on first use."""
        self._ready = False
        self._setting_up = asyncio.Lock()

    async def setup(self) -> None:
        """Create the tables and indexes if they are missing (once per process)."""
        async with self._setting_up:
            if not self._ready:
                await self._create()
                self._ready = True

    @abstractmethod
    async def _create(self) -> None: ...

    @abstractmethod
    async def update(
        self, user_id: str, thread_id: str, entries: Sequence[Entry], at: str | None = None
    ) -> int:
        """Make the thread's rows its branch's ``entries``; return how many rows were added.

        Rows of messages the branch no longer holds (an edit or a regenerate
        left them on an abandoned branch) are deleted; new ones are dated
        ``at`` (default now). Nothing is written for a thread without
        checkpoints (deleted, or never saved).
        """

    @abstractmethod
    async def forget_thread(self, thread_id: str) -> None:
        """Delete every row of the thread."""

    @abstractmethod
    async def indexed_threads(self) -> set[str]:
        """Return the ids of the threads that have rows."""

    @abstractmethod
    async def _find(self, query: Query, user_id: str | None) -> list[dict[str, Any]]: ...

    async def elsewhere(
        self, user_id: str, thread_id: str, limit: int, between: Period | None = None
    ) -> list[Indexed]:
        """Return ``user_id``'s newest ``limit`` messages of threads other than ``thread_id``.

        With ``between``, only those written from its start (included) to its end (excluded).
        """
        await self.setup()
        return [
            Indexed(
                thread_id=str(row["thread_id"]),
                message_id=str(row["message_id"]),
                position=int(row["position"]),
                role=str(row["role"]),
                text=str(row["text"]),
                at=_iso(row["at"]),
            )
            for row in await self._elsewhere(user_id, thread_id, limit, between)
        ]

    @abstractmethod
    async def _elsewhere(
        self, user_id: str, thread_id: str, limit: int, between: Period | None
    ) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def _titles(self, thread_ids: Sequence[str]) -> dict[str, str]: ...

    @abstractmethod
    async def size(self) -> dict[str, int]:
        """Return bytes the index takes (``index``) and the text it holds (``text``)."""

    async def search(self, query: Query, user_id: str | None) -> list[Hit]:
        """Return the newest messages of ``user_id``'s threads holding every term (None: anyone's)."""
        await self.setup()
        rows = await self._find(query, user_id)
        titles = await self._titles(list(dict.fromkeys(str(row["thread_id"]) for row in rows)))
        return [
            Hit(
                thread_id=str(row["thread_id"]),
                message_id=str(row["message_id"]),
                role=str(row["role"]),
                snippet=snippet(str(row["text"]), query.terms),
                at=_iso(row["at"]),
                title=titles.get(str(row["thread_id"]), ""),
            )
            for row in rows
        ]


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def fts_phrase(term: str) -> str:
    """Return ``term`` as an FTS5 phrase (double quotes doubled): a substring under trigram."""
    return '"' + term.replace('"', '""') + '"'


# --- SQLite -------------------------------------------------------------------------------

SQLITE_CREATE = """
CREATE TABLE IF NOT EXISTS search_messages (
    rowid INTEGER PRIMARY KEY,
    thread_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (thread_id, message_id)
);
CREATE INDEX IF NOT EXISTS search_messages_owner ON search_messages (user_id);
CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(
    text, content='search_messages', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS search_messages_added AFTER INSERT ON search_messages BEGIN
    INSERT INTO search_text (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS search_messages_removed AFTER DELETE ON search_messages BEGIN
    INSERT INTO search_text (search_text, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
"""
SQLITE_THREAD_EXISTS = "SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1"
SQLITE_STORED_IDS = "SELECT message_id FROM search_messages WHERE thread_id = ?"
SQLITE_DELETE_MESSAGES = """
DELETE FROM search_messages WHERE thread_id = ? AND message_id IN ({ids})
"""
SQLITE_INSERT = """
INSERT OR IGNORE INTO search_messages (thread_id, user_id, message_id, position, role, text, at)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
SQLITE_FORGET_THREAD = "DELETE FROM search_messages WHERE thread_id = ?"
SQLITE_INDEXED_THREADS = "SELECT DISTINCT thread_id FROM search_messages"
SQLITE_MATCHING = """
SELECT m.thread_id, m.message_id, m.role, m.text, m.at
FROM search_text JOIN search_messages AS m ON m.rowid = search_text.rowid
WHERE search_text MATCH ? {owner} {short}
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY search_text.rowid DESC LIMIT ?
"""
SQLITE_SCANNING = """
SELECT m.thread_id, m.message_id, m.role, m.text, m.at
FROM search_messages AS m
WHERE 1 {owner} {short}
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY m.rowid DESC LIMIT ?
"""
SQLITE_ELSEWHERE = """
SELECT m.thread_id, m.message_id, m.position, m.role, m.text, m.at FROM search_messages AS m
WHERE m.user_id = ? AND m.thread_id != ?
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY m.rowid DESC LIMIT ?
"""
SQLITE_ELSEWHERE_BETWEEN = """
SELECT m.thread_id, m.message_id, m.position, m.role, m.text, m.at FROM search_messages AS m
WHERE m.user_id = ? AND m.thread_id != ? AND m.at >= ? AND m.at < ?
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY m.rowid DESC LIMIT ?
"""
SQLITE_OWNER = "AND m.user_id = ?"
SQLITE_SHORT_TERM = "AND instr(lower(m.text), lower(?)) > 0"
SQLITE_UNCASED_SHORT_TERM = "AND instr(m.text, ?) > 0"
SQLITE_FIRST_MESSAGE = """
SELECT text FROM search_messages WHERE thread_id = ? AND role = 'user'
ORDER BY position LIMIT 1
"""
SQLITE_SIZE = """
SELECT COALESCE(SUM(pgsize), 0) FROM dbstat
WHERE name IN ('search_messages', 'search_messages_owner', 'search_text_data',
               'search_text_idx', 'search_text_docsize', 'search_text_config')
   OR name LIKE 'sqlite_autoindex_search_messages%'
"""
SQLITE_TEXT_BYTES = "SELECT COALESCE(SUM(length(CAST(text AS BLOB))), 0) FROM search_messages"


class SqliteSearchIndex(SearchIndex):
    """The index on SQLite, through a connection and the lock its users share."""

    def __init__(self, conn: Any, lock: asyncio.Lock) -> None:
        """Use ``conn`` (an ``aiosqlite`` connection) under ``lock``."""
        super().__init__()
        self.conn = conn
        self.lock = lock

    async def _create(self) -> None:
        async with self.lock:
            await self.conn.executescript(SQLITE_CREATE)
            await self.conn.commit()

    async def update(
        self, user_id: str, thread_id: str, entries: Sequence[Entry], at: str | None = None
    ) -> int:
        """Sync the thread's rows to its branch (see :meth:`SearchIndex.update`)."""
        await self.setup()
        when = at or now()
        async with self.lock:
            # One write transaction from the start: a deletion committed meanwhile is seen.
            if self.conn.in_transaction:
                await self.conn.commit()
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                async with self.conn.execute(SQLITE_THREAD_EXISTS, (thread_id,)) as cursor:
                    exists = await cursor.fetchone() is not None
                if not exists:
                    await self.conn.execute(SQLITE_FORGET_THREAD, (thread_id,))
                    await self.conn.commit()
                    return 0
                async with self.conn.execute(SQLITE_STORED_IDS, (thread_id,)) as cursor:
                    stored = [str(row[0]) for row in await cursor.fetchall()]
                gone, new = _changes(stored, entries)
                for batch in _batches(gone):
                    marks = ",".join("?" * len(batch))
                    await self.conn.execute(
                        SQLITE_DELETE_MESSAGES.format(ids=marks), (thread_id, *batch)
                    )
                await self.conn.executemany(
                    SQLITE_INSERT,
                    [
                        (thread_id, user_id, e.message_id, place, e.role, e.text, when)
                        for place, e in new
                    ],
                )
                await self.conn.commit()
            except BaseException:
                await self.conn.rollback()
                raise
        return len(new)

    async def forget_thread(self, thread_id: str) -> None:
        """Delete every row of the thread."""
        await self.setup()
        async with self.lock:
            await self.conn.execute(SQLITE_FORGET_THREAD, (thread_id,))
            await self.conn.commit()

    async def indexed_threads(self) -> set[str]:
        """Return the ids of the threads that have rows."""
        await self.setup()
        async with self.lock, self.conn.execute(SQLITE_INDEXED_THREADS) as cursor:
            return {str(row[0]) for row in await cursor.fetchall()}

    async def _find(self, query: Query, user_id: str | None) -> list[dict[str, Any]]:
        owner = SQLITE_OWNER if user_id is not None else ""
        short = " ".join(
            SQLITE_SHORT_TERM if _cased(term) else SQLITE_UNCASED_SHORT_TERM
            for term in query.short_terms
        )
        params: list[Any] = []
        if query.long_terms:
            sql = SQLITE_MATCHING.format(owner=owner, short=short)
            params.append(" AND ".join(fts_phrase(term) for term in query.long_terms))
        else:
            sql = SQLITE_SCANNING.format(owner=owner, short=short)
        if user_id is not None:
            params.append(user_id)
        params += [*query.short_terms, query.limit]
        columns = ("thread_id", "message_id", "role", "text", "at")
        async with self.lock, self.conn.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [dict(zip(columns, row, strict=True)) for row in rows]

    async def _elsewhere(
        self, user_id: str, thread_id: str, limit: int, between: Period | None
    ) -> list[dict[str, Any]]:
        columns = ("thread_id", "message_id", "position", "role", "text", "at")
        params: tuple[str | int, ...] = (user_id, thread_id, limit)
        sql = SQLITE_ELSEWHERE
        if between is not None:
            start, end = (moment.astimezone(UTC).isoformat() for moment in between)
            sql, params = SQLITE_ELSEWHERE_BETWEEN, (user_id, thread_id, start, end, limit)
        async with self.lock, self.conn.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [dict(zip(columns, row, strict=True)) for row in rows]

    async def _titles(self, thread_ids: Sequence[str]) -> dict[str, str]:
        titles: dict[str, str] = {}
        async with self.lock:
            for thread_id in thread_ids:
                async with self.conn.execute(SQLITE_FIRST_MESSAGE, (thread_id,)) as cursor:
                    row = await cursor.fetchone()
                if row:
                    titles[thread_id] = title_from(str(row[0]))
        return titles

    async def size(self) -> dict[str, int]:
        """Return bytes the index's tables take (``dbstat``) and the bytes of text they hold."""
        await self.setup()
        async with self.lock:
            async with self.conn.execute(SQLITE_SIZE) as cursor:
                index = (await cursor.fetchone())[0]
            async with self.conn.execute(SQLITE_TEXT_BYTES) as cursor:
                text = (await cursor.fetchone())[0]
        return {"index": int(index), "text": int(text)}


# --- PostgreSQL ---------------------------------------------------------------------------

POSTGRES_TRIGRAMS = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
POSTGRES_TRIGRAM_SCHEMA = """
SELECT n.nspname AS schema FROM pg_extension AS e
JOIN pg_namespace AS n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'
"""
POSTGRES_CREATE = """
CREATE TABLE IF NOT EXISTS search_messages (
    id BIGSERIAL PRIMARY KEY,
    thread_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    UNIQUE (thread_id, message_id)
)
"""
POSTGRES_OWNER_INDEX = """
CREATE INDEX IF NOT EXISTS search_messages_owner ON search_messages (user_id, id DESC)
"""
POSTGRES_TEXT_INDEX = """
CREATE INDEX IF NOT EXISTS search_messages_text ON search_messages
USING gin (text "{schema}".gin_trgm_ops)
"""
POSTGRES_ANALYZE = "ANALYZE search_messages"
POSTGRES_THREAD_EXISTS = "SELECT 1 FROM checkpoints WHERE thread_id = %(thread_id)s LIMIT 1"
POSTGRES_LOCK_THREAD = "SELECT pg_advisory_xact_lock(hashtext(%(thread_id)s))"
POSTGRES_STORED_IDS = "SELECT message_id FROM search_messages WHERE thread_id = %(thread_id)s"
POSTGRES_DELETE_MESSAGES = """
DELETE FROM search_messages WHERE thread_id = %(thread_id)s AND message_id = ANY(%(ids)s)
"""
POSTGRES_INSERT = """
INSERT INTO search_messages (thread_id, user_id, message_id, position, role, text, at)
VALUES (%(thread_id)s, %(user_id)s, %(message_id)s, %(position)s, %(role)s, %(text)s, %(at)s)
ON CONFLICT (thread_id, message_id) DO NOTHING
"""
POSTGRES_FORGET_THREAD = "DELETE FROM search_messages WHERE thread_id = %(thread_id)s"
POSTGRES_INDEXED_THREADS = "SELECT DISTINCT thread_id FROM search_messages"
POSTGRES_NEWEST = """
SELECT m.thread_id, m.message_id, m.role, m.text, m.at FROM (
    SELECT m.id, m.thread_id, m.message_id, m.role, m.text, m.at FROM search_messages AS m
    WHERE TRUE {owner} ORDER BY m.id DESC LIMIT %(window)s) AS m
WHERE {terms}
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY m.id DESC LIMIT %(limit)s
"""
POSTGRES_INDEXED = """
WITH matched AS MATERIALIZED (
    SELECT m.id, m.thread_id, m.user_id, m.message_id, m.role, m.text, m.at
    FROM search_messages AS m WHERE {indexed})
SELECT m.thread_id, m.message_id, m.role, m.text, m.at FROM matched AS m
WHERE TRUE {owner} {others}
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY m.id DESC LIMIT %(limit)s
"""
POSTGRES_SCANNING = """
SELECT m.thread_id, m.message_id, m.role, m.text, m.at FROM search_messages AS m
WHERE {terms} {owner}
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY m.id DESC LIMIT %(limit)s
"""
POSTGRES_TERM = "m.text ILIKE %(term{n})s"
POSTGRES_UNCASED_TERM = "m.text LIKE %(term{n})s"
POSTGRES_UNCASED_SHORT_TERM = "strpos(m.text, %(term{n})s) > 0"
POSTGRES_CASED_SHORT_TERM = "lower(m.text) LIKE lower(%(term{n})s)"
"""What ILIKE does for UTF-8 text, with the pattern lowered once instead of once a row."""
POSTGRES_OWNER = "AND m.user_id = %(user_id)s"
POSTGRES_ELSEWHERE = """
SELECT m.thread_id, m.message_id, m.position, m.role, m.text, m.at FROM search_messages AS m
WHERE m.user_id = %(user_id)s AND m.thread_id != %(thread_id)s
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY m.id DESC LIMIT %(limit)s
"""
POSTGRES_ELSEWHERE_BETWEEN = """
SELECT m.thread_id, m.message_id, m.position, m.role, m.text, m.at FROM search_messages AS m
WHERE m.user_id = %(user_id)s AND m.thread_id != %(thread_id)s
  AND m.at >= %(start)s AND m.at < %(end)s
  AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.thread_id = m.thread_id)
ORDER BY m.id DESC LIMIT %(limit)s
"""
POSTGRES_FIRST_MESSAGES = """
SELECT DISTINCT ON (thread_id) thread_id, text FROM search_messages
WHERE thread_id = ANY(%(ids)s) AND role = 'user' ORDER BY thread_id, position
"""
POSTGRES_SIZE = """
SELECT pg_total_relation_size('search_messages') AS index,
       COALESCE((SELECT SUM(octet_length(text)) FROM search_messages), 0) AS text
"""


def _cased(term: str) -> bool:
    """Tell whether case matters to ``term`` (Latin, Greek, Cyrillic...; not Hangul or kana).

    A term without case is matched as it is: cheaper than folding the case of
    every row a one- or two-character word must be looked for in.
    """
    return term.lower() != term.upper()


def _postgres_term(term: str) -> str:
    """Return the condition a term is matched by: the cheapest that finds it in any case.

    ``ILIKE`` where case matters; ``LIKE`` where it does not (the trigram index
    serves both from three characters). A short term, which no index serves
    and which may be looked for in every row: ``strpos`` without case, the
    text lowered and ``LIKE`` with it.
    """
    if len(term) >= TRIGRAM:
        return POSTGRES_TERM if _cased(term) else POSTGRES_UNCASED_TERM
    return POSTGRES_CASED_SHORT_TERM if _cased(term) else POSTGRES_UNCASED_SHORT_TERM


def _postgres_each(numbered: Sequence[tuple[int, str]]) -> list[str]:
    return [_postgres_term(term).format(n=n) for n, term in numbered]


def _postgres_conditions(numbered: Sequence[tuple[int, str]]) -> str:
    return " AND ".join(_postgres_each(numbered)) or "TRUE"


def like_pattern(term: str) -> str:
    """Return ``%term%`` with LIKE's own characters (``%``, ``_``, backslash) escaped."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PostgresSearchIndex(SearchIndex):
    """The index on PostgreSQL, through the connection pool the saver uses."""

    def __init__(self, pool: Any) -> None:
        """Use ``pool`` (a ``psycopg_pool.AsyncConnectionPool`` with ``dict_row`` rows)."""
        super().__init__()
        self.pool = pool

    async def _create(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(POSTGRES_TRIGRAMS)
            row = await (await conn.execute(POSTGRES_TRIGRAM_SCHEMA)).fetchone()
            await conn.execute(POSTGRES_CREATE)
            await conn.execute(POSTGRES_OWNER_INDEX)
            await conn.execute(POSTGRES_TEXT_INDEX.format(schema=row["schema"]))
            # Fresh statistics: without them the planner may sort every match of a
            # common word instead of walking the owner's newest rows (autovacuum keeps them).
            await conn.execute(POSTGRES_ANALYZE)

    async def update(
        self, user_id: str, thread_id: str, entries: Sequence[Entry], at: str | None = None
    ) -> int:
        """Sync the thread's rows to its branch (see :meth:`SearchIndex.update`)."""
        await self.setup()
        when = datetime.fromisoformat(at or now())
        key = {"thread_id": thread_id}
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(POSTGRES_LOCK_THREAD, key)  # one sync of a thread at a time
            if await (await conn.execute(POSTGRES_THREAD_EXISTS, key)).fetchone() is None:
                await conn.execute(POSTGRES_FORGET_THREAD, key)
                return 0
            stored = [
                str(row["message_id"])
                for row in await (await conn.execute(POSTGRES_STORED_IDS, key)).fetchall()
            ]
            gone, new = _changes(stored, entries)
            if gone:
                await conn.execute(POSTGRES_DELETE_MESSAGES, {**key, "ids": gone})
            if new:
                async with conn.cursor() as cursor:
                    await cursor.executemany(
                        POSTGRES_INSERT,
                        [
                            {
                                **key,
                                "user_id": user_id,
                                "message_id": e.message_id,
                                "position": place,
                                "role": e.role,
                                "text": e.text,
                                "at": when,
                            }
                            for place, e in new
                        ],
                    )
        return len(new)

    async def forget_thread(self, thread_id: str) -> None:
        """Delete every row of the thread."""
        await self.setup()
        async with self.pool.connection() as conn:
            await conn.execute(POSTGRES_FORGET_THREAD, {"thread_id": thread_id})

    async def indexed_threads(self) -> set[str]:
        """Return the ids of the threads that have rows."""
        await self.setup()
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(POSTGRES_INDEXED_THREADS)).fetchall()
        return {str(row["thread_id"]) for row in rows}

    async def _find(self, query: Query, user_id: str | None) -> list[dict[str, Any]]:
        """Look in the owner's newest rows first; then through the trigram index, or every row.

        A common word fills the answer from the newest rows at once. A rarer
        one is looked up in the trigram index (the matches gathered first, so
        the planner cannot prefer walking every row in order); a query of
        short words alone, which no index serves, walks the owner's rows,
        newest first, until it has enough.
        """
        numbered = list(enumerate(query.terms))
        owner = POSTGRES_OWNER if user_id is not None else ""
        params: dict[str, Any] = {"user_id": user_id, "limit": query.limit, "window": NEWEST_ROWS}
        params |= {
            f"term{n}": term
            if _postgres_term(term) == POSTGRES_UNCASED_SHORT_TERM
            else like_pattern(term)
            for n, term in numbered
        }
        indexed = [(n, term) for n, term in numbered if len(term) >= TRIGRAM]
        others = [(n, term) for n, term in numbered if len(term) < TRIGRAM]
        async with self.pool.connection() as conn:
            newest = POSTGRES_NEWEST.format(owner=owner, terms=_postgres_conditions(numbered))
            rows = await (await conn.execute(newest, params)).fetchall()
            if len(rows) < query.limit:
                if indexed:
                    sql = POSTGRES_INDEXED.format(
                        indexed=_postgres_conditions(indexed),
                        owner=owner,
                        others="".join(f" AND {c}" for c in _postgres_each(others)),
                    )
                else:
                    sql = POSTGRES_SCANNING.format(
                        terms=_postgres_conditions(numbered), owner=owner
                    )
                rows = await (await conn.execute(sql, params)).fetchall()
        return [dict(row) for row in rows]

    async def _elsewhere(
        self, user_id: str, thread_id: str, limit: int, between: Period | None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"user_id": user_id, "thread_id": thread_id, "limit": limit}
        sql = POSTGRES_ELSEWHERE
        if between is not None:
            sql = POSTGRES_ELSEWHERE_BETWEEN
            params |= {"start": between[0], "end": between[1]}
        async with self.pool.connection() as conn:
            return [dict(row) for row in await (await conn.execute(sql, params)).fetchall()]

    async def _titles(self, thread_ids: Sequence[str]) -> dict[str, str]:
        if not thread_ids:
            return {}
        async with self.pool.connection() as conn:
            cursor = await conn.execute(POSTGRES_FIRST_MESSAGES, {"ids": list(thread_ids)})
            rows = await cursor.fetchall()
        return {str(row["thread_id"]): title_from(str(row["text"])) for row in rows}

    async def size(self) -> dict[str, int]:
        """Return bytes the table and its indexes take, and the bytes of text they hold."""
        await self.setup()
        async with self.pool.connection() as conn:
            row = await (await conn.execute(POSTGRES_SIZE)).fetchone()
        return {"index": int(row["index"]), "text": int(row["text"])}


_indexes: weakref.WeakKeyDictionary[Any, SearchIndex] = weakref.WeakKeyDictionary()
"""One index per open saver, so each sets its tables up once."""


def index_for(saver: Any) -> SearchIndex | None:
    """Return the search index in ``saver``'s database, on its connection (None: not our saver)."""
    from agent.storage.postgres import PostgresSaver
    from agent.storage.sqlite import SqliteSaver

    if not isinstance(saver, SqliteSaver | PostgresSaver):
        return None
    found = _indexes.get(saver)
    if found is None:
        found = (
            PostgresSearchIndex(saver.conn)
            if isinstance(saver, PostgresSaver)
            else SqliteSearchIndex(saver.conn, saver.lock)
        )
        _indexes[saver] = found
    return found


def open_index() -> SearchIndex | None:
    """Return the index in the database of the saver the server holds open, if any."""
    from agent.storage.lookups import open_saver

    saver = open_saver()
    return None if saver is None else index_for(saver)
