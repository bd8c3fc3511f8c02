"""OutboxStore.outbox_depth and Delivery.queued_at: what /metrics reads of the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.ports import Store
from tests.store_contract.builders import DESK, NEWS, SLACK, alert, at

FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def test_an_empty_outbox_has_no_depth(store: Store) -> None:
    depth = await store.outbox_depth()
    assert depth.counts == {}
    assert depth.oldest_pending == {}


async def test_depth_counts_unsent_messages_by_platform_and_status(store: Store) -> None:
    await store.queue_alerts([alert(NEWS, 1, "a"), alert(NEWS, 1, "b")], at(10))
    await store.queue_alerts([alert(DESK, 1, "c"), alert(SLACK, 1, "d")], at(20))
    await store.queue_alerts([alert(SLACK, 1, "e"), alert(NEWS, 1, "f")], at(30))
    ids = {a.story_id: a.id for a in await store.pending_alerts(100)}
    sent, rejected = ids["a"], ids["f"]
    assert sent is not None
    assert rejected is not None
    await store.mark_in_flight(sent, at(40))
    await store.mark_sent(sent, "m-1", at(41))
    await store.mark_rejected(rejected, "50035", at(42))
    assert await store.hold_alerts(DESK, "quiet", at(43)) == 1
    assert await store.park_channel(SLACK, "Missing Access") == 2

    depth = await store.outbox_depth()

    # Sent and rejected are history, not depth; b is console's one pending message.
    assert depth.counts == {
        ("console", "pending"): 1,
        ("console", "held"): 1,
        ("slack", "paused"): 2,
    }
    assert depth.oldest_pending == {"console": at(10)}


async def test_a_delivery_says_when_it_was_queued(store: Store) -> None:
    await store.queue_alerts([alert(NEWS, 1, "a")], at(5))
    await store.queue_alerts([alert(NEWS, 1, "b")], at(7))
    due = await store.due_deliveries(FAR, ["console"], 10, 100)
    assert [(d.alert.story_id, d.queued_at) for d in due] == [("a", at(5)), ("b", at(7))]


async def test_a_claimed_delivery_says_when_it_was_queued(store: Store) -> None:
    await store.queue_alerts([alert(NEWS, 1, "a")], at(5))
    [claim] = await store.claim_channels(
        "me", at(10), ["console"], per_channel=10, limit=10, lease_for=timedelta(seconds=60)
    )
    assert [(d.alert.story_id, d.queued_at) for d in claim.deliveries] == [("a", at(5))]
