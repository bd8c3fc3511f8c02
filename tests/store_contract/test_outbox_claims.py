"""OutboxStore claims: several processes sharing one outbox send each channel's alerts
from one process at a time, in order, and take over a dead process's channels.

`store` and `other` are two connections to one database, as two processes would have.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import Channel
from bot.core.ports import ChannelClaim, LeaseLost, Store
from tests.store_contract.builders import DESK, NEWS, SLACK, alert, at

LEASE = timedelta(seconds=30)
FAR = datetime(2100, 1, 1, tzinfo=UTC)
PLATFORMS = ["console", "slack"]


async def _claim(
    store: Store, owner: str, when: float, *, per_channel: int = 10, limit: int = 100
) -> list[ChannelClaim]:
    return await store.claim_channels(
        owner, at(when), PLATFORMS, per_channel=per_channel, limit=limit, lease_for=LEASE
    )


def _stories(claims: list[ChannelClaim]) -> dict[Channel, list[str]]:
    return {c.channel: [d.alert.story_id for d in c.deliveries] for c in claims}


async def test_a_claim_gives_each_channels_due_alerts_in_order_and_leases_it(
    store: Store,
) -> None:
    await store.queue_alerts(
        [alert(NEWS, 1, "n1"), alert(SLACK, 1, "s1"), alert(NEWS, 1, "n2"), alert(DESK, 1, "d1")],
        at(0),
    )
    claims = await _claim(store, "a", 1, per_channel=1, limit=2)
    # The two channels whose oldest alert is oldest, one alert each (the caps).
    assert _stories(claims) == {NEWS: ["n1"], SLACK: ["s1"]}
    assert {(c.lease.owner, c.lease.expires_at) for c in claims} == {("a", at(1) + LEASE)}
    # Another owner gets only what a holds no lease on; a gets its own again (renewed).
    assert _stories(await _claim(store, "b", 2)) == {DESK: ["d1"]}
    again = await _claim(store, "a", 3)
    assert _stories(again) == {NEWS: ["n1", "n2"], SLACK: ["s1"]}
    assert all(c.lease.token > claims[0].lease.token for c in again if c.channel == NEWS)


async def test_two_owners_racing_get_disjoint_channels_and_all_of_them(
    store: Store, other: Store
) -> None:
    channels = [Channel("console", "local", f"c{n}") for n in range(30)]
    await store.queue_alerts(
        [alert(ch, 1, f"{ch.channel}-{k}") for k in range(2) for ch in channels], at(0)
    )

    async def send_all(s: Store, owner: str) -> list[str]:
        """Claim a few channels at a time and send what each claim gives, as delivery does."""
        sent: list[str] = []
        while claims := await _claim(s, owner, 1, limit=4):
            for claim in claims:
                for d in claim.deliveries:
                    assert d.alert.id is not None
                    assert await s.mark_claimed_in_flight(d.alert.id, at(2), claim.lease, LEASE)
                    await s.mark_sent(d.alert.id, None, at(2))
                    sent.append(d.alert.story_id)
        return sent

    a, b = await asyncio.gather(send_all(store, "a"), send_all(other, "b"))
    # Each alert sent once, each channel's alerts by one owner, both in order.
    assert sorted(a + b) == sorted(f"{ch.channel}-{k}" for k in range(2) for ch in channels)
    assert not {s.split("-")[0] for s in a} & {s.split("-")[0] for s in b}
    for sent in (a, b):
        assert all(
            sent[sent.index(f"{c}-0") + 1] == f"{c}-1" for c in {s.split("-")[0] for s in sent}
        )


async def test_a_dead_owners_channel_is_taken_over_and_its_send_in_flight_resent_maybe_sent(
    store: Store, other: Store
) -> None:
    await store.queue_alerts([alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2")], at(0))
    [mine] = await _claim(store, "a", 1)
    first = mine.deliveries[0].alert
    assert first.id is not None
    assert await store.mark_claimed_in_flight(first.id, at(2), mine.lease, LEASE)
    # ...and a dies before marking it sent. Its lease was renewed by the mark: until 32.
    assert await _claim(other, "b", 31) == []
    [theirs] = await _claim(other, "b", 33)
    assert theirs.lease.owner == "b"
    assert theirs.lease.token > mine.lease.token
    assert [(d.alert.story_id, d.maybe_sent, d.attempts) for d in theirs.deliveries] == [
        ("n1", True, 1),
        ("n2", False, 0),
    ]


async def test_a_fenced_out_send_is_refused_before_it_starts(store: Store, other: Store) -> None:
    await store.queue_alerts([alert(NEWS, 1, "n1")], at(0))
    [stale] = await _claim(store, "a", 1)
    [fresh] = await _claim(other, "b", 40)  # a stalled past its lease
    alert_id = stale.deliveries[0].alert.id
    assert alert_id is not None
    with pytest.raises(LeaseLost):
        await store.mark_claimed_in_flight(alert_id, at(41), stale.lease, LEASE)
    # Nothing of a's attempt was recorded: b sends it as never tried.
    [d] = await other.due_deliveries(FAR, PLATFORMS, 10, 10)
    assert (d.maybe_sent, d.attempts) == (False, 0)
    assert await other.mark_claimed_in_flight(alert_id, at(42), fresh.lease, LEASE)
    await other.mark_sent(alert_id, "m1", at(43))
    assert await other.due_deliveries(FAR, PLATFORMS, 10, 10) == []


async def test_a_released_channel_is_free_at_once_and_old_tokens_stay_stale(
    store: Store, other: Store
) -> None:
    await store.queue_alerts([alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2")], at(0))
    [first] = await _claim(store, "a", 1)
    await store.release_channel(NEWS, first.lease)
    [second] = await _claim(other, "b", 2)
    await other.release_channel(NEWS, second.lease)
    [third] = await _claim(store, "c", 3)
    assert first.lease.token < second.lease.token < third.lease.token
    alert_id = third.deliveries[0].alert.id
    assert alert_id is not None
    with pytest.raises(LeaseLost):  # a's lease ended long ago
        await store.mark_claimed_in_flight(alert_id, at(4), first.lease, LEASE)
    # Releasing with a stale lease leaves the holder's lease alone.
    await store.release_channel(NEWS, second.lease)
    assert await _claim(other, "b", 5) == []


async def test_an_alert_no_longer_pending_is_not_marked_for_sending(store: Store) -> None:
    await store.queue_alerts([alert(NEWS, 1, "n1")], at(0))
    [claim] = await _claim(store, "a", 1)
    alert_id = claim.deliveries[0].alert.id
    assert alert_id is not None
    assert await store.park_channel(NEWS, "channel gone") == 1  # by another process, say
    assert not await store.mark_claimed_in_flight(alert_id, at(2), claim.lease, LEASE)
    status = await store.delivery_status(NEWS)
    assert (status.paused, status.pending) == (1, 0)


async def test_a_channel_waiting_on_a_retry_is_not_claimed(store: Store) -> None:
    await store.queue_alerts([alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2")], at(0))
    [claim] = await _claim(store, "a", 1)
    head = claim.deliveries[0].alert.id
    assert head is not None
    await store.mark_failed(head, "timeout", at(60))
    await store.release_channel(NEWS, claim.lease)
    assert await _claim(store, "b", 59) == []  # n2 must not overtake n1
    assert _stories(await _claim(store, "b", 60)) == {NEWS: ["n1", "n2"]}
