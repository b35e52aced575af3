"""Reject bad chat input at the server's edge, before a run or an update touches the thread.

Input is checked when a run (or a state update) is requested, so a bad
message fails at once with a 422 that says what was wrong and what to send
instead, and the thread's stored history stays exactly as it was (no half
turn). The same checks cover every route that writes a thread: runs (``/runs``,
``/runs/stream``, ``/runs/wait``, thread runs, ``/runs/batch``), crons,
``POST /threads/{id}/state`` and the ``supersteps`` of ``POST /threads``.
Clients may write only ``messages`` and ``language``; the running summary, its
marker and ``reply_language`` (the language the latest reply was asked in)
belong to the graph. ``language`` is a language's name, or ``""`` / ``"auto"``
to go back to replying in the language the user writes.

A run or update that starts from a ``checkpoint_id`` the thread does not have
(never had, or pruned) is refused too: LangGraph would otherwise start it
from an empty state and the thread would seem wiped.

The checks are pure functions (:func:`check_run_input`,
:func:`check_state_values`) and an ASGI middleware, :class:`RunInputValidation`,
that the web app installs.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent import settings
from agent.conversation.language import is_auto
from agent.storage.lookups import has_checkpoint, kept_turns

MAX_LANGUAGE_CHARS = 40
ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant"}
"""Accepted roles (OpenAI and LangChain spellings); system prompts come from the context."""

WRITABLE_FIELDS = ("messages", "language")
"""The state fields a client may write; everything else is the graph's own."""

FIELD_HINTS = {
    "reply_language": "to choose the reply language, set 'language' (or '' for automatic)",
}
"""What to send instead of a graph-written field a client tried to write."""

_THREAD = r"/threads/(?P<thread_id>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(rf"^({_THREAD})?/runs(/stream|/wait)?/?$"), "run"),
    ("POST", re.compile(r"^/runs/batch/?$"), "batch"),
    ("POST", re.compile(rf"^({_THREAD})?/runs/crons/?$"), "cron"),
    ("PATCH", re.compile(r"^/runs/crons/[^/]+/?$"), "cron"),
    ("POST", re.compile(rf"^{_THREAD}/state/?$"), "state"),
    ("POST", re.compile(r"^/threads/?$"), "thread"),
]
"""(method, path, kind) of every request that can write a thread's state."""

_LANGUAGE = re.compile(r"^[^\W\d_][\w\s()\-'.,]*$")


class InvalidInput(ValueError):
    """The run input cannot be accepted; the message says why and what to send."""


def _text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(part, Mapping)
        and part.get("type") == "text"
        and isinstance(part.get("text"), str)
        for part in content
    ):
        return "".join(part["text"] for part in content)
    raise InvalidInput(
        f"{where}.content must be text (a string, or a list of {{'type': 'text', 'text': ...}} "
        f"parts), not {type(content).__name__}: this chatbot reads text only."
    )


def _check_message(message: Any, where: str, limit: int) -> None:
    if not isinstance(message, Mapping):
        raise InvalidInput(f"{where} must be an object like {{'role': 'user', 'content': 'Hi'}}.")
    role = message.get("role", message.get("type"))
    if role not in ROLES:
        raise InvalidInput(
            f"{where}.role {role!r} is not one this chatbot accepts: use 'user' "
            "(or 'assistant' to add an earlier reply)."
        )
    text = _text(message.get("content"), where)
    if not text.strip():
        raise InvalidInput(f"{where} is empty: send some text.")
    if len(text) > limit:
        raise InvalidInput(
            f"{where} is {len(text):,} characters long; the limit is {limit:,} "
            "(CHATBOT_MAX_MESSAGE_CHARS). Send a shorter message or split it."
        )


def check_run_input(run_input: Any, limit: int | None = None) -> None:
    """Raise :class:`InvalidInput` unless ``run_input`` is a well-formed chat turn.

    ``None`` (resume a thread without new input, e.g. regenerate) is accepted.
    """
    if run_input is None:
        return
    if not isinstance(run_input, Mapping):
        raise InvalidInput(
            "input must be an object like {'messages': [{'role': 'user', 'content': 'Hi'}]}."
        )
    _check_fields(run_input, "input")
    messages = run_input.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInput(
            "input.messages must be a non-empty list like [{'role': 'user', 'content': 'Hi'}]."
        )
    _check_values(run_input, "input", limit)


def check_state_values(values: Any, where: str = "values", limit: int | None = None) -> None:
    """Raise :class:`InvalidInput` unless ``values`` is a state update a client may write.

    ``None`` (a fork or resume without new values) is accepted; ``messages``,
    when given, follow the run-input rules.
    """
    if values is None:
        return
    if not isinstance(values, Mapping):
        raise InvalidInput(f"{where} must be an object like {{'messages': [...]}}.")
    _check_fields(values, where)
    if "messages" in values and not isinstance(values["messages"], list):
        raise InvalidInput(f"{where}.messages must be a list of messages.")
    _check_values(values, where, limit)


def _check_fields(values: Mapping[str, Any], where: str) -> None:
    for key in values:
        if key not in WRITABLE_FIELDS:
            hint = f": {FIELD_HINTS[key]}" if key in FIELD_HINTS else ""
            raise InvalidInput(
                f"{where}.{key} cannot be set: a client writes only "
                f"{' and '.join(WRITABLE_FIELDS)}; {key!r} belongs to the chatbot{hint}."
            )


def _check_values(values: Mapping[str, Any], where: str, limit: int | None) -> None:
    limit = limit or settings.MAX_MESSAGE_CHARS.get()
    for index, message in enumerate(values.get("messages") or []):
        _check_message(message, f"{where}.messages[{index}]", limit)
    if "language" in values:
        _check_language(values["language"], where)


def _check_language(language: Any, where: str) -> None:
    if isinstance(language, str) and is_auto(language):
        return
    if (
        not isinstance(language, str)
        or not 0 < len(language.strip()) <= MAX_LANGUAGE_CHARS
        or not _LANGUAGE.match(language.strip())
    ):
        raise InvalidInput(
            f"{where}.language must be the name of a language, like 'Spanish' "
            f"(at most {MAX_LANGUAGE_CHARS} characters), or '' (or 'auto') to reply in "
            f"the language the user writes, not {language!r}."
        )


def check_request(kind: str, payload: Any) -> None:
    """Raise :class:`InvalidInput` unless a request of this ``kind`` writes only what it may."""
    if kind == "batch":
        if not isinstance(payload, list):
            raise InvalidInput("The request body must be a JSON list of run requests.")
        for index, run in enumerate(payload):
            if not isinstance(run, Mapping):
                raise InvalidInput(f"Run request [{index}] must be a JSON object.")
            try:
                check_run_input(run.get("input"))
            except InvalidInput as error:
                raise InvalidInput(f"Run request [{index}]: {error}") from None
        return
    if not isinstance(payload, Mapping):
        raise InvalidInput("The request body must be a JSON object.")
    if kind in ("run", "cron"):
        check_run_input(payload.get("input"))
    elif kind == "state":
        check_state_values(payload.get("values"))
    elif kind == "thread":
        for step, superstep in enumerate(payload.get("supersteps") or []):
            updates = superstep.get("updates") if isinstance(superstep, Mapping) else None
            for index, update in enumerate(updates or []):
                values = update.get("values") if isinstance(update, Mapping) else None
                check_state_values(values, f"supersteps[{step}].updates[{index}].values")


def requested_checkpoint(payload: Any) -> str | None:
    """Return the checkpoint id a run or update asks to start from, if any."""
    if not isinstance(payload, Mapping):
        return None
    checkpoint = payload.get("checkpoint")
    if isinstance(checkpoint, Mapping) and checkpoint.get("checkpoint_id"):
        return str(checkpoint["checkpoint_id"])
    return str(payload["checkpoint_id"]) if payload.get("checkpoint_id") else None


async def missing_checkpoint(thread_id: str, checkpoint_id: str) -> str | None:
    """Explain why a run from ``checkpoint_id`` is refused, or None when the thread has it."""
    if await has_checkpoint(thread_id, checkpoint_id) is not False:
        return None
    turns, _oldest = await kept_turns(thread_id)
    window = settings.HISTORY_TURNS.get()
    kept = "all its turns" if window is None else f"its last {window} turns"
    return (
        f"Checkpoint {checkpoint_id} is not in thread {thread_id} (it never was, or it was "
        f"pruned), so nothing was run and the thread is unchanged. This thread keeps the "
        f"checkpoints of {kept} ({turns} stored now; {settings.HISTORY_TURNS.name} sets how "
        f"many): edit or regenerate one of those, starting from a checkpoint that "
        f"POST /threads/{thread_id}/history lists."
    )


class RunInputValidation:
    """ASGI middleware: check every request that writes a thread before the server sees it."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check writing requests; pass everything else through untouched."""
        route = _route(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        kind, thread_id = route
        body = await _read_body(receive)
        problem = await _problem(kind, thread_id, body)
        if problem:
            await _reject(send, problem)
            return
        if kind in ("run", "batch"):
            body = with_message_ids(body)
            scope = {**scope, "headers": _with_length(scope["headers"], len(body))}
        await self.app(scope, _replay(body, receive), send)


def with_message_ids(body: bytes) -> bytes:
    """Return a run request's body with an id on every input message that has none.

    The server keeps a run's input until the run is done, and ``langgraph dev``
    runs again, after a crash, a run its last index flush saw pending. With ids
    fixed when the run is requested, such a replay rewrites the same messages
    instead of appending copies (and the model node does not answer twice).
    Crons are left alone: each of their runs must add new messages.
    """
    payload = json.loads(body)
    runs = payload if isinstance(payload, list) else [payload]
    for run in runs:
        run_input = run.get("input") if isinstance(run, Mapping) else None
        messages = run_input.get("messages") if isinstance(run_input, Mapping) else None
        for message in messages or []:
            if isinstance(message, dict) and not message.get("id"):
                message["id"] = str(uuid.uuid4())
    return json.dumps(payload).encode()


def _with_length(headers: Any, length: int) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]


def _route(scope: Scope) -> tuple[str, str | None] | None:
    if scope["type"] != "http":
        return None
    for method, path, kind in _ROUTES:
        if scope["method"] == method and (match := path.match(scope["path"])):
            return kind, match.groupdict().get("thread_id")
    return None


async def _problem(kind: str, thread_id: str | None, body: bytes) -> str | None:
    try:
        payload = json.loads(body or b"{}")
    except ValueError as error:
        return f"The request body is not valid JSON ({error}). Send a JSON object."
    try:
        check_request(kind, payload)
    except InvalidInput as error:
        return str(error)
    checkpoint_id = requested_checkpoint(payload)
    if thread_id and checkpoint_id:
        return await missing_checkpoint(thread_id, checkpoint_id)
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the body already read to the app, then the client's own events (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _reject(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
