"""Parsing fetched bytes with feedparser (RSS 0.9x/1.0/2.0, RDF, Atom)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import feedparser

# feedparser's loose fallback parser expands internal entities, so a DOCTYPE with an
# internal subset can turn a small feed into gigabytes. Feeds have no use for one.
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)


class FeedParseError(Exception):
    """The bytes are not a feed we can read."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    link: str | None
    entries: list[dict[str, Any]]
    ttl_minutes: int | None = None


def strip_internal_subset(body: bytes) -> bytes:
    return _INTERNAL_SUBSET.sub(b"", body, count=1)


def parse_feed(body: bytes, headers: dict[str, str] | None = None) -> ParsedFeed:
    # Bytes in a BytesIO, never a str: feedparser may read a string as a path or a URL.
    result = feedparser.parse(BytesIO(strip_internal_subset(body)), response_headers=headers or {})
    feed = result.get("feed", {})
    entries = list(result.get("entries", []))
    version = result.get("version", "")
    if not entries and not version:
        problem = result.get("bozo_exception")
        raise FeedParseError(
            f"not a feed: {problem}" if problem else "not an RSS, Atom or RDF feed"
        )
    ttl = feed.get("ttl")
    return ParsedFeed(
        title=feed.get("title") or None,
        link=feed.get("link") or None,
        entries=entries,
        ttl_minutes=int(ttl) if isinstance(ttl, str) and ttl.strip().isdigit() else None,
    )
