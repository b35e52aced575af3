"""Tell which language a reply is written in, offline, for tests and the quality bench.

Korean and Japanese are told by their scripts; French, Spanish, German and
English by their commonest words. That is all the tests and benches ask.
"""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = {
    "English": "the is are and of to in it you that for with this what on be",
    "French": "le la les est et de des un une que qui pour dans vous il elle pas sur du au",
    "Spanish": "el la los las es y de un una que en para por con se del al muy",
    "German": "der die das ist und ein eine nicht ich sie es zu mit den dem im auf",
}
"""Common words of each Latin-script language."""

SCRIPT_SHARE = 0.3
"""Share of a reply's letters in a script that makes it that script's language."""


def folded(text: str) -> str:
    """Return ``text`` lower-cased without accents, for lenient matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def language_of(text: str) -> str:
    """Return the language ``text`` is most likely written in (``none`` without letters)."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return "none"
    hangul = sum("\uac00" <= char <= "\ud7a3" for char in letters)
    kana = sum("\u3040" <= char <= "\u30ff" for char in letters)
    kanji = sum("\u4e00" <= char <= "\u9fff" for char in letters)
    if hangul / len(letters) > SCRIPT_SHARE:
        return "Korean"
    if (kana + kanji) / len(letters) > SCRIPT_SHARE:
        return "Japanese" if kana else "Chinese"
    words = re.findall(r"[a-zß]+", folded(text))
    scores = {
        language: sum(word in set(listed.split()) for word in words)
        for language, listed in STOPWORDS.items()
    }
    return max(scores, key=lambda language: scores[language])
