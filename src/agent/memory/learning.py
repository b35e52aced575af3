"""Learn what a thread's user said about themselves, once per message, catching up after a crash.

:func:`learn` runs after a reply. It keeps one progress item per user message
read (:mod:`agent.memory.progress`): a digest of its text and the
facts it gave, never the text. It forgets the facts of messages the branch no
longer holds (a branch left, an edited message), and reads the user's
messages that were not read yet, or whose text changed under the same id,
the newest :data:`CATCH_UP` at most: a run that crashed after its reply is
caught up at the thread's next turn, and a second call does nothing (one
store round trip). A message read once is never read again while its text
stays the same, on any branch: a fact the user forgot does not come back.

Everything it writes goes through a :class:`~agent.memory.thread_store.ThreadStore`:
nothing once the thread's deletion began, and a single-valued fact never over
one said later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from langchain_core.messages import AnyMessage, BaseMessage, HumanMessage
from langgraph.store.base import BaseStore

from agent.memory import extraction, keeper, progress
from agent.memory.facts import Fact, instant
from agent.memory.progress import Progress, digest
from agent.memory.thread_store import thread_store

logger = logging.getLogger(__name__)

Ask = Callable[[list[BaseMessage]], Awaitable[str]]
"""Sends a prompt to the model and returns its answer's text."""

CATCH_UP = 3
"""The user's newest messages of a branch read at most in one turn (one model call each)."""


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


async def _read(
    message: BaseMessage, ask: Ask, thread_id: str, position: int, said_at: str
) -> list[Fact] | None:
    """Return the facts ``message`` states, grounded in it; None when the model failed."""
    text = message_text(message)
    if not extraction.worth_asking(text):
        return []
    try:
        answer = await ask(extraction.prompt(text))
    except Exception:
        logger.exception("The model could not read message %s for facts", message.id)
        return None
    return [
        fact.with_source(thread_id, str(message.id), position, said_at)
        for fact in extraction.parse(answer, text)
    ]


def _unread(
    said: Sequence[tuple[int, BaseMessage]], known: dict[str, Progress]
) -> list[tuple[int, BaseMessage]]:
    """Return the messages of ``said`` not read yet, or read with another text."""
    return [
        (position, message)
        for position, message in said
        if (progress := known.get(str(message.id))) is None
        or (progress.digest and progress.digest != digest(message_text(message)))
    ]


async def learn(
    store: BaseStore,
    user_id: str,
    thread_id: str,
    messages: Sequence[AnyMessage],
    ask: Ask,
    said_at: str | None = None,
) -> list[Fact]:
    """Bring ``user_id``'s memory up to date with this branch of ``thread_id``; return facts saved.

    Forgets facts learnt here from messages ``messages`` no longer holds (or
    holds with another text), then reads the user's newest messages not read
    yet (at most :data:`CATCH_UP`, one ``ask`` each, skipping what states
    nothing) and saves what they state, superseding what it contradicts and
    nothing said later. ``said_at`` is when the turn ran (now by default):
    facts of another thread are ordered by it. A message whose model call
    fails stays unread, for the next turn; a bad answer saves nothing.
    Calling it again changes nothing.
    """
    store = thread_store(store, user_id, thread_id)
    said_at = said_at or instant()
    said = [
        (position, message)
        for position, message in enumerate(messages)
        if isinstance(message, HumanMessage) and message.id
    ][-CATCH_UP:]
    ids = [str(message.id) for _position, message in said]
    known, learnt = await progress.what_was_read(store, user_id, thread_id, ids)
    unread = _unread(said, known)
    edited = {str(message.id) for _position, message in unread} & set(known)
    branch = {str(message.id) for message in messages if message.id} - edited
    if keeper.edited_away(learnt, branch, said_at, len(messages)):
        await keeper.forget_edited_away(store, user_id, thread_id, branch, said_at, len(messages))
    saved: list[Fact] = []
    for position, message in unread:
        facts = await _read(message, ask, thread_id, position, said_at)
        if facts is None:
            break
        message_id, text = str(message.id), digest(message_text(message))
        again = await progress.read(store, user_id, thread_id, [message_id])
        if message_id in again and again[message_id].digest in ("", text):
            continue  # another chore read it meanwhile; what it saved may be forgotten since
        saved += await keeper.save(store, user_id, facts)
        keys = tuple(fact.store_key() for fact in facts)
        read = Progress(text, keys, position, said_at)
        await progress.write(store, user_id, thread_id, message_id, read)
    if saved:
        logger.info("Remembered %s for user %s", ", ".join(f.topic for f in saved), user_id)
    return saved
