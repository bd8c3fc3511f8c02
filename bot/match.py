"""`newsbot match`: run queries over feeds once and print what they would catch."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import BinaryIO, TextIO

from bot.core.matcher import Matcher
from bot.core.query import QueryError, parse_query
from bot.feeds.fetch import Fetcher, FetchError
from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import FeedParseError, parse_feed


class MatchUsageError(Exception):
    """A bad query or an unreadable source: exit 2 with this message."""


async def run_match(
    queries: Sequence[str],
    sources: Sequence[str],
    out: TextIO,
    stdin: BinaryIO | None = None,
) -> int:
    matcher = Matcher()
    for i, text in enumerate(queries):
        try:
            matcher.add(i, parse_query(text))
        except QueryError as exc:
            raise MatchUsageError(f"bad query {text!r}: {exc}") from None
    now = datetime.now(UTC)
    async with Fetcher() as fetcher:
        for source in sources:
            try:
                if source == "-":
                    body = (stdin or sys.stdin.buffer).read()
                else:
                    body = (await fetcher.fetch(source)).body
                parsed = parse_feed(body)
            except (FetchError, FeedParseError) as exc:
                raise MatchUsageError(f"cannot read {source}: {exc}") from None
            name = parsed.title or source
            for entry in parsed.entries:
                story = normalise_entry(entry, feed_id=0, source=name, now=now)
                if story is None:
                    continue
                for m in matcher.match(story.title, story.summary):
                    record = {
                        "query": m.query,
                        "title": story.title,
                        "link": story.link,
                        "published": story.published.isoformat(),
                        "source": story.source,
                        "matched": list(m.matched),
                    }
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0
