"""The store as one thread's chores write to it: nothing after a deletion, nothing out of order.

:class:`ThreadStore` wraps the ``BaseStore`` a chore is handed
(``agent.chores.Housework`` gives it to the fold and to
:func:`agent.memory.learning.learn`). Every item it writes for its thread (a
summary or progress item under a namespace that names the thread, a fact
learnt in it) goes through the same steps:

1. the markers are read (:mod:`agent.memory.deletions`): after the thread's
   deletion began, or for a fact the user forgot since it was said, nothing
   is written;
2. it is written; a single-valued fact only if the one stored was not said
   later (:func:`agent.memory.order.put_unless_said_later`);
3. the markers are read again: a deletion that began meanwhile (whose own
   sweep may have listed the items before this one landed) is honoured by
   undoing the write.

A deletion writes its marker before it deletes, and a chore writes before it
reads the marker again, so one of them sees the other's step: either the
deletion's sweep finds the item, or the chore finds the marker.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from langgraph.store.base import BaseStore, Item, Op, PutOp, Result

from agent.memory import deletions
from agent.memory.facts import SAID_AT, Fact, fact_key, namespace
from agent.memory.order import put_unless_said_later


class ThreadStore(BaseStore):
    """``store`` as ``user_id``'s chores for ``thread_id`` write to it (reads pass through)."""

    def __init__(self, store: BaseStore, user_id: str, thread_id: str) -> None:
        """Wrap ``store`` (a ``ThreadStore`` is unwrapped first) for one thread's chores."""
        self.store: BaseStore = store.store if isinstance(store, ThreadStore) else store
        self.user_id = user_id
        self.thread_id = thread_id

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Refuse: chores write asynchronously, through :meth:`abatch`, which guards each write."""
        raise NotImplementedError("a ThreadStore is written through abatch")

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops``; each write for this thread only if no deletion forbids it (see module)."""
        listed = list(ops)
        if not any(self._names_thread(op) for op in listed):
            return await self.store.abatch(listed)
        results: list[Result] = []
        for op in listed:
            if isinstance(op, PutOp) and self._names_thread(op):
                await self._put(op)
                results.append(None)
            else:
                results += await self.store.abatch([op])
        return results

    def _names_thread(self, op: Op) -> bool:
        """Tell whether ``op`` writes an item of this thread (not a delete: deleting is safe)."""
        if not isinstance(op, PutOp) or op.value is None or op.namespace[:1] != (self.user_id,):
            return False
        if op.namespace == namespace(self.user_id):
            return op.value.get("thread_id") == self.thread_id
        return self.thread_id in op.namespace[1:]

    def _fact(self, op: PutOp) -> Fact | None:
        if op.namespace != namespace(self.user_id) or op.value is None:
            return None
        return Fact.from_value(op.value, key=op.key)

    async def _void(self, fact: Fact | None, said_at: str) -> bool:
        found = await self.store.abatch(deletions.checks(self.user_id, self.thread_id, fact))
        return deletions.void(cast(list[Item | None], found), said_at)

    async def _put(self, op: PutOp) -> None:
        assert op.value is not None
        fact = self._fact(op)
        said_at = str(op.value.get(SAID_AT) or "")
        if await self._void(fact, said_at):
            return
        value = dict(op.value)
        if fact is not None and op.key == fact_key(fact.topic, fact.text) == fact.topic:
            if not await put_unless_said_later(self.store, op.namespace, op.key, value):
                return  # a statement said later is stored: this one is out of date
        else:
            await self.store.abatch([op])
        if await self._void(fact, said_at):
            await self._undo(op, value)

    async def _undo(self, op: PutOp, value: dict[str, Any]) -> None:
        """Delete what ``op`` wrote, unless another statement replaced it since."""
        if op.namespace == namespace(self.user_id):
            stored = await self.store.aget(op.namespace, op.key)
            source = ("thread_id", "message_id")
            if stored is None or any(stored.value.get(k) != value.get(k) for k in source):
                return
        await self.store.adelete(op.namespace, op.key)


def thread_store(store: BaseStore, user_id: str, thread_id: str) -> ThreadStore:
    """Return ``store`` as ``user_id``'s chores for ``thread_id`` write to it."""
    return ThreadStore(store, user_id, thread_id)
