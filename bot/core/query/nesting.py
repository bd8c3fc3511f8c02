"""Where a character of a query text stands: inside parentheses, inside a quoted phrase.

Splitting a line into queries at commas and cutting `source:` terms out of a query both
need it, before the query is parsed: a comma or a term inside ( ) or "..." is not theirs.
"""

from __future__ import annotations

from collections.abc import Iterator


def nesting(text: str) -> Iterator[tuple[str, int, bool]]:
    """Each character with the parenthesis depth and whether a quoted phrase is open, as
    they stand after it. Parentheses inside quotes are text; a stray `)` never makes the
    depth negative."""
    depth = 0
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth = max(0, depth - 1)
        yield ch, depth, quoted
