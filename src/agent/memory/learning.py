"""Learn what a thread's user said about themselves, once per message, catching up after a crash.

:func:`learn` runs after a reply. It keeps a progress marker per thread in the
store (:func:`agent.memory.keeper.read_progress`): the user's messages read so
far and the facts each gave. From it, it forgets the facts of messages the
branch no longer holds (an edited message), and reads the user's messages
that were not read yet, the newest :data:`CATCH_UP` at most: a run that
crashed after its reply is caught up at the thread's next turn, and a second
call does nothing (one store read).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain_core.messages import AnyMessage, BaseMessage, HumanMessage
from langgraph.store.base import BaseStore

from agent.memory import extraction, keeper
from agent.memory.facts import Fact, namespace, now

logger = logging.getLogger(__name__)

Ask = Callable[[list[BaseMessage]], Awaitable[str]]
"""Sends a prompt to the model and returns its answer's text."""

CATCH_UP = 3
"""The user's newest messages of a branch read at most in one turn (one model call each)."""

READ_IDS_KEPT = 50
"""Ids of messages read that the marker keeps (older ones are never read again anyway)."""

MAX_SAID_CHARS = 500
"""What a fact keeps of the message it came from."""


def message_text(message: BaseMessage) -> str:
    """Return the text of ``message`` (text parts of a multi-part content joined)."""
    if isinstance(message.content, str):
        return message.content
    parts = (
        part if isinstance(part, str) else str(part.get("text", ""))
        for part in message.content
        if isinstance(part, str) or part.get("type") == "text"
    )
    return " ".join(parts)


def _empty_progress(thread_id: str) -> dict[str, Any]:
    return {"thread_id": thread_id, "read": [], "facts": {}}


async def _progress(store: BaseStore, user_id: str, thread_id: str) -> dict[str, Any]:
    """Return the thread's marker; for a thread without one, what its facts say was read."""
    stored = await keeper.read_progress(store, user_id, thread_id)
    if stored is not None:
        facts = stored.get("facts")
        return {
            "thread_id": thread_id,
            "read": [str(m) for m in stored.get("read") or []],
            "facts": {str(m): list(keys) for m, keys in facts.items()}
            if isinstance(facts, dict)
            else {},
            "updated_at": str(stored.get("updated_at") or ""),
        }
    progress = _empty_progress(thread_id)
    for fact in await keeper.learnt_in(store, user_id, thread_id):
        progress["facts"].setdefault(fact.message_id, []).append(fact.store_key())
        if fact.message_id not in progress["read"]:
            progress["read"].append(fact.message_id)
    return progress


async def _forget_edited_away(
    store: BaseStore, user_id: str, progress: dict[str, Any], branch: set[str]
) -> list[str]:
    """Forget the facts of messages read before that the branch no longer holds."""
    forgotten: list[str] = []
    for message_id in [m for m in progress["facts"] if m not in branch]:
        for key in progress["facts"].pop(message_id):
            item = await store.aget(namespace(user_id), key)
            # A later message may have superseded it, or the user corrected it: keep those.
            source = (item.value.get("thread_id"), item.value.get("message_id")) if item else None
            if source == (progress["thread_id"], message_id):
                await store.adelete(namespace(user_id), key)
                forgotten.append(key)
    progress["read"] = [m for m in progress["read"] if m in branch]
    return forgotten


async def _read(message: BaseMessage, ask: Ask, thread_id: str, stamp: str) -> list[Fact] | None:
    """Return the facts ``message`` states, grounded in it; None when the model failed."""
    text = message_text(message)
    if not extraction.worth_asking(text):
        return []
    try:
        answer = await ask(extraction.prompt(text))
    except Exception:
        logger.exception("The model could not read message %s for facts", message.id)
        return None
    said = text[:MAX_SAID_CHARS]
    return [
        fact.with_source(thread_id, str(message.id), said, stamp)
        for fact in extraction.parse(answer, text)
    ]


async def learn(
    store: BaseStore,
    user_id: str,
    thread_id: str,
    messages: Sequence[AnyMessage],
    ask: Ask,
) -> list[Fact]:
    """Bring ``user_id``'s memory up to date with this branch of ``thread_id``; return facts saved.

    Forgets facts learnt here from messages ``messages`` no longer holds,
    then reads the user's newest messages not read yet (at most
    :data:`CATCH_UP`, one ``ask`` each, skipping what states nothing) and
    saves what they state, superseding what it contradicts. A message whose
    model call fails stays unread, for the next turn; a bad answer saves
    nothing. Calling it again changes nothing.
    """
    progress = await _progress(store, user_id, thread_id)
    branch = {str(message.id) for message in messages if message.id}
    forgotten = await _forget_edited_away(store, user_id, progress, branch)
    said = [m for m in messages if isinstance(m, HumanMessage) and m.id][-CATCH_UP:]
    unread = [m for m in said if m.id not in progress["read"]]
    if not unread and not forgotten and progress.get("updated_at"):
        return []
    saved: list[Fact] = []
    for message in unread:
        stamp = now()
        facts = await _read(message, ask, thread_id, stamp)
        if facts is None:
            break
        if facts:
            stored = await keeper.save(store, user_id, facts)
            progress["facts"][str(message.id)] = [fact.key for fact in stored]
            saved += stored
        progress["read"] = [*progress["read"], str(message.id)][-READ_IDS_KEPT:]
        progress["updated_at"] = stamp
    progress["updated_at"] = progress.get("updated_at") or now()
    await keeper.write_progress(store, user_id, thread_id, progress)
    if saved:
        logger.info("Remembered %s for user %s", ", ".join(f.topic for f in saved), user_id)
    return saved
