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

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from agent.context import Context

LOCAL_MODEL_URL_ENV = "CHATBOT_LOCAL_MODEL_URL"
"""Base URL (ending in ``/v1``) of the running embedded model server."""

EMBEDDED_API_KEY = "sk-embedded-no-key-needed"
"""The embedded server checks no key, but the OpenAI client insists on one."""

EMBEDDED_MAX_REPLY_TOKENS = 256
"""A cap on one reply of the small embedded model, which can ramble."""


class ModelNotConfiguredError(RuntimeError):
    """No model endpoint can be reached with the current configuration."""


@dataclass(frozen=True)
class Endpoint:
    """Where the chat model is served and how to authenticate."""

    kind: Literal["openai", "compatible", "embedded"]
    base_url: str | None
    api_key: str


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
    return _chat_openai(
        context.model, context.temperature, endpoint.base_url, endpoint.api_key, max_tokens
    )


@lru_cache(maxsize=32)
def _chat_openai(
    model: str, temperature: float, base_url: str | None, api_key: str, max_tokens: int | None
) -> ChatOpenAI:
    # Cached so that turns reuse one client and its connection pool.
    timeout = float(os.environ.get("CHATBOT_MODEL_TIMEOUT", "120"))
    return ChatOpenAI(
        model=model,
        temperature=temperature,
        base_url=base_url,
        api_key=api_key,  # type: ignore[arg-type]
        timeout=timeout,
        max_retries=2,
        max_tokens=max_tokens,  # type: ignore[call-arg]
    )
