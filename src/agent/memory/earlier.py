"""What the user's earlier conversations said that the newest message asks about.

Before a reply, the user's newest messages in their other conversations
(:data:`LOOKED_AT`, from the search index beside the checkpoints:
``agent.storage.search``) are paired into exchanges, a user's message and
the reply after it, and ranked by what they share with the newest message:
character n-grams of each word (any script, no word list), each weighed by
how rare it is among those exchanges, so a name, a title or a dish counts
and "recommend" or "what" do not. An exchange is shown only when it shares
:data:`MIN_SHARED`; the best :data:`KEPT` go in the prompt as turns (the
user's message dated: ``prompts.EARLIER_SAID``) just before the newest
message, so the prompt's start (system prompt, conversation) stays what the
model server has read. A turn that asks about nothing said before finds
nothing, and its prompt is exactly as without this module.

A message that names a past day or week ("yesterday", 어제, 先週, avant-hier:
``conversation.dates``) is first ranked against that period's exchanges
alone; a question about the period that shares no word with them ("what
did we talk about yesterday?") is shown the opening exchange of each of its
conversations (at most :data:`DAY_KEPT`). Only a question (it ends with a
question mark, in any script) gets those, so a statement that names a day
("I moved last week") adds nothing it does not share words with.

Only the user's own conversations are read, never the one in progress
(what it shows is already in the prompt), and a deleted conversation never
(its rows go with it, and rows of a thread without checkpoints are never
read).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.store.base import BaseStore

from agent.conversation import dates
from agent.conversation.likeness import fold
from agent.conversation.prompts import EARLIER_SAID
from agent.memory import deletions
from agent.storage.search import Indexed, SearchIndex

logger = logging.getLogger(__name__)

LOOKED_AT = 400
"""The user's newest messages of other conversations ranked for each reply."""

KEPT = 2
"""The most exchanges of earlier conversations a prompt shows."""

DAY_KEPT = 3
"""The most conversations of a named day or week a question about it is shown (their openings)."""

QUESTION_MARKS = ("?", "？", "¿")
"""What ends (or, in Spanish, opens) a question in the bot's languages."""

MIN_SHARED = 2.0
"""How much of the newest message an exchange must share to be shown (see :func:`relevant`)."""

ANCHOR_LETTERS = 4
"""Letters of an alphabetic word an exchange must share with the message (see :func:`anchors`)."""

MIN_COVERED = 0.5
"""Share of the message's words found in earlier exchanges that a shown one must hold (more than).

A question about a restaurant recommended for a trip never mentioned shares
"recommend" with a novel's recommendation and nothing else: that exchange
holds one of the two words any exchange holds, and is not shown.
"""

SPAN_WORDS = 4
SPAN_CHARS = 8
"""The longest value, in words (or characters without spaces), a forgotten fact is looked for as."""

_EDGES = ".,;:!?¡¿\"'«»“”‘’„()[]{}<>「」『』。、！？"
"""Punctuation a word may carry at either end (a value is copied without it)."""

SAID_CHARS = 300
"""Characters of each message of an exchange the prompt shows (the rest is cut)."""


@dataclass(frozen=True)
class Exchange:
    """A user's message of an earlier conversation and the reply that followed it."""

    thread_id: str
    at: str
    said: str
    answered: str
    position: int = 0
    """Where the user's message is in its conversation (0: it opens it)."""

    @property
    def text(self) -> str:
        """Return both messages, as ranked."""
        return f"{self.said}\n{self.answered}"


_NOT_A_LETTER = re.compile(r"[^\w\s]|_")
"""What :func:`word_grams` leaves out of a word (it keeps letters and digits)."""


def _is_syllabic(char: str) -> bool:
    """Tell whether a letter is Hangul, kana or a Han character (a syllable or more each)."""
    return "\u1100" <= char and unicodedata.name(char, "").startswith(
        ("HANGUL", "HIRAGANA", "KATAKANA", "CJK")
    )


def word_grams(text: str, alphabetic: int = 3) -> set[str]:
    """Return the character n-grams within each word of ``text`` (folded), in any script.

    Pairs for Hangul, kana and Han, where a word of two characters is common
    (소설, 東京); ``alphabetic`` letters for alphabets, whose pairs words share
    by chance. Shorter words count whole.
    """
    grams: set[str] = set()
    for word in fold(text).split():
        letters = "".join(char for char in word if char.isalnum())
        if not letters:
            continue
        size = 2 if any(_is_syllabic(char) for char in letters) else alphabetic
        grams |= {letters[i : i + size] for i in range(len(letters) - size + 1)} or {letters}
    return grams


def anchors(text: str) -> set[str]:
    """Return the pieces of ``text`` an exchange must share one of: pairs, or four letters.

    Three letters shared are often chance ("que" of "quelle" and "quand est-ce
    que"); a word of three letters or fewer, or of one syllable, is no anchor.
    """
    return {gram for gram in word_grams(text, ANCHOR_LETTERS) if not _short_word(gram)}


def _short_word(gram: str) -> bool:
    syllabic = any(_is_syllabic(char) for char in gram)
    return len(gram) < (2 if syllabic else ANCHOR_LETTERS)


def _held(grams: set[str], text: str) -> set[str]:
    """Return which of ``grams`` occur in ``text``'s words (folded, punctuation dropped)."""
    words = _NOT_A_LETTER.sub("", fold(text))
    return {gram for gram in grams if gram in words}


def exchanges_of(messages: Sequence[Indexed]) -> list[Exchange]:
    """Pair each user's message with the reply after it in its thread, newest first.

    A message with no reply after it (the user stopped it, or it failed) is left out.
    """
    by_thread: dict[str, list[Indexed]] = defaultdict(list)
    for message in messages:
        by_thread[message.thread_id].append(message)
    found: list[Exchange] = []
    for thread in by_thread.values():
        thread.sort(key=lambda message: message.position)
        for said, after in zip(thread, [*thread[1:], None], strict=True):
            if said.role != "user":
                continue
            if after is not None and after.role == "assistant":
                found.append(
                    Exchange(said.thread_id, said.at, said.text, after.text, said.position)
                )
    found.sort(key=lambda exchange: exchange.at, reverse=True)
    return found


def relevant(
    exchanges: Sequence[Exchange],
    message: str,
    kept: int = KEPT,
    allowed: Callable[[Exchange], bool] = lambda _exchange: True,
) -> list[Exchange]:
    """Return the exchanges that share enough of ``message``, best first (at most ``kept``).

    Each n-gram of the message an exchange holds counts by how rare it is
    among ``exchanges`` (inverse document frequency), in units of an n-gram
    only one of them holds; an exchange is kept from :data:`MIN_SHARED` units,
    and only if it shares one of the message's :func:`anchors`, holds more
    than :data:`MIN_COVERED` of the message's words that any exchange holds
    (a word: its anchors; unspaced scripts make a run one word), and is
    ``allowed`` (asked of the best ones only, in order).
    """
    asked = word_grams(message)
    if not asked or not exchanges:
        return []
    anchored = anchors(message)
    words = [found for word in fold(message).split() if (found := anchors(word))]
    shared_anchors = [_held(anchored, exchange.text) for exchange in exchanges]
    held = [
        _held(asked, exchange.text) if shared else set()
        for exchange, shared in zip(exchanges, shared_anchors, strict=True)
    ]
    frequency = Counter(gram for grams in held for gram in grams & asked)
    rarest = math.log((len(held) + 1) / 1.5)
    weight = {gram: math.log((len(held) + 1) / (frequency[gram] + 0.5)) / rarest for gram in asked}
    scored = [
        (sum(weight[gram] for gram in grams & asked), number) for number, grams in enumerate(held)
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))  # ties: the newer first
    if scored:
        logger.debug("Earlier conversations: best score %.2f", scored[0][0])
    words_held = [{n for n, word in enumerate(words) if word & shared} for shared in shared_anchors]
    known = set().union(*words_held)
    chosen: list[Exchange] = []
    for score, number in scored:
        if score < MIN_SHARED or len(chosen) == kept:
            break
        if len(words_held[number]) <= MIN_COVERED * len(known):
            continue
        if allowed(exchanges[number]):
            chosen.append(exchanges[number])
    return chosen


def openings(
    exchanges: Sequence[Exchange],
    kept: int = DAY_KEPT,
    allowed: Callable[[Exchange], bool] = lambda _exchange: True,
) -> list[Exchange]:
    """Return the first exchange of each conversation among ``exchanges``, newest conversation first.

    An exchange is its conversation's first when no earlier one of it is
    among ``exchanges`` (rows of a period may begin mid-conversation).
    """
    first: dict[str, Exchange] = {}
    for exchange in exchanges:
        known = first.get(exchange.thread_id)
        if known is None or exchange.position < known.position:
            first[exchange.thread_id] = exchange
    newest = sorted(first.values(), key=lambda exchange: exchange.at, reverse=True)
    return [exchange for exchange in newest if allowed(exchange)][:kept]


def is_question(message: str) -> bool:
    """Tell whether ``message`` is a question by its punctuation, in any of the bot's scripts."""
    text = message.strip()
    return text.endswith(QUESTION_MARKS) or text.startswith("¿")


def spans(text: str) -> set[str]:
    """Return the pieces of ``text`` a fact's value could have been copied as, folded.

    Runs of up to :data:`SPAN_WORDS` words, each word's starts (a particle may
    follow the value: 하윤이에요) and, in Hangul, kana and Han, which need no
    spaces, every run of up to :data:`SPAN_CHARS` characters.
    """
    words = [word.strip(_EDGES) for word in fold(text).split()]
    words = [word for word in words if word]
    found = {
        " ".join(words[start : start + length])
        for length in range(1, SPAN_WORDS + 1)
        for start in range(len(words) - length + 1)
    }
    for word in words:
        found |= {word[:end] for end in range(1, len(word))}
        if any(_is_syllabic(char) for char in word):
            found |= {
                word[start : start + length]
                for length in range(1, SPAN_CHARS + 1)
                for start in range(len(word) - length + 1)
            }
    return found


def not_forgotten(markers: set[str], everything: str) -> Callable[[Exchange], bool]:
    """Return a check that an exchange says no forgotten value and is newer than "forget all"."""

    def allowed(exchange: Exchange) -> bool:
        if everything and exchange.at <= everything:
            return False
        both = spans(_cut(exchange.said)) | spans(_cut(exchange.answered))  # what is shown
        return not any(deletions.value_marker(span) in markers for span in both)

    return allowed


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SAID_CHARS else f"{flat[:SAID_CHARS].rstrip()}…"


def section(exchanges: Sequence[Exchange], named: str = "") -> list[BaseMessage]:
    """Return the exchanges as turns, oldest first, each user's message dated (none: nothing).

    ``named`` is how the newest message named their day ("hier"), said beside the date.
    """
    turns: list[BaseMessage] = []
    for exchange in sorted(exchanges, key=lambda exchange: exchange.at):
        date = f"{named}, {exchange.at[:10]}" if named else exchange.at[:10]
        said = EARLIER_SAID.format(date=date, said=_cut(exchange.said))
        turns += [HumanMessage(content=said), AIMessage(content=_cut(exchange.answered))]
    return turns


async def recalled(
    index: SearchIndex | None,
    store: BaseStore | None,
    user_id: str,
    thread_id: str,
    message: str,
    language: str | None = None,
    now: datetime | None = None,
) -> list[BaseMessage]:
    """Return what the user's earlier conversations said that ``message`` asks about, as turns.

    ``message`` is read in ``language`` for a day or week it names (``now``:
    the current time, by default the clock's). An exchange that says a value
    the user forgot (or older than "forget everything") is never shown. An
    index or store that fails to read leaves it all out (logged): it never
    fails a turn.
    """
    if index is None:
        return []
    try:
        days = await asyncio.to_thread(dates.days_named, message, language, now)
        markers, everything = (
            await deletions.forgotten(store, user_id) if store is not None else (set(), "")
        )
        allowed = not_forgotten(markers, everything)
        if days is not None:
            rows = await index.elsewhere(user_id, thread_id, LOOKED_AT, days.period())
            of_days = exchanges_of(rows)
            found = relevant(of_days, message, allowed=allowed)
            if not found and is_question(message):
                found = openings(of_days, allowed=allowed)
            if found:
                return section(found, days.named)
        rows = await index.elsewhere(user_id, thread_id, LOOKED_AT)
    except Exception:
        logger.exception("Could not read the user's earlier conversations; answering without them")
        return []
    return section(relevant(exchanges_of(rows), message, allowed=allowed))
