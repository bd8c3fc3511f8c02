"""Subscription queries: parsing and validation.

This first version understands whitespace-separated words, all of which must occur
(whole words, case-insensitive). The full query language (phrases, OR, NOT, prefixes,
title:) replaces it without changing this module's public names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_LENGTH = 200
MAX_TERMS = 20

WORD_RE = re.compile(r"\w+", re.UNICODE)


class QueryError(ValueError):
    """A query the bot refuses, with what is wrong and where (0-based character index)."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    terms: tuple[str, ...]  # casefolded words, all required
    words: tuple[str, ...]  # the same words as the user wrote them, for display


def parse_query(text: str) -> Query:
    stripped = text.strip()
    if not stripped:
        raise QueryError("the query is empty", 0)
    if len(stripped) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"the query is longer than {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH
        )
    words = tuple(m.group(0) for m in WORD_RE.finditer(stripped))
    terms = tuple(w.casefold() for w in words)
    if not terms:
        raise QueryError("the query has no word to look for", 0)
    if len(terms) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} terms", 0)
    return Query(text=stripped, terms=terms, words=words)


def split_queries(text: str) -> list[str]:
    """`Russia, NATO, Ukraine` is three subscriptions; commas inside quotes do not split."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = False
    for ch in text:
        if ch == '"':
            in_quotes = not in_quotes
        if ch == "," and not in_quotes:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]
