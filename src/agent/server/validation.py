"""Reject bad chat input at the server's edge, before a run touches the thread.

A run's input is checked when the run is requested, so a bad message fails
at once with a 422 that says what was wrong and what to send instead, and the
thread's stored history stays exactly as it was (no half turn). The check is a
pure function, :func:`check_run_input`, and an ASGI middleware,
:class:`RunInputValidation`, that the web app installs for every run route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent import settings

MAX_LANGUAGE_CHARS = 40
ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant"}
"""Accepted roles (OpenAI and LangChain spellings); system prompts come from the context."""

_RUN_PATH = re.compile(r"^/(threads/[^/]+/)?runs(/stream|/wait)?/?$")
_LANGUAGE = re.compile(r"^[^\W\d_][\w\s()\-'.,]*$")


class InvalidInput(ValueError):
    """The run input cannot be accepted; the message says why and what to send."""


def max_message_chars() -> int:
    """Return the size limit of one message (``$CHATBOT_MAX_MESSAGE_CHARS``)."""
    return settings.MAX_MESSAGE_CHARS.get()


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

    ``None`` (resume a thread without new input) is accepted.
    """
    if run_input is None:
        return
    if not isinstance(run_input, Mapping):
        raise InvalidInput(
            "input must be an object like {'messages': [{'role': 'user', 'content': 'Hi'}]}."
        )
    limit = limit or max_message_chars()
    messages = run_input.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInput(
            "input.messages must be a non-empty list like [{'role': 'user', 'content': 'Hi'}]."
        )
    for index, message in enumerate(messages):
        _check_message(message, f"input.messages[{index}]", limit)
    if "language" in run_input:
        language = run_input["language"]
        if (
            not isinstance(language, str)
            or not 0 < len(language.strip()) <= MAX_LANGUAGE_CHARS
            or not _LANGUAGE.match(language.strip())
        ):
            raise InvalidInput(
                f"input.language must be the name of a language, like 'Spanish' "
                f"(at most {MAX_LANGUAGE_CHARS} characters), not {language!r}."
            )


class RunInputValidation:
    """ASGI middleware: check the ``input`` of every run request before the server sees it."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check run requests; pass everything else through untouched."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not _RUN_PATH.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        problem = _problem(body)
        if problem:
            await _reject(send, problem)
            return
        await self.app(scope, _replay(body, receive), send)


def _problem(body: bytes) -> str | None:
    try:
        payload = json.loads(body or b"{}")
    except ValueError as error:
        return f"The request body is not valid JSON ({error}). Send a JSON object."
    if not isinstance(payload, dict):
        return "The request body must be a JSON object with an 'input'."
    try:
        check_run_input(payload.get("input"))
    except InvalidInput as error:
        return str(error)
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
