"""What the chatbot remembers about a user: one fact per kind, and how facts read in a prompt.

A fact is one of a few kinds (:data:`KINDS`), keyed by its kind, so a new
fact of the same kind replaces the old one: "Actually I moved to Mumbai"
overwrites where the user lives instead of piling up beside it. Each fact
records the message it came from (thread and message id), so it can be
forgotten when that message is edited away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NAMESPACE = "memories"
"""Second part of a user's memory namespace: ``(user_id, "memories")``."""

KINDS: dict[str, str] = {
    "name": "The user's name is {}.",
    "location": "The user lives in {}.",
    "job": "The user's job: {}.",
    "likes": "The user likes {}.",
    "dislikes": "The user dislikes {}.",
    "plans": "The user's plans: {}.",
}
"""Every kind of fact, and the sentence it becomes in the prompt."""

MEMORY_HEADING = "What you remember about the user from earlier conversations:"

MEMORY_SHARE = 5
"""The remembered facts may take at most 1/MEMORY_SHARE of the prompt's token budget."""


def namespace(user_id: str) -> tuple[str, str]:
    """Return the store namespace of ``user_id``'s memory (it starts with the user id)."""
    return (user_id, NAMESPACE)


@dataclass(frozen=True)
class Fact:
    """One thing the user said about themselves, and where they said it."""

    kind: str
    text: str
    thread_id: str = ""
    message_id: str = ""
    said: str = ""

    def value(self) -> dict[str, Any]:
        """Return the store value of this fact (its key is :attr:`kind`)."""
        return {
            "kind": self.kind,
            "text": self.text,
            "thread_id": self.thread_id,
            "message_id": self.message_id,
            "said": self.said,
        }

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Fact | None:
        """Read a fact from a store value; None when the value is not one."""
        kind, text = value.get("kind"), value.get("text")
        if kind not in KINDS or not isinstance(text, str) or not text.strip():
            return None
        return cls(
            kind=str(kind),
            text=text.strip(),
            thread_id=str(value.get("thread_id") or ""),
            message_id=str(value.get("message_id") or ""),
            said=str(value.get("said") or ""),
        )

    def sentence(self) -> str:
        """Return the fact as the prompt states it."""
        return KINDS[self.kind].format(self.text)


def memory_section(
    facts: Sequence[Fact], max_tokens: int, count: Callable[[str], int]
) -> tuple[str, list[Fact]]:
    """Return the prompt section that states ``facts`` within ``max_tokens``, and the facts kept.

    Facts are kept in :data:`KINDS` order (name first) while the section fits;
    a fact that would not fit is left out whole.
    """
    ordered = sorted(facts, key=lambda fact: list(KINDS).index(fact.kind))
    kept: list[Fact] = []
    for fact in ordered:
        text = render([*kept, fact])
        if count(text) <= max_tokens:
            kept.append(fact)
    return (render(kept) if kept else ""), kept


def render(facts: Sequence[Fact]) -> str:
    """Return the heading and one sentence a fact."""
    return "\n".join([MEMORY_HEADING, *(fact.sentence() for fact in facts)])
