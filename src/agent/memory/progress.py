"""What learning has read of a thread: one item per user message, never its text.

``agent.memory.learning`` reads a user message once. What it read is kept
under ``(user_id, "memory_progress", thread_id)``, key = the message id: a
digest of the message's text (an edit that keeps the id changes it), the
keys of the facts it gave, its position in the thread and when its turn ran.
An item per message, so two chores never rewrite each other's progress (no
read-modify-write of a shared marker), and the items of a branch left stay:
opening it again does not learn again what the user forgot since.

Threads learnt before kept one marker each, ``(user_id, "memory_progress")``,
key = the thread id (``read``: message ids, ``facts``: their keys); it is
still read, never written, and deleted with the thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from langgraph.store.base import BaseStore, GetOp, Item, Op, PutOp, SearchOp

from agent.memory.facts import Fact, namespace

PROGRESS = "memory_progress"
"""Second part of the namespace of a user's learning progress (not facts)."""

DIGEST_CHARS = 32
"""Hex digits of a message's digest in its progress item."""

LEARNT_AT_MOST = 1000
"""Facts of one thread read at most with its progress (one search)."""

PAGE = 100
"""Progress items listed per store read when forgetting a thread."""


def legacy_namespace(user_id: str) -> tuple[str, str]:
    """Return where markers of whole threads lived before progress was kept per message."""
    return (user_id, PROGRESS)


@dataclass(frozen=True)
class Progress:
    """What learning read of one user message: its text's digest and the facts it gave."""

    digest: str
    """:func:`digest` of the message's text when read ("" when read before digests were kept)."""
    keys: tuple[str, ...] = ()
    position: int = -1
    said_at: str = ""

    def value(self) -> dict[str, Any]:
        """Return the store value (no text: a digest, keys, where and when)."""
        return {
            "digest": self.digest,
            "keys": list(self.keys),
            "position": self.position,
            "said_at": self.said_at,
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Progress:
        """Read a progress item's value (a damaged one reads as read, with nothing learnt)."""
        keys = value.get("keys")
        position = value.get("position")
        return cls(
            digest=str(value.get("digest") or ""),
            keys=tuple(str(k) for k in keys) if isinstance(keys, list) else (),
            position=position if isinstance(position, int) else -1,
            said_at=str(value.get("said_at") or ""),
        )


def digest(text: str) -> str:
    """Return the digest a message's text is known by (an edit that keeps its id changes it)."""
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def thread_namespace(user_id: str, thread_id: str) -> tuple[str, str, str]:
    """Return where the progress of ``thread_id``'s messages lives: one item per message read."""
    return (user_id, PROGRESS, thread_id)


def _legacy(item: Item | None) -> dict[str, Progress]:
    """Read a marker of one thread saved before progress was kept per message."""
    if item is None:
        return {}
    read = item.value.get("read")
    facts = item.value.get("facts")
    known = {str(m): Progress("") for m in read} if isinstance(read, list) else {}
    if isinstance(facts, dict):
        for message_id, keys in facts.items():
            listed = tuple(str(k) for k in keys) if isinstance(keys, list) else ()
            known[str(message_id)] = Progress("", listed)
    return known


def learnt_op(user_id: str, thread_id: str) -> SearchOp:
    """Return the store operation that reads the facts learnt in ``thread_id``."""
    return SearchOp(namespace(user_id), filter={"thread_id": thread_id}, limit=LEARNT_AT_MOST)


def learnt(items: Iterable[Item], user_id: str, thread_id: str) -> list[Fact]:
    """Return the facts learnt in ``thread_id`` among ``items`` (a :func:`learnt_op` result)."""
    return [
        fact
        for item in items
        if tuple(item.namespace) == namespace(user_id)
        and (fact := Fact.from_value(item.value, key=item.key)) is not None
        and fact.thread_id == thread_id
    ]


async def what_was_read(
    store: BaseStore, user_id: str, thread_id: str, message_ids: Sequence[str]
) -> tuple[dict[str, Progress], list[Fact]]:
    """Return what was read of ``message_ids`` in ``thread_id``, and the facts learnt there.

    One store round trip. A marker of the whole thread saved before progress
    was kept per message counts too, and so does a fact's message (threads
    learnt before any marker): the messages they name read as read.
    """
    ops: list[Op] = [
        GetOp(legacy_namespace(user_id), thread_id),
        *(GetOp(thread_namespace(user_id, thread_id), m) for m in message_ids),
        learnt_op(user_id, thread_id),
    ]
    legacy, *found, items = await store.abatch(ops)
    facts = learnt(cast(list[Item], items), user_id, thread_id)
    known = _legacy(cast(Item | None, legacy))
    for fact in facts:
        known.setdefault(fact.message_id, Progress(""))
    for message_id, item in zip(message_ids, found, strict=True):
        if isinstance(item, Item):
            known[message_id] = Progress.from_value(item.value)
    return known, facts


async def read(
    store: BaseStore, user_id: str, thread_id: str, message_ids: Sequence[str]
) -> dict[str, Progress]:
    """Return what was read of ``message_ids`` in ``thread_id`` (see :func:`what_was_read`)."""
    known, _learnt_here = await what_was_read(store, user_id, thread_id, message_ids)
    return {m: known[m] for m in message_ids if m in known}


async def write(
    store: BaseStore, user_id: str, thread_id: str, message_id: str, progress: Progress
) -> None:
    """Store what was read of message ``message_id`` of ``thread_id``."""
    where = thread_namespace(user_id, thread_id)
    await store.aput(where, message_id, progress.value(), index=False)


async def forget(store: BaseStore, user_id: str, thread_id: str) -> int:
    """Forget what was read in ``thread_id`` (it is being deleted): every item, every page."""
    await store.adelete(legacy_namespace(user_id), thread_id)
    where = thread_namespace(user_id, thread_id)
    deleted: set[str] = set()
    while page := await store.asearch(where, limit=PAGE):
        fresh = [item for item in page if item.key not in deleted]
        if not fresh:
            break  # the store kept what it was told to delete: do not loop for ever
        await store.abatch([PutOp(tuple(item.namespace), item.key, None) for item in fresh])
        deleted.update(item.key for item in fresh)
    return len(deleted)
