"""How alike two texts are, in any script, with no word list: folded text, character pairs.

Memory ranks facts by what they share with the newest message; the summary
fold checks that the summarizer's answer kept the summary it was given.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Return ``text`` for comparing: NFKC, case-folded, without accents, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    # Recompose, or Hangul syllables stay split into their letters.
    return " ".join(unicodedata.normalize("NFC", bare).split())


def bigrams(text: str) -> set[str]:
    """Return the character pairs of ``text`` (folded, without spaces): any script, no word list."""
    letters = "".join(char for char in fold(text) if char.isalnum())
    return {letters[i : i + 2] for i in range(len(letters) - 1)} or set(letters)


def kept_share(original: str, rewritten: str) -> float:
    """Return the share of ``original``'s character pairs ``rewritten`` has (1.0 if none)."""
    mine = bigrams(original)
    return len(mine & bigrams(rewritten)) / len(mine) if mine else 1.0
