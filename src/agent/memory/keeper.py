"""Read and write a user's facts in a LangGraph store (any ``BaseStore``).

A user's facts live under ``(user_id, "memories")``, one item per fact, so the
LangGraph server's ``/store`` routes, the CLI and the chat page all see and
edit the same items the graph uses. A single-valued topic's fact is keyed by
its topic (a newer one overwrites it); any other fact by its topic and a hash
of its value (a second like is a second item; saying it again changes
nothing). Items saved before topics existed (keyed by their kind) read as
facts of that topic.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

from langgraph.store.base import BaseStore, Item, SearchOp

from agent.conversation.likeness import fold
from agent.memory.facts import Fact, corrected, in_list_order, namespace, now
from agent.memory.topics import topic_of

RECALL_LIMIT = 1000
"""Facts read from a user's namespace at most (one search)."""

PROGRESS = "memory_progress"
"""Second part of the namespace of a user's per-thread learning progress (not facts)."""


def progress_namespace(user_id: str) -> tuple[str, str]:
    """Return where ``user_id``'s per-thread progress markers live, apart from their facts."""
    return (user_id, PROGRESS)


def recall_op(user_id: str) -> SearchOp:
    """Return the store operation that reads every fact of ``user_id`` (for a batch)."""
    return SearchOp(namespace(user_id), limit=RECALL_LIMIT)


def facts_in(items: Iterable[Item], user_id: str) -> list[Fact]:
    """Return the facts among ``items`` (a :func:`recall_op` result), as :func:`recall` does."""
    facts = [
        fact
        for item in items
        if tuple(item.namespace) == namespace(user_id)
        and (fact := Fact.from_value(item.value, key=item.key)) is not None
    ]
    return in_list_order(facts)


async def recall(store: BaseStore, user_id: str) -> list[Fact]:
    """Return every fact remembered about ``user_id``: the topics' order, newest first within one."""
    items = await store.asearch(namespace(user_id), limit=RECALL_LIMIT)
    return facts_in(items, user_id)


def superseded(fact: Fact, known: Sequence[Fact]) -> list[Fact]:
    """Return the facts in ``known`` that ``fact`` replaces, besides the item of its own key.

    The same value of the same topic under another key (an item saved before
    topics existed), and the same value of the opposite topic ("I don't like
    tea any more" retracts "likes: tea").
    """
    topic = topic_of(fact.topic)
    opposite = topic.opposite if topic is not None else ""
    value = fold(fact.text)
    return [
        old
        for old in known
        if old.store_key() != fact.store_key()
        and old.topic in (fact.topic, opposite)
        and fold(old.text) == value
    ]


async def save(
    store: BaseStore, user_id: str, facts: Sequence[Fact], known: Sequence[Fact] | None = None
) -> list[Fact]:
    """Store ``facts``, each superseding what it contradicts; return them as stored (with keys).

    A single-valued topic's fact overwrites the one before (same key); see
    :func:`superseded` for the rest. ``known`` is the user's memory before
    (read here when not given).
    """
    if not facts:
        return []
    before = list(await recall(store, user_id) if known is None else known)
    stored: list[Fact] = []
    for fact in facts:
        key = fact.store_key()
        kept = replace(fact, updated_at=fact.updated_at or now(), key=key)
        doomed = superseded(kept, before)
        for old in doomed:
            await store.adelete(namespace(user_id), old.store_key())
        await store.aput(namespace(user_id), key, kept.value(), index=False)
        stored.append(kept)
        before = [old for old in before if old.store_key() != key and old not in doomed]
        before.append(kept)
    return stored


async def correct(store: BaseStore, user_id: str, key: str, text: str) -> Fact | None:
    """Replace the value of the fact under ``key`` with ``text`` (see :func:`~.facts.corrected`).

    None when there is no such fact, or ``text`` is empty.
    """
    item = await store.aget(namespace(user_id), key)
    fact = Fact.from_value(item.value, key=key) if item is not None else None
    if fact is None or not text.strip():
        return None
    fixed = corrected(fact, text)
    await store.aput(namespace(user_id), key, fixed.value(), index=False)
    return fixed


async def _delete(store: BaseStore, user_id: str, facts: Sequence[Fact]) -> list[str]:
    keys = [fact.store_key() for fact in facts]
    for key in keys:
        await store.adelete(namespace(user_id), key)
    return keys


async def forget(store: BaseStore, user_id: str, key: str | None = None) -> list[str]:
    """Forget the fact under ``key``, or every fact when ``key`` is None; return the keys forgotten."""
    facts = await recall(store, user_id)
    return await _delete(store, user_id, [f for f in facts if key is None or f.store_key() == key])


async def learnt_in(store: BaseStore, user_id: str, thread_id: str) -> list[Fact]:
    """Return the facts learnt in ``thread_id`` (one filtered search)."""
    items = await store.asearch(
        namespace(user_id), filter={"thread_id": thread_id}, limit=RECALL_LIMIT
    )
    return [
        fact
        for item in items
        if tuple(item.namespace) == namespace(user_id)
        and (fact := Fact.from_value(item.value, key=item.key)) is not None
        and fact.thread_id == thread_id
    ]


async def forget_edited_away(
    store: BaseStore, user_id: str, thread_id: str, message_ids: Collection[str]
) -> list[str]:
    """Forget facts learnt in ``thread_id`` from messages its current branch no longer holds.

    An edited message (a fork from before it) or a branch left behind takes
    its facts with it. Returns the keys forgotten.
    """
    facts = await learnt_in(store, user_id, thread_id)
    return await _delete(store, user_id, [f for f in facts if f.message_id not in message_ids])


async def forget_thread(store: BaseStore, user_id: str, thread_id: str) -> list[str]:
    """Forget every fact learnt in ``thread_id`` (its messages are being deleted), and its progress."""
    await forget_progress(store, user_id, thread_id)
    return await _delete(store, user_id, await learnt_in(store, user_id, thread_id))


async def read_progress(store: BaseStore, user_id: str, thread_id: str) -> dict[str, Any] | None:
    """Return what was learnt in ``thread_id`` so far (``agent.memory.learning``), if anything."""
    item = await store.aget(progress_namespace(user_id), thread_id)
    return dict(item.value) if item is not None else None


async def write_progress(
    store: BaseStore, user_id: str, thread_id: str, progress: dict[str, Any]
) -> None:
    """Store what was learnt in ``thread_id`` so far."""
    await store.aput(progress_namespace(user_id), thread_id, progress, index=False)


async def forget_progress(store: BaseStore, user_id: str, thread_id: str) -> None:
    """Forget what was learnt in ``thread_id`` (the thread is being deleted)."""
    await store.adelete(progress_namespace(user_id), thread_id)
