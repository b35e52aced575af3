"""The server's own HTTP app: its lifespan runs the embedded model when needed.

Declared in ``langgraph.json`` under ``"http": {"app": ...}``; the LangGraph
server mounts these routes beside its API and runs this lifespan at start-up
and shutdown, so starting the server starts the model and stopping it stops it.
It also serves the browser chat page at ``/chat/`` (``agent.web``), and its
middleware refuses malformed run input before the server touches a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agent.checkpointer import check_database
from agent.context import Context
from agent.discovery import announce_url, withdraw_url
from agent.local_model.launcher import embedded_model_server
from agent.model import LOCAL_MODEL_URL_ENV, uses_embedded_model
from agent.recovery import recover_threads
from agent.validation import RunInputValidation
from agent.web.routes import chat_routes

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    """Run the embedded model if needed, and tell the CLI where this server listens."""
    async with contextlib.AsyncExitStack() as stack:
        logger.info("Conversations are stored in %s", await check_database())
        if uses_embedded_model() and not os.environ.get(LOCAL_MODEL_URL_ENV):
            base_url = await stack.enter_async_context(embedded_model_server())
            os.environ[LOCAL_MODEL_URL_ENV] = base_url
            stack.callback(os.environ.pop, LOCAL_MODEL_URL_ENV, None)
        recovery = asyncio.create_task(recover_threads())
        stack.push_async_callback(_cancel, recovery)
        url_file = await asyncio.to_thread(announce_url)
        stack.push_async_callback(asyncio.to_thread, withdraw_url, url_file)
        yield


async def _cancel(task: asyncio.Task[int]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def model_info(_: Request) -> JSONResponse:
    """Tell clients which model answers (never any secret)."""
    if os.environ.get("OPENAI_BASE_URL"):
        endpoint = os.environ["OPENAI_BASE_URL"]
    elif os.environ.get("OPENAI_API_KEY"):
        endpoint = "OpenAI"
    else:
        endpoint = "embedded"
    return JSONResponse({"model": Context().model, "endpoint": endpoint})


app = Starlette(
    routes=[Route("/chatbot/model", model_info), *chat_routes("/chat")],
    middleware=[Middleware(RunInputValidation)],
    lifespan=lifespan,
)
