"""`source:` terms: which outlets a subscription hears from, apart from its words.

`NATO source:reuters` matches only stories of a feed whose title or host contains
"reuters"; `source:"Moscow Times"` takes a phrase; `-source:tabloid.example` leaves an
outlet out. Several `source:` terms are alternatives (any may match); several `-source:`
terms all apply.

They are cut out of the query text before the word lookup sees it, and evaluated after it,
as a per-subscription filter on the few stories the words matched (see
bot.core.matching.index): the matcher's cost stays that of the words. So they stand only
at the top level of a query, beside its words, never inside ( ) or next to OR: there they
would change which words must match, which a filter applied afterwards cannot do.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from bot.core.query.errors import QueryError
from bot.core.query.nesting import nesting

PREFIX = "source:"
# `-source:` or `source:` at the start of a chunk, then a quoted phrase or a run without
# spaces, parentheses or quotes.
_TERM = re.compile(r'(?<![^\s(])(-?)source:(?:"([^"]*)"|([^\s()"]+))', re.IGNORECASE)
_BARE = re.compile(r"(?<![^\s(])-?source:", re.IGNORECASE)


@lru_cache(maxsize=4096)  # feed titles repeat story after story
def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form for `contains` (NFKD, marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


@lru_cache(maxsize=4096)
def host_of(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "").casefold()
    except ValueError:
        return ""


def haystacks(title: str, *urls: str | None) -> list[str]:
    """Where a story's outlet is named: its feed's title (folded), and the hosts of `urls`."""
    return [fold(title), *(h for u in urls if (h := host_of(u)))]


@dataclass(frozen=True, slots=True)
class SourceFilter:
    """Outlets a subscription takes (any of `include`; all when empty) and leaves out."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def accepts(self, title: str, *urls: str | None) -> bool:
        """Whether a story whose feed is named `title` (and lives at `urls`: the feed's
        address, the story's link) passes: its title or a host contains a wanted word."""
        return self.admits(haystacks(title, *urls))

    def admits(self, places: Sequence[str]) -> bool:
        """`accepts`, given the story's `haystacks` (worked out once for all its matches)."""
        if any(word in hay for word in self.exclude for hay in places):
            return False
        return not self.include or any(word in hay for word in self.include for hay in places)


NO_SOURCES = SourceFilter()


@dataclass(frozen=True, slots=True)
class SplitQuery:
    words: str  # the query with its source terms blanked out (positions kept)
    sources: SourceFilter


def split_sources(text: str) -> SplitQuery:
    """Cut the `source:` terms out of `text`; QueryError (with a position) when misplaced.

    Each term is replaced by spaces of its length, so an error the parser finds in the rest
    still points at the right character of what the user typed.
    """
    # Most queries have no colon at all: they cost one scan, not a case fold.
    if ":" not in text or PREFIX not in text.casefold():
        return SplitQuery(text, NO_SOURCES)
    include: list[str] = []
    exclude: list[str] = []
    words = list(text)
    for m in _TERM.finditer(text):
        start, end = m.span()
        depth, quoted = _context_at(text, start)
        if quoted:
            continue  # inside a "phrase": words to look for
        if depth > 0:
            raise QueryError("`source:` goes at the top level of a query, outside ( )", start)
        if _beside_or(text, start, end):
            raise QueryError("`source:` cannot be one side of an OR", start)
        value = fold(m.group(2) if m.group(2) is not None else m.group(3))
        if not value:
            raise QueryError("`source:` must be followed by a name or host", start)
        (exclude if m.group(1) else include).append(value)
        words[start:end] = " " * (end - start)
    rest = "".join(words)
    for at in (m.start() for m in _BARE.finditer(rest)):
        if _context_at(rest, at)[1]:
            continue
        raise QueryError(
            '`source:` must be followed by a name or host (`source:reuters`, `source:"AP News"`)',
            at,
        )
    if not rest.strip():
        raise QueryError(
            "a source alone matches every story of it: add a word to look for "
            "(`NATO source:reuters`)",
            0,
        )
    return SplitQuery(rest, SourceFilter(tuple(include), tuple(exclude)))


def _context_at(text: str, position: int) -> tuple[int, bool]:
    """The parenthesis depth at `position`, and whether it is inside a quoted phrase."""
    last = deque(nesting(text[:position]), maxlen=1)  # where the text before it ends
    return (last[0][1], last[0][2]) if last else (0, False)


def _beside_or(text: str, start: int, end: int) -> bool:
    before = text[:start].split()
    after = text[end:].split()
    return bool(before and before[-1] == "OR") or bool(after and after[0] == "OR")
