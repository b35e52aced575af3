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
        "Hello! I'm Tomasz and I work as a baker in Gdansk.",
        "name: Tomasz\njob: baker\nlocation: Gdansk",
    ),
    ("What is the tallest mountain in the world?", "none"),
    ("Actually I moved to Krakow last month.", "location: Krakow"),
    ("I love jazz, and next spring I plan to visit Lisbon.", "likes: jazz\nplans: visit Lisbon"),
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


def _clean(value: str) -> str:
    value = value.strip().strip("\"'`*").strip()
    return value.rstrip(".!,;:").strip()


def parse(answer: str, message: str) -> list[Fact]:
    """Read the model's ``kind: value`` lines; keep only facts the user's message supports.

    One fact a kind (the first one given); kinds outside :data:`KINDS`, empty,
    "none"-like or over-long values, names longer than a few words, and values
    with any word the user did not write are dropped.
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
        if kind not in KINDS or kind in found:
            continue
        if not value or value.lower() in NOTHING or len(value) > MAX_VALUE_CHARS:
            continue
        if kind == "name" and len(value.split()) > MAX_NAME_WORDS:
            continue
        if not grounded(value, message):
            continue
        found[kind] = Fact(kind=kind, text=value)
    return list(found.values())
