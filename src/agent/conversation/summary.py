"""Fold the older part of a long conversation into a running summary.

When the prompt no longer fits the token budget, the oldest whole turns not
yet summarized are handed to the model together with the current summary,
and the model's answer becomes the new summary; a marker in the state
(``summarized_through``, the id of the last message folded) moves past them.
The transcript itself keeps every message: the summary and the marker shape
only the prompt, which holds the summary plus the messages after the marker.

The trade-off of :func:`fold_chunks`: the summary keeps what the user said, not
the assistant's old replies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    trim_messages,
)

from agent.conversation.likeness import kept_share
from agent.conversation.prompt import TokenCounter, message_text
from agent.conversation.prompts import NEW_MESSAGES, SUMMARIZER_INSTRUCTIONS, SUMMARY_SO_FAR

SUMMARY_SHARE = 4
"""A summary may take at most 1/SUMMARY_SHARE of the token budget."""

KEEP_SHARE = 2
"""After folding, the verbatim history takes at most 1/KEEP_SHARE of the budget."""

MIN_KEPT_SHARE = 0.5
"""A sentence of the summary so far is kept by the summarizer's answer when the answer has
this share of its character pairs (see :func:`merged`)."""

_SENTENCE = re.compile(r"[^.!?。！？]+(?:[.!?。！？]+[\"'”’»」』)\]]*)?")
"""A sentence of a summary: up to its stops (Latin or CJK) and the quotes closing after them."""

FOLD_CHUNK = 4
"""User messages handed to the summarizer per call."""

FOLD_HEADROOM_SHARE = 10
"""A fold is due once the prompt leaves less than 1/FOLD_HEADROOM_SHARE of the budget free.

Folds run after a reply, off its path; folding a little before the prompt is
full lets the next message still fit whole, so a reply rarely has to leave out
turns that the summary does not cover yet."""


def unsummarized(messages: Sequence[AnyMessage], through: str | None) -> list[AnyMessage]:
    """Return the messages after the one with id ``through`` (all of them if it is unknown)."""
    if through:
        for index, message in enumerate(messages):
            if message.id == through:
                return list(messages[index + 1 :])
    return list(messages)


def needs_folding(
    history: Sequence[AnyMessage], system: SystemMessage, budget: int, count: TokenCounter
) -> bool:
    """Tell whether the system prompt and the whole history leave too little of the budget.

    True once they take more than all but 1/:data:`FOLD_HEADROOM_SHARE` of it.
    """
    return count([system, *history]) > budget - budget // FOLD_HEADROOM_SHARE


def split_for_folding(
    history: Sequence[BaseMessage], budget: int, count: TokenCounter, fixed: int = 0
) -> tuple[list[BaseMessage], list[BaseMessage]]:
    """Split the history into (older messages to fold, newest whole turns to keep).

    ``fixed`` is what the prompt takes besides the history and the summary (the
    system prompt and remembered facts). The kept part starts on a human
    message and fits half of what the budget leaves beside ``fixed`` and a
    summary of its largest size, leaving room for new turns before the next fold.
    """
    room = max(budget // (2 * KEEP_SHARE), budget - fixed - budget // SUMMARY_SHARE)
    kept = trim_messages(
        list(history),
        max_tokens=room // KEEP_SHARE,
        token_counter=count,
        strategy="last",
        start_on="human",
        allow_partial=False,
    )
    older = list(history[: len(history) - len(kept)])
    return older, list(kept)


def fold_chunks(older: Sequence[BaseMessage]) -> list[list[BaseMessage]]:
    """Return the user's messages among ``older``, in summarizer-sized chunks.

    The summary records what the user said: the assistant's replies are left
    out (they add nothing the user must be reminded of, and a small model
    copies them), and a few messages go to the summarizer at a time, so that a
    small model merges each fact rather than skimming a long transcript.
    """
    said = [message for message in older if message.type == "human"]
    return [said[start : start + FOLD_CHUNK] for start in range(0, len(said), FOLD_CHUNK)]


def fold_chunks_through(older: Sequence[BaseMessage]) -> list[tuple[list[BaseMessage], str]]:
    """Return :func:`fold_chunks` of ``older``, each with the id a summary of it runs through.

    A chunk's summary covers everything before the next chunk's first message
    (the replies between included), and the last chunk's all of ``older``: a
    fold cut between two chunks keeps the summary of the first, and the next
    fold starts on a human message.
    """
    said = [index for index, message in enumerate(older) if message.type == "human"]
    starts = said[::FOLD_CHUNK]
    ends = [start - 1 for start in starts[1:]] + [len(older) - 1]
    return [
        (chunk, str(older[end].id)) for chunk, end in zip(fold_chunks(older), ends, strict=True)
    ]


def summarizer_prompt(
    summary: str, older: Sequence[BaseMessage], budget: int, language: str
) -> list[BaseMessage]:
    """Return the prompt that asks the model to merge ``older`` into ``summary``, in ``language``."""
    words = max(20, budget // SUMMARY_SHARE * 3 // 4)
    instructions = SUMMARIZER_INSTRUCTIONS.format(words=words, language=language)
    prompt: list[BaseMessage] = [SystemMessage(instructions)]
    quoted = " ".join(f'{_speaker(m)}: "{message_text(m)}"' for m in older)
    prompt.append(HumanMessage(_request(summary or "none.", quoted)))
    return prompt


def _request(so_far: str, new: str) -> str:
    return f"{SUMMARY_SO_FAR} {so_far} {NEW_MESSAGES} {new}"


def merged(so_far: str, answer: str) -> str:
    """Return the new summary: the summarizer's answer, after what it dropped of the summary so far.

    Asked to merge new messages into the summary, a small model sometimes answers
    with the new messages alone ("The spider has 8 legs."), and what the user said
    before would be lost for good (the embedded 0.5B model, ``make bench-quality``:
    a fact folded into the summary was recalled 5 times in 10 once a later fold
    came). Each sentence of the summary so far that the answer does not keep (less
    than :data:`MIN_KEPT_SHARE` of its character pairs) stays, before the answer;
    :func:`bound_summary` then cuts from the end, the newest.
    """
    sentences = (sentence.strip() for sentence in _SENTENCE.findall(so_far))
    dropped = [s for s in sentences if s and kept_share(s, answer) < MIN_KEPT_SHARE]
    return " ".join([*dropped, answer.strip()]).strip()


def bound_summary(text: str, budget: int, count: TokenCounter) -> str:
    """Cut ``text`` from its end so that it takes at most its share of the budget.

    At a space where the text has one; inside a run of a script written without
    spaces (Japanese, Chinese), which cutting by words would have dropped whole.
    """
    limit = budget // SUMMARY_SHARE
    kept = " ".join(text.split())
    while kept and count([SystemMessage(kept)]) > limit:
        cut = kept[: len(kept) * 9 // 10]
        kept = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return kept


def _speaker(message: BaseMessage) -> str:
    return {"human": "user", "ai": "assistant"}.get(message.type, message.type)
