"""A scripted OpenAI-compatible chat server for tests and benchmarks.

``python -m agent.testing.scripted_model --port N`` or :func:`serve_in_thread`. It
answers every chat completion (streamed or not) at once with a short fixed
reply, unless :data:`settings` scripts otherwise: replies to give, a delay,
and faults by schedule, before the reply (HTTP statuses, hangs past the
client's timeout) or in the middle of it (a dropped connection, a stall, an
error event), so what a test or benchmark measures is the chatbot stack, not
a model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.conversation.prompts import NEW_MESSAGES, SUMMARIZER_INSTRUCTIONS, SUMMARY_SO_FAR
from agent.models.local.launcher import free_port

REPLY = "Sure, noted."

PURPOSE_HEADER = "x-chatbot-purpose"
"""The header the chatbot names a background request's purpose in (see ``agent.graph``)."""

NOTHING_NOTED = "none"
"""What a memory extraction gets when no answer is scripted for it."""

SERVED_MODEL = "scripted-model"
"""The one model ``GET /v1/models`` lists."""


@dataclass
class Settings:
    """Behaviour of the running server; tests change it between requests."""

    delay_s: float = 0.0
    """Seconds to wait before answering each request."""

    replies: list[str] = field(default_factory=list)
    """Replies to give to the chatbot's replies, first one first; :data:`REPLY` once empty.

    Only requests for a reply take them: the chatbot's background requests (a
    summary, a memory extraction, a warm-up: see :data:`PURPOSE_HEADER`) are
    answered from :attr:`background_replies`, so a test's scripted replies
    never go to whichever background request comes first."""

    background_replies: dict[str, list[str]] = field(default_factory=dict)
    """Answers to background requests by purpose (``summary``, ``memory``, ``warm-up``),
    first one first; once a purpose's list is empty: ``none`` to a memory extraction,
    :data:`REPLY` to the rest (or a summary by rule, see :attr:`summarize_by_rule`)."""

    purpose_delay_s: dict[str, float] = field(default_factory=dict)
    """Seconds to wait before answering requests of a purpose (``reply`` for replies)."""

    purposes: list[str] = field(default_factory=list)
    """The purpose of every chat completion request, in order (``reply`` for replies)."""

    answered: list[str] = field(default_factory=list)
    """The purpose of every request answered so far, in the order they were answered."""

    failures: list[int | str | None] = field(default_factory=list)
    """How to answer the next requests, first one first; normal once it is empty.

    * an HTTP status: answer with that error;
    * ``"timeout"``: hang for :attr:`hang_s` before answering;
    * ``"cut"``: send the first half of the reply, then drop the connection;
    * ``"stall"``: send the first half, then hang for :attr:`hang_s` mid-reply;
    * ``"error-event"``: stream the first half, then an error event (streamed
      requests; a plain request gets a 500 instead);
    * None: answer normally.
    """

    hang_s: float = 5.0
    """How long a "timeout" request hangs before answering."""

    requests: int = 0
    """Chat completion requests received so far."""

    last_request: dict[str, Any] = field(default_factory=dict)
    """The body of the latest chat completion request."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    """The body of every chat completion request, in order."""

    word_delay_s: float = 0.0
    """Seconds between the words of a streamed reply (a slow model, for stop and cancel)."""

    summarize_by_rule: bool = False
    """Answer the chatbot's summarizer requests by rule: keep the summary so far, or start it
    with the first thing the user said. Follows the mechanism (what the summarizer returns
    reaches later prompts), not wit."""

    counted: list[str] = field(default_factory=list)
    """Texts the tokenizer endpoint was asked to count."""

    script: int = 0
    """Bumped by every :meth:`reset`. A request that waited across a reset (a scripted delay
    outliving its test) belongs to the script before, and takes nothing from this one."""

    def reset(self) -> None:
        """Go back to answering every request at once with :data:`REPLY`, counts at zero."""
        script = self.script + 1
        self.__dict__.update(vars(Settings()))
        self.script = script


settings = Settings()

_stopped: set[int] = set()
"""Ports of the servers :func:`running` has stopped (until a new one takes the port)."""


def _refused(why: str) -> Response:
    return JSONResponse({"error": {"message": why, "type": "server_error"}}, status_code=503)


def _stopped_server(request: Request) -> int | None:
    """Return the port of a stopped server ``request`` reached, None if it still serves.

    The :data:`settings` are shared by every server of the process: a request
    late to a stopped one must not take the next test's scripted reply.
    """
    server = request.scope.get("server")
    port = server[1] if server else None
    return port if port in _stopped else None


def _chunk(completion_id: str, model: str, delta: dict[str, str], finish: str | None) -> str:
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


class _ScriptedCut(Exception):
    """Raised inside a response body to make the server drop the connection."""


def _completion(completion_id: str, model: str, reply: str) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
    }


async def _stream(
    completion_id: str, model: str, reply: str, fault: int | str | None
) -> AsyncIterator[str]:
    """Stream ``reply`` a word a chunk; a mid-reply ``fault`` strikes halfway."""
    words = reply.split(" ")
    half = max(1, len(words) // 2)
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""}, None)
    for index, word in enumerate(words):
        if index == half and fault == "cut":
            raise _ScriptedCut("scripted: connection dropped mid-reply")
        if index == half and fault == "stall":
            await asyncio.sleep(settings.hang_s)
        if index == half and fault == "error-event":
            error = {"message": "scripted failure mid-reply", "type": "server_error"}
            yield f"data: {json.dumps({'error': error})}\n\n"
            return
        text = word if index == 0 else " " + word
        if index and settings.word_delay_s:
            await asyncio.sleep(settings.word_delay_s)
        yield _chunk(completion_id, model, {"content": text}, None)
    yield _chunk(completion_id, model, {}, "stop")
    yield "data: [DONE]\n\n"


async def _body_cut_short(text: str, fault: int | str | None) -> AsyncIterator[str]:
    """Send the first half of a plain response body, then drop or stall."""
    yield text[: len(text) // 2]
    if fault == "stall":
        await asyncio.sleep(settings.hang_s)
        yield text[len(text) // 2 :]
        return
    raise _ScriptedCut("scripted: connection dropped mid-body")


async def chat_completions(request: Request) -> Response:
    """Answer a chat completion request as :data:`settings` scripts it."""
    if stopped := _stopped_server(request):
        return _refused(f"the scripted model on port {stopped} was stopped")
    script = settings.script
    payload = await request.json()
    purpose = request.headers.get(PURPOSE_HEADER, "reply")
    settings.requests += 1
    settings.last_request = payload
    settings.bodies.append(payload)
    settings.purposes.append(purpose)
    if settings.delay_s:
        await asyncio.sleep(settings.delay_s)
    if settings.purpose_delay_s.get(purpose):
        await asyncio.sleep(settings.purpose_delay_s[purpose])
    ended = "the script this request was sent under ended while it waited"
    if settings.script != script:
        return _refused(ended)
    fault = settings.failures.pop(0) if settings.failures else None
    if fault == "timeout":
        await asyncio.sleep(settings.hang_s)
        if settings.script != script:
            return _refused(ended)
    if isinstance(fault, int) or (fault == "error-event" and not payload.get("stream")):
        status = fault if isinstance(fault, int) else 500
        error = {"message": f"scripted failure {status}", "type": "server_error", "code": status}
        return JSONResponse({"error": error}, status_code=status)
    model = payload.get("model", "instant")
    reply = _answer(purpose, payload)
    settings.answered.append(purpose)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if payload.get("stream"):
        return StreamingResponse(
            _stream(completion_id, model, reply, fault), media_type="text/event-stream"
        )
    body = json.dumps(_completion(completion_id, model, reply))
    if fault in ("cut", "stall"):
        return StreamingResponse(_body_cut_short(body, fault), media_type="application/json")
    return Response(body, media_type="application/json")


def _answer(purpose: str, payload: dict[str, Any]) -> str:
    """Return the scripted answer to a request of ``purpose``."""
    if purpose == "reply":
        return settings.replies.pop(0) if settings.replies else REPLY
    scripted = settings.background_replies.get(purpose)
    if scripted:
        return scripted.pop(0)
    if settings.summarize_by_rule and _asks_for_summary(payload):
        return _summary_by_rule(payload)
    return NOTHING_NOTED if purpose == "memory" else REPLY


def _asks_for_summary(payload: dict[str, Any]) -> bool:
    first = (payload.get("messages") or [{}])[0]
    return first.get("role") == "system" and str(first.get("content", "")).startswith(
        SUMMARIZER_INSTRUCTIONS[:40]
    )


def _summary_by_rule(payload: dict[str, Any]) -> str:
    request = str(payload["messages"][-1]["content"])
    so_far, _, new = request.removeprefix(f"{SUMMARY_SO_FAR} ").partition(f" {NEW_MESSAGES} ")
    if so_far.strip() and so_far.strip() != "none.":
        return so_far.strip()
    first_said = new.partition('user: "')[2].partition('"')[0]
    return f"The user said: {first_said}"


async def tokenize_count(request: Request) -> Response:
    """Count like llama-cpp-python's ``/extras/tokenize/count``: one token a word, plus BOS."""
    text = (await request.json())["input"]
    settings.counted.append(text)
    return JSONResponse({"count": len(text.split()) + 1})


SERVED_FORMAT = {"chat_format": "chatml", "n_ctx": 4096, "per_message": 3, "per_prompt": 2}
"""What the scripted server says of its chat format at ``/extras/chatbot`` (like the embedded one)."""


async def describe_model(_: Request) -> Response:
    """Describe the served model like the embedded server's ``/extras/chatbot``."""
    return JSONResponse({"name": SERVED_MODEL, **SERVED_FORMAT})


async def list_models(_: Request) -> Response:
    """List the one model served, like any OpenAI-compatible server."""
    return JSONResponse({"object": "list", "data": [{"id": SERVED_MODEL, "object": "model"}]})


app = Starlette(
    routes=[
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/extras/tokenize/count", tokenize_count, methods=["POST"]),
        Route("/extras/chatbot", describe_model, methods=["GET"]),
    ]
)


@contextmanager
def running(host: str = "127.0.0.1") -> Iterator[str]:
    """Serve on a free port, in a thread, with fresh :data:`settings`; yield the base URL."""
    port = free_port(host)
    settings.reset()
    server = serve_in_thread(port, host)
    _stopped.discard(port)
    try:
        yield f"http://{host}:{port}/v1"
    finally:
        _stopped.add(port)
        server.should_exit = True
        settings.reset()


def serve_in_thread(port: int, host: str = "127.0.0.1") -> uvicorn.Server:
    """Start the server in a daemon thread; return it (set ``should_exit`` to stop)."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning")
