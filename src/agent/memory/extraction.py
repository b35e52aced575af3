"""Find the lasting facts a user states about themselves in one of their messages, any language.

The model is shown only the user's own message, with a short instruction and
worked examples in several languages, and asked for ``topic: value`` lines
(the topics of :data:`~agent.memory.topics.TOPICS`, or one of its own). Its
answer is read defensively: a value is kept only when the user wrote it
(:func:`grounded`, by characters, so it works where words carry particles or
are not separated by spaces), and outside any passage they quote (:func:`unquoted`:
text to translate, summarize or explain is not the user speaking of themselves), and
it is kept as the user wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent.conversation.prompts import (
    EXTRACTION_EXAMPLES,
    EXTRACTION_INSTRUCTIONS,
    EXTRACTION_MESSAGE_PREFIX,
)
from agent.memory.facts import Fact, fact_key
from agent.memory.topics import TOPICS, topic_of

INSTRUCTIONS = EXTRACTION_INSTRUCTIONS.format(topics=", ".join(TOPICS))
"""The extraction's instructions, naming the topics of the one table."""

EXAMPLES = EXTRACTION_EXAMPLES
MESSAGE_PREFIX = EXTRACTION_MESSAGE_PREFIX

MIN_LETTERS = 3
"""A message with fewer letters ("ok", "네", "hi") states nothing worth a model call."""

MIN_VALUE_CHARS = 2
"""A value needs at least this many letters or digits (one letter is found anywhere)."""

MAX_VALUE_CHARS = 80
"""A longer value is the model copying the message, not noting a fact."""

COPIED_SHARE = 0.9
"""A value holding this share of the message's letters is the message copied: beside other
facts, it is the model padding its answer ("location: <city>" then "health: <the message>")."""

TRAILING_PARTICLES = (
    "이라고",
    "라고",
    "이에요",
    "예요",
    "이에",
    "예",
    "입니다",
    "이야",
    "이고",
    "에서",
    "으로",
    "에",
    "로",
    "です",
)
"""Endings a small model leaves on a Korean or Japanese value ("하람이에요" for "하람"): trimmed
when what is left still has :data:`MIN_STEM_CHARS` characters. They never decide what is read."""

MIN_STEM_CHARS = 2

NOTHING = {"none", "unknown", "n/a", "na", "null", "nothing", "not mentioned", "-", "없음", "なし"}
"""Values that mean the model found nothing."""

QUOTED = re.compile(
    r"«[^»]*»|‹[^›]*›|„[^“”]*[“”]|“[^”]*”|\"[^\"\n]*\"|「[^」]*」|『[^』]*』"
    r"|(?<!\w)‘.+?’(?!\w)|(?<!\w)'.+?'(?!\w)"
)
"""A passage the user quotes, between the quotation marks of any script (an apostrophe inside
a word, as in "it's", neither opens nor closes one)."""

_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]*")
_QUESTION_MARKS = ("?", "？")
_LINE_MARKERS = "-*•·> \t"
_VALUE_QUOTES = "\"'`*“”„«»「」『』"
_VALUE_TRAILERS = ".!,;:。、！，；："
_LIST_SEPARATORS = re.compile(r"\s*[,;、，；]\s*")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
"""Scripts whose words are not separated by spaces, or take particles: matched by characters."""


def prompt(message: str) -> list[BaseMessage]:
    """Return the extraction prompt for one user message."""
    turns: list[BaseMessage] = [SystemMessage(content=INSTRUCTIONS)]
    for said, noted in EXAMPLES:
        turns += [HumanMessage(content=MESSAGE_PREFIX + said), AIMessage(content=noted)]
    turns.append(HumanMessage(content=MESSAGE_PREFIX + message))
    return turns


def worth_asking(message: str) -> bool:
    """Tell whether ``message`` may state a fact (saves a model call if not), in any language.

    Not when it is empty or too short to state anything, nor when every
    sentence of it is a question ("What's my name?", "내 이름이 뭐야?").
    """
    if sum(char.isalpha() for char in message) < MIN_LETTERS:
        return False
    sentences = [part.strip() for part in _SENTENCE.findall(message) if part.strip()]
    return not all(sentence.endswith(_QUESTION_MARKS) for sentence in sentences)


def _unspaced(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in _UNSPACED)


def _in_a_word(char: str) -> bool:
    """Tell whether ``char`` continues a space-separated word (a letter or digit of such a script)."""
    return char.isalnum() and not _unspaced(char)


@dataclass(frozen=True)
class _Folded:
    """A text folded for matching, and where each folded character came from."""

    text: str
    origin: list[int]


def _fold(text: str) -> _Folded:
    """Fold ``text`` a character at a time (case, accents, width; spaces collapsed)."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                origin.append(index)
            continue
        decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char).casefold())
        bare = unicodedata.normalize(
            "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
        )
        for folded in bare.replace("\u2019", "'"):
            chars.append(folded)
            origin.append(index)
    folded_text = "".join(chars).rstrip()  # no leading space: none is ever added first
    return _Folded(folded_text, origin[: len(folded_text)])


def _find(needle: str, haystack: _Folded) -> tuple[int, int] | None:
    """Return the span of ``original`` where folded ``needle`` stands as a whole, if anywhere.

    In a spaced script it must start and end a word ("Ana" is not in
    "Banana"); in Hangul, kana or Han it may sit anywhere ("하람" in
    "하람이고", "鳥取" in "鳥取に").
    """
    start = haystack.text.find(needle)
    while start >= 0 and needle:
        end = start + len(needle)
        before = haystack.text[start - 1] if start > 0 else " "
        after = haystack.text[end] if end < len(haystack.text) else " "
        cut_before = _in_a_word(before) and _in_a_word(needle[0])
        cut_after = _in_a_word(after) and _in_a_word(needle[-1])
        if not cut_before and not cut_after:
            return haystack.origin[start], haystack.origin[end - 1] + 1
        start = haystack.text.find(needle, start + 1)
    return None


def grounded(value: str, message: str) -> str | None:
    """Return ``value`` as the user wrote it in ``message``, or None if they did not write it.

    Matched by characters after folding case, accents and width: the whole
    value where it stands in the message (the user's own spelling is
    returned), else each of its words somewhere in the message (joined as
    written). A value with fewer than :data:`MIN_VALUE_CHARS` letters or
    digits is never grounded.
    """
    folded_value = _fold(value).text
    if sum(char.isalnum() for char in folded_value) < MIN_VALUE_CHARS:
        return None
    haystack = _fold(message)
    whole = _find(folded_value, haystack)
    if whole is not None:
        return message[whole[0] : whole[1]]
    spans = [_find(token, haystack) for token in _TOKEN.findall(folded_value)]
    if not spans or any(span is None for span in spans):
        return None
    return " ".join(message[span[0] : span[1]] for span in spans if span is not None)


def unquoted(message: str, value: str) -> str:
    """Return ``message`` with the passages it quotes blanked out, unless one quotes just ``value``.

    A fact found only inside a quoted passage is someone else's words ("Translate:
    «Je m'appelle Lucienne»", 「…」を要約して); a quoted name alone is the user's own
    (My dog is called "Rex"). Blanked with spaces, so positions do not move.
    """
    bare = _fold(value).text

    def blank(match: re.Match[str]) -> str:
        inner = match.group(0)[1:-1]
        return match.group(0) if _fold(inner).text == bare else " " * len(match.group(0))

    return QUOTED.sub(blank, message)


def _letters(text: str) -> int:
    return sum(char.isalnum() for char in text)


def trimmed(value: str) -> str:
    """Return ``value`` without a particle or copula a model left at its end (see the table)."""
    for ending in TRAILING_PARTICLES:
        stem = value.removesuffix(ending)
        if stem != value and len(stem) >= MIN_STEM_CHARS and _unspaced(stem[-1]):
            return stem
    return value


def _clean(value: str) -> str:
    value = value.strip().strip(_VALUE_QUOTES).strip()
    return value.rstrip(_VALUE_TRAILERS).strip().strip(_VALUE_QUOTES).strip()


def _values(raw: str, single: bool) -> list[str]:
    """Return the values one answer line gives: a list splits unless its topic is single-valued."""
    value = _clean(raw)
    parts = [value] if single else _LIST_SEPARATORS.split(value)
    return [cleaned for part in parts if (cleaned := _clean(part))]


def parse(answer: str, message: str) -> list[Fact]:
    """Read the model's ``topic: value`` lines; keep only facts the user's message holds.

    Lines that are not ``topic: value``, "none"-like, empty or over-long
    values, and values the user did not write are dropped; each value kept is
    the user's own spelling (a particle left at its end trimmed); a value
    that is the whole message copied is dropped when the answer has other
    facts. A topic outside the
    table is kept as a topic of its own. One value a single-valued topic
    (the first given), and no value twice, even under another topic.
    """
    found: dict[str, Fact] = {}
    copies: set[str] = set()
    values_seen: set[str] = set()
    for line in answer.splitlines():
        line = unicodedata.normalize("NFKC", line).strip().lstrip(_LINE_MARKERS)
        label, colon, raw = line.partition(":")
        topic = topic_of(label) if colon else None
        if topic is None:
            continue
        for value in _values(raw, topic.single):
            if value.casefold() in NOTHING or len(value) > MAX_VALUE_CHARS:
                continue
            written = grounded(value, unquoted(message, value))
            if written is None:
                continue
            written = trimmed(written)
            if written.casefold() in values_seen:
                continue  # one value, one topic: the first the model gave
            values_seen.add(written.casefold())
            key = fact_key(topic.name, written)
            if key not in found:
                found[key] = Fact(topic.name, written)
                if _letters(written) >= COPIED_SHARE * _letters(message):
                    copies.add(key)
    if len(copies) < len(found):
        return [fact for key, fact in found.items() if key not in copies]
    return list(found.values())
