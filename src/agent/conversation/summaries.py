"""Where a thread's running summaries are kept: the LangGraph store, one item per fold.

A fold runs off the reply's path, after the run that needed it has ended, so
its result cannot go into that run's state. Each fold is saved as an item
keyed by the id of the last message it covers (``through``), under
``(user_id, "summaries", thread_id)``. A turn uses the newest summary whose
``through`` message is still in its branch: a fork from an earlier turn, or
an edited message, never sees a summary of messages its branch does not
hold, and redoing a fold writes the same key again (nothing is folded twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from langchain_core.messages import AnyMessage
from langgraph.store.base import BaseStore, Item, SearchOp

SUMMARIES = "summaries"
"""Second part of a thread's summary namespace: ``(user_id, "summaries", thread_id)``."""

KEPT_PER_THREAD = 200
"""Summaries read per thread at most (one per fold: a fold takes dozens of turns)."""


@dataclass(frozen=True)
class Summary:
    """What the messages up to ``through`` said, as the summarizer merged them."""

    text: str = ""
    through: str | None = None
    """Id of the last message the summary covers; None before the first fold."""


def namespace(user_id: str, thread_id: str) -> tuple[str, str, str]:
    """Return the store namespace of ``thread_id``'s summaries."""
    return (user_id, SUMMARIES, thread_id)


def latest_op(user_id: str, thread_id: str) -> SearchOp:
    """Return the store operation that reads a thread's summaries (for a batch)."""
    return SearchOp(namespace(user_id, thread_id), limit=KEPT_PER_THREAD)


def newest_in(items: Iterable[Item], messages: Sequence[AnyMessage]) -> Summary:
    """Return the newest summary among ``items`` that covers part of this branch."""
    by_through = {item.key: str(item.value.get("text") or "") for item in items}
    for message in reversed(messages):
        if message.id and message.id in by_through:
            return Summary(by_through[message.id], message.id)
    return Summary()


async def latest(
    store: BaseStore, user_id: str, thread_id: str, messages: Sequence[AnyMessage]
) -> Summary:
    """Return the newest summary of this branch (an empty one when none covers it)."""
    items = await store.asearch(namespace(user_id, thread_id), limit=KEPT_PER_THREAD)
    return newest_in(items, messages)


async def save(store: BaseStore, user_id: str, thread_id: str, summary: Summary) -> None:
    """Keep ``summary`` for the branches that hold its ``through`` message."""
    if not summary.through:
        return
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    value = {"text": summary.text, "through": summary.through, "updated_at": stamp}
    await store.aput(namespace(user_id, thread_id), summary.through, value, index=False)


async def exists(store: BaseStore, user_id: str, thread_id: str, through: str) -> bool:
    """Tell whether a fold through ``through`` was saved already."""
    return await store.aget(namespace(user_id, thread_id), through) is not None


async def forget_thread(store: BaseStore, user_id: str, thread_id: str) -> int:
    """Delete every summary of ``thread_id`` (the thread is being deleted); return how many."""
    items = await store.asearch(namespace(user_id, thread_id), limit=KEPT_PER_THREAD)
    for item in items:
        await store.adelete(namespace(user_id, thread_id), item.key)
    return len(items)
