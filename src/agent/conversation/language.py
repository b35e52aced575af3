"""Which language a thread replies in: the one set for it, else the one its user writes.

A language set explicitly (the run input's ``language``, the CLI's ``/lang``,
the chat page's selector) wins. A thread without one replies in the language
of the user's newest message, detected offline; a message too short or too
ambiguous to tell ("ok", "Merci", "👍", code, numbers) keeps the language the
thread replied in before; a thread that never had one replies in English.

Detection takes two steps:

1. Script: text written mostly in Hangul is Korean, text with kana is
   Japanese, text in Han characters without kana is Chinese. These scripts
   are not shared with any other language of :data:`LANGUAGES`, and a
   message in them often carries Latin technical words ("Python에서 ...")
   that would mislead a statistical model.
2. Otherwise `lingua <https://github.com/pemistahl/lingua-py>`_, restricted
   to :data:`LANGUAGES`, computes a confidence per language; the top one is
   kept only when it reaches :data:`MIN_CONFIDENCE` (one word:
   :data:`MIN_CONFIDENCE_ONE_WORD`) and leads the runner-up by
   :data:`MIN_MARGIN`. Names sway it ("My name is Grzegorz." reads as
   Polish), so a message with capitalized words inside a sentence is read
   again without them, and that reading decides; when it is unsure, the
   whole message counts only if both readings lean to the same language.
   Code, links and e-mail addresses are left out, and an opening "¿" or "¡"
   makes Spanish win when lingua ranks it second. Figures measured on the tests' messages are in
   ``docs/languages.md``.

The lingua detector takes 3 to 6 s and about 390 MB to build, so it is built once,
on first need, under a lock (not at import: the CLI and the validation
middleware import this module without ever detecting). Async code (the
graph's nodes under the LangGraph server, which refuses blocking calls on its
event loop) calls :func:`detect_async` or :func:`reply_language_async`, which
detect in a worker thread, building the detector there the first time;
:func:`warm_up` starts building it in the background ahead of the first
message, so that message does not wait for it.
"""

from __future__ import annotations

import asyncio
import re
import threading
import unicodedata
from dataclasses import dataclass

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

AUTO = "auto"
"""The ``language`` value that asks for automatic detection (as does an empty one)."""

DEFAULT_REPLY_LANGUAGE = "English"
"""The reply language of a thread that never set one and whose messages tell none."""

LANGUAGES = (
    Language.ARABIC,
    Language.CHINESE,
    Language.DUTCH,
    Language.ENGLISH,
    Language.FRENCH,
    Language.GERMAN,
    Language.HINDI,
    Language.ITALIAN,
    Language.JAPANESE,
    Language.KOREAN,
    Language.POLISH,
    Language.PORTUGUESE,
    Language.RUSSIAN,
    Language.SPANISH,
    Language.TURKISH,
    Language.VIETNAMESE,
)
"""The languages detected; a message in another one is read as its nearest of these.

All of lingua's 75 languages take about 20 s and 900 MB to load; these 16 take
3 to 6 s and about 390 MB here; the seven of issue 20 alone, 3 s and 160 MB.
"""

NAMES = tuple(language.name.title() for language in LANGUAGES)
"""The detected languages' names, as a turn's reply language names them."""

MIN_CONFIDENCE = 0.25
"""Lowest lingua confidence (0 to 1) of the top language for it to count."""

MIN_CONFIDENCE_ONE_WORD = 0.6
"""Lowest confidence for a one-word message ("Salut": Italian 0.44, "non": Italian 0.47)."""

MIN_MARGIN = 0.1
"""How far the top language's confidence must lead the runner-up's ("Danke": German 0.44, Dutch 0.42)."""

MIN_LETTERS = 3
"""Fewest letters (after code, links and numbers are removed) a Latin-script guess needs."""

CJK_WEIGHT = 4
"""How many Latin letters one Hangul, kana or Han character counts as.

One such character carries about a syllable or a word, so "Python에서 list
comprehension 쓰는 법 알려줘" (8 Hangul, 23 Latin letters) is Korean, while
"How do you say thank you in Korean? 감사합니다?" (5 Hangul, 28 Latin) is English.
"""

MAX_DETECT_CHARS = 1000
"""Only a message's first characters are read: enough to tell its language, and fast."""

SPANISH_MARKS = frozenset("¿¡")
"""Opening question and exclamation marks: of the detected languages, only Spanish has them.

A message with one is Spanish when lingua ranks Spanish first or second
("¿Qué tal?": French 0.46, Spanish 0.32).
"""

_CODE_OR_LINK = re.compile(
    r"```.*?(```|$)"  # fenced code, closed or not
    r"|`[^`\n]*`"  # inline code
    r"|\b(?:https?|ftp)://\S+|\bwww\.\S+"  # links
    r"|\S+@\S+\.\w+",  # e-mail addresses
    re.DOTALL,
)

_WORD = re.compile(r"[^\W\d_]+")

_detector: LanguageDetector | None = None
_lock = threading.Lock()


def is_auto(language: str | None) -> bool:
    """Return whether ``language`` asks for automatic detection (None, empty or "auto")."""
    return language is None or language.strip().lower() in ("", AUTO)


def explicit_language(language: str | None) -> str | None:
    """Return the language a thread or user set explicitly, or None when it is automatic."""
    return None if language is None or is_auto(language) else language.strip()


def reply_language(set_language: str | None, newest_user_text: str, previous: str | None) -> str:
    """Return the language to answer ``newest_user_text`` in.

    Args:
        set_language: The thread's ``language`` value; a real name wins, an
            automatic one (see :func:`is_auto`) lets the user's text decide.
        newest_user_text: The text of the user's newest message.
        previous: The language the thread replied in last, kept when the
            newest message is too short or ambiguous to tell.
    """
    chosen = explicit_language(set_language)
    if chosen:
        return chosen
    return detect(newest_user_text) or _kept(previous)


async def reply_language_async(
    set_language: str | None, newest_user_text: str, previous: str | None
) -> str:
    """Do what :func:`reply_language` does without blocking the event loop."""
    return (await turn_language(set_language, newest_user_text, previous)).reply


@dataclass(frozen=True)
class TurnLanguage:
    """The language a turn is answered in, and the one its message is written in."""

    reply: str
    """What the reply is written in (:func:`reply_language`)."""
    written: str | None
    """What the user's newest message is written in; None when too short or mixed to tell."""

    @property
    def needs_restating(self) -> bool:
        """Whether the prompt must say which language to answer in, after the message.

        A message written in the reply language shows it by itself: restating it
        after the question made the embedded model rewrite the question in that
        language instead of answering it (``docs/quality.md``).
        """
        return self.written != self.reply


async def turn_language(
    set_language: str | None, newest_user_text: str, previous: str | None
) -> TurnLanguage:
    """Return the reply language of a turn and the language of its message (off the loop)."""
    written = await detect_async(newest_user_text)
    return TurnLanguage(explicit_language(set_language) or written or _kept(previous), written)


def detect(text: str) -> str | None:
    """Return the English name of the language ``text`` is written in, or None when unsure.

    Builds the detector on first need (blocking, 3 to 6 s): async code calls
    :func:`detect_async` instead.
    """
    text = text[:MAX_DETECT_CHARS]
    letters = _letters(text)
    by_script = _by_script(letters)
    if by_script:
        return by_script
    if len(letters) < MIN_LETTERS:
        return None
    prose = " ".join(_CODE_OR_LINK.sub(" ", text).split())
    detector = _get_detector()
    if SPANISH_MARKS & set(prose) and _name(Language.SPANISH) in _ranked(detector, prose)[:2]:
        return _name(Language.SPANISH)
    whole = _by_model(detector, prose)
    without_names = _without_names(prose)
    if without_names == prose:
        return whole
    if len(_letters(without_names)) < MIN_LETTERS:  # mostly names: "I'm Priyanka"
        return None
    unnamed = _by_model(detector, without_names)
    if unnamed:
        return unnamed
    return whole if whole == _top(detector, without_names) else None


async def detect_async(text: str) -> str | None:
    """Do what :func:`detect` does in a worker thread (the first call builds the detector).

    Detecting takes up to 2 ms for a sentence and 4 to 7 ms at
    :data:`MAX_DETECT_CHARS` (measured here), too long to hold the event loop:
    every call runs off it.
    """
    return await asyncio.to_thread(detect, text)


def warm_up() -> threading.Thread:
    """Start building the detector in a background thread and return that thread."""
    thread = threading.Thread(target=_get_detector, name="language-detector", daemon=True)
    thread.start()
    return thread


def _kept(previous: str | None) -> str:
    return explicit_language(previous) or DEFAULT_REPLY_LANGUAGE


def _get_detector() -> LanguageDetector:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = (
                    LanguageDetectorBuilder.from_languages(*LANGUAGES)
                    .with_preloaded_language_models()
                    .build()
                )
    return _detector


def _letters(text: str) -> str:
    """Return the letters of ``text`` outside code, links and e-mail addresses."""
    return "".join(char for char in _CODE_OR_LINK.sub(" ", text) if char.isalpha())


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    if name.startswith(("HANGUL", "HALFWIDTH HANGUL")):
        return "hangul"
    if name.startswith(("HIRAGANA", "KATAKANA", "HALFWIDTH KATAKANA")):
        return "kana"
    if name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")):
        return "han"
    return "other"


def _by_script(letters: str) -> str | None:
    counts = {"hangul": 0, "kana": 0, "han": 0, "other": 0}
    for char in letters:
        counts[_script(char)] += 1
    east_asian = counts["hangul"] + counts["kana"] + counts["han"]
    if not east_asian or east_asian * CJK_WEIGHT < counts["other"]:
        return None
    if counts["hangul"] >= counts["kana"] + counts["han"]:
        return _name(Language.KOREAN)
    if counts["kana"]:
        return _name(Language.JAPANESE)
    return _name(Language.CHINESE)


def _by_model(detector: LanguageDetector, text: str) -> str | None:
    """Return lingua's top language for ``text`` when it is confident enough, else None."""
    values = detector.compute_language_confidence_values(text)
    if not values:
        return None
    top = values[0]
    runner_up = values[1].value if len(values) > 1 else 0.0
    words = len(_WORD.findall(text))
    least = MIN_CONFIDENCE_ONE_WORD if words <= 1 else MIN_CONFIDENCE
    if top.value < least or top.value - runner_up < MIN_MARGIN:
        return None
    return _name(top.language)


def _ranked(detector: LanguageDetector, text: str) -> list[str]:
    """Return the languages lingua finds likely for ``text``, likeliest first."""
    values = detector.compute_language_confidence_values(text)
    return [_name(value.language) for value in values if value.value > 0]


def _top(detector: LanguageDetector, text: str) -> str | None:
    """Return lingua's top language for ``text`` however unsure, or None for no letters."""
    ranked = _ranked(detector, text)
    return ranked[0] if ranked else None


def _without_names(text: str) -> str:
    """Return ``text`` without capitalized words inside a sentence (names, mostly)."""
    kept: list[str] = []
    sentence_start = True
    for token in text.split():
        word = token.lstrip("\"'“”‘’«»(¿¡-")
        if sentence_start or not word[:1].isupper():
            kept.append(token)
        sentence_start = token.endswith((".", "!", "?", ":", "。", "！", "？"))
    return " ".join(kept)


def _name(language: Language) -> str:
    return language.name.title()
