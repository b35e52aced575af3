"""Count prompt tokens the way the model in use will, without tiktoken's download.

For the embedded model, counts come from the model server itself (its
tokenizer and chat format, ``agent.models.local.tokenizer``). For every other
endpoint, LangChain's offline approximation (about four characters a token)
is used: tiktoken would download its data on first use, and an
OpenAI-compatible server's tokenizer is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage

from agent.conversation.prompt import TokenCounter, count_tokens
from agent.models.endpoint import ModelNotConfiguredError, resolve_endpoint
from agent.models.local.tokenizer import model_tokenizer


async def counter_for_model(messages: Sequence[BaseMessage]) -> TokenCounter:
    """Return the counter that matches the model in use, ready for ``messages``."""
    try:
        endpoint = resolve_endpoint()
    except ModelNotConfiguredError:
        return count_tokens
    if endpoint.kind != "embedded" or endpoint.base_url is None:
        return count_tokens
    tokenizer = model_tokenizer(endpoint.base_url)
    await tokenizer.prepare(messages)
    return tokenizer
