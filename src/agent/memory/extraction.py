"""Find the facts a user states about themselves in one of their messages.

The model is shown only the user's own message, with a short instruction and
worked examples, and asked for ``kind: value`` lines. Its answer is read
defensively: unknown kinds, empty or long values and anything whose words the
user did not write are dropped, so a small model's invention (a name from the
examples, a city it guessed) is never saved.
"""

from __future__ import annotations

import re
import unicodedata

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent.memory.facts import KINDS, Fact

INSTRUCTIONS = (
    "You note facts a user states about themselves. Read the user's message and answer "
    "only with lines 'kind: value', where kind is one of: "
    f"{', '.join(KINDS)}. Copy the value from the user's own words. "
    "If the message states none of these about the user, answer: none"
)

EXAMPLES: list[tuple[str, str]] = [
    (
        "Hello! I'm Tomasz, I live in Gdansk and I love jazz.",
        "name: Tomasz\nlocation: Gdansk\nlikes: jazz",
    ),
    ("What is the tallest mountain in the world?", "none"),
    ("Actually I moved to Krakow last month.", "location: Krakow"),
    (
        "I work as a baker, and next spring I plan to visit Lisbon.",
        "job: baker\nplans: visit Lisbon",
    ),
]
"""Worked examples; their names and places must not be used by any test or benchmark."""

ALIASES = {
    "city": "location",
    "home": "location",
    "lives in": "location",
    "place": "location",
    "work": "job",
    "occupation": "job",
    "profession": "job",
    "like": "likes",
    "preference": "likes",
    "preferences": "likes",
    "dislike": "dislikes",
    "plan": "plans",
    "user name": "name",
}

MAX_VALUE_CHARS = 60
MAX_NAME_WORDS = 3
NOTHING = {"none", "unknown", "n/a", "na", "null", "nothing", "not mentioned", "not stated", "-"}

CUES: dict[str, tuple[str, ...]] = {
    "name": ("name", "i'm", "i am", "im", "call me", "this is", "it's", "called"),
    "location": ("live", "living", "lives", "moved", "move", "moving", "from", "based", "home"),
    "job": (
        "work",
        "working",
        "job",
        "profession",
        "career",
        "employed",
        "i'm a",
        "i am a",
        "i'm an",
        "i am an",
    ),
    "likes": (
        "like",
        "likes",
        "love",
        "loves",
        "enjoy",
        "enjoys",
        "fan",
        "favourite",
        "favorite",
        "into",
        "adore",
        "prefer",
    ),
    "dislikes": (
        "hate",
        "hates",
        "dislike",
        "dislikes",
        "don't like",
        "do not like",
        "can't stand",
        "cannot stand",
        "not a fan",
    ),
    "plans": (
        "plan",
        "plans",
        "planning",
        "going to",
        "will",
        "want to",
        "next",
        "hope to",
        "intend",
        "soon",
        "tomorrow",
    ),
}
"""Words that say which kind of fact a clause states; a fact's clause must hold one of its kind.

A small model copies the shape of its examples ("I love chess" noted as a
job); the clause the value comes from says what it really is."""

_CLAUSE = re.compile(r"[,.;:!?()]|\b(?:and|but|so|because)\b", re.IGNORECASE)

_FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|i'll|i'd|me|my|mine|myself)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)


def prompt(message: str) -> list[BaseMessage]:
    """Return the extraction prompt for one user message."""
    turns: list[BaseMessage] = [SystemMessage(content=INSTRUCTIONS)]
    for said, noted in EXAMPLES:
        turns += [HumanMessage(content=f"Message: {said}"), AIMessage(content=noted)]
    turns.append(HumanMessage(content=f"Message: {message}"))
    return turns


def worth_asking(message: str) -> bool:
    """Tell whether ``message`` may state a fact about its writer (saves a model call if not).

    It must speak in the first person, and not consist of questions only
    ("What's my name?" states nothing).
    """
    if not _FIRST_PERSON.search(message.replace("\u2019", "'")):
        return False
    sentences = [part for part in re.split(r"(?<=[.!?])\s+", message.strip()) if part.strip()]
    return not all(sentence.rstrip().endswith("?") for sentence in sentences)


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return _WORD.findall(folded)


def grounded(value: str, message: str) -> bool:
    """Tell whether every word of ``value`` appears in the user's ``message``."""
    words = _words(value)
    said = set(_words(message))
    return bool(words) and all(word in said for word in words)


def _cue(kind: str, clause: str) -> bool:
    if kind == "likes" and _cue("dislikes", clause):
        return False  # "I don't like tea" is not a like
    return any(re.search(rf"(?<!\w){re.escape(cue)}(?!\w)", clause) for cue in CUES[kind])


def clause_of(value: str, message: str) -> str:
    """Return the clause of ``message`` the value comes from (the whole message if none holds it)."""
    folded = unicodedata.normalize("NFKC", message).casefold().replace("\u2019", "'")
    clauses = [part for part in _CLAUSE.split(folded) if part and part.strip()]
    first = (_words(value) or [""])[0]
    holding = [c for c in clauses if grounded(value, c)] or [
        c for c in clauses if first in _words(c)
    ]
    return holding[0] if holding else folded


def labelled(kind: str, value: str, message: str) -> str | None:
    """Return the kind of fact the user's words make ``value``.

    ``kind`` if its clause says so; another kind if its clause says only that
    one; None if the clause states nothing about the user.
    """
    clause = clause_of(value, message)
    if _cue(kind, clause):
        return kind
    others = [other for other in CUES if other != kind and _cue(other, clause)]
    return others[0] if len(others) == 1 else None


def _looks_like_a_name(value: str, message: str) -> bool:
    """Tell whether ``value`` is written with a capital, where the script has any."""
    index = message.casefold().find(value.casefold())
    written = message[index : index + len(value)] if index >= 0 else value
    return not written[:1].isalpha() or written[:1] != written[:1].lower()


def _clean(value: str) -> str:
    value = value.strip().strip("\"'`*").strip()
    return value.rstrip(".!,;:").strip()


def parse(answer: str, message: str) -> list[Fact]:
    """Read the model's ``kind: value`` lines; keep only facts the user's message supports.

    One fact a kind (the first one given); kinds outside :data:`KINDS`, empty,
    "none"-like or over-long values, names longer than a few words or written
    without a capital, and values with any word the user did not write are
    dropped. A value whose clause states another kind of fact ("I love chess"
    noted as a job) is relabelled, or dropped when the clause states none.
    """
    found: dict[str, Fact] = {}
    for line in answer.splitlines():
        line = line.strip().lstrip("-*• ").strip()
        kind, colon, value = line.partition(":")
        if not colon:
            continue
        kind = kind.strip().strip("*`\"'").strip().lower()
        kind = ALIASES.get(kind, kind)
        value = _clean(value)
        if kind not in KINDS:
            continue
        if not value or value.lower() in NOTHING or len(value) > MAX_VALUE_CHARS:
            continue
        if not grounded(value, message):
            continue
        kind = labelled(kind, value, message) or ""
        if kind not in KINDS or kind in found:
            continue
        if kind == "name" and (
            len(value.split()) > MAX_NAME_WORDS or not _looks_like_a_name(value, message)
        ):
            continue
        found[kind] = Fact(kind=kind, text=value)
    return list(found.values())
