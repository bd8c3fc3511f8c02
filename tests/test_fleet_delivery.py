"""Delivery from several processes sharing one outbox (issue 13, item 7).

Two dispatchers with their own store connections and owners stand for two processes; the
platform is one recording notifier (it dedupes only when told maybe_sent, as the real
ones do with nonces and history). Run on SQLite (two connections to one file) and on
PostgreSQL (two pools on one schema).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.core.channel_settings import DigestSchedule, QuietHours
from bot.core.models import Alert, Channel
from bot.core.pacing import UNLIMITED
from bot.core.ports import SendResult, Store
from bot.delivery.dispatcher import DeliveryPolicy, Dispatcher
from bot.delivery.holds import BurstPolicy
from bot.store import open_store
from tests.store_contract.backends import BACKENDS, store_urls
from tests.store_contract.builders import alert
from tests.support.delivery import FakeClock, RecordingNotifier

START = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
LEASE = 30.0
POLICY = DeliveryPolicy(
    burst=BurstPolicy(5, 0),
    channel_rates={"console": UNLIMITED},
    platform_rates={"console": UNLIMITED},
    lease_seconds=LEASE,
)


@dataclass
class Fleet:
    stores: list[Store]
    clock: FakeClock
    platform: RecordingNotifier

    def dispatcher(self, n: int, owner: str) -> Dispatcher:
        return Dispatcher(
            store=self.stores[n],
            notifiers={"console": self.platform},
            clock=self.clock,
            policy=POLICY,
            owner=owner,
        )


class InterleavingNotifier(RecordingNotifier):
    """Gives the other process a turn during every send, as a network call would."""

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        await asyncio.sleep(0)
        return await super().send(alert, maybe_sent=maybe_sent)


@pytest.fixture(params=BACKENDS)
async def fleet(request: pytest.FixtureRequest) -> AsyncIterator[Fleet]:
    async with store_urls(request.param, request) as urls:
        first = await open_store(urls.url)
        second = await open_store(urls.url)
        clock = FakeClock(START)
        try:
            yield Fleet([first, second], clock, InterleavingNotifier(clock))
        finally:
            await second.close()
            await first.close()


async def test_two_processes_send_every_alert_once_and_each_channel_in_order(
    fleet: Fleet,
) -> None:
    channels = [Channel("console", "local", f"c{n}") for n in range(12)]
    queued = [alert(ch, 1, f"{ch.channel}-{k}") for k in range(4) for ch in channels]
    await fleet.stores[0].queue_alerts(queued, START)
    a, b = fleet.dispatcher(0, "a"), fleet.dispatcher(1, "b")
    rounds = 0
    while len(fleet.platform.posted) < len(queued):
        rounds += 1
        assert rounds < 50, "delivery made no progress"
        await asyncio.gather(a.deliver_pending(), b.deliver_pending())
    ids = [p.alert.id for p in fleet.platform.posted]
    assert len(ids) == len(set(ids)) == len(queued)
    for ch in channels:
        sent = [p.alert.story_id for p in fleet.platform.posted if p.alert.channel == ch]
        assert sent == [f"{ch.channel}-{k}" for k in range(4)]
    assert (
        await fleet.stores[1].due_deliveries(START + timedelta(days=1), ["console"], 99, 999) == []
    )


async def test_a_dead_processs_send_is_finished_by_another_after_its_lease_once(
    fleet: Fleet,
) -> None:
    news = Channel("console", "local", "news")
    await fleet.stores[0].queue_alerts([alert(news, 1, "n1"), alert(news, 1, "n2")], START)
    # Process "dead" claims the channel, marks n1 in flight, the platform posts it, and
    # the process is killed before it records the send.
    [claim] = await fleet.stores[0].claim_channels(
        "dead", START, ["console"], per_channel=10, limit=10, lease_for=timedelta(seconds=LEASE)
    )
    first = claim.deliveries[0].alert
    assert first.id is not None
    assert await fleet.stores[0].mark_claimed_in_flight(
        first.id, START, claim.lease, timedelta(seconds=LEASE)
    )
    await fleet.platform.send(first)
    survivor = fleet.dispatcher(1, "b")
    fleet.clock.advance(seconds=LEASE - 1)
    assert await survivor.deliver_pending() == 0  # the channel is still the dead one's
    assert fleet.platform.calls == [(first.id, False)]
    fleet.clock.advance(seconds=2)
    assert await survivor.deliver_pending() == 2
    # n1 was asked with maybe_sent (the platform found it: posted once), n2 plainly.
    assert fleet.platform.calls[1:] == [(first.id, True), (claim.deliveries[1].alert.id, False)]
    assert [p.alert.story_id for p in fleet.platform.posted] == ["n1", "n2"]


async def test_a_restarted_sqlite_bot_takes_what_the_killed_one_held_at_once(
    tmp_path: Path,
) -> None:
    """A SQLite file is one process's: leases found at start were its killed predecessor's."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    news = Channel("console", "local", "news")
    lease_for = timedelta(seconds=LEASE)
    killed = await open_store(url)
    feed = await killed.add_feed("https://a.example/rss", trusted=True, added_by=None)
    await killed.queue_alerts([alert(news, 1, "n1")], START)
    later = datetime.now(UTC) + timedelta(seconds=1)  # the feed is due by then
    assert await killed.claim_feeds("old", later, limit=5, lease_for=lease_for, per_host=5)
    assert await killed.claim_channels(
        "old", START, ["console"], per_channel=5, limit=5, lease_for=lease_for
    )
    await killed.close()  # as good as SIGKILL: nothing was given back
    restarted = await open_store(url)
    try:
        [claim] = await restarted.claim_feeds(
            "new", later, limit=5, lease_for=lease_for, per_host=5
        )
        assert claim.feed.id == feed.id
        [channel] = await restarted.claim_channels(
            "new", START, ["console"], per_channel=5, limit=5, lease_for=lease_for
        )
        assert [d.alert.story_id for d in channel.deliveries] == ["n1"]
    finally:
        await restarted.close()


async def test_quiet_hours_and_digests_set_through_one_process_hold_the_others_sends(
    fleet: Fleet,
) -> None:
    """Delivery reads a channel's settings at every pass: nothing to wait for."""
    quiet_channel, digest_channel = (Channel("console", "local", c) for c in ("q", "d"))
    sender = fleet.dispatcher(1, "b")
    await fleet.stores[0].set_quiet(
        quiet_channel, QuietHours(time(11, 0), time(13, 0), "UTC"), START
    )
    await fleet.stores[0].set_digest(digest_channel, DigestSchedule("hourly"), START)
    await fleet.stores[0].queue_alerts(
        [alert(quiet_channel, 1, "q1"), alert(digest_channel, 1, "d1")], START
    )
    assert await sender.deliver_pending() == 0
    for channel in (quiet_channel, digest_channel):
        status = await fleet.stores[1].delivery_status(channel)
        assert (status.held, status.pending) == (1, 0)
    await fleet.stores[0].set_quiet(quiet_channel, None, START)
    fleet.clock.advance(seconds=1)
    assert await sender.deliver_pending() == 1  # the quiet channel's, released
    assert [p.alert.story_id for p in fleet.platform.posted] == ["q1"]
