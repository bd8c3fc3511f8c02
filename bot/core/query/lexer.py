"""Cut a query into tokens: parentheses, quoted phrases, OR/AND/NOT, `-`, `title:`, words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.query.errors import QueryError

Kind = Literal["(", ")", "phrase", "chunk", "OR", "AND", "NOT", "title:", "topic:"]
KEYWORDS = frozenset({"OR", "AND", "NOT"})  # upper case only: `or` in a query is a word
_SPECIAL = frozenset('()"')
FIELD_PREFIX = "title:"
TOPIC_PREFIX = "topic:"  # `topic:Russia`, `title:topic:NATO`, `topic:"United Kingdom"`


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # the chunk or the phrase's inside; the keyword for the others
    position: int  # 0-based index of its first character in the query


def lex(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Token(ch, ch, i))  # type: ignore[arg-type]
            i += 1
        elif ch == '"':
            close = text.find('"', i + 1)
            if close < 0:
                raise QueryError("this quote is never closed", i)
            tokens.append(Token("phrase", text[i + 1 : close], i))
            i = close + 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in _SPECIAL:
                end += 1
            tokens.extend(_chunk(text, i, end))
            i = end
    return tokens


def _chunk(text: str, start: int, end: int) -> list[Token]:
    """A run without spaces: peel off leading `-` and `title:`, then a keyword or a word."""
    out: list[Token] = []
    attached = end < len(text) and text[end] in '("'  # `-(…)`, `title:"…"`
    while start < end and text[start] == "-":
        if start + 1 == end and not attached:
            raise QueryError("`-` must be followed by a term, with no space between", start)
        out.append(Token("NOT", "-", start))
        start += 1
    if text[start:end].casefold().startswith(FIELD_PREFIX):
        out.append(Token("title:", FIELD_PREFIX, start))
        start += len(FIELD_PREFIX)
        if start == end and not attached:
            raise QueryError(
                '`title:` must be followed by a word, a "quoted phrase" or (…), '
                "with no space between",
                start - len(FIELD_PREFIX),
            )
    if text[start:end].casefold().startswith(TOPIC_PREFIX):
        out.append(Token("topic:", TOPIC_PREFIX, start))
        start += len(TOPIC_PREFIX)
        if start == end and not attached:
            raise QueryError(
                "`topic:` must be followed by a topic's name (`topic:Russia`, `topic:\"United "
                'Kingdom"`), with no space between',
                start - len(TOPIC_PREFIX),
            )
    word = text[start:end]
    if not word:
        return out
    if word in KEYWORDS and not out:
        out.append(Token(word, word, start))  # type: ignore[arg-type]
    else:
        out.append(Token("chunk", word, start))
    return out
