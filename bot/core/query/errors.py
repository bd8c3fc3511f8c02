"""The one error a query can raise: what is wrong, and where."""

from __future__ import annotations


class QueryError(ValueError):
    """A query the bot refuses, with what is wrong and where (0-based character index)."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position
