"""The server's own HTTP app: its lifespan runs the embedded model when needed.

Declared in ``langgraph.json`` under ``"http": {"app": ...}``; the LangGraph
server mounts these routes beside its API and runs this lifespan at start-up
and shutdown, so starting the server starts the model and stopping it stops it.
It also serves the browser chat page at ``/chat/`` and its icon at ``/favicon.ico``
(``agent.server.web``), and its middleware refuses malformed run input before the
server touches a thread.

The lifespan runs the process's housekeeping on the server's main loop
(``agent.housekeeping``), with the store the server holds open there, and
stops it first at shutdown: chores are cancelled and awaited before the model
server and the store are closed. ``GET /chatbot/health`` tells an operator
whether the background chores (search index, warm-up, summary fold, memory)
keep failing; the server's own ``/ok`` gives a custom app no way to add to its
checks. ``GET /chatbot/search`` searches the caller's conversations by content
(``agent.storage.search``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any, cast

from langgraph.store.base import BaseStore
from langgraph_sdk import Auth
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agent import GRAPH_ID, chore_health, chores, housekeeping, settings
from agent.conversation import dates, language
from agent.conversation.context import Context
from agent.models.endpoint import load_chat_model, model_name, selected_kind
from agent.models.local.launcher import embedded_model_server
from agent.server.delta_history import forward_delta_history
from agent.server.discovery import announce_url, withdraw_url
from agent.server.recovery import recover_threads
from agent.server.run_records import KeepTurnsOfDeletedRuns
from agent.server.search_backfill import backfill_quietly
from agent.server.thread_deletion import ForgetWithDeletedThreads
from agent.server.tokens import auth_secret, authenticate_header
from agent.server.validation import RunInputValidation
from agent.server.web.routes import chat_routes, favicon_route
from agent.server.written_threads import IndexThreadsWrittenWithoutATurn
from agent.storage import search
from agent.storage.checkpointer import checkpointer, describe

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    """Run the embedded model if needed, and tell the CLI where this server listens."""
    async with contextlib.AsyncExitStack() as stack:
        settings.check_all()
        # Build the language detector now (a few seconds, in a thread), not on the first message.
        language.warm_up()
        threading.Thread(
            target=dates.warm_up, args=(language.NAMES,), name="dates", daemon=True
        ).start()
        forward_delta_history()
        # Opened for the server's life: a wrong URI stops the server here with a clear
        # message, and the run-input checks look checkpoints up through it.
        saver = await stack.enter_async_context(checkpointer())
        logger.info("Conversations are stored in %s", await describe(saver))
        # Created at start: a database that cannot hold the index (pg_trgm refused) says so now.
        if (index := search.index_for(saver)) is not None:
            await index.setup()
        started_model = selected_kind() == "embedded" and not settings.LOCAL_MODEL_URL.is_set()
        if started_model:
            base_url = await stack.enter_async_context(embedded_model_server())
            settings.set_local_model_url(base_url)
            stack.callback(settings.set_local_model_url, None)
        recovery = asyncio.create_task(recover_threads())
        stack.push_async_callback(_cancel, recovery)
        older = asyncio.create_task(backfill_quietly(saver))
        stack.push_async_callback(_cancel, older)
        url_file = await asyncio.to_thread(announce_url)
        stack.push_async_callback(asyncio.to_thread, withdraw_url, url_file)
        # Entered last, so left first: chores stop before the model server and the store close.
        await stack.enter_async_context(housekeeping.serving(await _server_store()))
        if started_model:  # a model server given by URL is someone else's, its cache theirs
            model = load_chat_model(Context())
            primer = asyncio.create_task(chores.read_extraction_instructions(model))
            stack.push_async_callback(_cancel, primer)
        yield


async def _server_store() -> BaseStore | None:
    """Return the store the server holds open on this (its main) loop, for the chores."""
    try:
        from langgraph_api.store import get_store  # type: ignore[import-untyped]

        return cast(BaseStore, await get_store())
    except Exception:
        logger.exception("The server's store is not available; chores use each run's")
        return None


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def model_info(_: Request) -> JSONResponse:
    """Tell clients which model answers and where (never any secret)."""
    kind = selected_kind()
    where = {"openai": "OpenAI", "embedded": "embedded"}.get(kind) or settings.OPENAI_BASE_URL.get()
    return JSONResponse({"model": await model_name(), "endpoint": where})


def _refusal(refused: Auth.exceptions.HTTPException) -> JSONResponse:
    return JSONResponse(
        {"detail": refused.detail}, status_code=refused.status_code, headers=refused.headers
    )


async def search_conversations(request: Request) -> JSONResponse:
    """Find the caller's messages that hold every word of ``q``: newest first, with snippets.

    ``GET /chatbot/search?q=words&limit=20``. Only the caller's conversations
    are searched (the user the ``Authorization`` header names, as the auth
    handler reads it; with auth off, every conversation is the local user's),
    and a deleted one never answers. An empty, over-long or malformed query,
    or a bad limit, gets a 422 that says what was wrong.
    """
    try:
        user = authenticate_header(request.headers.get("authorization"), auth_secret())
    except Auth.exceptions.HTTPException as refused:
        return _refusal(refused)
    try:
        query = search.parse_query(request.query_params.get("q"), request.query_params.get("limit"))
    except search.QueryError as error:
        return JSONResponse({"detail": str(error)}, status_code=422)
    index = search.open_index()
    if index is None:
        return JSONResponse({"detail": "Search is not ready: no database is open yet."}, 503)
    owner = user["identity"] if auth_secret() is not None else None
    hits = await index.search(query, owner)
    return JSONResponse({"query": list(query.terms), "hits": [hit.as_json() for hit in hits]})


async def whoami(request: Request) -> JSONResponse:
    """Tell the page which graph it talks to and whom the server knows it as.

    The user is the one the ``Authorization`` header names, as the auth handler
    reads it (the local user with auth off); a bad or missing token gets the
    same 401 the API gives.
    """
    try:
        user = authenticate_header(request.headers.get("authorization"), auth_secret())
    except Auth.exceptions.HTTPException as refused:
        return _refusal(refused)
    return JSONResponse({"graph_id": GRAPH_ID, "user": user["identity"]})


async def health(request: Request) -> JSONResponse:
    """Tell an operator whether the background chores keep failing (503 when one does).

    Each kind of chore (warm-up, summary fold, memory) with its failures in a
    row, its last error and the fix, and how many chores wait and run now.
    Not a liveness check: a failing fold must not restart the server (``/ok`` is that).
    With auth on, a caller without a valid token gets only ``ok`` and ``failing``:
    an error's text may name internal hosts.
    """
    report = chore_health.report()
    status = 200 if report["ok"] else 503
    secret = auth_secret()
    if secret is not None:
        try:
            authenticate_header(request.headers.get("authorization"), secret)
        except Auth.exceptions.HTTPException:
            return JSONResponse({k: report[k] for k in ("ok", "failing")}, status_code=status)
    keeper = housekeeping.housekeeper()
    report["housekeeping"] = {**keeper.counts(), "stopped": keeper.closed}
    return JSONResponse(report, status_code=status)


app = Starlette(
    routes=[
        Route("/chatbot/model", model_info),
        Route("/chatbot/health", health),
        Route("/chatbot/me", whoami),
        Route("/chatbot/search", search_conversations),
        *chat_routes("/chat"),
        favicon_route(),
    ],
    middleware=[
        Middleware(RunInputValidation),
        Middleware(KeepTurnsOfDeletedRuns),
        Middleware(ForgetWithDeletedThreads),
        Middleware(IndexThreadsWrittenWithoutATurn),
    ],
    lifespan=lifespan,
)
