"""The watcher: one function tells the story of one feed refresh, a loop schedules them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.index import SubscriptionIndex
from bot.core.models import Alert, Feed, Story
from bot.core.ports import FetchState, Store
from bot.feeds.fetch import Fetcher, FetchError
from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import FeedParseError, parse_feed

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)


class Watcher:
    def __init__(
        self,
        *,
        store: Store,
        index: SubscriptionIndex,
        fetcher: Fetcher,
        clock: Clock,
        poll_interval: float,
        backfill: int = 0,
        concurrency: int = 10,
        on_alerts: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.index = index
        self.fetcher = fetcher
        self.clock = clock
        self.poll_interval = timedelta(seconds=poll_interval)
        self.backfill = backfill
        self.on_alerts = on_alerts
        self._slots = asyncio.Semaphore(concurrency)

    async def refresh_feed(self, feed: Feed) -> int:
        """Fetch, parse, find new stories, match, and queue alerts; returns alerts queued."""
        now = self.clock.now()
        log.debug("refreshing feed", extra={"feed_id": feed.id, "feed_url": feed.url})
        try:
            result = await self.fetcher.fetch(
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                untrusted=not feed.trusted,
            )
            if result.not_modified:
                await self._save(feed, result.etag, result.last_modified, now)
                return 0
            parsed = parse_feed(result.body, result.headers, base_url=result.url)
        except (FetchError, FeedParseError) as exc:
            await self._record_failure(feed, str(exc), now)
            return 0

        source = parsed.title or feed.title or feed.url
        stories = self._stories(parsed.entries, feed.id, source, now)
        unseen = await self.store.unseen_story_ids(feed.id, [s.story_id for s in stories])
        new = [s for s in stories if s.story_id in unseen]
        # A feed seen for the first time only alerts on its newest `backfill` stories:
        # subscribing to a feed must not flood the channel with its whole archive.
        candidates = new if feed.primed else self._newest(new, self.backfill)
        # Oldest first: outbox ids set the delivery order within a channel.
        candidates.sort(key=lambda s: s.published)
        alerts: list[Alert] = [a for s in candidates for a in self.index.alerts_for(s)]
        queued = await self.store.record_stories(feed.id, new, alerts, now, prime=not feed.primed)
        # Conditional-GET validators are saved only after the stories are recorded, so a
        # crash in between re-fetches the feed instead of skipping its new stories.
        await self._save(feed, result.etag, result.last_modified, now, title=parsed.title)
        if new:
            log.info(
                "feed refreshed: %d new stories, %d alerts",
                len(new),
                queued,
                extra={"feed_id": feed.id},
            )
        if queued:
            self.on_alerts()
        return queued

    def _stories(
        self, entries: list[dict[str, object]], feed_id: int, source: str, now: datetime
    ) -> list[Story]:
        seen: dict[str, Story] = {}
        for entry in entries:
            try:
                story = normalise_entry(entry, feed_id=feed_id, source=source, now=now)
            except Exception:  # one odd entry never costs the feed's other stories
                log.exception(
                    "skipping an entry that could not be read", extra={"feed_id": feed_id}
                )
                continue
            if story is not None:
                seen.setdefault(story.story_id, story)
        return list(seen.values())

    @staticmethod
    def _newest(stories: list[Story], count: int) -> list[Story]:
        return sorted(stories, key=lambda s: s.published, reverse=True)[:count] if count else []

    async def _save(
        self,
        feed: Feed,
        etag: str | None,
        last_modified: str | None,
        now: datetime,
        title: str | None = None,
    ) -> None:
        state = FetchState(etag, last_modified, now + self.poll_interval, title=title)
        await self.store.save_fetch_state(feed.id, state, now)

    async def _record_failure(self, feed: Feed, error: str, now: datetime) -> None:
        delay = min(self.poll_interval * (2 ** min(feed.failures, 10)), MAX_BACKOFF)
        log.warning("feed failed: %s", error, extra={"feed_id": feed.id, "feed_url": feed.url})
        state = FetchState(feed.etag, feed.last_modified, now + delay, error=error)
        await self.store.save_fetch_state(feed.id, state, now)

    async def poll_once(self, limit: int = 500) -> int:
        """Refresh every feed that is due; one failing feed never stops the others."""
        due = await self.store.due_feeds(self.clock.now(), limit)
        results = await asyncio.gather(*(self._guarded(feed) for feed in due))
        return sum(results)

    async def _guarded(self, feed: Feed) -> int:
        async with self._slots:
            try:
                return await self.refresh_feed(feed)
            except Exception:
                log.exception("feed refresh crashed", extra={"feed_id": feed.id})
                return 0

    async def run(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        while not stop.is_set():
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick)
