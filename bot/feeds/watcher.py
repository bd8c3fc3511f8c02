"""The watcher: one function tells the story of one feed refresh, a loop schedules them.

`refresh` reads like Miniflux's RefreshFeed: conditional GET -> (304: done) -> parse ->
normalise -> new stories by identity -> match -> one alert per story per channel ->
record stories and alerts together -> schedule the next check -> reset the error count.
A failure backs off exponentially and, after `pause_after` in a row, pauses the feed and
tells every channel that uses it, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Alert, Feed, Story
from bot.core.ports import FetchState, Store
from bot.feeds.dedupe import DuplicateIndex
from bot.feeds.fetch import Fetcher, FetchError, FetchHTTPError, FetchResult
from bot.feeds.health import feed_users, paused_notice
from bot.feeds.incremental import split_items
from bot.feeds.next_check import Schedule, max_age, retry_after
from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import FeedParseError, ParsedFeed, parse_feed

log = logging.getLogger(__name__)

_RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class WatchPolicy:
    """The watcher's settings (NEWSBOT_* in bot/config.py)."""

    poll_interval: float = 300.0
    max_interval: float = 86400.0
    pause_after: int = 10
    backfill: int = 0
    concurrency: int = 20
    per_host: int = 2
    seen_per_feed: int = 5000
    duplicate_window: float = 86400.0


def watch_policy(settings: Settings) -> WatchPolicy:
    return WatchPolicy(
        poll_interval=settings.newsbot_poll_interval,
        max_interval=settings.newsbot_max_poll_interval,
        pause_after=settings.newsbot_pause_after_failures,
        backfill=settings.newsbot_backfill,
        concurrency=settings.newsbot_poll_concurrency,
        per_host=settings.newsbot_per_host_concurrency,
        seen_per_feed=settings.newsbot_seen_per_feed,
        duplicate_window=settings.newsbot_duplicate_window,
    )


def content_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class _Read:
    """One parsed document: its stories, and what to remember of its items once they
    are recorded (None: forget, parse the next document whole)."""

    parsed: ParsedFeed
    stories: list[Story]
    items: dict[bytes, str | None] | None
    unchanged_ids: list[str]


class Watcher:
    def __init__(
        self,
        *,
        store: Store,
        index: SubscriptionIndex,
        fetcher: Fetcher,
        clock: Clock,
        poll_interval: float | None = None,
        backfill: int | None = None,
        policy: WatchPolicy | None = None,
        rng: random.Random | None = None,
        on_alerts: Callable[[], None] = lambda: None,
    ) -> None:
        policy = policy or WatchPolicy()
        if poll_interval is not None:
            policy = replace(policy, poll_interval=poll_interval)
        if backfill is not None:
            policy = replace(policy, backfill=backfill)
        self.policy = policy
        self.store = store
        self.index = index
        self.fetcher = fetcher
        self.clock = clock
        self.on_alerts = on_alerts
        self.schedule = Schedule(
            interval=timedelta(seconds=policy.poll_interval),
            maximum=timedelta(seconds=max(policy.max_interval, 1.0)),
        )
        self.duplicates = DuplicateIndex(timedelta(seconds=policy.duplicate_window))
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(policy.concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        # Held from "is it a copy?" to "recorded": a copy must find the earlier story's
        # alerts in the outbox, so the two cannot interleave.
        self._record_lock = asyncio.Lock()
        self._in_flight: set[int] = set()
        self._done: list[tuple[int, FetchState | None]] = []
        self._duplicates_loaded = False
        # Per feed: the fingerprint of each item of the last document whose stories were
        # recorded, and the story id it gave (None: no story). In memory only: after a
        # restart the first poll of each feed parses the whole document.
        self._items: dict[int, dict[bytes, str | None]] = {}

    # -- one feed ---------------------------------------------------------------------

    async def refresh_feed(self, feed: Feed) -> int:
        """Refresh one feed and save its state now; returns alerts queued."""
        queued, state = await self.refresh(feed)
        if state is not None:
            await self.store.save_fetch_state(feed.id, state, self.clock.now())
        return queued

    async def refresh(self, feed: Feed) -> tuple[int, FetchState | None]:
        """Fetch, parse, find new stories, match, queue alerts; returns (alerts queued,
        state to save). State is None when it was saved already (the feed was paused)."""
        now = self.clock.now()
        log.debug("refreshing feed", extra={"feed_id": feed.id, "feed_url": feed.url})
        try:
            result = await self.fetcher.fetch(
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                untrusted=not feed.trusted,
            )
        except FetchError as exc:
            return 0, await self._failed(feed, exc, now)
        if result.not_modified:
            # RFC 9110 §15.4.5: nothing changed since our copy; nothing to parse.
            return 0, self._succeeded(feed, result, now)
        digest = content_hash(result.body)
        if feed.primed and digest == feed.content_hash:
            # A server without validators sending the same bytes: same as a 304.
            return 0, self._succeeded(feed, result, now)
        try:
            # In a worker thread: a big feed takes a while to parse and normalise, and chat
            # commands must still be answered within seconds meanwhile.
            read = await asyncio.to_thread(self._read, feed, result, now)
        except FeedParseError as exc:
            return 0, await self._failed(feed, exc, now)
        parsed, stories = read.parsed, read.stories
        queued = await self._record(feed, stories, now, unchanged_ids=read.unchanged_ids)
        # Only once recorded: an item is skipped next time only if its story is stored.
        if read.items is None:
            self._items.pop(feed.id, None)
        else:
            self._items[feed.id] = read.items
        if result.permanent_url and result.permanent_url != feed.url:
            await self._moved(feed, result.permanent_url)
        # Validators are saved (by the caller) only after the stories are recorded, so a
        # crash in between re-fetches the feed instead of skipping its new stories.
        ttl = (parsed.ttl_minutes or 0) * 60
        return queued, self._succeeded(
            feed, result, now, title=parsed.title, digest=digest, ttl_seconds=ttl
        )

    async def _moved(self, feed: Feed, url: str) -> None:
        """Moved for good (RFC 9110 §15.4.2): ask the new address from now on.

        Operator feeds stay as NEWSBOT_FEEDS_FILE says (it would add the old URL back at
        the next start); the log tells the operator to update it.
        """
        extra = {"feed_id": feed.id, "feed_url": feed.url}
        if feed.trusted:
            log.warning("feed moved for good to %s: update NEWSBOT_FEEDS_FILE", url, extra=extra)
        elif await self.store.move_feed(feed.id, url):
            log.info("feed moved for good to %s", url, extra=extra)

    def _read(self, feed: Feed, result: FetchResult, now: datetime) -> _Read:
        """Parse and normalise (in a worker thread), skipping items already recorded.

        Items whose exact bytes were in the last recorded document are cut out before
        feedparser sees it (bot/feeds/incremental.py); parse_feed's protections apply to
        what remains. Whenever the cut could be wrong, the whole document is parsed.
        """
        split = split_items(result.body)
        known = self._items.get(feed.id, {}) if feed.primed else {}
        if split is not None and known:
            reduced, kept = split.reduce(known.keys())
            parsed = parse_feed(reduced, result.headers, base_url=result.url)
            if len(parsed.entries) == len(kept):
                kept_set = set(kept)
                skipped = [p for i, p in enumerate(split.prints) if i not in kept_set]
                return self._normalised(
                    feed, parsed, now, [split.prints[i] for i in kept], skipped, known
                )
            log.debug(
                "item scan disagreed with the parser; parsing the whole feed",
                extra={"feed_id": feed.id, "feed_url": feed.url},
            )
        parsed = parse_feed(result.body, result.headers, base_url=result.url)
        prints = split.prints if split is not None else None
        if prints is not None and len(prints) != len(parsed.entries):
            prints = None  # the scan saw the items differently: never skip on its word
        return self._normalised(feed, parsed, now, prints, [], {})

    def _normalised(
        self,
        feed: Feed,
        parsed: ParsedFeed,
        now: datetime,
        prints: list[bytes] | None,
        skipped: list[bytes],
        known: dict[bytes, str | None],
    ) -> _Read:
        """Stories of the parsed entries; `prints[i]` is entry i's fingerprint."""
        source = parsed.title or feed.title or feed.url
        seen: dict[str, Story] = {}
        ids: list[str | None] = []
        for entry in parsed.entries:
            story = self._story(entry, feed.id, source, now)
            ids.append(story.story_id if story is not None else None)
            if story is not None:
                seen.setdefault(story.story_id, story)
        if prints is None:
            return _Read(parsed, list(seen.values()), None, [])
        items = {p: known[p] for p in skipped}
        items.update(zip(prints, ids, strict=True))
        unchanged = [i for p in skipped if (i := known[p]) is not None]
        return _Read(parsed, list(seen.values()), items, unchanged)

    async def _record(
        self,
        feed: Feed,
        stories: list[Story],
        now: datetime,
        *,
        unchanged_ids: list[str] | None = None,
    ) -> int:
        ids = [s.story_id for s in stories]
        unseen = await self.store.unseen_story_ids(feed.id, ids)
        new = [s for s in stories if s.story_id in unseen]
        if not new and feed.primed:
            return 0
        # A feed seen for the first time only alerts on its newest `backfill` stories:
        # adding a feed must not flood the channel with its whole archive.
        candidates = new if feed.primed else self._newest(new, self.policy.backfill)
        # Oldest first: outbox ids set the delivery order within a channel.
        candidates.sort(key=lambda s: s.published)
        alerts: list[Alert] = [a for s in candidates for a in self.index.alerts_for(s)]
        if alerts and not feed.trusted:
            # A feed a channel added alerts that channel (and others that added it), not
            # every channel of every workspace the bot is in.
            users = set(await self.store.feed_channels(feed.id))
            alerts = [a for a in alerts if a.channel in users]
        async with self._record_lock:
            self.duplicates.prune(now)
            copies = [c for s in new if (c := self.duplicates.check_and_add(s, now)) is not None]
            queued = await self.store.record_refresh(
                feed.id,
                new,
                alerts,
                now,
                prime=not feed.primed,
                copies=copies,
                keep=self.policy.seen_per_feed,
                # Items skipped unparsed are still in the feed: keep their ids too.
                current_ids=ids + (unchanged_ids or []),
            )
        if new:
            log.info(
                "feed refreshed: %d new stories, %d alerts",
                len(new),
                queued,
                extra={"feed_id": feed.id, "feed_url": feed.url},
            )
        if queued:
            self.on_alerts()
        return queued

    @staticmethod
    def _story(entry: dict[str, object], feed_id: int, source: str, now: datetime) -> Story | None:
        try:
            return normalise_entry(entry, feed_id=feed_id, source=source, now=now)
        except Exception:  # one odd entry never costs the feed's other stories
            log.exception("skipping an entry that could not be read", extra={"feed_id": feed_id})
            return None

    @staticmethod
    def _newest(stories: list[Story], count: int) -> list[Story]:
        return sorted(stories, key=lambda s: s.published, reverse=True)[:count] if count else []

    def _succeeded(
        self,
        feed: Feed,
        result: FetchResult,
        now: datetime,
        *,
        title: str | None = None,
        digest: str | None = None,
        ttl_seconds: int | None = None,
    ) -> FetchState:
        ttl = ttl_seconds if ttl_seconds is not None else feed.ttl_seconds
        next_at = self.schedule.after_success(
            now,
            self._rng,
            ttl=timedelta(seconds=ttl) if ttl else None,
            cache_max_age=max_age(result.headers.get("cache-control")),
        )
        return FetchState(
            result.etag,
            result.last_modified,
            next_at,
            title=title,
            content_hash=digest,
            ttl_seconds=ttl_seconds,
        )

    async def _failed(self, feed: Feed, exc: Exception, now: datetime) -> FetchState | None:
        error = str(exc) or type(exc).__name__
        failures = feed.failures + 1
        retry = None
        if isinstance(exc, FetchHTTPError) and exc.status in _RETRY_AFTER_STATUSES:
            retry = retry_after(exc.retry_after, now)
        next_at = self.schedule.after_failure(now, self._rng, failures=failures, retry=retry)
        state = FetchState(feed.etag, feed.last_modified, next_at, error=error)
        extra = {"feed_id": feed.id, "feed_url": feed.url, "failures": failures}
        if failures < self.policy.pause_after:
            log.warning("feed failed: %s", error, extra=extra)
            return state
        since = feed.failing_since or now
        attached = await self.store.feed_channels(feed.id)
        subscribed = [s.channel for s in self.index.by_id.values() if s.paused_reason is None]
        notices = [
            paused_notice(feed, ch, since=since, failures=failures, error=error, now=now)
            for ch in feed_users(feed, attached, subscribed)
        ]
        await self.store.pause_feed(feed.id, state, notices, now)
        log.error(
            "feed paused after %d failures: %s",
            failures,
            error,
            extra=extra | {"notices": len(notices)},
        )
        if notices:
            self.on_alerts()
        return None

    # -- scheduling ---------------------------------------------------------------------

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        try:
            host = urlsplit(url).netloc.lower()
        except ValueError:
            host = ""
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(self.policy.per_host)
        return slot

    async def _guarded(self, feed: Feed) -> int:
        """One feed under the concurrency caps; whatever happens, its outcome is kept."""
        queued, state = 0, None
        try:
            # The host's slot first: feeds waiting on a busy host do not hold global slots.
            async with self._host_slot(feed.url), self._slots:
                queued, state = await self.refresh(feed)
        except Exception as exc:  # a bug or a hostile feed: a failure, never a crash
            log.exception("feed refresh crashed", extra={"feed_id": feed.id})
            with contextlib.suppress(Exception):
                error = RuntimeError(f"internal error: {exc!r}"[:300])
                state = await self._failed(feed, error, self.clock.now())
        self._done.append((feed.id, state))
        return queued

    async def _flush(self) -> None:
        """Save the outcomes of finished refreshes in one transaction."""
        done, self._done = self._done, []
        if not done:
            return
        try:
            await self.store.save_fetch_states(
                [(i, s) for i, s in done if s is not None], self.clock.now()
            )
        except BaseException:
            self._done[:0] = done  # kept for the next flush
            raise
        self._in_flight.difference_update(i for i, _ in done)

    async def _load_duplicates(self) -> None:
        if self._duplicates_loaded or not self.duplicates.enabled:
            return
        now = self.clock.now()
        for story, seen_at in await self.store.stories_seen_since(now - self.duplicates.window):
            self.duplicates.check_and_add(story, seen_at)
        self._duplicates_loaded = True

    async def _due(self, limit: int) -> list[Feed]:
        await self._load_duplicates()
        due = await self.store.due_feeds(self.clock.now(), limit + len(self._in_flight))
        fresh = [f for f in due if f.id not in self._in_flight][:limit]
        self._in_flight.update(f.id for f in fresh)
        return fresh

    async def poll_once(self, limit: int = 10_000) -> int:
        """Refresh every feed that is due and wait for them; one failing feed never stops
        the others. Returns alerts queued."""
        due = await self._due(limit)
        results = await asyncio.gather(*(self._guarded(feed) for feed in due))
        await self._flush()
        return sum(results)

    async def run(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        """Each tick: save finished outcomes, start every due feed not already running.

        A slow feed never holds up the others: each refresh is its own task, bounded by
        the overall and per-host caps.
        """
        tasks: set[asyncio.Task[int]] = set()
        try:
            while not stop.is_set():
                try:
                    await self._flush()
                    for feed in await self._due(10_000):
                        task = asyncio.create_task(self._guarded(feed), name=f"feed-{feed.id}")
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                except Exception:
                    log.exception("poll tick failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=tick)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._flush()
