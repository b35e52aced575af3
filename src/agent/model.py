"""Choose the chat model endpoint from the environment.

* ``OPENAI_BASE_URL`` set: that OpenAI-compatible server (Ollama, vLLM,
  llama.cpp, LM Studio, ...), with ``OPENAI_API_KEY`` if it needs one.
* ``OPENAI_API_KEY`` alone: OpenAI.
* neither: the embedded local model, whose server the web app's lifespan
  starts and announces through ``CHATBOT_LOCAL_MODEL_URL``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import openai
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from agent.context import Context, env_number

LOCAL_MODEL_URL_ENV = "CHATBOT_LOCAL_MODEL_URL"
"""Base URL (ending in ``/v1``) of the running embedded model server."""

EMBEDDED_API_KEY = "sk-embedded-no-key-needed"
"""The embedded server checks no key, but the OpenAI client insists on one."""

EMBEDDED_MAX_REPLY_TOKENS = 256
"""A cap on one reply of the small embedded model, which can ramble."""


MAX_RETRIES = 2
"""Retries of one model request by the OpenAI client (with exponential backoff) on
connection errors, timeouts, 408/409/429 and 5xx; the graph adds none of its own,
so attempts never multiply."""


class ModelNotConfiguredError(RuntimeError):
    """No model endpoint can be reached with the current configuration."""


class ModelCallError(RuntimeError):
    """The model endpoint failed after its retries; the message names it and the cause."""


@dataclass(frozen=True)
class Endpoint:
    """Where the chat model is served and how to authenticate."""

    kind: Literal["openai", "compatible", "embedded"]
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


def uses_embedded_model() -> bool:
    """Tell whether the environment leaves the model to the embedded server."""
    return not (os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY"))


def resolve_endpoint() -> Endpoint:
    """Return the endpoint the environment selects.

    Raises:
        ModelNotConfiguredError: the embedded model is selected but its server
            is not running (the graph was loaded outside ``langgraph dev`` /
            the project's ``langgraph.json``).
    """
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    api_key = os.environ.get("OPENAI_API_KEY") or None
    if base_url:
        return Endpoint("compatible", base_url, api_key or EMBEDDED_API_KEY)
    if api_key:
        return Endpoint("openai", None, api_key)
    local_url = os.environ.get(LOCAL_MODEL_URL_ENV)
    if not local_url:
        raise ModelNotConfiguredError(
            "No chat model is configured and the embedded model server is not running. "
            "Start the server with `make dev` (it starts the embedded model), or set "
            "OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for an OpenAI-compatible server."
        )
    return Endpoint("embedded", local_url, EMBEDDED_API_KEY)


def load_chat_model(context: Context) -> BaseChatModel:
    """Return the chat model for this run's context."""
    endpoint = resolve_endpoint()
    max_tokens = EMBEDDED_MAX_REPLY_TOKENS if endpoint.kind == "embedded" else None
    timeout = env_number("CHATBOT_MODEL_TIMEOUT", 120.0)
    return _chat_openai(
        context.model, context.temperature, endpoint.base_url, endpoint.api_key, max_tokens, timeout
    )


@lru_cache(maxsize=32)
def _chat_openai(
    model: str,
    temperature: float,
    base_url: str | None,
    api_key: str,
    max_tokens: int | None,
    timeout: float,
) -> ChatOpenAI:
    # Cached so that turns reuse one client and its connection pool.
    return ChatOpenAI(
        model=model,
        temperature=temperature,
        base_url=base_url,
        api_key=api_key,  # type: ignore[arg-type]
        timeout=timeout,
        max_retries=MAX_RETRIES,
        # Sent as the classic `max_tokens` field: ChatOpenAI's own parameter goes out as
        # `max_completion_tokens`, which llama-cpp-python's server ignores.
        extra_body={"max_tokens": max_tokens} if max_tokens is not None else None,
    )
