"""Tell which language a reply is written in, offline, for tests and the quality benches.

Korean and Japanese are told by their scripts; French, Spanish, German and
English by their commonest words and the letters only one of them uses
(``ß ä ö ü``, ``ñ ¿ ¡``, ``ç œ è ê``). That is all the tests and benches ask.
"""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = {
    "English": "the is are and of to in it you that for with this what on be i my your have",
    "French": "le la les est et de des un une que qui pour dans vous il elle pas sur du au je "
    "mon votre avec ce",
    "Spanish": "el la los las es y de un una que en para por con se del al muy yo mi su tu "
    "como pero",
    "German": "der die das ist und ein eine nicht ich sie es zu mit den dem im auf du mein "
    "dein wie auch",
}
"""Common words of each Latin-script language."""

LETTERS = {"German": "ßäöü", "Spanish": "ñ¿¡", "French": "çœèêëîâû"}
"""Letters and marks that only one of the Latin-script languages here writes."""

SCRIPT_SHARE = 0.3
"""Share of a reply's letters in a script that makes it that script's language."""

_ACCENTS = re.compile("[\u0300-\u036f]")


def folded(text: str) -> str:
    """Return ``text`` case-folded without Latin accents, for lenient matching.

    Only the Latin combining accents go: Hangul syllables and the kana voicing
    marks are kept (``が`` stays ``が``, not ``か``).
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", _ACCENTS.sub("", decomposed))


def language_of(text: str) -> str:
    """Return the language ``text`` is most likely written in.

    ``none`` when it holds no letters; ``unknown`` when its Latin words and
    letters point at no language here.
    """
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
    lowered = text.casefold()
    scores = {
        language: sum(word in set(listed.split()) for word in words)
        + sum(lowered.count(letter) for letter in LETTERS.get(language, ""))
        for language, listed in STOPWORDS.items()
    }
    best = max(scores, key=lambda language: scores[language])
    return best if scores[best] else "unknown"
