"""Subscription queries: the language people know from search boxes.

`NATO` (with NATO's...), `=NATO` (exactly), `Russ*` (prefix), `"security guarantees"`
(phrase), `a b` (both), `a OR b`, `NOT a` / `-a`, `( )`, `title:a`. See README "Queries".

text      words of a text and their normal form (shared by queries and stories)
inflect   the English forms a bare word also matches
lexer     query text -> tokens
parser    tokens -> ast, validation (limits, balance, a positive term)
ast       the parsed structure
"""

from __future__ import annotations

from bot.core.query.ast import And, Node, Not, Or, Term, Word
from bot.core.query.errors import QueryError
from bot.core.query.nesting import nesting
from bot.core.query.parser import MAX_QUERY_LENGTH, MAX_TERMS, MIN_PREFIX, Query, parse_query
from bot.core.query.text import WORD_RE, normalise, tokenize

__all__ = [
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "MIN_PREFIX",
    "WORD_RE",
    "And",
    "Node",
    "Not",
    "Or",
    "Query",
    "QueryError",
    "Term",
    "Word",
    "normalise",
    "parse_query",
    "split_queries",
    "tokenize",
]


def split_queries(text: str) -> list[str]:
    """`Russia, NATO, Ukraine` is three subscriptions; commas in quotes or ( ) do not split."""
    parts: list[str] = []
    current: list[str] = []
    for ch, depth, in_quotes in nesting(text):
        if ch == "," and not in_quotes and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]
