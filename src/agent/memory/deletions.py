"""What a user deleted, kept as markers that name nothing: deleted threads and forgotten facts.

A thread's housekeeping may be queued or mid-call, in this process or another
replica, when its thread is deleted or one of its facts forgotten; nothing
can cancel it there. So a deletion first leaves a marker in the store, and
every write a chore makes checks the markers before and after it writes
(:mod:`agent.memory.thread_store`):

- ``(user_id, "deleted")``, key: a digest of the thread id: the thread was
  deleted (:func:`mark_thread_deleted`). Nothing is written for it again.
- ``(user_id, "forgotten")``, key: a digest of a fact's topic and value: the
  user forgot it (:func:`mark_forgotten`); a statement of it said before
  then is not saved again. :data:`EVERYTHING` marks "forget everything". A
  second marker, a digest of the value alone (:func:`value_marker`), keeps
  earlier conversations that say it out of later prompts (``memory.earlier``).

A marker holds a digest and a time: no text, no thread id in clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from langgraph.store.base import BaseStore, GetOp, Item

from agent.conversation.likeness import fold
from agent.memory.facts import Fact, instant

DELETED = "deleted"
"""Second part of the namespace of a user's deleted threads' markers."""

FORGOTTEN = "forgotten"
"""Second part of the namespace of a user's forgotten facts' markers."""

EVERYTHING = "everything"
"""Key of the marker "forget everything" leaves: every statement said before it is forgotten."""

VALUE = "\0value"
"""Marks a forgotten value's digest (no topic starts with a NUL character)."""

AT = "at"
"""Field of a marker: when the deletion began (:func:`~agent.memory.facts.instant`)."""

PAGE = 1000
"""Markers read a page at a time."""

DIGEST_CHARS = 32
"""Hex digits of a marker's key."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:DIGEST_CHARS]


def deleted_namespace(user_id: str) -> tuple[str, str]:
    """Return where ``user_id``'s deleted threads' markers live."""
    return (user_id, DELETED)


def forgotten_namespace(user_id: str) -> tuple[str, str]:
    """Return where ``user_id``'s forgotten facts' markers live."""
    return (user_id, FORGOTTEN)


def thread_marker(thread_id: str) -> str:
    """Return the key of ``thread_id``'s deletion marker (a digest: it names no thread in clear)."""
    return _digest(DELETED, thread_id)


def fact_marker(topic: str, text: str) -> str:
    """Return the key of the forgotten-fact marker of ``topic`` and value ``text``."""
    return _digest(FORGOTTEN, topic, fold(text))


def value_marker(text: str) -> str:
    """Return the key of the marker of a forgotten value, whatever its topic (folded text)."""
    return _digest(FORGOTTEN, VALUE, fold(text))


async def mark_thread_deleted(store: BaseStore, user_id: str, thread_id: str) -> None:
    """Record that ``thread_id`` is being deleted: its chores write nothing from now on."""
    marker = {AT: instant()}
    await store.aput(deleted_namespace(user_id), thread_marker(thread_id), marker, index=False)


async def mark_forgotten(store: BaseStore, user_id: str, facts: Sequence[Fact]) -> None:
    """Record that the user forgot ``facts``: a statement of one said before now is not saved."""
    marker = {AT: instant()}
    for fact in facts:
        for key in (fact_marker(fact.topic, fact.text), value_marker(fact.text)):
            await store.aput(forgotten_namespace(user_id), key, marker, index=False)


async def forgotten(store: BaseStore, user_id: str) -> tuple[set[str], str]:
    """Return the keys of ``user_id``'s forgotten-fact markers, and when everything was ("")."""
    keys: set[str] = set()
    everything = ""
    while page := await store.asearch(forgotten_namespace(user_id), limit=PAGE, offset=len(keys)):
        for item in page:
            keys.add(item.key)
            if item.key == EVERYTHING:
                everything = str(item.value.get(AT) or "")
        if len(page) < PAGE:
            break
    return keys, everything


async def mark_everything_forgotten(store: BaseStore, user_id: str) -> None:
    """Record that the user forgot everything: no statement said before now is saved."""
    await store.aput(forgotten_namespace(user_id), EVERYTHING, {AT: instant()}, index=False)


def checks(user_id: str, thread_id: str, fact: Fact | None = None) -> list[GetOp]:
    """Return the reads that tell whether a write for the thread (of ``fact``) is void."""
    deleted = GetOp(deleted_namespace(user_id), thread_marker(thread_id))
    if fact is None:
        return [deleted]
    forgotten = forgotten_namespace(user_id)
    return [
        deleted,
        GetOp(forgotten, EVERYTHING),
        GetOp(forgotten, fact_marker(fact.topic, fact.text)),
    ]


def void(found: Sequence[Item | None], said_at: str = "") -> bool:
    """Tell whether :func:`checks`' results forbid the write of a statement said at ``said_at``.

    The thread's deletion forbids every write; a forgotten fact (or "forget
    everything") forbids statements said before it was forgotten.
    """
    deleted, *forgotten = found
    if deleted is not None:
        return True
    return any(item is not None and str(item.value.get(AT) or "") >= said_at for item in forgotten)


async def is_deleted(store: BaseStore, user_id: str, thread_id: str) -> bool:
    """Tell whether ``thread_id``'s deletion began."""
    return await store.aget(deleted_namespace(user_id), thread_marker(thread_id)) is not None
