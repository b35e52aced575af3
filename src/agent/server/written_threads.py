"""A conversation written without a turn is searchable as soon as the write is answered.

The chores index a thread after each reply (``agent.chores``). Three requests
write messages without a reply: an import (``POST /threads`` with
``supersteps``, what ``chatbot import`` sends), a state update
(``POST /threads/{id}/state``, Studio's edits, ``update_state``) and a copy
(``POST /threads/{id}/copy``). :class:`IndexThreadsWrittenWithoutATurn` lets
each through, and once the LangGraph server has answered it with a 2xx,
indexes the thread from its latest state for the caller (whom the auth
handler names, :func:`writing_as`) before the client gets the answer, so a
search that follows finds it. A refused write (404 for someone else's
thread) indexes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent import LOCAL_USER
from agent.server.search_backfill import index_thread
from agent.storage.lookups import open_saver

logger = logging.getLogger(__name__)

_CREATE = re.compile(r"^/threads/?$")
_UPDATE = re.compile(r"^/threads/(?P<thread_id>[^/]+)/state/?$")
_COPY = re.compile(r"^/threads/(?P<thread_id>[^/]+)/copy/?$")

_writing: ContextVar[dict[str, str] | None] = ContextVar("writing", default=None)
"""Within a request that writes a thread without a turn: whom the auth handler says it is for."""


def writing_as(user_id: str) -> None:
    """Record, from the auth handler, whom the current write is for."""
    holder = _writing.get()
    if holder is not None:
        holder["user_id"] = user_id


def _written_thread(scope: Scope, answer: list[Message]) -> str | None:
    """Return the id of the thread a 2xx write answered for, None if there is none."""
    path = scope["path"]
    if (match := _UPDATE.match(path)) is not None:
        return match["thread_id"]
    body = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
    try:
        created = json.loads(body)
    except ValueError:
        return None
    thread_id = created.get("thread_id") if isinstance(created, dict) else None
    return thread_id if isinstance(thread_id, str) else None


def _writes_without_a_turn(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    path = scope["path"]
    return any(route.match(path) for route in (_CREATE, _UPDATE, _COPY))


async def _index(thread_id: str, user_id: str) -> None:
    try:
        saver = open_saver()
        if saver is not None:
            await index_thread(saver, thread_id, user_id)
    except Exception:
        logger.exception("Could not index thread %s for search; its next turn will", thread_id)


class IndexThreadsWrittenWithoutATurn:
    """ASGI middleware: an import, a state update or a copy is indexed before it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the write through, then index the thread it wrote if it succeeded."""
        if not _writes_without_a_turn(scope):
            await self.app(scope, receive, send)
            return
        holder: dict[str, str] = {}
        answer: list[Message] = []

        async def hold(message: Message) -> None:
            answer.append(message)

        token = _writing.set(holder)
        try:
            await self.app(scope, receive, hold)
        finally:
            _writing.reset(token)
        status = next((m["status"] for m in answer if m["type"] == "http.response.start"), 0)
        if 200 <= status < 300 and (thread_id := _written_thread(scope, answer)) is not None:
            await _index(thread_id, holder.get("user_id", LOCAL_USER))
        for message in answer:
            await send(message)
