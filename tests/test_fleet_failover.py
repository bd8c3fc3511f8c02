"""A process that dies loses its leases at once on PostgreSQL (issue 13, items 5 and 7).

Each process holds a session lock per lease owner; when its connections drop (SIGKILL, a
lost machine) PostgreSQL frees the lock, and the next claim takes the dead owner's feeds
and channels without waiting for their leases to expire. A live owner keeps them.
"""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime, timedelta

from bot.core.models import Channel
from bot.store import open_store
from tests.store_contract.backends import pg_schema
from tests.store_contract.builders import alert

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
NEWS = Channel("console", "local", "news")


async def test_a_dead_owners_leases_are_taken_over_before_they_expire() -> None:
    async with pg_schema() as urls:
        dying = await open_store(urls.url)
        survivor = await open_store(urls.url)
        try:
            feed = await dying.add_feed("https://a.example/rss", trusted=True, added_by=None)
            await dying.queue_alerts([alert(NEWS, 1, "n1")], NOW)
            due = datetime.now(UTC) + timedelta(seconds=1)
            [held] = await dying.claim_feeds("dying", due, limit=5, lease_for=LEASE, per_host=1)
            [channel] = await dying.claim_channels(
                "dying", NOW, ["console"], per_channel=5, limit=5, lease_for=LEASE
            )
            # Alive: its leases stand (and its host's one slot is taken).
            assert await survivor.claim_feeds("s", due, limit=5, lease_for=LEASE, per_host=1) == []
            assert (
                await survivor.claim_channels(
                    "s", NOW, ["console"], per_channel=5, limit=5, lease_for=LEASE
                )
                == []
            )
        finally:
            await dying.close()  # its connections go, as a killed process's do
        try:
            # Long before the leases expire, the survivor takes both over.
            [feed_claim] = await survivor.claim_feeds(
                "s", due, limit=5, lease_for=LEASE, per_host=1
            )
            assert (feed_claim.feed.id, feed_claim.lease.owner) == (feed.id, "s")
            assert feed_claim.lease.token > held.lease.token
            [taken] = await survivor.claim_channels(
                "s", NOW, ["console"], per_channel=5, limit=5, lease_for=LEASE
            )
            assert taken.lease.token > channel.lease.token
            assert [d.alert.story_id for d in taken.deliveries] == ["n1"]
        finally:
            await survivor.close()


async def test_an_owner_whose_first_claims_race_keeps_its_leases() -> None:
    # A process's watcher and dispatcher make their first claims at once, each asking
    # for the owner's sign of life: it must come out held once, not replaced by a second
    # connection that found it taken (the first one, dropped, would free it, and every
    # lease of a live process would be taken over at the next claim).
    async with pg_schema() as urls:
        live = await open_store(urls.url)
        other = await open_store(urls.url)
        try:
            await live.add_feed("https://a.example/rss", trusted=True, added_by=None)
            await live.queue_alerts([alert(NEWS, 1, "n1")], NOW)
            due = datetime.now(UTC) + timedelta(seconds=1)
            feeds, channels = await asyncio.gather(
                live.claim_feeds("live", due, limit=5, lease_for=LEASE, per_host=1),
                live.claim_channels(
                    "live", NOW, ["console"], per_channel=5, limit=5, lease_for=LEASE
                ),
            )
            assert (len(feeds), len(channels)) == (1, 1)
            gc.collect()  # a dropped connection closes when collected, freeing its lock
            assert await other.claim_feeds("o", due, limit=5, lease_for=LEASE, per_host=1) == []
            assert (
                await other.claim_channels(
                    "o", NOW, ["console"], per_channel=5, limit=5, lease_for=LEASE
                )
                == []
            )
        finally:
            await live.close()
            await other.close()
