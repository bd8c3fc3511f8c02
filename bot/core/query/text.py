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

Chinese and Japanese are written without spaces, so a run of letters there is a clause, not
a word. As search engines do for these scripts, a run of Han ideographs, Hiragana and
Katakana (with the prolonged sound mark `ー` and the iteration marks `々 ゝ ヽ`) is read as
its overlapping pairs of characters: `俄罗斯总统` is the words `俄罗 罗斯 斯总 总统`, and a
name or query `俄罗斯` is the phrase `俄罗 罗斯`, found wherever the run holds it. A run of
one such character is one word. The rest of a word that holds such a run stands apart
(`G20峰会` is `g20 峰会`). Hangul is not in these runs: Korean is written with spaces.
Offsets of pairs overlap (`word_spans`), one word per pair, so the two functions still
agree item by item.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise
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


_MARKS: Final = _combining_mark_class()
_WORD_CHARS: Final = "[\\w" + _MARKS + "]"
WORD_RE: Final = re.compile(f"{_WORD_CHARS}+(?:['’]{_WORD_CHARS}+)*")

# The characters read in pairs (module docstring): iteration and closing marks (々 〆 〇
# 〻 and the vertical kana repeat marks), Hiragana, Katakana with ー and ヽ, Katakana
# phonetic extensions, the CJK unified and compatibility ideographs of every plane, and
# halfwidth Katakana. Each is a word character, so these runs lie inside WORD_RE's words.
_CJK: Final = (
    "\u3005-\u3007\u3021-\u3029\u3031-\u3035\u303b\u303c\u3041-\u3096\u309d-\u309f"
    "\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9d\U00020000-\U0003134f"
)
# One character of such a run: with its combining marks (a decomposed `が` is `か` and
# U+3099) and the halfwidth voiced marks `ﾞ ﾟ`, which the normal form drops the same way.
_CJK_UNIT: Final = f"[{_CJK}][{_MARKS}\uff9e\uff9f]*"
_CJK_RUN_RE: Final = re.compile(f"[{_CJK}][{_CJK}{_MARKS}\\uff9e\\uff9f]*")  # units in a row
_CJK_UNIT_RE: Final = re.compile(_CJK_UNIT)
_UNIT_MARK_RE: Final = re.compile(f"[{_MARKS}\\uff9e\\uff9f]")
_HAS_CJK_RE: Final = re.compile(f"[{_CJK}]")

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


def has_cjk(text: str) -> bool:
    """Whether `text` holds a character read in pairs (module docstring)."""
    return not text.isascii() and _HAS_CJK_RE.search(text) is not None


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
    if not has_cjk(text):
        return [normalise(w) for w in WORD_RE.findall(text)]
    return [normalise(text[start:end]) for start, end in _cjk_spans(text)]


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word `tokenize(text)` returns, in the same order."""
    if not has_cjk(text):
        return [m.span() for m in WORD_RE.finditer(text)]
    return _cjk_spans(text)


def split_cjk(word: str) -> list[str]:
    """The matcher's words of one word in normal form (a name of the topic pack, a query
    word): `word` itself, or for one holding Chinese or Japanese, its pairs and the rest
    (`g20峰会` -> `g20 峰会`). The pack stores names whole; this reads them as stories are."""
    if not has_cjk(word):
        return [word]
    return [normalise(word[start:end]) for start, end in _cjk_spans(word)]


def _cjk_spans(text: str) -> list[tuple[int, int]]:
    """word_spans of a text that holds Chinese or Japanese: WORD_RE's words, each run of
    those scripts in them replaced by its pairs and the rest by its own words."""
    out: list[tuple[int, int]] = []
    for word in WORD_RE.finditer(text):
        start, end = word.span()
        at = start
        for run in _CJK_RUN_RE.finditer(text, start, end):
            if run.start() > at:  # the word's other letters before the run: `G20` of `G20峰会`
                out += [m.span() for m in WORD_RE.finditer(text, at, run.start())]
            first, last = run.span()
            if _UNIT_MARK_RE.search(text, first, last) is None:  # a character a unit: usual
                out += [(i, i + 2) for i in range(first, last - 1)] or [(first, last)]
            else:
                units = [m.span() for m in _CJK_UNIT_RE.finditer(text, first, last)]
                out += [(a[0], b[1]) for a, b in pairwise(units)] or units
            at = last
        if at < end:
            out += [m.span() for m in WORD_RE.finditer(text, at, end)]
    return out
