"""Where a thread's running summaries are kept: the LangGraph store, a few items per thread.

A fold runs off the reply's path, after the run that needed it has ended, so
its result cannot go into that run's state. Each fold is saved as an item
keyed by the id of the last message it covers (``through``), under
``(user_id, "summaries", thread_id)``. A turn uses the newest summary whose
``through`` message is still in its branch: a fork from an earlier turn, or
an edited message, never sees a summary of messages its branch does not
hold, and redoing a fold writes the same key again (nothing is folded twice).

Each save keeps only the :data:`KEPT_PER_THREAD` newest summaries of the
thread (a newer one on a branch supersedes the older ones), so what a reply
reads stays the same size however long the thread grows. A branch whose
summaries were pruned (another branch folded since) falls back on the summary
its state holds, the one its last reply used, which its housekeeping saves
here again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from langchain_core.messages import AnyMessage
from langgraph.store.base import BaseStore, Item, PutOp, SearchOp

SUMMARIES = "summaries"
"""Second part of a thread's summary namespace: ``(user_id, "summaries", thread_id)``."""

KEPT_PER_THREAD = 4
"""Summaries kept per thread: the newest, and a few before it for a fork of a recent turn."""

READ_AT_MOST = 2 * KEPT_PER_THREAD
"""Summaries a reply reads at most: those kept, with room for a save whose pruning is pending."""

PAGE = 100
"""Summaries listed per store read when pruning or forgetting a thread."""

SAVED_NS = "saved_ns"
"""Field of a summary's value: when it was saved (nanoseconds), to tell the newest apart."""


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
    return SearchOp(namespace(user_id, thread_id), limit=READ_AT_MOST)


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
    items = await store.asearch(namespace(user_id, thread_id), limit=READ_AT_MOST)
    return newest_in(items, messages)


async def save(store: BaseStore, user_id: str, thread_id: str, summary: Summary) -> None:
    """Keep ``summary`` for the branches that hold its ``through`` message; prune older ones."""
    if not summary.through:
        return
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    value = {
        "text": summary.text,
        "through": summary.through,
        "updated_at": stamp,
        SAVED_NS: time.time_ns(),
    }
    await store.aput(namespace(user_id, thread_id), summary.through, value, index=False)
    await prune(store, user_id, thread_id)


async def exists(store: BaseStore, user_id: str, thread_id: str, through: str) -> bool:
    """Tell whether a fold through ``through`` was saved already."""
    return await store.aget(namespace(user_id, thread_id), through) is not None


def _age(item: Item) -> tuple[int, datetime]:
    """Sort key, oldest first: when saved (summaries from before pruning count as oldest)."""
    saved = item.value.get(SAVED_NS)
    return (saved if isinstance(saved, int) else 0, item.updated_at)


async def _all(store: BaseStore, user_id: str, thread_id: str) -> list[Item]:
    """Return every summary of ``thread_id``, page by page."""
    found: list[Item] = []
    while page := await store.asearch(namespace(user_id, thread_id), limit=PAGE, offset=len(found)):
        found += page
        if len(page) < PAGE:
            break
    return found


async def _delete(store: BaseStore, user_id: str, thread_id: str, items: Sequence[Item]) -> None:
    if items:
        await store.abatch([PutOp(namespace(user_id, thread_id), item.key, None) for item in items])


async def prune(store: BaseStore, user_id: str, thread_id: str) -> int:
    """Delete all but the :data:`KEPT_PER_THREAD` newest summaries of ``thread_id``; return how many."""
    items = await _all(store, user_id, thread_id)
    if len(items) <= KEPT_PER_THREAD:
        return 0
    stale = sorted(items, key=_age)[: len(items) - KEPT_PER_THREAD]
    await _delete(store, user_id, thread_id, stale)
    return len(stale)


async def forget_thread(store: BaseStore, user_id: str, thread_id: str) -> int:
    """Delete every summary of ``thread_id`` (the thread is being deleted); return how many."""
    forgotten: set[str] = set()
    while page := await store.asearch(namespace(user_id, thread_id), limit=PAGE):
        fresh = [item for item in page if item.key not in forgotten]
        if not fresh:
            break  # the store kept what it was told to delete: do not loop for ever
        await _delete(store, user_id, thread_id, fresh)
        forgotten.update(item.key for item in fresh)
    return len(forgotten)
