"""The topics of fact the chatbot knows: the one table every part of memory reads.

To remember a new kind of fact, add a row to :data:`TOPICS` (and the words a
model may use for it to :data:`ALIASES`); the extraction prompt, the parser,
the prompt section, the CLI and the chat page all follow it. A topic the
model names that is in neither table is still kept, as a multi-valued topic
of its own (:func:`topic_of`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """One topic of fact about the user.

    Attributes:
        name: The topic as the model writes it and the store keeps it.
        single: A user has one value of it: a newer one supersedes the old
            (a move replaces the home); else each value is kept beside the others.
        label: What a fact of it is called in the prompt's list of what the user told
            (``- lives in: <city>``).
        identity: Shown to the model first, whatever the message is about.
        opposite: A topic whose fact of the same value a new fact of this one retracts.
    """

    name: str
    single: bool
    label: str
    identity: bool = False
    opposite: str = ""


TOPICS: dict[str, Topic] = {
    topic.name: topic
    for topic in (
        Topic("name", single=True, label="name", identity=True),
        Topic("location", single=True, label="lives in", identity=True),
        Topic("origin", single=True, label="comes from"),
        Topic("age", single=True, label="age"),
        Topic("job", single=True, label="work"),
        Topic("family", single=False, label="family"),
        Topic("pet", single=False, label="pet"),
        Topic("health", single=False, label="health"),
        Topic("likes", single=False, label="likes", opposite="dislikes"),
        Topic("dislikes", single=False, label="dislikes", opposite="likes"),
        Topic("plans", single=False, label="plans"),
        Topic("language", single=False, label="speaks"),
    )
}
"""Every topic the extractor is told about, in the order the prompt and the lists show them."""

ALIASES: dict[str, str] = {
    "user name": "name",
    "first name": "name",
    "called": "name",
    "이름": "name",
    "名前": "name",
    "名字": "name",
    "nom": "name",
    "nombre": "name",
    "home": "location",
    "city": "location",
    "lives in": "location",
    "residence": "location",
    "address": "location",
    "place": "location",
    "from": "origin",
    "hometown": "origin",
    "nationality": "origin",
    "work": "job",
    "occupation": "job",
    "profession": "job",
    "career": "job",
    "like": "likes",
    "hobby": "likes",
    "hobbies": "likes",
    "interest": "likes",
    "interests": "likes",
    "favorite": "likes",
    "favourite": "likes",
    "preference": "likes",
    "preferences": "likes",
    "dislike": "dislikes",
    "hates": "dislikes",
    "plan": "plans",
    "goal": "plans",
    "goals": "plans",
    "pets": "pet",
    "dog": "pet",
    "cat": "pet",
    "allergy": "health",
    "allergies": "health",
    "medical": "health",
    "children": "family",
    "child": "family",
    "kids": "family",
    "son": "family",
    "daughter": "family",
    "partner": "family",
    "wife": "family",
    "husband": "family",
    "languages": "language",
}
"""Other names a model gives a topic of :data:`TOPICS`."""

MAX_TOPIC_CHARS = 24
"""A longer "topic" is not a topic but a model rambling; such a line is dropped."""

MAX_TOPIC_WORDS = 3

_NOT_IN_A_TOPIC = re.compile(r"[^\w\s-]")


def topic_of(written: str) -> Topic | None:
    """Return the topic a model's label names: a known one, or a new multi-valued one.

    None when the label cannot be a topic (empty, too long, a sentence).
    """
    label = unicodedata.normalize("NFKC", written).strip().strip("*`\"'#").strip().casefold()
    label = " ".join(_NOT_IN_A_TOPIC.sub(" ", label).replace("_", " ").split())
    if not label or len(label) > MAX_TOPIC_CHARS or len(label.split()) > MAX_TOPIC_WORDS:
        return None
    name = ALIASES.get(label, label)
    return TOPICS.get(name) or Topic(name, single=False, label=name)


def topic_rank(name: str) -> int:
    """Return where a topic comes in lists: the table's order, topics outside it last."""
    order = list(TOPICS)
    return order.index(name) if name in order else len(order)
