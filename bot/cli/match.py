"""`newsbot match`: run queries over feeds once and print what they would catch."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.core.matching.matcher import Matcher
from bot.core.query import QueryError, parse_query
from bot.feeds.fetch import Fetcher, FetchError
from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import FeedParseError, parse_feed


class MatchUsageError(Exception):
    """A bad query or an unreadable source: exit 2 with this message."""


def read_subscriptions(path: Path) -> list[tuple[str, str]]:
    """(where, query) for each non-blank line of a subscriptions file: one query per line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MatchUsageError(f"cannot read subscriptions {path}: {exc}") from None
    return [(f"{path}:{n}", line.strip()) for n, line in enumerate(lines, 1) if line.strip()]


async def run_match(
    queries: Sequence[str],
    sources: Sequence[str],
    out: TextIO,
    stdin: BinaryIO | None = None,
    *,
    subscription_files: Sequence[Path] = (),
) -> int:
    """Print one JSON line per (story, matching query); every query is checked first."""
    labelled = [(f"--query {text!r}", text) for text in queries]
    for path in subscription_files:
        labelled.extend(read_subscriptions(path))
    if not labelled:
        raise MatchUsageError("give at least one --query or a --subscriptions file")
    # One index over all of them: a file of 100,000 lines costs what a few do per story.
    matcher = Matcher()
    for i, (where, text) in enumerate(labelled):
        try:
            matcher.add(i, parse_query(text))
        except QueryError as exc:
            raise MatchUsageError(f"bad query {text!r} ({where}): {exc}") from None
    now = datetime.now(UTC)
    async with Fetcher() as fetcher:
        for source in sources:
            try:
                if source == "-":
                    parsed = parse_feed((stdin or sys.stdin.buffer).read())
                else:
                    # The response headers carry the charset; the URL resolves relative links.
                    result = await fetcher.fetch(source)
                    parsed = parse_feed(result.body, result.headers, base_url=result.url)
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
