"""Build the prompt the model sees: system prompt, summary and history within a budget."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    trim_messages,
)
from langchain_core.messages.utils import count_tokens_approximately

from agent.conversation.prompts import (
    DEFAULT_LANGUAGE,
    LANGUAGE_REMINDER,
    SUMMARY_HEADING,
    UNKNOWN_EXCHANGES,
)

TokenCounter = Callable[[Sequence[BaseMessage]], int]
"""Counts the tokens a list of messages takes in a prompt."""

DROP_SHARE = 3
"""Once the history overflows its room, the oldest turns go until it fills at most all but
1/``DROP_SHARE`` of it (see :func:`stable_start`)."""


def content_text(content: Any) -> str:
    """Return the text of message content: a string, or a list of text parts (others skipped)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and "text" in part)
        )
    return ""


def message_text(message: BaseMessage) -> str:
    """Return a message's text, whether its content is a string or a list of parts."""
    return content_text(message.content)


def render_system_prompt(
    template: str, language: str, summary: str = "", memory: str = ""
) -> SystemMessage:
    """Fill the system prompt template with the reply language, then add memory and summary.

    ``memory`` is the section stating what is remembered about the user from
    earlier conversations (``agent.memory.facts.memory_section``); it comes
    before the summary, which changes more often, so a model server that
    caches the prompt's start keeps more of it.

    Raises:
        ValueError: the template has a placeholder other than ``{language}``.
    """
    try:
        text = template.format(language=language)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"The system prompt template {template!r} cannot be filled ({error!r}): "
            "the only placeholder it may use is {language}; write literal braces as {{ and }}."
        ) from error
    if memory:
        text = f"{text}\n\n{memory}"
    if summary:
        text = f"{text}\n\n{SUMMARY_HEADING}\n{summary}"
    return SystemMessage(content=text)


def remind_language(history: Sequence[AnyMessage], language: str) -> list[AnyMessage]:
    """Return ``history`` with the reply language restated after its newest user message.

    Only the prompt changes; the thread keeps the message as the user wrote it.
    Measured with the embedded model (``make bench-quality``): after the newest
    message only, 85% of replies kept the thread's language; after every user
    message (which would keep each prompt's start stable for llama.cpp's prompt
    cache), 75%. So the next turn re-reads the last exchange, about 0.5-1 s.
    """
    reminded = list(history)
    for index in range(len(reminded) - 1, -1, -1):
        message = reminded[index]
        if isinstance(message, HumanMessage):
            note = LANGUAGE_REMINDER.format(language=language)
            reminded[index] = message.model_copy(
                update={"content": f"{message_text(message)}\n\n{note}"}
            )
            break
    return reminded


def worked_exchange(language: str) -> list[BaseMessage]:
    """Return the exchange shown before the conversation, in ``language`` (else English).

    It lives only in the prompt, never in the thread: clients, summaries and
    memory never see it.
    """
    question, answer = UNKNOWN_EXCHANGES.get(language, UNKNOWN_EXCHANGES[DEFAULT_LANGUAGE])
    return [HumanMessage(content=question), AIMessage(content=answer)]


def count_tokens(messages: Sequence[BaseMessage]) -> int:
    """Count the tokens of ``messages`` without any network access.

    ``ChatOpenAI.get_num_tokens_from_messages`` needs tiktoken, which downloads
    its encoding on first use; LangChain's approximate counter (about four
    characters a token plus per-message overhead) works everywhere.
    """
    return count_tokens_approximately(messages)


def build_prompt(
    history: Sequence[AnyMessage],
    *,
    system: SystemMessage,
    max_tokens: int,
    count: TokenCounter = count_tokens,
    before: Sequence[BaseMessage] = (),
    beside_newest: Sequence[BaseMessage] = (),
) -> list[BaseMessage]:
    """Return the system message, ``before``, and the newest whole messages that fit.

    ``beside_newest`` goes just before the newest message. Everything counts
    against ``max_tokens``. The kept history starts on a human message, so the
    model never sees a reply without the question it answers; a message is
    never cut in half. Where it starts moves in steps (:func:`stable_start`).
    """
    extra = [*before, *beside_newest]
    room = max_tokens - count([system, *extra])
    trimmed = trim_messages(
        [system, *history[stable_start(history, room, count) :]],
        max_tokens=max_tokens - (count(extra) if extra else 0),
        token_counter=count,
        strategy="last",
        include_system=True,
        start_on="human",
        allow_partial=False,
    )
    kept = list(trimmed)
    if not (kept and isinstance(kept[0], SystemMessage)) or not any(
        isinstance(message, HumanMessage) for message in kept
    ):
        return kept  # nothing of the conversation fits: no example without it
    return [kept[0], *before, *kept[1:-1], *beside_newest, kept[-1]]


def stable_start(history: Sequence[BaseMessage], room: int, count: TokenCounter) -> int:
    """Return where the kept history starts: the same from one turn to the next, but in steps.

    Replayed message by message: each time the history outgrows ``room``, its
    oldest turns go until it fills at most all but 1/:data:`DROP_SHARE` of it.
    Dropping only what no longer fits moved the prompt's start at every turn
    of a long thread, so the embedded model read its whole prompt again at
    every reply (issue 27); now the start moves once every few turns, and
    depends only on the history, so every turn in between finds it cached.
    """
    sizes = [count([message]) for message in history]
    settled = room - room // DROP_SHARE
    start = total = 0
    for end, size in enumerate(sizes):
        total += size
        if total <= room:
            continue
        while start < end and (total > settled or not isinstance(history[start], HumanMessage)):
            total -= sizes[start]
            start += 1
    return start
