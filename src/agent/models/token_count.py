"""Count prompt tokens the way the model in use will, without tiktoken's download.

For the embedded model, counts come from its own tokenizer through the model
server's ``/extras/tokenize/count``, cached per text, plus what the transcript
format adds (the few-shot preamble and a speaker label per message). For every
other endpoint, LangChain's offline approximation (about four characters a
token) is used: tiktoken would download its data on first use, and an
OpenAI-compatible server's tokenizer is unknown.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence

import httpx
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately

from agent.conversation.prompt import TokenCounter, count_tokens, message_text
from agent.models.endpoint import ModelNotConfiguredError, resolve_endpoint
from agent.models.local.transcript import FEW_SHOT_PREAMBLE

logger = logging.getLogger(__name__)

PER_MESSAGE = 3
"""Tokens the transcript adds around each message ("User: " ... newline)."""

BOS_TOKENS = 1
"""llama-cpp-python's tokenize endpoint adds a beginning-of-text token to each text."""

CACHE_SIZE = 20_000


def approximate(text: str) -> int:
    """Return LangChain's offline estimate of the tokens in ``text``."""
    return count_tokens_approximately([HumanMessage(text)]) - PER_MESSAGE


class ModelTokenizer:
    """Counts tokens with the embedded model's tokenizer; call :meth:`prepare` first.

    ``trim_messages`` needs a synchronous counter, so the counts of new texts
    are fetched ahead (:meth:`prepare`, concurrently, cached) and the counter
    itself only adds them up. A text it was not prepared for, or one the
    server could not count, falls back to the approximation.
    """

    def __init__(self, base_url: str) -> None:
        """Count through the model server whose OpenAI base URL is ``base_url``."""
        self.root = base_url.rstrip("/").removesuffix("/v1")
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._overhead: int | None = None

    async def prepare(self, messages: Sequence[BaseMessage]) -> None:
        """Fetch the counts of the texts in ``messages`` that are not cached yet."""
        texts = {message_text(message) for message in messages} - self._counts.keys()
        if self._overhead is None:
            texts.add(FEW_SHOT_PREAMBLE)
        if not texts:
            return
        async with httpx.AsyncClient(base_url=self.root, timeout=10) as client:
            counted = await asyncio.gather(*(self._count(client, text) for text in texts))
        for text, count in zip(texts, counted, strict=True):
            if count is not None:
                # The server counts the beginning-of-text token it adds to each text;
                # a prompt has one, counted with the preamble.
                self._remember(text, max(0, count - BOS_TOKENS))
        if self._overhead is None and FEW_SHOT_PREAMBLE in self._counts:
            self._overhead = self._counts[FEW_SHOT_PREAMBLE] + BOS_TOKENS

    async def _count(self, client: httpx.AsyncClient, text: str) -> int | None:
        try:
            response = await client.post("/extras/tokenize/count", json={"input": text})
            response.raise_for_status()
            return int(response.json()["count"])
        except (httpx.HTTPError, KeyError, ValueError) as error:
            logger.warning("Counting tokens with the model failed (%s); estimating instead", error)
            return None

    def _remember(self, text: str, count: int) -> None:
        self._counts[text] = count
        self._counts.move_to_end(text)
        while len(self._counts) > CACHE_SIZE:
            self._counts.popitem(last=False)

    def __call__(self, messages: Sequence[BaseMessage]) -> int:
        """Return the tokens ``messages`` take in the model's prompt."""
        total = self._overhead or 0
        for message in messages:
            text = message_text(message)
            count = self._counts.get(text)
            total += (approximate(text) if count is None else count) + PER_MESSAGE
        return total


_tokenizers: dict[str, ModelTokenizer] = {}


def model_tokenizer(base_url: str) -> ModelTokenizer:
    """Return the shared tokenizer of the model server at ``base_url``."""
    if base_url not in _tokenizers:
        _tokenizers[base_url] = ModelTokenizer(base_url)
    return _tokenizers[base_url]


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
