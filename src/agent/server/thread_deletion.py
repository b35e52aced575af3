"""A deleted conversation takes what the chatbot learnt in it along, once the deletion is done.

Its rows in the search index go too (``agent.storage.search``); a search
never answers with a thread that has no checkpoints left in any case.

``DELETE /threads/{id}`` passes the auth handler's delete hook, which says
whose thread it is (:func:`deleting_as`); only when the LangGraph server has
deleted it (a 2xx answer: not a 404 for someone else's thread) does
:class:`ForgetWithDeletedThreads` forget its facts, summaries and progress
(:func:`forget_thread`), and the client gets its answer after that.

A chore of the thread may still be queued or mid-call, here or on another
replica. :func:`forget_thread` first leaves a marker, then deletes every item;
a chore checks the markers after each write and undoes a write that raced the
sweep (``agent.memory.thread_store``), so nothing is left behind, whichever
came first.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar

from langgraph.store.base import BaseStore
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.conversation import summaries
from agent.memory import deletions, keeper
from agent.storage import search

logger = logging.getLogger(__name__)

THREAD = re.compile(r"^/threads/(?P<thread_id>[^/]+)/?$")
"""The route that deletes a whole thread."""

_deleting: ContextVar[dict[str, str] | None] = ContextVar("deleting", default=None)
"""Within a thread's DELETE request: whom the auth handler says the thread is deleted for."""


async def forget_thread(store: BaseStore, user_id: str, thread_id: str) -> list[str]:
    """Forget all the chatbot keeps of ``thread_id``: first a marker, then each item; return facts.

    The marker (``deletions.mark_thread_deleted``) goes first: from then on a
    chore of the thread writes nothing, and undoes a write that raced it.
    """
    await deletions.mark_thread_deleted(store, user_id, thread_id)
    await summaries.forget_thread(store, user_id, thread_id)
    return await keeper.forget_thread(store, user_id, thread_id)


def deleting_as(user_id: str) -> None:
    """Record, from the auth handler, whose thread the current DELETE request deletes."""
    holder = _deleting.get()
    if holder is not None:
        holder["user_id"] = user_id


async def _unindex(thread_id: str) -> None:
    try:
        index = search.open_index()
        if index is not None:
            await index.forget_thread(thread_id)
    except Exception:
        logger.exception("Could not drop deleted thread %s from the search index", thread_id)


async def _forget(user_id: str, thread_id: str) -> None:
    try:
        from langgraph_api.store import get_store  # type: ignore[import-untyped]

        forgotten = await forget_thread(await get_store(), user_id, thread_id)
        if forgotten:
            logger.info("Forgot %s with thread %s", ", ".join(forgotten), thread_id)
    except Exception:
        logger.exception("Could not forget the facts of deleted thread %s", thread_id)


class ForgetWithDeletedThreads:
    """ASGI middleware: a thread deleted is forgotten before its deletion is answered."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a thread's DELETE through, then forget the thread if it was deleted."""
        match = THREAD.match(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "DELETE":
            await self.app(scope, receive, send)
            return
        holder: dict[str, str] = {}
        answer: list[Message] = []

        async def hold(message: Message) -> None:
            answer.append(message)

        token = _deleting.set(holder)
        try:
            await self.app(scope, receive, hold)
        finally:
            _deleting.reset(token)
        status = next((m["status"] for m in answer if m["type"] == "http.response.start"), 0)
        if 200 <= status < 300:
            await _unindex(match["thread_id"])
        if 200 <= status < 300 and "user_id" in holder:
            await _forget(holder["user_id"], match["thread_id"])
        for message in answer:
            await send(message)
