"""Read and write a user's facts in a LangGraph store (any ``BaseStore``).

A user's facts live under ``(user_id, "memories")``, one item per kind of
fact (its key), so the LangGraph server's ``/store`` routes, the CLI and the
chat page all see and edit the same items the graph uses.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from langgraph.store.base import BaseStore

from agent.memory.facts import KINDS, Fact, namespace

LIMIT = 100
"""Items read from a user's namespace at most (there is one per kind of fact)."""


async def recall(store: BaseStore, user_id: str) -> list[Fact]:
    """Return every fact remembered about ``user_id``, in :data:`KINDS` order."""
    items = await store.asearch(namespace(user_id), limit=LIMIT)
    facts = [
        fact
        for item in items
        if tuple(item.namespace) == namespace(user_id)
        and (fact := Fact.from_value(item.value)) is not None
    ]
    return sorted(facts, key=lambda fact: list(KINDS).index(fact.kind))


async def save(store: BaseStore, user_id: str, facts: Sequence[Fact]) -> None:
    """Store ``facts``; each replaces the fact of its kind remembered before."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for fact in facts:
        await store.aput(
            namespace(user_id), fact.kind, {**fact.value(), "updated_at": stamp}, index=False
        )


async def forget_edited_away(
    store: BaseStore, user_id: str, thread_id: str, message_ids: Collection[str]
) -> list[str]:
    """Forget facts learnt in ``thread_id`` from messages its current branch no longer holds.

    An edited message (a fork from before it) or a branch left behind takes
    its facts with it. Returns the kinds forgotten.
    """
    gone = [
        fact.kind
        for fact in await recall(store, user_id)
        if fact.thread_id == thread_id and fact.message_id not in message_ids
    ]
    for kind in gone:
        await store.adelete(namespace(user_id), kind)
    return gone


async def forget(store: BaseStore, user_id: str, kind: str | None = None) -> list[str]:
    """Forget one kind of fact, or every fact when ``kind`` is None; return the kinds forgotten."""
    kinds = [fact.kind for fact in await recall(store, user_id)]
    doomed = kinds if kind is None else [k for k in kinds if k == kind]
    for doomed_kind in doomed:
        await store.adelete(namespace(user_id), doomed_kind)
    return doomed


async def forget_thread(store: BaseStore, user_id: str, thread_id: str) -> list[str]:
    """Forget every fact learnt in ``thread_id`` (its messages are being deleted)."""
    gone = [fact.kind for fact in await recall(store, user_id) if fact.thread_id == thread_id]
    for kind in gone:
        await store.adelete(namespace(user_id), kind)
    return gone
