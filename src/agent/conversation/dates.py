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
    """Return the past day or week ``message`` names, read in ``language``, if any."""
    text = message.strip()
    if not text or len(text) > MAX_CHARS:
        return None
    moment = (now or datetime.now().astimezone()).replace(tzinfo=None)
    code = iso_code(language)
    if code is None:
        return None  # read in every language dateparser knows, a message took up to 2 s
    languages = [code]
    try:
        found = _search(text, languages, moment)
    except Exception:  # dateparser is a reader of free text: a failure means no day
        logger.debug("No day read in %r", text, exc_info=True)
        return None
    for said, when in found:
        core = _without_short_words(said)
        if not core or not moment - MAX_AGE <= when < moment.replace(hour=0, minute=0):
            continue
        period = _period(core, languages)
        named = said.strip(" ,.;:!?¿¡")
        if period == "day":
            return Days(when.date(), when.date(), named)
        if period == "week":
            monday = when.date() - timedelta(days=when.weekday())
            return Days(monday, min(monday + timedelta(days=6), moment.date()), named)
    return None


def warm_up(languages: tuple[str, ...]) -> None:
    """Load dateparser's data for ``languages`` now, not at the first message naming a day."""
    for language in languages:
        days_named("yesterday", language)


def _settings(moment: datetime) -> dict[str, Any]:
    return {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": moment}


def _search(text: str, languages: list[str], moment: datetime) -> list[tuple[str, datetime]]:
    from dateparser.search import search_dates

    return list(search_dates(text, languages=languages, settings=_settings(moment)) or [])


def _period(said: str, languages: list[str]) -> str | None:
    parser = _parser(tuple(languages))
    data = parser.get_date_data(said)
    return data.period if data.period in KEPT_PERIODS and data.date_obj else None


@cache
def _parser(languages: tuple[str, ...]) -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(languages=list(languages))


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
