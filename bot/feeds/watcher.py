"""The watcher: the loop that claims the feeds that are due and refreshes them.

Like Miniflux's scheduler: every tick, take the feeds whose next check has passed and
hand each to a bounded pool, so a slow feed or a slow host never holds up the others.
Several processes may share one database: each due feed is claimed with a lease
(`FeedStore.claim_feeds`: an owner, a fencing token, an expiry), so one process at a time
refreshes it, the per-host cap holds across all of them (the claim counts every live
lease on the host), and a process that dies loses its feeds to the others when its
leases expire. A refresh's result is saved only while its lease holds: one that stalled
past its lease is refused and logged, never written over the newer result. Refreshing
one feed is the refresher's (bot/feeds/refresh.py); outcomes are saved together.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.config import PROCESS_ID
from bot.core.clock import Clock
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Feed
from bot.core.ports import FeedClaim, FetchState, LeaseLost
from bot.feeds.fetch import Fetcher
from bot.feeds.hosts import HostSlots
from bot.feeds.policy import WatchPolicy, watch_policy
from bot.feeds.refresh import FeedRefresher, Refreshed, RefreshStore
from bot.observe.heartbeat import Heartbeat

__all__ = ["WatchPolicy", "Watcher", "watch_policy"]

log = logging.getLogger(__name__)

# Feeds claimed beyond the refreshes running, up to this many times the concurrency: a
# refresh that ends finds the next claimed already, and claims (and saves) go in batches
# rather than one per finished feed.
_CLAIM_AHEAD = 2
# How often the duplicate index reads the stories other processes recorded, and how far
# back before its last read (a story is stamped before its transaction commits; clocks
# of two machines differ a little).
FOLLOW_EVERY = 10.0
FOLLOW_MARGIN = 60.0
# Identity keys older than the duplicate window are dropped this often, this many at a
# time (a busy install records far fewer keys a minute).
FORGET_KEYS_EVERY = 60.0
FORGET_KEYS_BATCH = 10_000


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
        owner: str = PROCESS_ID,
    ) -> None:
        policy = policy or WatchPolicy()
        if poll_interval is not None:
            policy = replace(policy, poll_interval=poll_interval)
        if backfill is not None:
            policy = replace(policy, backfill=backfill)
        self.policy = policy
        self.store = store
        self.clock = clock
        self.owner = owner  # this process, in the leases it takes (NEWSBOT_INSTANCE_ID)
        self.lease_for = timedelta(seconds=policy.lease_seconds)
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
        # Claimed and not saved yet (running, or finished and waiting for the next save).
        self._in_flight: dict[int, FeedClaim] = {}
        self._running = 0
        self._done: list[tuple[FeedClaim, FetchState]] = []
        self.heartbeat = Heartbeat("poll loop")
        self._finished = asyncio.Event()  # a refresh ended: its slot is free
        self._duplicates_loaded = False
        self._followed_at = self.clock.now()
        self._keys_forgotten_at: datetime | None = None

    async def refresh_feed(self, feed: Feed) -> int:
        """Refresh one feed and save its state now; returns alerts queued."""
        outcome = await self.refresher.refresh(feed)
        if not outcome.saved:
            await self.store.save_fetch_state(feed.id, outcome.state, self.clock.now())
        return outcome.queued

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        return self.host_slots.slot(url)

    async def _guarded(self, claim: FeedClaim) -> int:
        """One claimed feed under the concurrency caps; whatever happens, its outcome is
        kept (or, when its lease was taken over meanwhile, dropped with a log line)."""
        feed = claim.feed
        outcome: Refreshed | None
        self._running += 1
        try:
            # The host's slot first: feeds waiting on a busy host do not hold global slots.
            async with self._host_slot(feed.url), self._slots:
                outcome = await self.refresher.refresh(feed, claim.lease)
        except LeaseLost:
            self._stale(feed.id)
            outcome = None
        except Exception as exc:  # a bug or a hostile feed: a failure, never a crash
            log.exception("feed refresh crashed", extra={"feed_id": feed.id})
            outcome = await self._crashed(claim, exc)
        finally:
            self._running -= 1
            self._finished.set()
        if outcome is not None and not outcome.saved:
            self._done.append((claim, outcome.state))
        else:
            self._in_flight.pop(feed.id, None)
        return outcome.queued if outcome is not None else 0

    def _stale(self, feed_id: int) -> None:
        log.warning(
            "refresh result discarded: the feed's lease was taken over by another process",
            extra={"feed_id": feed_id, "owner": self.owner},
        )

    async def _crashed(self, claim: FeedClaim, exc: Exception) -> Refreshed | None:
        """Count a crashed refresh as the feed's failure, so it backs off like one.

        None when even that failed (the store is down, say): logged, and the feed is due
        again at its old next check once its lease expires, so nothing about it is lost.
        """
        error = RuntimeError(f"internal error: {exc!r}"[:300])
        try:
            return await self.refresher.failed(claim.feed, error, self.clock.now(), claim.lease)
        except LeaseLost:
            self._stale(claim.feed.id)
        except Exception:
            log.exception("could not record the crashed refresh", extra={"feed_id": claim.feed.id})
        return None

    async def _flush(self) -> None:
        """Save the outcomes of finished refreshes in one transaction, each only while its
        lease holds, and free their leases."""
        done, self._done = self._done, []
        if not done:
            return
        try:
            refused = await self.store.finish_feeds(done, self.clock.now())
        except BaseException:
            self._done[:0] = done  # kept for the next flush
            raise
        for feed_id in refused:
            self._stale(feed_id)
        for claim, _ in done:
            self._in_flight.pop(claim.feed.id, None)

    async def _load_duplicates(self) -> None:
        duplicates = self.refresher.duplicates
        if not duplicates.enabled:
            return
        now = self.clock.now()
        if self._duplicates_loaded:
            await self._follow_duplicates(now)
            await self._forget_keys(now, duplicates.window)
            return
        since = now - duplicates.window
        await self.refresher.load_duplicates(self.store.titles_seen_since(since))
        self._duplicates_loaded = True
        self._followed_at = now
        log.info("duplicate index loaded: %d stories of the window", len(duplicates))

    async def _forget_keys(self, now: datetime, window: timedelta) -> None:
        """Every FORGET_KEYS_EVERY seconds, drop identity keys older than the window."""
        last = self._keys_forgotten_at
        if last is not None and (now - last).total_seconds() < FORGET_KEYS_EVERY:
            return
        self._keys_forgotten_at = now
        dropped = await self.store.forget_story_keys(now - window, FORGET_KEYS_BATCH)
        if dropped:
            log.debug("dropped %d story keys older than the duplicate window", dropped)

    async def _follow_duplicates(self, now: datetime) -> None:
        """Every FOLLOW_EVERY seconds, index what other processes recorded since the
        last look (less a margin), so near-copies across processes fold too."""
        if (now - self._followed_at).total_seconds() < FOLLOW_EVERY:
            return
        since = self._followed_at - timedelta(seconds=FOLLOW_MARGIN)
        self._followed_at = now
        read = await self.refresher.follow_duplicates(self.store.titles_seen_since(since))
        if read:
            log.debug("duplicate index followed %d stories of other processes", read)

    async def _claim(
        self, limit: int, skip: set[int] | frozenset[int] = frozenset()
    ) -> list[FeedClaim]:
        """Claim due feeds for the room this process has (running ones plus a batch ahead,
        at most `limit`); never one that runs here or is in `skip`."""
        room = min(limit, _CLAIM_AHEAD * self.policy.concurrency - len(self._in_flight))
        if room <= 0:
            return []
        await self._load_duplicates()
        claims = await self.store.claim_feeds(
            self.owner,
            self.clock.now(),
            limit=room,
            lease_for=self.lease_for,
            per_host=self.policy.per_host,
            exclude=self._in_flight.keys() | skip,
        )
        self._in_flight.update((c.feed.id, c) for c in claims)
        return claims

    def _start(self, claim: FeedClaim, tasks: set[asyncio.Task[int]]) -> asyncio.Task[int]:
        task = asyncio.create_task(self._guarded(claim), name=f"feed-{claim.feed.id}")
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    async def poll_once(self, limit: int = 10_000) -> int:
        """Refresh every feed that is due and claimable (each once) and wait for them; one
        failing feed never stops the others. Returns alerts queued."""
        started: set[int] = set()
        tasks: set[asyncio.Task[int]] = set()
        # Every task started, counted at the end: a refresh that ends while this loop
        # awaits the store leaves `tasks` by its done callback, and its count with it.
        every: list[asyncio.Task[int]] = []
        try:
            while True:
                await self._flush()
                for claim in await self._claim(limit - len(started), skip=started):
                    started.add(claim.feed.id)
                    every.append(self._start(claim, tasks))
                if not tasks:
                    break
                # Claim again once one ends (a host's cap may have held the rest back),
                # or, with a full batch claimed, once the batch ahead is used up.
                target = min(len(tasks) - 1, self.policy.concurrency)
                while len(tasks) > target:
                    await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self._stop_tasks(tasks)
        await self._flush()
        return sum(t.result() for t in every if t.done() and not t.cancelled())

    async def run(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        """Each tick (or as soon as a refresh ends): save finished outcomes, claim due
        feeds for the free slots and start them.

        A slow feed never holds up the others: each refresh is its own task, bounded by
        the overall and per-host caps. A tick that fails (the database briefly away) is
        logged and tried again at the next tick; what it had not saved is kept.
        """
        tasks: set[asyncio.Task[int]] = set()
        try:
            while not stop.is_set():
                self._finished.clear()
                try:
                    await self._flush()
                    if self._running <= self.policy.concurrency:
                        for claim in await self._claim(10_000):
                            self._start(claim, tasks)
                    self.heartbeat.beat()  # a whole tick done: /readyz sees the loop alive
                except Exception:
                    log.exception("poll tick failed; retrying")
                finished = asyncio.ensure_future(self._finished.wait())
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait(
                    {finished, stopping}, timeout=tick, return_when=asyncio.FIRST_COMPLETED
                )
                finished.cancel()
                stopping.cancel()
        finally:
            await self._stop_tasks(tasks)
            try:
                await self._flush()
            except Exception:
                # The feeds are due again at their old next check: polled once more, and
                # their stories deduped by the seen set, so nothing is lost or sent twice.
                log.exception("could not save the last poll outcomes at shutdown")

    async def _stop_tasks(self, tasks: set[asyncio.Task[int]]) -> None:
        """Cancel what still runs and give its leases back, so another process takes
        those feeds now rather than when the leases expire."""
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        finished = {c.feed.id for c, _ in self._done}
        unfinished = [c for i, c in self._in_flight.items() if i not in finished]
        if not unfinished:
            return
        for claim in unfinished:
            self._in_flight.pop(claim.feed.id, None)
        try:
            await self.store.release_feeds(unfinished)
        except Exception:
            log.exception("could not give back the leases of unfinished refreshes")
