"""What the chatbot remembers about a user: facts, their store keys, and how they read in a prompt.

A fact is a value of one topic (:mod:`agent.memory.topics`) as the user wrote
it, with where and when that was said (thread, message, its position in the
thread, the time of the turn that first read it), so it can be forgotten when
that message is edited away, and a statement said earlier never replaces one
said later. It keeps no copy of the message: forgetting a fact leaves no
trace of it in another. A topic with a single value keeps it under the
topic's own key, so a newer value supersedes the old one; any other fact has
a key of its own.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from agent.conversation.likeness import bigrams, fold
from agent.conversation.prompts import (
    EXAMPLES_HEADING,
    MEMORY_BOUNDS,
    MEMORY_HEADING,
    NAME_EXAMPLE,
    UNKNOWN_EXAMPLE,
)
from agent.memory.topics import topic_of, topic_rank

NAMESPACE = "memories"
"""Second part of a user's memory namespace: ``(user_id, "memories")``."""


MEMORY_SHARE = 5
"""The remembered facts may take at most 1/MEMORY_SHARE of the prompt's token budget."""

KEY_HASH_CHARS = 12
"""Hex digits of a multi-valued fact's key that come from its value."""

POSITION = "position"
"""Field of a fact's value: where its message is in its thread."""

SAID_AT = "said_at"
"""Field of a fact's value: when the turn that first read its message ran."""


def now() -> str:
    """Return the time a fact is stamped with (UTC, ISO 8601, to the second)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def instant() -> str:
    """Return the time a statement is ordered by (UTC, ISO 8601, to the microsecond)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def namespace(user_id: str) -> tuple[str, str]:
    """Return the store namespace of ``user_id``'s memory (it starts with the user id)."""
    return (user_id, NAMESPACE)


def fact_key(topic: str, text: str) -> str:
    """Return the store key of a fact: its topic when single-valued, else topic and value hash."""
    found = topic_of(topic)
    if found is not None and found.single:
        return found.name
    digest = hashlib.sha256(fold(text).encode()).hexdigest()[:KEY_HASH_CHARS]
    return f"{topic}:{digest}"


@dataclass(frozen=True)
class Fact:
    """One thing the user said about themselves, and where they said it."""

    topic: str
    text: str
    thread_id: str = ""
    message_id: str = ""
    said: str = ""
    """The message it came from, in items saved before facts stopped copying it (never written)."""
    updated_at: str = ""
    key: str = ""
    position: int = -1
    """Where its message is in the thread (-1: unknown)."""
    said_at: str = ""
    """When the turn that first read its message ran (:func:`instant`; empty: unknown)."""

    @property
    def kind(self) -> str:
        """The topic, by the name callers written before topics existed use."""
        return self.topic

    def store_key(self) -> str:
        """Return the key this fact is stored under (its own, else the one its value gives)."""
        return self.key or fact_key(self.topic, self.text)

    def value(self) -> dict[str, Any]:
        """Return the store value of this fact (no copy of the message it came from)."""
        value: dict[str, Any] = {
            "topic": self.topic,
            "text": self.text,
            "thread_id": self.thread_id,
            "message_id": self.message_id,
            "updated_at": self.updated_at,
        }
        if self.position >= 0:
            value[POSITION] = self.position
        if self.said_at:
            value[SAID_AT] = self.said_at
        return value

    @classmethod
    def from_value(cls, value: Mapping[str, Any], key: str = "") -> Fact | None:
        """Read a fact from a store value; None when the value is not one.

        Items saved before topics existed name theirs ``kind`` (and sit under
        it as their key): they read as facts of that topic.
        """
        label, text = value.get("topic") or value.get("kind"), value.get("text")
        if not isinstance(label, str) or not isinstance(text, str) or not text.strip():
            return None
        topic = topic_of(label)
        if topic is None:
            return None
        return cls(
            topic=topic.name,
            text=text.strip(),
            thread_id=str(value.get("thread_id") or ""),
            message_id=str(value.get("message_id") or ""),
            said=str(value.get("said") or ""),
            updated_at=str(value.get("updated_at") or ""),
            key=key,
            position=position if isinstance(position := value.get(POSITION), int) else -1,
            said_at=str(value.get(SAID_AT) or ""),
        )

    def with_source(self, thread_id: str, message_id: str, position: int, said_at: str) -> Fact:
        """Return this fact as said in message ``message_id`` (at ``position``) of ``thread_id``."""
        return replace(
            self,
            thread_id=thread_id,
            message_id=message_id,
            position=position,
            said_at=said_at,
            updated_at=said_at,
        )

    def line(self) -> str:
        """Return the fact as the prompt lists it: ``- lives in: <city>``."""
        topic = topic_of(self.topic)
        return f"- {topic.label if topic is not None else self.topic}: {self.text}"


def corrected(fact: Fact, text: str) -> Fact:
    """Return ``fact`` with the value the user now gives it, under the same key.

    A corrected fact is the user's own word: it belongs to no thread any more,
    so deleting the thread it was learnt in, or editing that message, keeps it.
    """
    return Fact(fact.topic, text.strip(), updated_at=now(), key=fact.store_key())


def in_list_order(facts: Sequence[Fact]) -> list[Fact]:
    """Return ``facts`` as lists show them: topics in the table's order, newest first in each."""
    newest_first = sorted(facts, key=lambda fact: fact.updated_at, reverse=True)
    return sorted(newest_first, key=lambda fact: topic_rank(fact.topic))


def relevance(fact: Fact, message: str) -> float:
    """Return how much ``fact`` has in common with ``message``: shared character pairs.

    Shared pairs are weighed against the fact's own (a long sentence does not
    win by length alone).
    """
    mine = bigrams(fact.text)
    if not mine or not message:
        return 0.0
    return len(mine & bigrams(message)) / math.sqrt(len(mine))


def by_importance(facts: Sequence[Fact], relevant_to: str = "") -> list[Fact]:
    """Return ``facts`` most worth showing first.

    Identity facts (name, home: :data:`~agent.memory.topics.TOPICS` marks them)
    in the table's order, then the rest by what they share with
    ``relevant_to`` (the user's newest message), then the most recent.
    """
    identity = sorted(
        (fact for fact in facts if _is_identity(fact)), key=lambda fact: topic_rank(fact.topic)
    )
    rest = sorted(
        (fact for fact in facts if not _is_identity(fact)),
        key=lambda fact: fact.updated_at,
        reverse=True,
    )
    rest.sort(key=lambda fact: relevance(fact, relevant_to), reverse=True)  # stable: recency ties
    return [*identity, *rest]


def _is_identity(fact: Fact) -> bool:
    topic = topic_of(fact.topic)
    return topic is not None and topic.identity


def memory_section(
    facts: Sequence[Fact], max_tokens: int, count: Callable[[str], int], relevant_to: str = ""
) -> tuple[str, list[Fact]]:
    """Return the prompt section that states ``facts`` within ``max_tokens``, and the facts kept.

    Facts are chosen most important first (:func:`by_importance`); one that
    would not fit is left out whole, and a shorter one after it may still fit.
    The chosen facts are stated in :func:`in_list_order`.
    """
    kept: list[Fact] = []
    for fact in by_importance(facts, relevant_to):
        if count(render([*kept, fact])) <= max_tokens:
            kept.append(fact)
    # Stated in the lists' order, whatever chose them: while the same facts fit, the
    # system prompt stays the same from turn to turn, and the embedded model's server
    # reuses what it read of it (relevance order moved with every message).
    return (render(in_list_order(kept)) if kept else ""), kept


def render(facts: Sequence[Fact]) -> str:
    """Return the heading, one line a fact, what to say of anything else, and worked exchanges.

    The exchanges show the model speaking to the user of their facts ("Your name
    is ...") with the user's own name, and admitting what it was never told.
    """
    names = [fact.text for fact in facts if fact.topic == "name"]
    examples = [NAME_EXAMPLE.format(name=names[0])] if names else []
    return "\n".join(
        [
            MEMORY_HEADING,
            *(fact.line() for fact in facts),
            MEMORY_BOUNDS,
            EXAMPLES_HEADING,
            *examples,
            UNKNOWN_EXAMPLE,
        ]
    )
