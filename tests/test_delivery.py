"""Delivery: exactly once, in order, paced, retried, paused, folded into digests."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.alerts import set_channel_paused
from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.digest import digest_items
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Alert, Channel, Story
from bot.core.ports import (
    MessageRejected,
    PermanentSendError,
    RateLimited,
    TransientSendError,
)
from bot.delivery.dispatcher import DeliveryPolicy, Dispatcher
from bot.delivery.holds import BurstPolicy
from bot.delivery.pacing import Rate
from bot.delivery.retry import RetryPolicy
from bot.store import SqliteStore, open_sqlite
from tests.support.delivery import FakeClock, RecordingNotifier

NEWS = Channel("console", "local", "news")
OTHER = Channel("console", "local", "other")
START = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
NO_BURST = BurstPolicy(5, 0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = await open_sqlite(str(tmp_path / "bot.db"))
    try:
        yield s
    finally:
        await s.close()


def make_dispatcher(
    store: SqliteStore, notifier: RecordingNotifier, clock: FakeClock, **policy: object
) -> Dispatcher:
    options: dict[str, object] = {"burst": NO_BURST, "retry": RetryPolicy(base=1, maximum=8)}
    options.update(policy)
    return Dispatcher(
        store=store,
        notifiers={notifier.platform: notifier},
        clock=clock,
        policy=DeliveryPolicy(**options),  # type: ignore[arg-type]
    )


async def publish(
    store: SqliteStore, clock: FakeClock, titles: list[str], channel: Channel = NEWS
) -> None:
    """Stories matched for `channel`, queued the way the watcher queues them."""
    feed = await store.add_feed("https://news.example/rss", trusted=True, added_by=None)
    stories = [
        Story(feed.id, f"{channel.channel}-{t}", t, f"https://x.example/{i}", "B", START, "W")
        for i, t in enumerate(titles)
    ]
    alerts = [
        Alert(channel, feed.id, s.story_id, s.title, s.link, s.source, s.published, s.summary,
              ("NATO",), ("NATO",))
        for s in stories
    ]  # fmt: skip
    await store.record_refresh(feed.id, stories, alerts, clock.now())


async def drain(
    dispatcher: Dispatcher, store: SqliteStore, clock: FakeClock, rounds: int = 200
) -> None:
    """Run delivery passes, moving the clock on, until nothing is pending or held."""
    for _ in range(rounds):
        await dispatcher.deliver_pending()
        status = await store.delivery_status(NEWS)
        if not status.pending and not status.held:
            return
        clock.advance(seconds=1)
    raise AssertionError("delivery never finished")


async def test_alerts_go_out_once_each_oldest_first(store: SqliteStore, clock: FakeClock) -> None:
    notifier = RecordingNotifier(clock)
    await publish(store, clock, ["one", "two", "three"])
    dispatcher = make_dispatcher(store, notifier, clock)
    assert await dispatcher.deliver_pending() == 3
    assert await dispatcher.deliver_pending() == 0
    assert notifier.titles() == ["one", "two", "three"]
    status = await store.delivery_status(NEWS)
    assert (status.pending, status.last_sent_at) == (0, START)


async def test_an_alert_in_flight_at_a_crash_is_resent_with_maybe_sent(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = str(tmp_path / "crash.db")
    store = await open_sqlite(path)
    await publish(store, clock, ["in flight", "after"])
    [first, _] = await store.due_deliveries(clock.now(), ["console"], 10, 10)
    assert first.alert.id is not None
    await store.mark_in_flight(first.alert.id, clock.now())
    await store.close()  # the process died between marking and recording the send

    store = await open_sqlite(path)
    notifier = RecordingNotifier(clock)
    try:
        await make_dispatcher(store, notifier, clock).deliver_pending()
    finally:
        await store.close()
    assert notifier.calls == [(first.alert.id, True), (first.alert.id + 1, False)]
    assert notifier.titles() == ["in flight", "after"]


async def test_a_429_storm_waits_for_retry_after_and_loses_nothing(
    store: SqliteStore, clock: FakeClock
) -> None:
    refusals = iter(range(3))

    def too_many(alert: Alert, maybe_sent: bool) -> tuple[Exception | None, bool]:
        return (RateLimited(30.0), False) if next(refusals, None) is not None else (None, False)

    notifier = RecordingNotifier(clock, fault=too_many)
    await publish(store, clock, ["a", "b", "c"])
    dispatcher = make_dispatcher(store, notifier, clock)
    await dispatcher.deliver_pending()
    assert notifier.posted == []
    clock.advance(seconds=29)
    await dispatcher.deliver_pending()
    assert len(notifier.calls) == 1  # Retry-After not over: not even tried
    clock.advance(seconds=1)
    await dispatcher.deliver_pending()  # second 429
    for _ in range(2):
        clock.advance(seconds=30)
        await dispatcher.deliver_pending()
    assert notifier.titles() == ["a", "b", "c"]
    # A 429 posted nothing, so no retry needed to check for a duplicate.
    assert all(not maybe for _, maybe in notifier.calls)
    # Between the first refusal and the last, every attempt waited 30 s.
    assert len(notifier.calls) == 6


async def test_a_5xx_storm_retries_with_backoff_and_posts_each_alert_once(
    store: SqliteStore, clock: FakeClock
) -> None:
    rng = random.Random(5)

    def flaky(alert: Alert, maybe_sent: bool) -> tuple[Exception | None, bool]:
        roll = rng.random()
        if roll < 0.3:
            return TransientSendError("502 Bad Gateway"), False
        if roll < 0.5:  # the platform posted, then the response was lost
            return TransientSendError("timed out"), True
        return None, False

    notifier = RecordingNotifier(clock, fault=flaky)
    titles = [f"story {n}" for n in range(30)]
    await publish(store, clock, titles)
    await drain(make_dispatcher(store, notifier, clock), store, clock, rounds=2000)
    assert notifier.titles() == titles
    failures = [c for c in notifier.calls if c[1]]
    assert failures, "the storm must have made some resends check for an earlier post"


async def test_a_permanent_error_pauses_the_channel_and_is_not_retried(
    store: SqliteStore, clock: FakeClock
) -> None:
    index = SubscriptionIndex()
    for sub in await store.add_subscriptions(NEWS, ["NATO"], "ana"):
        index.add(sub)
    deps = CommandDeps(store=store, index=index, clock=clock)

    def gone(alert: Alert, maybe_sent: bool) -> tuple[Exception | None, bool]:
        if alert.channel == NEWS:
            return PermanentSendError("Missing Access: the bot was removed"), False
        return None, False

    notifier = RecordingNotifier(clock, fault=gone)
    await publish(store, clock, ["a", "b"])
    await publish(store, clock, ["c"], channel=OTHER)
    dispatcher = make_dispatcher(store, notifier, clock)
    dispatcher.on_channel_paused = lambda ch, why: set_channel_paused(index.by_id, ch, why)
    for _ in range(5):
        await dispatcher.deliver_pending()
        clock.advance(hours=1)
    assert [c for c in notifier.calls if c[0] != 3] == [(1, False)]  # tried once, never again
    assert notifier.titles() == ["c"]  # the other channel is unaffected
    listing = await handle_command("/news list", Invocation(NEWS, "ana"), deps)
    assert "paused: Missing Access: the bot was removed" in listing.text
    story = Story(1, "d", "NATO again", "https://news.example/d", "", START, "Wire")
    assert index.alerts_for(story) == []  # paused subscriptions match nothing
    status = await handle_command("/news status", Invocation(NEWS, "ana"), deps)
    assert "2 alerts kept" in status.text

    notifier.fault = None
    reply = await handle_command("/news resume", Invocation(NEWS, "ana", can_manage=True), deps)
    assert "2 alerts kept while paused will be sent now" in reply.text
    await dispatcher.deliver_pending()
    assert notifier.titles() == ["c", "a", "b"]
    assert index.alerts_for(story) != []


async def test_a_burst_is_folded_into_one_digest(store: SqliteStore, clock: FakeClock) -> None:
    notifier = RecordingNotifier(clock)
    titles = [f"story {n}" for n in range(8)]
    await publish(store, clock, titles)
    dispatcher = make_dispatcher(store, notifier, clock, burst=BurstPolicy(5, 600))
    await dispatcher.deliver_pending()
    assert notifier.titles() == titles[:5]
    clock.advance(seconds=599)
    await dispatcher.deliver_pending()
    assert len(notifier.posted) == 5  # the window is still full
    clock.advance(seconds=1)
    await dispatcher.deliver_pending()
    [digest] = [p.alert for p in notifier.posted[5:]]
    assert digest.kind == "digest"
    assert [i.title for i in digest_items(digest)] == titles[5:]
    assert "more than 5 alerts in 10 minutes" in digest.source


async def test_pacing_keeps_below_the_channel_rate(store: SqliteStore, clock: FakeClock) -> None:
    notifier = RecordingNotifier(clock)
    await publish(store, clock, [f"s{n}" for n in range(10)])
    rates = {"console": Rate(4, 5.0)}
    dispatcher = make_dispatcher(store, notifier, clock, channel_rates=rates)
    assert await dispatcher.deliver_pending() == 4
    clock.advance(seconds=4.9)
    assert await dispatcher.deliver_pending() == 0
    clock.advance(seconds=0.1)
    assert await dispatcher.deliver_pending() == 4
    clock.advance(seconds=5)
    assert await dispatcher.deliver_pending() == 2


async def test_a_message_refused_on_its_own_is_kept_and_the_channel_goes_on(
    store: SqliteStore, clock: FakeClock
) -> None:
    def bad_embed(alert: Alert, maybe_sent: bool) -> tuple[Exception | None, bool]:
        if alert.title == "bad":
            return MessageRejected("400 Invalid Form Body: embeds.0.url"), False
        return None, False

    notifier = RecordingNotifier(clock, fault=bad_embed)
    await store.add_subscriptions(NEWS, ["NATO"], "ana")
    await publish(store, clock, ["good", "bad", "after"])
    dispatcher = make_dispatcher(store, notifier, clock)
    assert await dispatcher.deliver_pending() == 2
    clock.advance(hours=1)
    await dispatcher.deliver_pending()
    assert notifier.titles() == ["good", "after"]
    assert len(notifier.calls) == 3  # the refused one was not resent
    status = await store.delivery_status(NEWS)
    assert (status.pending, status.paused, status.rejected) == (0, 0, 1)
    [sub] = await store.list_subscriptions(NEWS)
    assert sub.paused_reason is None  # the channel itself is fine


async def test_the_platform_rate_holds_across_channels_sent_side_by_side(
    store: SqliteStore, clock: FakeClock
) -> None:
    notifier = RecordingNotifier(clock)
    channels = [Channel("console", "local", f"c{n}") for n in range(3)]
    for channel in channels:
        await publish(store, clock, [f"{channel.channel}-{n}" for n in range(3)], channel)
    rates = {"console": Rate(4, 1.0)}
    dispatcher = make_dispatcher(store, notifier, clock, platform_rates=rates)
    assert await dispatcher.deliver_pending() == 4
    clock.advance(seconds=1)
    assert await dispatcher.deliver_pending() == 4
    clock.advance(seconds=1)
    assert await dispatcher.deliver_pending() == 1
    for channel in channels:  # each channel still in its own order
        mine = [p.alert.title for p in notifier.posted if p.alert.channel == channel]
        assert mine == [f"{channel.channel}-{n}" for n in range(3)]


async def test_a_global_429_stops_every_channel_of_the_platform_until_retry_after(
    store: SqliteStore, clock: FakeClock
) -> None:
    refused = iter([RateLimited(10.0, is_global=True)])

    def once(alert: Alert, maybe_sent: bool) -> tuple[Exception | None, bool]:
        return next(refused, None), False

    notifier = RecordingNotifier(clock, fault=once)
    await publish(store, clock, ["a"], NEWS)
    await publish(store, clock, ["b"], OTHER)
    dispatcher = make_dispatcher(store, notifier, clock, concurrency=1)
    await dispatcher.deliver_pending()
    assert notifier.posted == []  # the other channel waits too
    clock.advance(seconds=9.9)
    await dispatcher.deliver_pending()
    assert notifier.posted == []
    clock.advance(seconds=0.1)
    await dispatcher.deliver_pending()
    assert sorted(notifier.titles()) == ["a", "b"]
