"""The one seam for the chat model: which endpoint, which model name, which client.

* ``OPENAI_BASE_URL`` set: that OpenAI-compatible server (Ollama, vLLM,
  llama.cpp, LM Studio, ...), with ``OPENAI_API_KEY`` if it needs one.
* ``OPENAI_API_KEY`` alone: OpenAI.
* neither: the embedded local model, whose server the web app's lifespan
  starts and announces through ``CHATBOT_LOCAL_MODEL_URL``.

The graph, the web app and the CLI's ``/chatbot/model`` answer all ask here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI

from agent import settings
from agent.conversation.context import Context
from agent.models.local.tokenizer import cached_served_model, served_model

logger = logging.getLogger(__name__)

EMBEDDED_API_KEY = "sk-embedded-no-key-needed"
"""The embedded server checks no key, but the OpenAI client insists on one."""

MIN_REPLY_TOKENS = 16
"""The embedded model's reply cap never goes below this, however full its context."""

OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
"""The model used on OpenAI when no name is configured."""

EMBEDDED_MODEL_NAME = "embedded"
"""The name sent to the embedded server, which serves one model whatever the name."""

MAX_RETRIES = 2
"""Retries of one model request by the OpenAI client (with exponential backoff) on
connection errors, timeouts, 408/409/429 and 5xx; the graph adds none of its own,
so attempts never multiply."""

Kind = Literal["openai", "compatible", "embedded"]


class ModelNotConfiguredError(RuntimeError):
    """No model endpoint can be reached with the current configuration."""


class ModelCallError(RuntimeError):
    """The model endpoint failed after its retries; the message names it and the cause."""


@dataclass(frozen=True)
class Endpoint:
    """Where the chat model is served and how to authenticate."""

    kind: Kind
    base_url: str | None
    api_key: str


def describe(endpoint: Endpoint) -> str:
    """Name an endpoint for people (never with its key)."""
    if endpoint.kind == "openai":
        return "OpenAI"
    if endpoint.kind == "embedded":
        return f"the embedded model server at {endpoint.base_url}"
    return f"the model server at {endpoint.base_url}"


MID_REPLY_ADVICE = "The partial reply was not saved; send the message again."


def explain_failure(
    error: openai.OpenAIError, endpoint: Endpoint, mid_reply: bool = False
) -> ModelCallError:
    """Turn a model client error into a one-line explanation with what to do.

    Failures before the reply starts come after the client's retries. Failures in
    the middle of a streamed reply (``mid_reply``: a dropped connection, a stall,
    an error event) are not retried: part of the reply has already reached the
    user, and a second attempt would be shown glued to it.
    """
    where = describe(endpoint)
    attempts = f"{MAX_RETRIES + 1} attempts"
    if mid_reply:
        if isinstance(error, openai.APITimeoutError):
            cause = "stopped sending in the middle of its reply (read timeout)"
        elif isinstance(error, openai.APIConnectionError):
            cause = "dropped the connection in the middle of its reply"
        else:
            detail = error.message if isinstance(error, openai.APIError) else str(error)
            cause = f"reported an error in the middle of its reply: {detail}"
        return ModelCallError(f"The chat model failed: {where} {cause}. {MID_REPLY_ADVICE}")
    if isinstance(error, openai.APITimeoutError):
        cause = f"did not answer in time ({attempts})"
        advice = "Raise CHATBOT_MODEL_TIMEOUT or check the server's load."
    elif isinstance(error, openai.APIConnectionError):
        cause = f"could not be reached ({attempts})"
        advice = "Check that it runs and that OPENAI_BASE_URL is right."
    elif isinstance(error, openai.RateLimitError):
        cause = f"is rate-limiting requests (429, {attempts})"
        advice = "Wait a moment and send the message again."
    elif isinstance(error, openai.AuthenticationError):
        cause = "rejected the API key (401)"
        advice = "Check OPENAI_API_KEY."
    elif isinstance(error, openai.NotFoundError):
        cause = "does not know the model (404)"
        advice = "Check CHATBOT_MODEL (the context's model)."
    elif isinstance(error, openai.APIStatusError):
        cause = f"answered {error.status_code}" + (
            f" ({attempts})" if error.status_code >= 500 else ""
        )
        advice = "Try again later; the server's log says more."
    else:
        cause = f"failed: {error}"
        advice = "Try again later."
    return ModelCallError(f"The chat model failed: {where} {cause}. {advice}")


def selected_kind() -> Kind:
    """Return the kind of endpoint the environment selects (whether or not it runs yet)."""
    if settings.OPENAI_BASE_URL.get():
        return "compatible"
    if settings.OPENAI_API_KEY.get():
        return "openai"
    return "embedded"


def uses_embedded_model() -> bool:
    """Tell whether the environment leaves the model to the embedded server."""
    return selected_kind() == "embedded"


def resolve_endpoint() -> Endpoint:
    """Return the endpoint the environment selects.

    Raises:
        ModelNotConfiguredError: the embedded model is selected but its server
            is not running (the graph was loaded outside ``langgraph dev`` /
            the project's ``langgraph.json``).
    """
    kind = selected_kind()
    api_key = settings.OPENAI_API_KEY.get()
    if kind == "compatible":
        return Endpoint(kind, settings.OPENAI_BASE_URL.get(), api_key or EMBEDDED_API_KEY)
    if kind == "openai":
        return Endpoint(kind, None, api_key)
    local_url = settings.LOCAL_MODEL_URL.get()
    if not local_url:
        raise ModelNotConfiguredError(
            "No chat model is configured and the embedded model server is not running. "
            "Start the server with `make dev` (it starts the embedded model), or set "
            "OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for an OpenAI-compatible server."
        )
    return Endpoint("embedded", local_url, EMBEDDED_API_KEY)


_served_names: dict[str, str] = {}


async def model_name(requested: str = "") -> str:
    """Return the name of the model that answers: ``requested``, else the endpoint's own.

    With no name configured, OpenAI means :data:`OPENAI_DEFAULT_MODEL`, and an
    OpenAI-compatible server (or the embedded one) is asked what it serves
    (``GET /models``, its first model; asked once per server).
    """
    if requested := requested.strip() or settings.MODEL.get():
        return requested
    try:
        endpoint = resolve_endpoint()
    except ModelNotConfiguredError:
        return EMBEDDED_MODEL_NAME
    if endpoint.kind == "openai" or endpoint.base_url is None:
        return OPENAI_DEFAULT_MODEL
    if endpoint.kind == "embedded" and (served := await served_model(endpoint.base_url)):
        return served.name
    if endpoint.base_url not in _served_names:
        _served_names[endpoint.base_url] = await _first_served_model(endpoint)
    return _served_names[endpoint.base_url]


async def _first_served_model(endpoint: Endpoint) -> str:
    fallback = EMBEDDED_MODEL_NAME if endpoint.kind == "embedded" else OPENAI_DEFAULT_MODEL
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(
                f"{endpoint.base_url}/models",
                headers={"Authorization": f"Bearer {endpoint.api_key}"},
            )
            response.raise_for_status()
            return str(response.json()["data"][0]["id"])
    except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as error:
        logger.warning(
            "%s did not say which model it serves (%s); asking for %r",
            describe(endpoint),
            error,
            fallback,
        )
        return fallback


async def named(context: Context) -> Context:
    """Return ``context`` with its model name filled in (see :func:`model_name`)."""
    name = await model_name(context.model)
    return context if name == context.model else replace(context, model=name)


def reply_cap(endpoint: Endpoint, context: Context) -> int | None:
    """Return the most tokens one reply may take, or None for no cap of ours.

    For the embedded model: ``CHATBOT_MAX_REPLY_TOKENS``, or less when the
    model's context window (``n_ctx``, which prompt and reply share) leaves less
    room beside the prompt's budget. A small model can ramble; this bounds it.
    """
    if endpoint.kind != "embedded" or endpoint.base_url is None:
        return None
    cap = settings.MAX_REPLY_TOKENS.get()
    served = cached_served_model(endpoint.base_url)
    if served is not None:
        cap = min(cap, served.n_ctx - context.max_history_tokens)
    return max(MIN_REPLY_TOKENS, cap)


def capped(model: BaseChatModel, max_tokens: int) -> Runnable[Any, BaseMessage]:
    """Return ``model`` capped at ``max_tokens`` a reply, the way its endpoint reads a cap.

    OpenAI gets ChatOpenAI's own cap (sent as ``max_completion_tokens``); other
    servers, the embedded one included, read only the classic ``max_tokens``,
    so they get it in ``extra_body``, as :func:`load_chat_model` sends it.
    """
    extra = getattr(model, "extra_body", None)
    try:
        kind = resolve_endpoint().kind
    except ModelNotConfiguredError:
        kind = "openai"
    if kind == "openai" and not (isinstance(extra, dict) and "max_tokens" in extra):
        return model.bind(max_tokens=max_tokens)
    return model.bind(extra_body={**(extra or {}), "max_tokens": max_tokens})


def load_chat_model(context: Context) -> BaseChatModel:
    """Return the chat model for this run's context (its model name filled in by :func:`named`)."""
    endpoint = resolve_endpoint()
    max_tokens = reply_cap(endpoint, context)
    return _chat_openai(
        context.model or OPENAI_DEFAULT_MODEL,
        context.temperature,
        endpoint.base_url,
        endpoint.api_key,
        max_tokens,
        settings.MODEL_TIMEOUT.get(),
        _running_loop(),
    )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@lru_cache(maxsize=32)
def _chat_openai(
    model: str,
    temperature: float,
    base_url: str | None,
    api_key: str,
    max_tokens: int | None,
    timeout: float,
    loop: asyncio.AbstractEventLoop | None,
) -> ChatOpenAI:
    # Cached so that turns reuse one client and its connection pool, one per event loop:
    # a pooled connection belongs to the loop that opened it, and with the server's
    # BG_JOB_ISOLATED_LOOPS each run has its own loop while the chores run on the main
    # one (langchain-openai's default async client is one pool for the whole process).
    return ChatOpenAI(
        model=model,
        temperature=temperature,
        base_url=base_url,
        api_key=api_key,  # type: ignore[arg-type]
        timeout=timeout,
        http_async_client=httpx.AsyncClient(timeout=timeout) if loop is not None else None,
        max_retries=MAX_RETRIES,
        # Sent as the classic `max_tokens` field: ChatOpenAI's own parameter goes out as
        # `max_completion_tokens`, which llama-cpp-python's server ignores.
        extra_body={"max_tokens": max_tokens} if max_tokens is not None else None,
    )
