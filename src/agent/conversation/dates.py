"""The past day or week a message names ("yesterday", 어제, 先週, avant-hier), read by dateparser.

``dateparser`` knows the words for days and weeks of some 200 languages, so no
list of them is kept here. What it finds is kept only when it names a day before
today or a week that has begun before it (a month or a year is too wide to
recall a conversation by; "today", "now" and a future day name none other
than the one in progress), and when it is more than an abbreviation in an
alphabet ("we", "Je" and "mer" read as Wednesday, jeudi and mercredi).
Days are the server's local days: a chatbot run on one's own machine shares
its clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

logger = logging.getLogger(__name__)

MAX_CHARS = 400
"""Longer messages are not searched for a day: pasted text is not a question about one."""

MIN_LETTERS = 4
"""Letters a word of a day's name needs in an alphabet (in Hangul, kana and Han one will do):
dateparser reads French "je", "mer", "ma", Spanish "mi" and English "we" as weekdays."""

MAX_AGE = timedelta(days=366)
"""How far back a named day may be: "nine years" (French "neuf ans") is read as a day too."""

KEPT_PERIODS = ("day", "week")
"""What a message may name to recall conversations by (dateparser's periods)."""

PHRASE_WORDS = 4
"""The longest phrase read as a whole: "the day before yesterday", "la semaine dernière"."""

DAY_NAMING_KEYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "day",
    "week",
    "ago",
)
"""The parts of dateparser's data for a language whose words name a day or a week."""

PUNCTUATION = " ,.;:!?¿¡\"'“”«»()？！。、"
"""What a phrase is stripped of at its ends."""


@dataclass(frozen=True)
class Days:
    """A run of whole local days, from ``first`` to ``last`` included."""

    first: date
    last: date
    named: str = ""
    """The message's words that name them ("hier", "어제", "last week")."""

    def period(self) -> tuple[datetime, datetime]:
        """Return the moments the days begin and end (the day after ``last`` begins), local time."""
        start = datetime.combine(self.first, time()).astimezone()
        end = datetime.combine(self.last + timedelta(days=1), time()).astimezone()
        return start, end


def iso_code(language: str | None) -> str | None:
    """Return the two-letter code of a language named in English ("Korean": "ko"), if known."""
    if not language:
        return None
    from lingua import Language

    try:
        return str(Language.from_str(language).iso_code_639_1.name.lower())
    except ValueError:
        return None


def days_named(message: str, language: str | None, now: datetime | None = None) -> Days | None:
    """Return the past day or week ``message`` names, read in ``language``, if any.

    Its phrases of up to :data:`PHRASE_WORDS` words are read first, longest
    first, by dateparser's whole-phrase reader: its search of a sentence reads
    "the day before yesterday" as yesterday and misses "la semaine dernière",
    "la semana pasada" and "지난주에" (a word with its particle). The search is
    the fallback, for what has no spaces between words (Japanese).
    """
    from dateparser.date import DateDataParser

    text = message.strip()
    if not text or len(text) > MAX_CHARS:
        return None
    moment = (now or datetime.now().astimezone()).replace(tzinfo=None)
    code = iso_code(language)
    if code is None:
        return None  # read in every language dateparser knows, a message took up to 2 s
    languages = (code,)
    try:
        parser = DateDataParser(languages=list(languages), settings=_settings(moment))
        return _in_phrases(text, parser, languages, moment) or _in_search(
            text, parser, languages, moment
        )
    except Exception:  # dateparser is a reader of free text: a failure means no day
        logger.debug("No day read in %r", text, exc_info=True)
        return None


def _in_phrases(
    text: str, parser: Any, languages: tuple[str, ...], moment: datetime
) -> Days | None:
    words = [word.strip(PUNCTUATION) for word in text.split()]
    words = [word for word in words if word]
    for size in range(min(PHRASE_WORDS, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            phrase = words[start : start + size]
            for said in _with_and_without_particle(phrase):
                if not _worth_reading(said, languages):
                    continue
                data = parser.get_date_data(said)
                if days := _kept(said, data.date_obj, data.period, moment):
                    return days
    return None


@cache
def _known_words(languages: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """Return the words of dateparser's data for ``languages``, and those that name days.

    The second set holds the words of weekdays, "day", "week", "ago" and of the
    relative phrases ("yesterday", "la semaine dernière"): a phrase without
    one is a number or a date of the calendar ("acht", "in einem", "12 April"),
    which the search reads with its context.
    """
    from dateparser.languages.loader import default_loader

    def words(data: object) -> set[str]:
        if isinstance(data, str):
            return set(data.lower().split())
        if isinstance(data, dict):
            return {word for key, value in data.items() for word in words(key) | words(value)}
        if isinstance(data, list | tuple):
            return {word for value in data for word in words(value)}
        return set()

    known: set[str] = set()
    naming: set[str] = set()
    for code in languages:
        info = default_loader.get_locale(code).info
        known |= words(info)
        naming |= words([info.get(key, []) for key in DAY_NAMING_KEYS])
        relative = info.get("relative-type", {})  # keyed in English: "1 day ago": ["gestern"]
        naming |= words(
            [said for key, said in relative.items() if {"day", "week"} & set(key.split())]
        )
    naming = {word for word in naming if _is_long(word)}  # not "in" of "in dieser Woche"
    return frozenset(known), frozenset(naming)


def _worth_reading(said: str, languages: tuple[str, ...]) -> bool:
    """Tell whether ``said`` is made of dateparser's words and one of them names days.

    Reading a phrase takes dateparser about a millisecond; most phrases of a
    message hold a word it does not know, and are not read.
    """
    known, naming = _known_words(languages)
    words = said.lower().split()
    return all(word in known or word.isdigit() for word in words) and any(
        word in naming for word in words
    )


def _with_and_without_particle(phrase: list[str]) -> list[str]:
    """Return ``phrase``, and, if its last word is Hangul, that word less its last syllable.

    Only a word of three syllables or more loses one ("지난주에": "지난주"): one
    syllable left is a weekday's abbreviation ("화분": "화", Tuesday).
    """
    said = " ".join(phrase)
    last = phrase[-1]
    if len(last) > 2 and "\uac00" <= last[-1] <= "\ud7a3":
        return [said, " ".join([*phrase[:-1], last[:-1]])]
    return [said]


def _in_search(text: str, parser: Any, languages: tuple[str, ...], moment: datetime) -> Days | None:
    for said, when in _search(text, list(languages), moment):
        core = _without_short_words(said)
        if core and (days := _kept(said, when, _period(core, parser), moment)):
            return days
    return None


def _kept(said: str, when: datetime | None, period: str | None, moment: datetime) -> Days | None:
    """Return the days ``said`` names if they are a past day or a begun week in reach."""
    if when is None or period not in KEPT_PERIODS:
        return None
    if not moment - MAX_AGE <= when < moment.replace(hour=0, minute=0):
        return None
    named = said.strip(PUNCTUATION)
    if period == "day":
        return Days(when.date(), when.date(), named)
    monday = when.date() - timedelta(days=when.weekday())
    return Days(monday, min(monday + timedelta(days=6), moment.date()), named)


def warm_up(languages: tuple[str, ...]) -> None:
    """Load dateparser's data for ``languages`` now, not at the first message naming a day."""
    for language in languages:
        days_named("yesterday", language)  # found by the phrase pass, so the search is not run
        days_named("nothing", language)  # read by both


def _settings(moment: datetime) -> dict[str, Any]:
    return {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": moment}


def _search(text: str, languages: list[str], moment: datetime) -> list[tuple[str, datetime]]:
    from dateparser.search import search_dates

    return list(search_dates(text, languages=languages, settings=_settings(moment)) or [])


def _period(said: str, parser: Any) -> str | None:
    """Return the period ``said`` names on its own, if it names a date at all."""
    data = parser.get_date_data(said)
    return str(data.period) if data.date_obj else None


def _without_short_words(said: str) -> str:
    """Return ``said`` without its short words; empty unless a word of a day's length is left.

    Digits stay ("17 mars"), but are no day's name by themselves.
    """
    kept = [word for word in said.split() if _is_long(word) or any(c.isdigit() for c in word)]
    return " ".join(kept) if any(_is_long(word) for word in kept) else ""


def _is_long(word: str) -> bool:
    letters = [char for char in word if char.isalpha()]
    if any(ord(char) >= 0x1100 for char in letters):  # Hangul, kana, Han: a syllable a letter
        return True
    return len(letters) >= MIN_LETTERS
