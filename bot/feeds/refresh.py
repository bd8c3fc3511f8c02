"""Refreshing one feed: the story of one refresh, told by `FeedRefresher.refresh`.

It reads like Miniflux's RefreshFeed: conditional GET -> (304: done) -> parse ->
normalise -> new stories by identity -> match -> one alert per story per channel ->
record stories and alerts together -> schedule the next check -> reset the error count.
A failure backs off exponentially and, after `pause_after` in a row, pauses the feed and
tells every channel that uses it, once. Which feeds to refresh, and when, is the
watcher's (bot/feeds/watcher.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar

from bot.core.clock import Clock
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Alert, Feed, Story
from bot.core.ports import (
    FeedStore,
    FetchState,
    Lease,
    SeenTitle,
    StoryCopy,
    StoryKeys,
    StoryStore,
)
from bot.feeds.dedupe import DuplicateIndex
from bot.feeds.fetch import Fetcher, FetchError, FetchHTTPError, FetchResult
from bot.feeds.health import feed_users, paused_notice
from bot.feeds.next_check import Schedule, max_age, retry_after
from bot.feeds.parse import FeedParseError
from bot.feeds.policy import WatchPolicy
from bot.feeds.read_document import read_document
from bot.observe import metrics

log = logging.getLogger(__name__)

_RETRY_AFTER_STATUSES = frozenset({429, 503})
_T = TypeVar("_T")


class RefreshStore(FeedStore, StoryStore, Protocol):
    """What refreshing a feed reads and writes: the feed's state, its stories, alerts."""


async def _in_thread(func: Callable[[], _T]) -> _T:
    """`func()` in a worker thread, awaited to its end even if the caller is cancelled.

    The caller holds a lock around it: released while the thread still ran, the next
    holder would use the duplicate index at the same time.
    """
    work = asyncio.ensure_future(asyncio.to_thread(func))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        while not work.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([work])
        raise


@dataclass(frozen=True, slots=True)
class Refreshed:
    """The outcome of one refresh.

    `state` is what the poll learned (validators, next check, the error if it failed).
    `saved` is True when it was saved already, in the transaction that paused the feed;
    otherwise the caller saves it (many feeds' outcomes in one transaction).
    """

    queued: int  # alerts queued
    state: FetchState
    saved: bool = False


def content_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class FeedRefresher:
    def __init__(
        self,
        *,
        store: RefreshStore,
        index: SubscriptionIndex,
        fetcher: Fetcher,
        clock: Clock,
        policy: WatchPolicy,
        rng: random.Random,
        on_alerts: Callable[[], None],
    ) -> None:
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
        self._rng = rng
        # Held from "is it a copy?" to "recorded": a copy must find the earlier story's
        # alerts in the outbox, so the two cannot interleave.
        self._record_lock = asyncio.Lock()
        # Per feed: the fingerprint of each item of the last document whose stories were
        # recorded, and the story id it gave (None: no story). In memory only: after a
        # restart the first poll of each feed parses the whole document.
        self._items: dict[int, dict[bytes, str | None]] = {}
        # Per feed: when this process last recorded its new stories (what it indexed
        # itself, which following the other processes' stories can skip).
        self._recorded_at: dict[int, datetime] = {}

    async def load_duplicates(self, pages: AsyncIterator[Iterable[SeenTitle]]) -> None:
        """Rebuild the duplicate index from stored stories, a page at a time, each in a
        worker thread (100,000 stories take seconds of CPU)."""
        async with self._record_lock:
            async for page in pages:
                await _in_thread(partial(self.duplicates.load, page))

    async def follow_duplicates(self, pages: AsyncIterator[Iterable[SeenTitle]]) -> int:
        """Index the stories other processes recorded (several processes on one
        database), so this one's near-copies of them fold into their alerts too; the
        exact copies the database finds by itself (StoryKeys). Stories of a feed this
        process recorded itself since are skipped; one indexed already is not added
        twice. Returns the stories read."""
        read = 0
        async with self._record_lock:
            async for page in pages:
                mine = self._recorded_at
                theirs = [t for t in page if (seen := mine.get(t[0])) is None or t[5] > seen]
                read += len(theirs)
                if theirs:
                    await _in_thread(partial(self.duplicates.load, theirs))
        return read

    async def refresh(self, feed: Feed, lease: Lease | None = None) -> Refreshed:
        """Fetch, parse, find new stories, match, queue alerts; what to save is returned
        (the caller saves many feeds' states in one transaction).

        `lease`: the claim this process holds on the feed; its stories and alerts (or
        its pause) are written only while it holds (LeaseLost, nothing written, if not).
        """
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
            return await self.failed(feed, exc, now, lease)
        if result.not_modified:
            # RFC 9110 §15.4.5: nothing changed since our copy; nothing to parse.
            return Refreshed(0, self._succeeded(feed, result, now))
        digest = content_hash(result.body)
        if feed.primed and digest == feed.content_hash:
            # A server without validators sending the same bytes: same as a 304.
            return Refreshed(0, self._succeeded(feed, result, now))
        try:
            # In a worker thread: a big feed takes a while to parse and normalise, and chat
            # commands must still be answered within seconds meanwhile.
            known = self._items.get(feed.id, {}) if feed.primed else {}
            read = await asyncio.to_thread(read_document, feed, result, now, known)
        except FeedParseError as exc:
            return await self.failed(feed, exc, now, lease)
        parsed, stories = read.parsed, read.stories
        queued = await self._record(
            feed, stories, now, unchanged_ids=read.unchanged_ids, lease=lease
        )
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
        state = self._succeeded(
            feed, result, now, title=parsed.title, digest=digest, ttl_seconds=ttl
        )
        return Refreshed(queued, state)

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

    async def _record(
        self,
        feed: Feed,
        stories: list[Story],
        now: datetime,
        *,
        unchanged_ids: list[str] | None = None,
        lease: Lease | None = None,
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
        started = time.perf_counter()
        alerts: list[Alert] = [a for s in candidates for a in self.index.alerts_for(s, feed.url)]
        metrics.matched(len(candidates), time.perf_counter() - started)
        if alerts and not feed.trusted:
            # A feed a channel added alerts that channel (and others that added it), not
            # every channel of every workspace the bot is in.
            users = set(await self.store.feed_channels(feed.id))
            alerts = [a for a in alerts if a.channel in users]
        async with self._record_lock:
            # In a worker thread, under the lock (the index is one caller's at a time): a
            # big feed's stories take a while to check, and chat commands must not wait.
            identify = partial(self._identify, new, {a.story_id for a in alerts}, now)
            copies, keys = await _in_thread(identify) if new else ([], [])
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
                lease=lease,
                # The database decides what other processes' stories this one copies.
                keys=keys,
                keys_since=now - self.duplicates.window,
            )
        # Copies folded into an earlier story's alert are not queued: the platforms of the
        # first `queued` alerts (exact unless one refresh mixes platforms and copies).
        metrics.stories_recorded(len(new), [a.channel.platform for a in alerts][:queued])
        if new:
            self._recorded_at[feed.id] = now
            log.info(
                "feed refreshed: %d new stories, %d alerts",
                len(new),
                queued,
                extra={"feed_id": feed.id, "feed_url": feed.url},
            )
        if queued:
            self.on_alerts()
        return queued

    def _identify(
        self, new: list[Story], alerted: set[str], now: datetime
    ) -> tuple[list[StoryCopy], list[StoryKeys]]:
        """The copies this process's index finds, and the identity keys by which the
        database finds those of other processes (in a worker thread: both cost CPU)."""
        keyed = [s for s in new if s.story_id in alerted]  # only they change what a copy queues
        return self.duplicates.check_all(new, now), self.duplicates.keys_for(keyed)

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

    async def failed(
        self, feed: Feed, exc: Exception, now: datetime, lease: Lease | None = None
    ) -> Refreshed:
        """Record a failure: back off, and after `pause_after` in a row pause the feed and
        queue a notice to every channel that uses it (saved at once, with the pause)."""
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
            return Refreshed(0, state)
        since = feed.failing_since or now
        attached = await self.store.feed_channels(feed.id)
        subscribed = [s.channel for s in self.index.by_id.values() if s.paused_reason is None]
        notices = [
            paused_notice(feed, ch, since=since, failures=failures, error=error, now=now)
            for ch in feed_users(feed, attached, subscribed)
        ]
        await self.store.pause_feed(feed.id, state, notices, now, lease=lease)
        log.error(
            "feed paused after %d failures: %s",
            failures,
            error,
            extra=extra | {"notices": len(notices)},
        )
        if notices:
            self.on_alerts()
        return Refreshed(0, state, saved=True)
