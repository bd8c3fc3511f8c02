"""Reading one fetched feed document into stories (in a worker thread: a big feed takes
a while to parse and normalise), skipping the items already recorded last time."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.models import Feed, Story
from bot.feeds.fetch import FetchResult
from bot.feeds.incremental import split_items
from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import ParsedFeed, parse_feed

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Read:
    """One parsed document: its stories, and what to remember of its items once they
    are recorded (None: forget, parse the next document whole)."""

    parsed: ParsedFeed
    stories: list[Story]
    items: dict[bytes, str | None] | None
    unchanged_ids: list[str]


def read_document(
    feed: Feed, result: FetchResult, now: datetime, known: dict[bytes, str | None]
) -> Read:
    """Parse and normalise (in a worker thread), skipping items already recorded.

    Items whose exact bytes were in the last recorded document are cut out before
    feedparser sees it (bot/feeds/incremental.py); parse_feed's protections apply to
    what remains. Whenever the cut could be wrong, the whole document is parsed.
    """
    split = split_items(result.body)
    if split is not None and known:
        reduced, kept = split.reduce(known.keys())
        parsed = parse_feed(reduced, result.headers, base_url=result.url)
        if len(parsed.entries) == len(kept):
            kept_set = set(kept)
            skipped = [p for i, p in enumerate(split.prints) if i not in kept_set]
            return _normalised(feed, parsed, now, [split.prints[i] for i in kept], skipped, known)
        log.debug(
            "item scan disagreed with the parser; parsing the whole feed",
            extra={"feed_id": feed.id, "feed_url": feed.url},
        )
    parsed = parse_feed(result.body, result.headers, base_url=result.url)
    prints = split.prints if split is not None else None
    if prints is not None and len(prints) != len(parsed.entries):
        prints = None  # the scan saw the items differently: never skip on its word
    return _normalised(feed, parsed, now, prints, [], {})


def _normalised(
    feed: Feed,
    parsed: ParsedFeed,
    now: datetime,
    prints: list[bytes] | None,
    skipped: list[bytes],
    known: dict[bytes, str | None],
) -> Read:
    """Stories of the parsed entries; `prints[i]` is entry i's fingerprint."""
    source = parsed.title or feed.title or feed.url
    seen: dict[str, Story] = {}
    ids: list[str | None] = []
    for entry in parsed.entries:
        story = _story(entry, feed.id, source, now)
        if story is not None and parsed.language:
            story = replace(story, language=parsed.language)
        ids.append(story.story_id if story is not None else None)
        if story is not None:
            seen.setdefault(story.story_id, story)
    if prints is None:
        return Read(parsed, list(seen.values()), None, [])
    items = {p: known[p] for p in skipped}
    items.update(zip(prints, ids, strict=True))
    unchanged = [i for p in skipped if (i := known[p]) is not None]
    return Read(parsed, list(seen.values()), items, unchanged)


def _story(entry: dict[str, object], feed_id: int, source: str, now: datetime) -> Story | None:
    try:
        return normalise_entry(entry, feed_id=feed_id, source=source, now=now)
    except Exception:  # one odd entry never costs the feed's other stories
        log.exception("skipping an entry that could not be read", extra={"feed_id": feed_id})
        return None
