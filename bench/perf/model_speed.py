"""The embedded model through the whole stack versus the same model called in process.

Five rungs, each one layer more than the one before, generating the same
tokens from the same request:

* ``direct``: the GGUF loaded with the settings the embedded server uses
  (``ModelSettings`` as ``agent.models.local.server.serve`` builds them, and
  its prompt cache), in a process of its own (``bench.perf.direct_worker``)
  and from a worker thread, as the server runs it, called with the keyword
  arguments the server passes to ``create_chat_completion`` for the graph's
  request;
* ``http``: the graph's request body, as raw HTTP, to the running embedded
  model server;
* ``chat_openai``: the graph's own ``ChatOpenAI`` streaming the same messages
  from that server;
* ``graph``: the chatbot graph in this process (in-memory checkpointer);
* ``stack``: SDK ``runs.stream`` -> ``langgraph dev`` -> the graph -> ``ChatOpenAI``
  -> the embedded server (the one ``langgraph dev`` started).

Same tokens on every rung: one prompt (:data:`PROMPT`, which makes the model
write far past the cap), temperature 0 (greedy decoding, so no random seed is
drawn), memory off, and a reply cap of :data:`CAP` tokens on every rung
(``CHATBOT_MAX_REPLY_TOKENS``), so every reply is cut at exactly the cap. The
request every rung sends is the one the graph sent in the warm-up round
(recorded), and the rungs that go through ``ChatOpenAI`` in this process are
checked to send it again. The result says whether every reply of every rung
had the same text and exactly :data:`CAP` tokens.

The prompt is the same every time, so it is read from llama.cpp's cache on
every rung (the server's and the direct model's alike; see :func:`prime`):
the first token measures what each layer adds, not prompt reading
(``bench.first_token`` and the design notes measure that). The rungs take
turns, never at the same time (two cores), and each waits until the model
server, ``langgraph dev`` and the direct model are idle (the graph's
housekeeping reads the next prompt ahead after each reply). Each sample
records the CPU other programs took while it ran (:class:`Others`).
Tokens are counted the same way everywhere: the reply's text through the
model's own tokenizer. Tokens/s = (tokens - 1) / (last chunk - first chunk).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent import housekeeping, settings
from agent.conversation.context import Context
from agent.graph import build_graph
from agent.models.endpoint import load_chat_model
from agent.models.local.chat_formats import GEMMA, register_gemma_format
from agent.models.local.server import (
    DEFAULT_N_THREADS,
    compact_prompt_cache,
    describe_model,
    model_settings,
    read_metadata,
)
from agent.models.local.weights import model_file
from agent.settings import LOCAL_MODEL_URL, MAX_REPLY_TOKENS
from agent.testing.dev_server import PROJECT_ROOT
from agent.testing.turns import user
from agent.turn import PURPOSE_HEADER
from bench.perf.common import dev_server
from bench.perf.stats import median, ratio

PROMPT = "Count from 1 to 1000, one number per line, with no other text."
"""A reply far longer than :data:`CAP` (the model counts on), so every reply stops at the cap."""

CAP = 64
"""Tokens every reply generates (``CHATBOT_MAX_REPLY_TOKENS`` on every rung)."""

CONTEXT = Context(temperature=0.0, remember=False)
"""The run's context on every rung: greedy decoding, no memory (it would change the prompt)."""

RUNGS = ("direct", "http", "chat_openai", "graph", "stack")
"""From the bare model to the whole stack; each adds one layer to the one before."""

QUIET_CPU_SHARE = 0.05
"""A process is idle when it used less than this share of one core over a short window."""

_MODEL_URL = re.compile(r"Embedded model loaded and serving at (\S+/v1) in \S+ s \(pid (\d+)\)")

Sample = dict[str, Any]
Payload = dict[str, Any]


def _embedded_env(base_url: str) -> dict[str, str]:
    """Return this process's environment with the embedded model at ``base_url``, capped."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    environment[LOCAL_MODEL_URL.name] = base_url
    environment[MAX_REPLY_TOKENS.name] = str(CAP)
    return environment


def _chat_model(base_url: str, model: str = "") -> Any:
    """Return the graph's own ``ChatOpenAI`` for the embedded server at ``base_url``."""
    with mock.patch.dict(os.environ, _embedded_env(base_url), clear=True):
        return load_chat_model(replace(CONTEXT, model=model))


def _messages(payload: Payload) -> list[BaseMessage]:
    """Return a request body's messages as LangChain messages."""
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in payload["messages"]]


def sent_cap(payload: Payload) -> Any:
    """Return the reply cap the request carries, in whichever field it uses."""
    return payload.get("max_tokens", payload.get("max_completion_tokens"))


def server_kwargs(payload: Payload) -> dict[str, Any]:
    """Return what the embedded server passes to ``create_chat_completion`` for ``payload``.

    The server parses the body into its request model (which has no
    ``max_completion_tokens``) and drops the same fields as here.
    """
    from llama_cpp.server.types import CreateChatCompletionRequest

    request = CreateChatCompletionRequest(**payload)
    kwargs: dict[str, Any] = request.model_dump(
        exclude={"n", "logit_bias_type", "user", "min_tokens"}
    )
    return kwargs


def same_request(sent: Payload, reference: Payload) -> bool:
    """Tell whether ``sent`` asks the model for what ``reference`` asks (messages, sampling, cap)."""
    keys = ("messages", "temperature", "max_tokens", "seed", "stream")
    return all(sent.get(key) == reference.get(key) for key in keys)


def _client_classes() -> list[Any]:
    """Return the async HTTP client classes a model request may go through.

    The OpenAI SDK sends through its own fork of httpx (``httpx2``) where it
    has one, the rest of the stack through httpx.
    """
    classes: list[Any] = [httpx.AsyncClient]
    with contextlib.suppress(ImportError):
        import httpx2  # type: ignore[import-not-found, unused-ignore]

        classes.append(httpx2.AsyncClient)
    return classes


@contextlib.contextmanager
def recording(bodies: list[Payload]) -> Iterator[None]:
    """Record the body of every reply request this process sends to a chat completions route.

    Background requests (the graph's housekeeping names its purpose in a
    header) are left out.
    """
    with contextlib.ExitStack() as stack:
        for client_class in _client_classes():
            original = client_class.send

            async def send(
                self: Any, request: Any, *args: Any, _original: Any = original, **kwargs: Any
            ) -> Any:
                path = str(request.url.path)
                if path.endswith("/chat/completions") and PURPOSE_HEADER not in request.headers:
                    bodies.append(json.loads(request.content))
                return await _original(self, request, *args, **kwargs)

            stack.enter_context(mock.patch.object(client_class, "send", send))
        yield


def load_direct() -> Any:
    """Load the model in this process exactly as the embedded server does."""
    from llama_cpp.server.model import LlamaProxy

    path = model_file()
    served = describe_model(path, read_metadata(path), settings.MODEL_CONTEXT.get())
    if served.chat_format == GEMMA:
        register_gemma_format()
    llm = LlamaProxy.load_llama_from_model_settings(model_settings(path, served))
    llm.set_cache(compact_prompt_cache())
    return llm


def _cpu_seconds(pid: int) -> float:
    """Return the CPU time ``pid`` has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_cpu_seconds() -> float:
    """Return the CPU time the whole machine has spent busy so far (``/proc/stat``)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Others:
    """Measures the CPU that processes other than the benchmark's used during a sample.

    The benchmark's processes are the model server, ``langgraph dev``, this
    process and the direct model's. Another program generating on the same
    two cores at the same time slows every llama.cpp rung down several times,
    so each sample says how many cores others took while it ran.
    """

    def __init__(self, pids: list[int]) -> None:
        """Start measuring, for the benchmark's processes ``pids``."""
        self.pids = pids
        self.started = time.perf_counter()
        self.busy = _busy_cpu_seconds()
        self.ours = sum(_cpu_seconds(pid) for pid in pids)

    def cores(self) -> float:
        """Return the cores others used on average since the start (0 when none)."""
        elapsed = time.perf_counter() - self.started
        busy = _busy_cpu_seconds() - self.busy
        ours = sum(_cpu_seconds(pid) for pid in self.pids) - self.ours
        return max(0.0, (busy - ours) / elapsed) if elapsed > 0 else float("nan")


async def quiet(pids: list[int], window: float = 0.2, timeout: float = 30.0) -> float:
    """Wait until every process in ``pids`` stays idle for two windows; return the wait."""
    started = time.perf_counter()
    calm = 0
    while calm < 2 and time.perf_counter() - started < timeout:
        before = sum(_cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(window)
        used = sum(_cpu_seconds(pid) for pid in pids) - before
        calm = calm + 1 if used < QUIET_CPU_SHARE * window else 0
    return time.perf_counter() - started


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


def direct_sample(llm: Any, payload: Payload) -> Sample:
    """Generate one reply in process."""
    kwargs = server_kwargs(payload)
    timer = _Timer()
    for piece in _deltas(llm.create_chat_completion(**kwargs)):
        timer.piece(piece)
    return timer.sample()


class DirectModel:
    """The ``direct`` rung's model in its own process (``bench.perf.direct_worker``)."""

    def __init__(self) -> None:
        """Start the process and wait until its model is loaded."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.perf.direct_worker"],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if not json.loads(self.process.stdout.readline() or "{}").get("ready"):
            raise RuntimeError("the direct model's process did not start")

    @property
    def pid(self) -> int:
        """The process's id."""
        return self.process.pid

    def sample(self, payload: Payload) -> Sample:
        """Generate one reply for ``payload`` in the model's process."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(payload) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the direct model's process exited")
        sample: Sample = json.loads(line)
        return sample

    def close(self) -> None:
        """End the process (it exits when its stdin closes)."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def prime(http: httpx.AsyncClient, base_url: str, payload: Payload) -> None:
    """Leave the model server's context holding the request's prompt, as the direct model's does.

    The graph's housekeeping reads the next turn's prompt ahead after each
    reply (its first message without the language reminder the reply's
    prompt carries), so without this the rung after a ``graph`` or ``stack``
    rung would find a different prompt in the server's context and pay a
    prompt-cache load in its first token. One token, not timed.
    """
    body = {**payload, "stream": False, "max_tokens": 1}
    (await http.post(f"{base_url}/chat/completions", json=body)).raise_for_status()


async def _sse_chunks(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line.removeprefix("data: "))


async def http_sample(http: httpx.AsyncClient, base_url: str, payload: Payload) -> Sample:
    """Post the graph's request body to the model server and read the stream raw."""
    timer = _Timer()
    async with http.stream("POST", f"{base_url}/chat/completions", json=payload) as response:
        async for chunk in _sse_chunks(response):
            for choice in chunk.get("choices", []):
                timer.piece((choice.get("delta") or {}).get("content") or "")
    return timer.sample()


async def chat_openai_sample(chat: Any, payload: Payload) -> Sample:
    """Stream one reply with the graph's ``ChatOpenAI``, recording the request it sends."""
    bodies: list[Payload] = []
    timer = _Timer()
    with recording(bodies):
        async for message in chat.astream(_messages(payload)):
            timer.piece(str(message.content))
    return {**timer.sample(), "same_request": bool(bodies) and same_request(bodies[0], payload)}


async def graph_request(graph: Any, base_url: str, text: str) -> tuple[Sample, Payload]:
    """Run the chatbot graph in process on a new thread; return the sample and its request.

    The graph's housekeeping (it reads the next prompt ahead) is awaited before
    returning, in the same environment, so it overlaps no other rung.
    """
    config: Any = {"configurable": {"thread_id": os.urandom(8).hex()}}
    bodies: list[Payload] = []
    with mock.patch.dict(os.environ, _embedded_env(base_url), clear=True), recording(bodies):
        timer = _Timer()
        async for message, _metadata in graph.astream(
            user(text), config, stream_mode="messages", context=CONTEXT
        ):
            if type(message).__name__ == "AIMessageChunk":
                timer.piece(str(message.content))
        sample = timer.sample()
        await housekeeping.drained()
    if len(bodies) != 1:
        raise RuntimeError(f"the graph sent {len(bodies)} reply requests, not 1")
    return sample, bodies[0]


async def stack_sample(client: LangGraphClient, text: str) -> Sample:
    """Send one message on a new thread through the server.

    ``queue_s`` is the time until the run's first state arrives (the run left
    the server's queue); the rest of the time to first token is the run's own.
    """
    thread = (await client.threads.create())["thread_id"]
    timer = _Timer()
    began = 0.0
    async for part in client.runs.stream(
        thread,
        "chatbot",
        input=user(text),
        context={"temperature": CONTEXT.temperature, "remember": CONTEXT.remember},
        stream_mode=["messages-tuple", "values"],
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


def tokenize(text: str) -> list[int]:
    """Return ``text``'s token ids by the model's own tokenizer."""
    tokenizer = _tokenizer()
    return list(tokenizer.tokenize(text.encode(), add_bos=False))


@functools.cache
def _tokenizer() -> Any:
    """Return the model's tokenizer alone (its vocabulary, not its weights)."""
    from llama_cpp import Llama

    return Llama(model_path=str(model_file()), vocab_only=True, verbose=False)


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
            "others_cores": median([s.get("others_cores", float("nan")) for s in rows]),
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


def same_tokens(samples: dict[str, list[Sample]], cap: int = CAP) -> dict[str, Any]:
    """Check that every reply of every rung is the same text of exactly ``cap`` tokens."""
    replies = [s for rows in samples.values() for s in rows]
    reference = samples["direct"][0]["text"] if samples.get("direct") else ""
    differing = sorted(
        {rung for rung, rows in samples.items() if any(s["text"] != reference for s in rows)}
    )
    lengths = sorted({s["tokens"] for s in replies})
    return {
        "same_text": bool(replies) and not differing,
        "at_cap": bool(replies) and lengths == [cap],
        "differing_rungs": differing,
        "token_counts": lengths,
    }


async def measure(repeats: int = 4) -> dict[str, Any]:
    """Run ``repeats`` replies on every rung, taking turns (after one warm-up round)."""
    samples: dict[str, list[Sample]] = {rung: [] for rung in RUNGS}
    waits: list[float] = []
    with dev_server(env={MAX_REPLY_TOKENS.name: str(CAP)}, prefix="chatbot-perf-model-") as server:
        found = _MODEL_URL.search(server.log())
        if not found:
            raise RuntimeError("the server's log does not say where the embedded model serves")
        base_url, model_pid = found.group(1), int(found.group(2))
        assert server.process is not None
        client = get_client(url=server.url, api_key=None)
        graph = build_graph().compile(checkpointer=InMemorySaver())
        direct = await asyncio.to_thread(DirectModel)
        pids = [model_pid, server.process.pid, os.getpid(), direct.pid]
        try:
            async with httpx.AsyncClient(timeout=120) as http:
                # The warm-up round starts with the graph: its request is every rung's.
                _sample, payload = await graph_request(graph, base_url, PROMPT)
                chat = _chat_model(base_url, payload["model"])
                run: dict[str, Callable[[], Awaitable[Sample]]] = {
                    "http": lambda: http_sample(http, base_url, payload),
                    "chat_openai": lambda: chat_openai_sample(chat, payload),
                    "graph": lambda: _graph_sample(graph, base_url, payload),
                    "stack": lambda: stack_sample(client, PROMPT),
                }
                for round_ in range(-1, repeats):  # round -1 warms up
                    for rung in RUNGS:
                        waits.append(await quiet(pids))
                        if rung != "direct":
                            await prime(http, base_url, payload)
                        others = Others(pids)
                        if rung == "direct":
                            sample = await asyncio.to_thread(direct.sample, payload)
                        else:
                            sample = await run[rung]()
                        sample["others_cores"] = others.cores()
                        if round_ >= 0:
                            samples[rung].append(sample)
            for sample in (s for rows in samples.values() for s in rows):
                sample["tokens"] = len(tokenize(sample["text"]))
                sample["tokens_per_s"] = _rate(sample)
        finally:
            direct.close()
    requests_match = all(
        s.get("same_request", True) for rung in ("chat_openai", "graph") for s in samples[rung]
    )
    return {
        "rungs": summarize(samples),
        **same_tokens(samples),
        "same_request": requests_match,
        "prompt": PROMPT,
        "cap": CAP,
        "reply": samples["direct"][0]["text"] if samples["direct"] else "",
        "max_tokens_sent": sent_cap(payload),
        "max_tokens_seen_by_server": server_kwargs(payload).get("max_tokens"),
        "temperature": payload.get("temperature"),
        "prompt_messages": payload.get("messages"),
        "repeats": repeats,
        "quiet_wait_s": median(waits),
        "n_ctx": settings.MODEL_CONTEXT.get(),
        "n_threads": DEFAULT_N_THREADS,
        "samples": samples,
    }


async def _graph_sample(graph: Any, base_url: str, payload: Payload) -> Sample:
    """Run the graph once more; say whether it sent the reference request again."""
    sample, sent = await graph_request(graph, base_url, PROMPT)
    return {**sample, "same_request": same_request(sent, payload)}
