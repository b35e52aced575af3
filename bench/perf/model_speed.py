"""The embedded model through the whole stack versus the same model called in process.

Five rungs, each one layer more than the one before, with the same prompts
and sampling:

* ``direct``: the GGUF loaded in this process with the settings the embedded
  server uses (``ModelSettings`` as ``agent.models.local.server.serve`` builds
  them), called with the keyword arguments the server would pass to
  ``create_chat_completion`` for the request ``ChatOpenAI`` sends;
* ``http``: that request, as raw HTTP, to the running embedded model server;
* ``chat_openai``: the graph's own ``ChatOpenAI`` streaming from that server;
* ``graph``: the chatbot graph in this process (in-memory checkpointer);
* ``stack``: SDK ``runs.stream`` -> ``langgraph dev`` -> the graph -> ``ChatOpenAI``
  -> the embedded server (the one ``langgraph dev`` started).

The rungs take turns, never at the same time (two cores), and rotate prompts
so that no request finds its whole prompt in llama.cpp's prefix cache. Tokens
are counted the same way everywhere: the reply's text through the model's own
tokenizer. Tokens/s = (tokens - 1) / (last chunk - first chunk).
"""

from __future__ import annotations

import gc
import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from unittest import mock

import httpx
from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent import settings
from agent.conversation.context import Context
from agent.conversation.prompt import render_system_prompt
from agent.conversation.prompts import DEFAULT_LANGUAGE
from agent.graph import build_graph
from agent.models.endpoint import load_chat_model
from agent.models.local.chat_formats import GEMMA, register_gemma_format
from agent.models.local.server import (
    DEFAULT_N_THREADS,
    describe_model,
    model_settings,
    read_metadata,
)
from agent.models.local.weights import model_file
from agent.settings import LOCAL_MODEL_URL
from agent.testing.turns import user
from bench.perf.common import dev_server
from bench.perf.stats import median, ratio

PROMPTS = (
    "List the numbers from 100 to 150.",
    "List the even numbers from 2 to 100.",
    "Write the numbers from 200 to 260, separated by commas.",
)
"""Prompts the small base model answers at some length (34-50 tokens), on one line."""

RUNGS = ("direct", "http", "chat_openai", "graph", "stack")
"""From the bare model to the whole stack; each adds one layer to the one before."""

_MODEL_URL = re.compile(r"Embedded model loaded and serving at (\S+/v1)")

Sample = dict[str, Any]


def _prompt(text: str) -> list[BaseMessage]:
    """Return the prompt the chatbot graph sends for a first message on a new thread."""
    system = render_system_prompt(Context().system_prompt, DEFAULT_LANGUAGE)
    return [system, HumanMessage(text)]


def _embedded_env(base_url: str) -> dict[str, str]:
    """Return this process's environment with the embedded model at ``base_url``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    environment[LOCAL_MODEL_URL.name] = base_url
    return environment


def _chat_model(base_url: str) -> Any:
    """Return the graph's own ``ChatOpenAI`` for the embedded server at ``base_url``."""
    with mock.patch.dict(os.environ, _embedded_env(base_url), clear=True):
        return load_chat_model(Context())


def request_payload(text: str) -> dict[str, Any]:
    """Return the JSON body the graph's ``ChatOpenAI`` posts for ``text``."""
    payload: dict[str, Any] = _chat_model("http://127.0.0.1:9/v1")._get_request_payload(
        _prompt(text), stream=True
    )
    # The OpenAI client merges `extra_body` into the JSON it posts.
    extra_body = payload.pop("extra_body", None) or {}
    return {**payload, **extra_body}


def _sent_cap(payload: dict[str, Any]) -> Any:
    """Return the reply cap the request carries, in whichever field it uses."""
    return payload.get("max_tokens", payload.get("max_completion_tokens"))


def server_kwargs(text: str) -> dict[str, Any]:
    """Return what the embedded server passes to ``create_chat_completion`` for ``text``.

    The server parses the body into its request model (which has no
    ``max_completion_tokens``) and drops the same fields as here.
    """
    from llama_cpp.server.types import CreateChatCompletionRequest

    request = CreateChatCompletionRequest(**request_payload(text))
    kwargs: dict[str, Any] = request.model_dump(
        exclude={"n", "logit_bias_type", "user", "min_tokens"}
    )
    return kwargs


def load_direct() -> Any:
    """Load the model in this process exactly as the embedded server does."""
    from llama_cpp.server.model import LlamaProxy

    path = model_file()
    served = describe_model(path, read_metadata(path), settings.MODEL_CONTEXT.get())
    if served.chat_format == GEMMA:
        register_gemma_format()
    return LlamaProxy.load_llama_from_model_settings(model_settings(path, served))


class _Timer:
    """Collects a reply's pieces with the time each arrived."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first = self.last = 0.0
        self.text = ""

    def piece(self, text: str) -> None:
        if text:
            self.last = time.perf_counter()
            self.first = self.first or self.last
            self.text += text

    def sample(self) -> Sample:
        return {
            "ttft_s": self.first - self.started,
            "gen_s": self.last - self.first,
            "text": self.text,
        }


def _deltas(chunks: Iterator[dict[str, Any]]) -> Iterator[str]:
    for chunk in chunks:
        for choice in chunk.get("choices", []):
            yield (choice.get("delta") or {}).get("content") or ""


def direct_sample(llm: Any, text: str) -> Sample:
    """Generate one reply in process."""
    kwargs = server_kwargs(text)
    timer = _Timer()
    for piece in _deltas(llm.create_chat_completion(**kwargs)):
        timer.piece(piece)
    return timer.sample()


async def _sse_chunks(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line.removeprefix("data: "))


async def http_sample(http: httpx.AsyncClient, base_url: str, text: str) -> Sample:
    """Post the graph's request body to the model server and read the stream raw."""
    timer = _Timer()
    async with http.stream("POST", f"{base_url}/chat/completions", json=request_payload(text)) as r:
        async for chunk in _sse_chunks(r):
            for choice in chunk.get("choices", []):
                timer.piece((choice.get("delta") or {}).get("content") or "")
    return timer.sample()


async def chat_openai_sample(chat: Any, text: str) -> Sample:
    """Stream one reply with the graph's ``ChatOpenAI``."""
    timer = _Timer()
    async for message in chat.astream(_prompt(text)):
        timer.piece(str(message.content))
    return timer.sample()


async def graph_sample(graph: Any, base_url: str, text: str) -> Sample:
    """Run the chatbot graph in process on a new thread, streaming its tokens."""
    config: Any = {"configurable": {"thread_id": os.urandom(8).hex()}}
    with mock.patch.dict(os.environ, _embedded_env(base_url), clear=True):
        timer = _Timer()
        async for message, _metadata in graph.astream(user(text), config, stream_mode="messages"):
            if type(message).__name__ == "AIMessageChunk":
                timer.piece(str(message.content))
    return timer.sample()


async def stack_sample(client: LangGraphClient, text: str) -> Sample:
    """Send one message on a new thread through the server.

    ``queue_s`` is the time until the run's first state arrives (the run left
    the server's queue); the rest of the time to first token is the run's own.
    """
    thread = (await client.threads.create())["thread_id"]
    timer = _Timer()
    began = 0.0
    async for part in client.runs.stream(
        thread, "chatbot", input=user(text), stream_mode=["messages-tuple", "values"]
    ):
        if part.event == "error":
            raise RuntimeError(f"the run failed: {part.data}")
        if part.event == "values" and not began:
            began = time.perf_counter()
        if part.event == "messages":
            chunk, _metadata = part.data
            if chunk.get("type") == "AIMessageChunk":
                timer.piece(str(chunk.get("content") or ""))
    return {**timer.sample(), "queue_s": began - timer.started}


def _rate(sample: Sample) -> float:
    tokens: int = sample["tokens"]
    return (tokens - 1) / sample["gen_s"] if sample["gen_s"] > 0 else float("nan")


def summarize(samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """Return per-rung medians and each rung's ratio to ``direct``."""
    rungs: dict[str, dict[str, float]] = {}
    for rung, rows in samples.items():
        rungs[rung] = {
            "ttft_ms": median([s["ttft_s"] for s in rows]) * 1000,
            "tokens_per_s": median([s["tokens_per_s"] for s in rows]),
            "tokens": median([s["tokens"] for s in rows]),
        }
        if rows and "queue_s" in rows[0]:
            rungs[rung]["queue_ms"] = median([s["queue_s"] for s in rows]) * 1000
            rungs[rung]["in_run_ttft_ms"] = (
                median([s["ttft_s"] - s["queue_s"] for s in rows]) * 1000
            )
    direct = rungs["direct"]
    for values in rungs.values():
        values["tokens_per_s_ratio"] = ratio(values["tokens_per_s"], direct["tokens_per_s"])
        values["ttft_ratio"] = ratio(values["ttft_ms"], direct["ttft_ms"])
    return rungs


async def measure(repeats: int = 3) -> dict[str, Any]:
    """Run every prompt ``repeats`` times on every rung, taking turns; return medians."""
    samples: dict[str, list[Sample]] = {rung: [] for rung in RUNGS}
    with dev_server(prefix="chatbot-perf-model-") as server:
        found = _MODEL_URL.search(server.log())
        if not found:
            raise RuntimeError("the server's log does not say where the embedded model serves")
        base_url = found.group(1)
        client = get_client(url=server.url, api_key=None)
        chat = _chat_model(base_url)
        graph = build_graph().compile(checkpointer=InMemorySaver())
        llm = load_direct()
        try:
            async with httpx.AsyncClient(timeout=120) as http:
                run: dict[str, Callable[[str], Awaitable[Sample]]] = {
                    "http": lambda text: http_sample(http, base_url, text),
                    "chat_openai": lambda text: chat_openai_sample(chat, text),
                    "graph": lambda text: graph_sample(graph, base_url, text),
                    "stack": lambda text: stack_sample(client, text),
                }
                for round_ in range(-1, repeats * len(PROMPTS)):  # round -1 warms up
                    for index, rung in enumerate(RUNGS):
                        text = PROMPTS[(round_ + index) % len(PROMPTS)]
                        if rung == "direct":
                            sample = direct_sample(llm, text)
                        else:
                            sample = await run[rung](text)
                        if round_ >= 0:
                            samples[rung].append({"prompt": text, **sample})
            for sample in (s for rows in samples.values() for s in rows):
                sample["tokens"] = len(llm.tokenize(sample["text"].encode(), add_bos=False))
                sample["tokens_per_s"] = _rate(sample)
        finally:
            del llm
            gc.collect()
    replies = {s["prompt"]: s["text"] for s in samples["direct"]}
    same_text = all(s["text"] == replies[s["prompt"]] for rows in samples.values() for s in rows)
    return {
        "rungs": summarize(samples),
        "same_text": same_text,
        "max_tokens_sent": _sent_cap(request_payload(PROMPTS[0])),
        "max_tokens_seen_by_server": server_kwargs(PROMPTS[0]).get("max_tokens"),
        "prompts": list(PROMPTS),
        "repeats": repeats,
        "n_ctx": settings.MODEL_CONTEXT.get(),
        "n_threads": DEFAULT_N_THREADS,
        "samples": samples,
    }
