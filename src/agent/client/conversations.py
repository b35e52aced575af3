"""What the ``chatbot`` command does with a conversation besides chatting, without a server.

Edit and regenerate find their checkpoint in a thread's history the way
agent-chat-ui does; export writes Markdown or JSON, import reads that JSON back;
``matches`` tells whether words are in a thread's title or the messages at hand
(the page matches listed titles with it; searching conversations by content is
the server's, ``GET /chatbot/search``, see ``agent.storage.search``). The chat page does
the same in the browser with ``server/web/static/conversation.js``, function for
function and with the same export format; ``tests/fixtures/conversation_cases.json``
holds the cases both must pass (``tests/unit_tests/test_conversation_cases.py``).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from agent.conversation.prompt import content_text

EXPORT_FORMAT = "chatbot-conversation"
"""The ``format`` field of a JSON export (the page writes the same)."""

EXPORT_VERSION = 1

ROLE_OF_TYPE = {"human": "user", "ai": "assistant"}
"""LangChain message types and the roles an export (and the server's input) uses."""

SPEAKER_OF_ROLE = {"user": "You", "assistant": "Bot"}

FIRST_WORDS = 60
"""Characters of a first message that stand for a title."""

_WHERE_EXPORTS_COME_FROM = "Export JSON on the chat page, or `chatbot export --format json`"


class BadExport(ValueError):
    """The file is not a conversation export; the message says what is wrong."""


text_of = content_text
"""The text of a message's content as the API returns it (a string or text parts)."""


def messages_of(values: Any) -> list[dict[str, Any]]:
    """Return the messages of a thread's values (empty when it has none)."""
    messages = values.get("messages") if isinstance(values, Mapping) else None
    return list(messages) if isinstance(messages, list) else []


def title_of(thread: Mapping[str, Any]) -> str:
    """Return the title kept in the thread's metadata, or ``""``."""
    metadata = thread.get("metadata") or {}
    title = metadata.get("title") if isinstance(metadata, Mapping) else None
    return title.strip() if isinstance(title, str) else ""


def first_words(thread: Mapping[str, Any], limit: int = FIRST_WORDS) -> str:
    """Return the start of the thread's first human message, on one line, "…" when cut; or ``""``."""
    messages = messages_of(thread.get("values"))
    first = next((m for m in messages if isinstance(m, Mapping) and m.get("type") == "human"), None)
    text = " ".join(text_of(first.get("content")).split()) if first else ""
    return f"{text[:limit].rstrip()}…" if len(text) > limit else text


def fork_point(history: Sequence[Mapping[str, Any]], message_id: str) -> dict[str, Any] | None:
    """Return the checkpoint before a message: where an edit or a regenerate starts from.

    That is the parent of the oldest state holding the message (agent-chat-ui's
    ``firstSeenState``). None when that parent is not in ``history`` (pruned, or not
    read yet) or holds the message too (``history`` starts too late to tell).

    Args:
        history: The thread's states as ``get_history`` lists them, newest first.
        message_id: The id of the human message to edit, or of the reply to regenerate.
    """
    by_id = {s["checkpoint"]["checkpoint_id"]: s for s in history}

    def holds(state: Mapping[str, Any]) -> bool:
        return any(m.get("id") == message_id for m in messages_of(state.get("values")))

    first_seen = next((s for s in reversed(history) if holds(s)), None)
    parent = (first_seen or {}).get("parent_checkpoint")
    before = by_id.get(parent.get("checkpoint_id")) if parent else None
    return dict(parent) if parent and before is not None and not holds(before) else None


def _searchable(text: str) -> str:
    """Lower case, composed: "é" typed one way matches "é" stored the other."""
    return unicodedata.normalize("NFC", text).lower()


def matches(thread: Mapping[str, Any], words: str) -> bool:
    """Tell whether every word is in the thread's title or its messages (any case)."""
    wanted = _searchable(words).split()
    texts = [
        title_of(thread),
        *(text_of(m.get("content")) for m in messages_of(thread.get("values"))),
    ]
    haystack = _searchable("\n".join(texts))
    return all(word in haystack for word in wanted)


def exported_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Return the human and AI messages as ``{"role", "content"}``, the way the server takes them."""
    return [
        {"role": ROLE_OF_TYPE[str(m.get("type"))], "content": text_of(m.get("content"))}
        for m in messages
        if isinstance(m, Mapping) and m.get("type") in ROLE_OF_TYPE
    ]


def export_title(thread: Mapping[str, Any], values: Any) -> str:
    """Return the title an export carries: the thread's, else its first words, else "Conversation"."""
    return title_of(thread) or first_words({"values": values}) or "Conversation"


def export_json(thread: Mapping[str, Any], values: Any, exported_at: datetime | None = None) -> str:
    """Return a conversation as the JSON that ``import`` (and the page's Import) reads back."""
    language = values.get("language") if isinstance(values, Mapping) else None
    when = (exported_at or datetime.now(UTC)).astimezone(UTC)
    data = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "title": export_title(thread, values),
        "language": language if isinstance(language, str) and language.strip() else None,
        "thread_id": thread.get("thread_id"),
        "exported_at": when.isoformat(timespec="seconds"),
        "messages": exported_messages(messages_of(values)),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def export_markdown(thread: Mapping[str, Any], values: Any) -> str:
    """Return a conversation as Markdown: its title, then each message under its speaker."""
    parts = [f"# {export_title(thread, values)}", ""]
    for message in exported_messages(messages_of(values)):
        parts += [f"**{SPEAKER_OF_ROLE[message['role']]}:**", "", message["content"], ""]
    return "\n".join(parts)


def read_export(text: str) -> tuple[str, str | None, list[dict[str, str]]]:
    """Read a JSON export: its title, language and messages.

    Raises:
        BadExport: It is not JSON, not an export, or a message lacks a role or text.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadExport(
            "the file is not JSON: import takes a conversation exported as JSON "
            f"({_WHERE_EXPORTS_COME_FROM}). The parser said: {error.msg}, line {error.lineno}."
        ) from None
    messages = data.get("messages") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("format") != EXPORT_FORMAT
        or not isinstance(messages, list)
        or not messages
    ):
        raise BadExport(
            f'the file is not a conversation export: a JSON object with "format": '
            f'"{EXPORT_FORMAT}" and a non-empty "messages" list ({_WHERE_EXPORTS_COME_FROM}, '
            "writes one)."
        )
    read: list[dict[str, str]] = []
    for number, message in enumerate(messages, 1):
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if (
            not isinstance(role, str)
            or role not in SPEAKER_OF_ROLE
            or not isinstance(content, str)
            or not content.strip()
        ):
            raise BadExport(
                f'message {number} needs a role "user" or "assistant" and some text: '
                "fix it in the file, or export the conversation again."
            )
        read.append({"role": role, "content": content})
    title = data.get("title")
    language = data.get("language")
    return (
        title.strip() if isinstance(title, str) else "",
        language if isinstance(language, str) and language.strip() else None,
        read,
    )


def final_node(graph: Mapping[str, Any]) -> str:
    """Return the node that ends a turn, in a graph as ``assistants.get_graph`` draws it.

    An import writes its messages as that node, so the thread has nothing left to
    run (no model call, nothing for a restart to resume).
    """
    edges = graph.get("edges")
    last = [
        str(e.get("source"))
        for e in (edges if isinstance(edges, list) else [])
        if isinstance(e, Mapping) and e.get("target") == "__end__"
    ]
    if len(last) != 1:
        raise ValueError(
            f"the graph has {len(last)} nodes that end a turn, not one "
            f"({', '.join(last) or 'none'}): an import cannot tell which node to write "
            "its messages as."
        )
    return str(last[0])


def import_request(
    title: str, language: str | None, messages: list[dict[str, str]], graph_id: str, as_node: str
) -> dict[str, Any]:
    """Return the ``threads.create`` arguments that write an imported conversation.

    One request creates the thread and writes its messages as ``as_node`` (the
    node that ends a turn, :func:`final_node`), so no model is called.
    """
    values: dict[str, Any] = {"messages": messages}
    if language:
        values["language"] = language
    metadata = {"graph_id": graph_id, **({"title": title} if title else {})}
    return {
        "metadata": metadata,
        "supersteps": [{"updates": [{"values": values, "as_node": as_node}]}],
    }
