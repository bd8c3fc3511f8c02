"""The per-story side of the matcher, as the Matcher sees it: implemented by
`native_backend` (the C core) and `python_backend` (the same in pure Python)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.core.matching.plan import Compiled
from bot.core.matching.shapes import Shape
from bot.core.models import Match
from bot.core.query.ast import Word


class Backend(Protocol):
    """The per-story side of the matcher: an index of terms and entries, and `match`.

    Term ids and entry ids are small ints the Matcher hands out and reuses.
    """

    native: bool

    def add_term(self, tid: int, word: Word) -> None: ...
    def remove_term(self, tid: int, word: Word) -> None: ...
    def add_entry(
        self, eid: int, compiled: Compiled, subscribers: tuple[int | str, ...]
    ) -> None: ...
    def add_terms(self, terms: list[tuple[int, Word]]) -> None:
        """`add_term` for each (term id, word): many new words at once."""

    def add_shaped(
        self,
        eid: int,
        shape: Shape,
        tids: list[int],
        cover: tuple[int, ...],
        displays: tuple[str, ...],
        subscribers: tuple[int | str, ...],
        word_of: Callable[[int], Word],
    ) -> None:
        """`add_entry` for a query of a known shape: `tids` are its words' term ids in the
        order the shape numbers them, `displays` its positive terms as written."""

    def set_subscribers(self, eid: int, subscribers: tuple[int | str, ...]) -> None: ...
    def remove_entry(self, eid: int) -> None: ...
    def match(self, title: str, summary: str) -> list[Match]: ...
    def match_words(
        self, title: str, summary: str, words: tuple[list[str], list[str]]
    ) -> list[Match]:
        """`match`, given the story's words (tokenize of title and of summary)."""
