"""Count prompt tokens with the embedded model's own tokenizer and chat format.

Counts come from the running model server: each text's tokens from
``/extras/tokenize/count`` (cached per text), and what the chat format adds
around messages, which the server measured on itself at start
(``/extras/chatbot``). So the counts follow whichever model and chat format
the server has loaded, the bundled one or ``CHATBOT_MODEL_FILE``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from typing import Any

import httpx
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately

from agent.conversation.prompt import message_text
from agent.models.local.server import INFO_PATH, ServedModel

logger = logging.getLogger(__name__)

CACHE_SIZE = 20_000

FALLBACK_PER_MESSAGE = 4
"""Tokens assumed around each message when the server could not be measured."""


@cache
def tls_context() -> ssl.SSLContext:
    """Return the one TLS context every client to the model server shares.

    httpx builds a context and loads the system's certificates for each new
    client, about 40 ms of the event loop's time even for plain http; the
    counts are fetched with a new client on every turn, before the reply.
    """
    return httpx.create_ssl_context()


def approximate(text: str) -> int:
    """Return LangChain's offline estimate of the tokens in ``text``."""
    return count_tokens_approximately([HumanMessage(text)], extra_tokens_per_message=0)


class ModelTokenizer:
    """Counts a prompt's tokens as the embedded model server will; call :meth:`prepare` first.

    ``trim_messages`` needs a synchronous counter, so the counts of new texts
    are fetched ahead (:meth:`prepare`, concurrently, cached) and the counter
    itself only adds them up. A text it was not prepared for, or one the
    server could not count, falls back to the approximation.
    """

    def __init__(self, base_url: str) -> None:
        """Count through the model server whose OpenAI base URL is ``base_url``."""
        self.base_url = base_url.rstrip("/")
        self.root = self.base_url.removesuffix("/v1")
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._added: int | None = None  # special tokens the count endpoint adds to a text
        self.per_message = FALLBACK_PER_MESSAGE
        self.per_prompt = 0
        self.calibrated = False

    async def calibrate(self) -> None:
        """Learn what the server's chat format adds around messages (asked once)."""
        if self.calibrated:
            return
        served = await served_model(self.base_url)
        if served is None:
            return
        self.per_message, self.per_prompt = served.per_message, served.per_prompt
        self.calibrated = True

    async def prepare(self, messages: Sequence[BaseMessage]) -> None:
        """Fetch the counts of the texts in ``messages`` that are not cached yet."""
        await self.calibrate()
        await self._count_texts({message_text(message) for message in messages})

    async def _count_texts(self, texts: set[str]) -> None:
        texts = texts - self._counts.keys()
        if self._added is None:
            texts.add("")
        if not texts:
            return
        async with httpx.AsyncClient(
            base_url=self.root, timeout=10, verify=tls_context()
        ) as client:
            counted = await asyncio.gather(*(self._count(client, text) for text in texts))
        found = dict(zip(texts, counted, strict=True))
        if self._added is None and found.get("") is not None:
            self._added = found[""]
        for text, count in found.items():
            if count is not None and self._added is not None:
                self._remember(text, max(0, count - self._added))

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
        total = self.per_prompt
        for message in messages:
            text = message_text(message)
            count = self._counts.get(text)
            total += (approximate(text) if count is None else count) + self.per_message
        return total


_tokenizers: dict[str, ModelTokenizer] = {}


def model_tokenizer(base_url: str) -> ModelTokenizer:
    """Return the shared tokenizer of the model server at ``base_url``."""
    key = base_url.rstrip("/")
    if key not in _tokenizers:
        _tokenizers[key] = ModelTokenizer(key)
    return _tokenizers[key]


_served: dict[str, ServedModel] = {}


async def served_model(base_url: str) -> ServedModel | None:
    """Return what the embedded server at ``base_url`` serves (asked once), or None."""
    key = base_url.rstrip("/")
    if key not in _served:
        try:
            async with httpx.AsyncClient(timeout=10, verify=tls_context()) as client:
                response = await client.get(key.removesuffix("/v1") + INFO_PATH)
                response.raise_for_status()
                data: dict[str, Any] = response.json()
            _served[key] = ServedModel(
                name=str(data["name"]),
                chat_format=str(data["chat_format"]),
                n_ctx=int(data["n_ctx"]),
                per_message=int(data["per_message"]),
                per_prompt=int(data["per_prompt"]),
            )
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
            logger.warning("The embedded model server did not describe its model (%s)", error)
            return None
    return _served[key]


def cached_served_model(base_url: str) -> ServedModel | None:
    """Return what :func:`served_model` learnt of ``base_url``, without asking (None: not yet)."""
    return _served.get(base_url.rstrip("/"))
