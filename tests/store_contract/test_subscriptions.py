"""SubscriptionStore: per-channel subscriptions, pauses by channel and by workspace."""

from __future__ import annotations

from bot.core.models import Channel
from bot.core.ports import Store
from bot.store import open_store
from tests.store_contract.backends import StoreUrls
from tests.store_contract.builders import DESK, NEWS, SLACK


async def test_added_subscriptions_come_back_as_they_were_stored(store: Store) -> None:
    added = await store.add_subscriptions(NEWS, ["NATO", "Baltic AND ferry"], "ana", mention="U1")
    assert [s.query for s in added] == ["NATO", "Baltic AND ferry"]
    assert len({s.id for s in added}) == 2
    assert all(s.channel == NEWS and s.created_by == "ana" for s in added)
    assert all(s.mention == "U1" and s.paused_reason is None for s in added)
    assert await store.list_subscriptions(NEWS) == added
    assert await store.all_subscriptions() == added


async def test_subscriptions_are_per_channel_and_listed_in_order(store: Store) -> None:
    [a] = await store.add_subscriptions(NEWS, ["NATO"], "ana")
    [b] = await store.add_subscriptions(DESK, ["Russia"], "bo")
    [c] = await store.add_subscriptions(NEWS, ["Riga"], "ana")
    assert [s.id for s in await store.list_subscriptions(NEWS)] == [a.id, c.id]
    assert [s.id for s in await store.list_subscriptions(DESK)] == [b.id]
    assert [s.id for s in await store.all_subscriptions()] == [a.id, b.id, c.id]
    assert await store.list_subscriptions(SLACK) == []


async def test_remove_takes_only_the_channels_own_subscription(store: Store) -> None:
    [a] = await store.add_subscriptions(NEWS, ["NATO"], "ana")
    [b] = await store.add_subscriptions(DESK, ["Russia"], "bo")
    assert await store.remove_subscription(NEWS, b.id) is None  # not this channel's
    assert await store.remove_subscription(NEWS, b.id + a.id + 100) is None  # no such id
    assert [s.query for s in await store.all_subscriptions()] == ["NATO", "Russia"]
    removed = await store.remove_subscription(NEWS, a.id)
    assert removed == a
    assert await store.list_subscriptions(NEWS) == []
    assert await store.remove_subscription(NEWS, a.id) is None  # gone already


async def test_pause_and_resume_a_channel(store: Store) -> None:
    await store.add_subscriptions(NEWS, ["NATO", "Riga"], "ana")
    [other] = await store.add_subscriptions(DESK, ["Russia"], "bo")
    assert await store.pause_channel(NEWS, "channel deleted") == 2
    assert {s.paused_reason for s in await store.list_subscriptions(NEWS)} == {"channel deleted"}
    assert (await store.list_subscriptions(DESK)) == [other]
    assert await store.resume_channel(NEWS) == 2
    assert await store.resume_channel(NEWS) == 0  # nothing paused any more
    assert {s.paused_reason for s in await store.list_subscriptions(NEWS)} == {None}


async def test_a_workspace_resumes_only_what_it_paused_for_that_reason(store: Store) -> None:
    general = Channel("discord", "G1", "general")
    alerts = Channel("discord", "G1", "alerts")
    elsewhere = Channel("discord", "G2", "general")
    await store.add_subscriptions(general, ["NATO"], "ana")
    await store.add_subscriptions(alerts, ["Riga"], "ana")
    await store.add_subscriptions(elsewhere, ["Oslo"], "bo")
    assert await store.pause_channel(alerts, "missing permission") == 1
    # Only the active ones: the channel paused for its own cause keeps that cause.
    assert await store.pause_workspace("discord", "G1", "removed from guild") == 1
    assert await store.pause_workspace("discord", "G1", "removed from guild") == 0
    assert [s.paused_reason for s in await store.list_subscriptions(alerts)] == [
        "missing permission"
    ]
    assert [s.paused_reason for s in await store.list_subscriptions(elsewhere)] == [None]
    assert await store.resume_workspace("discord", "G1", "removed from guild") == 1
    assert [s.paused_reason for s in await store.list_subscriptions(general)] == [None]
    assert [s.paused_reason for s in await store.list_subscriptions(alerts)] == [
        "missing permission"
    ]


async def test_what_is_stored_outlives_the_process(urls: StoreUrls) -> None:
    first = await open_store(urls.url)
    added = await first.add_subscriptions(NEWS, ["NATO"], "ana")
    await first.close()
    again = await open_store(urls.url)  # a second start must not re-run or fail
    try:
        assert await again.all_subscriptions() == added
    finally:
        await again.close()
