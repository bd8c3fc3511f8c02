"""Words of a text as the matcher sees them: Unicode-aware, accent- and case-insensitive.

A word is a run of letters, digits, underscores and combining marks (so Devanagari vowel
signs and decomposed accents stay inside their word), and an apostrophe between two such
runs joins them: `Russia's` is one word, which is what lets `=Russia` refuse it. Everything
else (spaces, hyphens, dots, dashes, quotes) separates words, so `security-guarantees` is
the two words `security guarantees` and `U.S.` is `u s`.

Each word is compared in a normal form: Unicode compatibility decomposition (NFKD), combining
marks dropped, then case-folded (`Café` -> `cafe`, `Straße` -> `strasse`, `Ελλάδα` -> `ελλαδα`),
with the typographic apostrophe `’` written as `'`. Queries go through the same functions,
so a query word and a story word agree exactly when their normal forms are equal.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final


def _combining_mark_class() -> str:
    # `re` has no \p{M}; build the class once from the Unicode database (BMP: ~40 ms).
    ranges: list[str] = []
    start: int | None = None
    for cp in range(0x300, 0x10000):
        is_mark = unicodedata.category(chr(cp)).startswith("M")
        if is_mark and start is None:
            start = cp
        elif not is_mark and start is not None:
            ranges.append(f"\\u{start:04x}-\\u{cp - 1:04x}")
            start = None
    return "".join(ranges)


_WORD_CHARS: Final = "[\\w" + _combining_mark_class() + "]"
WORD_RE: Final = re.compile(f"{_WORD_CHARS}+(?:['’]{_WORD_CHARS}+)*")

# ASCII fast path: one C-level translate (lower-case letters, every non-word character to a
# space) and a split give the same words as WORD_RE about five times faster.
_ASCII_TABLE: Final = {
    c: (" " if not (chr(c).isalnum() or chr(c) in "_'") else chr(c).lower()) for c in range(128)
}
# After the translate only [a-z0-9_'] and spaces remain; an apostrophe not between two
# word characters separates words (`'quoted'`, `Russians'`), so it becomes a space too.
_LONE_APOSTROPHE_RE: Final = re.compile(r"(?<![a-z0-9_])'|'(?![a-z0-9_])")

_NORMAL_CACHE: dict[str, str] = {}
_NORMAL_CACHE_MAX: Final = 200_000


def normalise(word: str) -> str:
    """The comparison form of one word (see the module docstring)."""
    if word.isascii():
        return word.lower()
    cached = _NORMAL_CACHE.get(word)
    if cached is None:
        decomposed = unicodedata.normalize("NFKD", word.replace("’", "'"))
        bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        cached = unicodedata.normalize("NFKD", bare.casefold())
        cached = "".join(ch for ch in cached if not unicodedata.combining(ch))
        if len(_NORMAL_CACHE) >= _NORMAL_CACHE_MAX:
            _NORMAL_CACHE.clear()  # a crude bound; the working vocabulary refills it quickly
        _NORMAL_CACHE[word] = cached
    return cached


def tokenize(text: str) -> list[str]:
    """The normal forms of the words of `text`, in order."""
    if text.isascii():
        plain = text.translate(_ASCII_TABLE)
        # `Russia's` needs nothing; only a lone apostrophe (at a word's edge, or doubled)
        # does, and these substring tests are far cheaper than the regex over every text.
        if "'" in plain and (
            " '" in plain
            or "' " in plain
            or "''" in plain
            or plain.startswith("'")
            or plain.endswith("'")
        ):
            plain = _LONE_APOSTROPHE_RE.sub(" ", plain)
        return plain.split()
    return [normalise(w) for w in WORD_RE.findall(text)]


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word `tokenize(text)` returns, in the same order."""
    return [m.span() for m in WORD_RE.finditer(text)]
