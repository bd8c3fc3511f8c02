"""The watcher: the loop that picks the feeds that are due and refreshes them.

Like Miniflux's scheduler: every tick, ask the store for the feeds whose next check has
passed and hand each to a bounded pool (an overall cap and a per-host cap), so a slow
feed or a slow host never holds up the others. Refreshing one feed is the refresher's
(bot/feeds/refresh.py); outcomes are saved in one transaction per tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import replace

from bot.core.clock import Clock
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Feed
from bot.core.ports import FetchState
from bot.feeds.fetch import Fetcher
from bot.feeds.hosts import HostSlots
from bot.feeds.policy import WatchPolicy, watch_policy
from bot.feeds.refresh import FeedRefresher, Refreshed, RefreshStore

__all__ = ["WatchPolicy", "Watcher", "watch_policy"]

log = logging.getLogger(__name__)


class Watcher:
    def __init__(
        self,
        *,
        store: RefreshStore,
        index: SubscriptionIndex,
        fetcher: Fetcher,
        clock: Clock,
        poll_interval: float | None = None,
        backfill: int | None = None,
        policy: WatchPolicy | None = None,
        rng: random.Random | None = None,
        on_alerts: Callable[[], None] = lambda: None,
        host_slots: HostSlots | None = None,
    ) -> None:
        policy = policy or WatchPolicy()
        if poll_interval is not None:
            policy = replace(policy, poll_interval=poll_interval)
        if backfill is not None:
            policy = replace(policy, backfill=backfill)
        self.policy = policy
        self.store = store
        self.clock = clock
        self.refresher = FeedRefresher(
            store=store,
            index=index,
            fetcher=fetcher,
            clock=clock,
            policy=policy,
            rng=rng or random.Random(),
            on_alerts=on_alerts,
        )
        self._slots = asyncio.Semaphore(policy.concurrency)
        # Shared with the article reader (bot/feeds/article.py): one cap per host for both.
        self.host_slots = host_slots or HostSlots(policy.per_host)
        self._in_flight: set[int] = set()
        self._done: list[tuple[int, FetchState]] = []
        self._duplicates_loaded = False

    async def refresh_feed(self, feed: Feed) -> int:
        """Refresh one feed and save its state now; returns alerts queued."""
        outcome = await self.refresher.refresh(feed)
        if not outcome.saved:
            await self.store.save_fetch_state(feed.id, outcome.state, self.clock.now())
        return outcome.queued

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        return self.host_slots.slot(url)

    async def _guarded(self, feed: Feed) -> int:
        """One feed under the concurrency caps; whatever happens, its outcome is kept."""
        outcome: Refreshed | None
        try:
            # The host's slot first: feeds waiting on a busy host do not hold global slots.
            async with self._host_slot(feed.url), self._slots:
                outcome = await self.refresher.refresh(feed)
        except Exception as exc:  # a bug or a hostile feed: a failure, never a crash
            log.exception("feed refresh crashed", extra={"feed_id": feed.id})
            outcome = await self._crashed(feed, exc)
        if outcome is not None and not outcome.saved:
            self._done.append((feed.id, outcome.state))
        else:
            self._in_flight.discard(feed.id)
        return outcome.queued if outcome is not None else 0

    async def _crashed(self, feed: Feed, exc: Exception) -> Refreshed | None:
        """Count a crashed refresh as the feed's failure, so it backs off like one.

        None when even that failed (the store is down, say): logged, and the feed is due
        again at its old next check, so nothing about it is lost.
        """
        error = RuntimeError(f"internal error: {exc!r}"[:300])
        try:
            return await self.refresher.failed(feed, error, self.clock.now())
        except Exception:
            log.exception("could not record the crashed refresh", extra={"feed_id": feed.id})
            return None

    async def _flush(self) -> None:
        """Save the outcomes of finished refreshes in one transaction."""
        done, self._done = self._done, []
        if not done:
            return
        try:
            await self.store.save_fetch_states(done, self.clock.now())
        except BaseException:
            self._done[:0] = done  # kept for the next flush
            raise
        self._in_flight.difference_update(i for i, _ in done)

    async def _load_duplicates(self) -> None:
        duplicates = self.refresher.duplicates
        if self._duplicates_loaded or not duplicates.enabled:
            return
        since = self.clock.now() - duplicates.window
        await self.refresher.load_duplicates(self.store.titles_seen_since(since))
        self._duplicates_loaded = True
        log.info("duplicate index loaded: %d stories of the window", len(duplicates))

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
        the overall and per-host caps. A tick that fails (the database briefly away) is
        logged and tried again at the next tick; what it had not saved is kept.
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
                with contextlib.suppress(TimeoutError):  # the next tick
                    await asyncio.wait_for(stop.wait(), timeout=tick)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await self._flush()
            except Exception:
                # The feeds are due again at their old next check: polled once more, and
                # their stories deduped by the seen set, so nothing is lost or sent twice.
                log.exception("could not save the last poll outcomes at shutdown")
