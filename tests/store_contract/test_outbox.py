"""OutboxStore and ChannelStatusStore: queued once, sent in order, retried, refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.core.models import Alert
from bot.core.ports import Store
from tests.store_contract.builders import DESK, NEWS, SLACK, alert, at

FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def _queue(store: Store, *alerts: Alert, when: datetime | None = None) -> list[int]:
    """Queue `alerts` and return their outbox ids in the same order."""
    assert await store.queue_alerts(alerts, when or at(0)) == len(alerts)
    ids = {(a.channel, a.feed_id, a.story_id): a.id for a in await store.pending_alerts(1000)}
    found = [ids[(a.channel, a.feed_id, a.story_id)] for a in alerts]
    assert None not in found
    return [i for i in found if i is not None]


async def test_an_alert_comes_back_as_it_was_queued(store: Store) -> None:
    original = replace(
        alert(NEWS, 7, "s1"),
        image="https://img.example/1.png",
        mentions=("U1", "U2"),
        extra={"k": "v ✓"},
        published=datetime(2025, 6, 1, 8, 30, 15, 123456, tzinfo=UTC),
        summary="Grüße — «quotes» and 'apostrophes' and \"double\"",
    )
    notice = alert(NEWS, 0, "notice:paused:1", kind="notice")
    assert await store.queue_alerts([original, notice], at(0)) == 2
    [got, got_notice] = await store.pending_alerts(10)
    assert got.id is not None
    assert got_notice.id is not None
    assert replace(got, id=None) == original
    assert replace(got_notice, id=None) == notice


async def test_an_alert_is_queued_once_per_channel_feed_and_story(store: Store) -> None:
    first = alert(NEWS, 1, "s1")
    assert await store.queue_alerts([first, first], at(0)) == 1
    assert await store.queue_alerts([replace(first, title="Changed")], at(1)) == 0
    assert await store.queue_alerts([alert(DESK, 1, "s1"), alert(NEWS, 2, "s1")], at(1)) == 2
    [one, *_] = await store.pending_alerts(10)
    assert one.title == "Title s1"
    assert len(await store.pending_alerts(10)) == 3
    assert len(await store.pending_alerts(2)) == 2


async def test_due_deliveries_oldest_first_capped_per_channel(store: Store) -> None:
    ids = await _queue(
        store,
        alert(NEWS, 1, "n1"),
        alert(SLACK, 1, "s1"),
        alert(NEWS, 1, "n2"),
        alert(DESK, 1, "d1"),
        alert(NEWS, 1, "n3"),
    )
    due = await store.due_deliveries(at(0), ["console", "slack"], 2, 100)
    assert [d.alert.id for d in due] == [ids[0], ids[1], ids[2], ids[3]]  # n3 waits its turn
    assert all((d.attempts, d.maybe_sent) == (0, False) for d in due)
    assert [d.alert.id for d in await store.due_deliveries(at(0), ["slack"], 2, 100)] == [ids[1]]
    assert [d.alert.id for d in await store.due_deliveries(at(0), ["console"], 1, 100)] == [
        ids[0],
        ids[3],
    ]
    assert len(await store.due_deliveries(at(0), ["console", "slack"], 5, 2)) == 2
    assert await store.due_deliveries(at(0), [], 5, 100) == []
    assert await store.due_deliveries(at(-1), ["console", "slack"], 5, 100) == []  # not yet


async def test_a_channel_waiting_on_a_retry_sends_nothing_until_then(store: Store) -> None:
    first, second = await _queue(store, alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2"))
    [desk] = await _queue(store, alert(DESK, 1, "d1"))
    await store.mark_in_flight(first, at(1))
    await store.mark_failed(first, "HTTP 502", at(60))
    # The head of NEWS waits until 60 s: nothing of NEWS overtakes it.
    due = await store.due_deliveries(at(30), ["console"], 5, 100)
    assert [d.alert.id for d in due] == [desk]
    due = await store.due_deliveries(at(60), ["console"], 5, 100)
    assert [(d.alert.id, d.attempts, d.maybe_sent) for d in due] == [
        (first, 1, True),
        (second, 0, False),
        (desk, 0, False),
    ]


async def test_in_flight_then_failed_surely_unsent_then_sent(store: Store) -> None:
    [one] = await _queue(store, alert(NEWS, 1, "n1"))
    await store.mark_in_flight(one, at(1))
    [d] = await store.due_deliveries(at(1), ["console"], 5, 100)
    assert (d.attempts, d.maybe_sent) == (1, True)  # a crash now resends with care
    await store.mark_failed(one, "connection refused", at(2), maybe_sent=False)
    [d] = await store.due_deliveries(at(2), ["console"], 5, 100)
    assert (d.attempts, d.maybe_sent) == (1, False)
    await store.mark_in_flight(one, at(3))
    await store.mark_sent(one, "m-1", at(4))
    assert await store.due_deliveries(FAR, ["console"], 5, 100) == []
    assert await store.pending_alerts(10) == []
    assert await store.count_sent(NEWS, at(3)) == 1
    assert await store.count_sent(NEWS, at(4)) == 0  # strictly after
    assert await store.count_sent(DESK, at(0)) == 0


async def test_pending_alerts_skip_those_waiting_for_a_retry(store: Store) -> None:
    first, second = await _queue(store, alert(NEWS, 1, "n1"), alert(DESK, 1, "d1"))
    await store.mark_failed(first, "HTTP 502", FAR)
    assert [a.id for a in await store.pending_alerts(10)] == [second]


async def test_a_rejected_message_is_kept_and_never_resent(store: Store) -> None:
    first, second = await _queue(store, alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2"))
    await store.mark_in_flight(first, at(1))
    await store.mark_rejected(first, "50035 Invalid Form Body " + "x" * 900, at(2))
    assert [d.alert.id for d in await store.due_deliveries(FAR, ["console"], 5, 100)] == [second]
    status = await store.delivery_status(NEWS)
    assert (status.pending, status.rejected) == (1, 1)


async def test_delivery_status_of_a_channel(store: Store) -> None:
    empty = await store.delivery_status(NEWS)
    assert (empty.pending, empty.held, empty.paused, empty.rejected) == (0, 0, 0, 0)
    assert (empty.last_sent_at, empty.next_attempt_at, empty.last_error) == (None, None, None)
    a, b, _ = await _queue(
        store, alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2"), alert(NEWS, 1, "n3"), when=at(0)
    )
    await _queue(store, alert(DESK, 1, "d1"))
    await store.mark_sent(a, "m1", at(5))
    await store.mark_failed(b, "HTTP 503", at(90))
    status = await store.delivery_status(NEWS)
    assert (status.pending, status.held, status.paused, status.rejected) == (2, 0, 0, 0)
    assert (status.last_sent_at, status.next_attempt_at, status.last_error) == (
        at(5),
        at(90),
        "HTTP 503",
    )
