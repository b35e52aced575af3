"""The chat format of the embedded model: a plain ``User:``/``Assistant:`` transcript.

Gemma 3 270M as shipped is the *base* model and its GGUF has no chat template;
llama.cpp's ``gemma`` format makes it repeat itself forever. Measured on this
project's machines, a short few-shot preamble followed by a plain transcript,
stopped at the next ``User:`` line or a blank line, gives short usable answers,
and a preamble in which the assistant recalls a name the user gave is what
makes it recall names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

CHAT_FORMAT_NAME = "chatbot-transcript"
"""The name the format is registered under in llama-cpp-python."""

STOP_SEQUENCES = ["\nUser:", "\n\n"]
"""Generation stops before the model starts writing the user's next line."""

FEW_SHOT_PREAMBLE = (
    "User: Hi! I'm Alice.\n"
    "Assistant: Hi Alice! Nice to meet you.\n"
    "User: What is the capital of Italy?\n"
    "Assistant: The capital of Italy is Rome.\n"
    "User: What's my name?\n"
    "Assistant: Your name is Alice.\n"
)

_SPEAKERS = {"user": "User", "assistant": "Assistant"}


def message_text(content: Any) -> str:
    """Return the text of an OpenAI message ``content`` (a string or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts: Iterable[Any] = content
    return "".join(
        part.get("text", "")
        for part in parts
        if isinstance(part, Mapping) and part.get("type") == "text"
    )


def render_transcript(messages: Iterable[Mapping[str, Any]]) -> str:
    """Render OpenAI-style chat messages as the prompt the base model continues.

    System messages go first as plain instructions; every other message becomes
    one ``User:`` or ``Assistant:`` line (inner blank lines folded, since a
    blank line ends a reply); the prompt ends with ``Assistant:`` to cue the reply.
    """
    instructions: list[str] = []
    lines: list[str] = []
    for message in messages:
        role = message.get("role", "user")
        text = " ".join(message_text(message.get("content")).split())
        if role in ("system", "developer"):
            instructions.append(text)
            continue
        lines.append(f"{_SPEAKERS.get(role, 'User')}: {text}")
    header = "\n".join(instructions)
    header = f"{header}\n\n" if header else ""
    return f"{header}{FEW_SHOT_PREAMBLE}\n" + "".join(f"{line}\n" for line in lines) + "Assistant:"


def strip_reply_start(chunks: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Drop the space the model writes after ``Assistant:`` from a streamed reply.

    The prompt must end in ``Assistant:`` without a trailing space (with one,
    the base model's answers degrade badly), so the reply's first token starts
    with a space; this removes it from the first content deltas of a stream.
    """
    started = False
    for chunk in chunks:
        if not started:
            for choice in chunk.get("choices", []):
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    delta["content"] = delta["content"].lstrip()
                    started = started or bool(delta["content"])
        yield chunk
