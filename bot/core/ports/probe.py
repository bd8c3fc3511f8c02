"""Checking a feed a user asked for before it is added (implemented in bot/feeds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class FeedRejected(Exception):
    """A feed a user asked for that the bot will not add; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class ProbedFeed:
    url: str  # the URL to store (after redirects, if the implementation follows them)
    title: str | None
    entries: int


class FeedProbe(Protocol):
    """Checks that an untrusted URL is safe to fetch and parses as a feed (bot/feeds)."""

    async def probe(self, url: str) -> ProbedFeed:
        """Raise FeedRejected with a one-line reason when the URL is refused."""
        ...
