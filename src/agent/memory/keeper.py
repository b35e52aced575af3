"""Read and write a user's facts in a LangGraph store (any ``BaseStore``).

A user's facts live under ``(user_id, "memories")``, one item per fact, so the
LangGraph server's ``/store`` routes, the CLI and the chat page all see and
edit the same items the graph uses. A single-valued topic's fact is keyed by
its topic (a newer statement replaces it, an older one never does:
:mod:`agent.memory.order`); any other fact by its topic and a hash of its
value (a second like is a second item; saying it again changes nothing).
Items saved before topics existed (keyed by their kind) read as facts of
that topic.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

from langgraph.store.base import BaseStore, Item, SearchOp

from agent.conversation.likeness import fold
from agent.memory import deletions, progress
from agent.memory.facts import Fact, corrected, in_list_order, namespace, now
from agent.memory.topics import topic_of

RECALL_LIMIT = 1000
"""Facts read from a user's namespace at most (one search)."""

PAGE = 100
"""Facts listed per store read when forgetting a thread."""


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
    """Store ``facts``, each superseding what it contradicts; return those that landed (with keys).

    A single-valued topic's fact overwrites the one before (same key); see
    :func:`superseded` for the rest. ``known`` is the user's memory before
    (read here when not given). Through a chore's
    :class:`~agent.memory.thread_store.ThreadStore`, a fact may not land (its
    thread was deleted, the user forgot it, a statement said later is
    stored): then it supersedes nothing.
    """
    if not facts:
        return []
    before = list(await recall(store, user_id) if known is None else known)
    stored: list[Fact] = []
    for fact in facts:
        key = fact.store_key()
        kept = replace(fact, updated_at=fact.updated_at or now(), key=key)
        await store.aput(namespace(user_id), key, kept.value(), index=False)
        landed = await store.aget(namespace(user_id), key)
        source = ("text", "thread_id", "message_id")
        if landed is None or any(landed.value.get(f) != kept.value().get(f) for f in source):
            continue
        doomed = superseded(kept, before)
        for old in doomed:
            await store.adelete(namespace(user_id), old.store_key())
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


async def _unquote(store: BaseStore, user_id: str, facts: Sequence[Fact]) -> None:
    """Drop the copy of their message that facts saved before this version keep (``said``)."""
    for fact in facts:
        item = await store.aget(namespace(user_id), fact.store_key())
        if item is not None and "said" in item.value:
            kept = {field: value for field, value in item.value.items() if field != "said"}
            await store.aput(namespace(user_id), fact.store_key(), kept, index=False)


async def forget(store: BaseStore, user_id: str, key: str | None = None) -> list[str]:
    """Forget the fact under ``key``, or every fact when ``key`` is None; return the keys forgotten.

    A marker is left first (:mod:`agent.memory.deletions`), so a chore still
    reading an older message does not save it again; the other facts lose
    the copy of their message old items keep, which may quote it. Forgetting
    the last fact left is forgetting everything (the chat page and the CLI
    forget every fact one by one): no statement said before it is saved.
    """
    facts = await recall(store, user_id)
    doomed = [f for f in facts if key is None or f.store_key() == key]
    if key is None or (doomed and len(doomed) == len(facts)):
        await deletions.mark_everything_forgotten(store, user_id)
    await deletions.mark_forgotten(store, user_id, doomed)
    forgotten = await _delete(store, user_id, doomed)
    await _unquote(store, user_id, [f for f in facts if f not in doomed and f.said])
    return forgotten


async def learnt_in(store: BaseStore, user_id: str, thread_id: str) -> list[Fact]:
    """Return the facts learnt in ``thread_id`` (a filtered search, page by page)."""
    items: list[Item] = []
    while page := await store.asearch(
        namespace(user_id), filter={"thread_id": thread_id}, limit=PAGE, offset=len(items)
    ):
        items += page
        if len(page) < PAGE:
            break
    return progress.learnt(items, user_id, thread_id)


def edited_away(
    facts: Iterable[Fact], message_ids: Collection[str], said_at: str, length: int
) -> list[Fact]:
    """Return the facts of ``facts`` whose message is not in ``message_ids`` (a branch).

    The branch holds another message where the fact's was (its position is
    within the branch's ``length``): that one was edited away or its branch
    left. A fact from further on was said on a branch left, or in a turn
    newer than this branch's (another worker's chore learnt it from a message
    this older branch has not reached yet): it is kept when said after
    ``said_at``, the time of the turn whose branch this is.
    """
    return [
        fact
        for fact in facts
        if fact.message_id not in message_ids
        and (0 <= fact.position < length or not (fact.said_at and fact.said_at > said_at))
    ]


async def forget_edited_away(
    store: BaseStore,
    user_id: str,
    thread_id: str,
    message_ids: Collection[str],
    said_at: str = "9999",
    length: int = 0,
) -> list[str]:
    """Forget facts learnt in ``thread_id`` from messages its current branch no longer holds.

    An edited message (a fork from before it) or a branch left behind takes
    its facts with it; a fact a later message superseded, or the user
    corrected, belongs to that message or to nobody, and stays, and so may
    one said after ``said_at`` (:func:`edited_away`: ``length`` is the
    branch's). The messages' progress stays (:mod:`agent.memory.progress`), so
    opening that branch again does not learn them again. Returns the keys
    forgotten.
    """
    facts = await learnt_in(store, user_id, thread_id)
    return await _delete(store, user_id, edited_away(facts, message_ids, said_at, length))


async def forget_thread(store: BaseStore, user_id: str, thread_id: str) -> list[str]:
    """Forget every fact learnt in ``thread_id`` (its messages are being deleted), and its progress.

    Every page of them; callers mark the thread deleted first
    (:func:`~agent.memory.deletions.mark_thread_deleted`), so a chore still
    running writes nothing after this sweep.
    """
    await progress.forget(store, user_id, thread_id)
    forgotten: list[str] = []
    while facts := [
        f for f in await learnt_in(store, user_id, thread_id) if f.key not in forgotten
    ]:
        forgotten += await _delete(store, user_id, facts)
    return forgotten
