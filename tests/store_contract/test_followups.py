"""FollowUpStore: a sent alert whose story comes from more outlets owes its message an edit."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.core.ports import PendingEdit, Store, StoryCopy
from tests.store_contract.builders import NEWS, alert, at, story

LEASE = timedelta(seconds=30)


async def _due(store: Store, when: datetime, platforms: list[str]) -> list[PendingEdit]:
    return await store.due_edits(when, platforms, 10, lease_for=LEASE)


async def _feed(store: Store, name: str) -> int:
    return (await store.add_feed(f"https://{name}.example/rss", trusted=True, added_by=None)).id


async def _sent(store: Store, feed: int, remote_id: str | None = "m1") -> int:
    await store.record_refresh(feed, [story(feed, "a1")], [alert(NEWS, feed, "a1")], at(0))
    [first] = await store.pending_alerts(10)
    assert first.id is not None
    await store.mark_sent(first.id, remote_id, at(1))
    return first.id


async def _copy(store: Store, feed: int, story_id: str, source: str, when: float, a: int) -> None:
    await store.record_refresh(
        feed,
        [story(feed, story_id, source=source)],
        [alert(NEWS, feed, story_id, source=source)],
        at(when),
        copies=[StoryCopy(story_id, source, ((a, "a1"),))],
    )


async def test_a_copy_of_a_sent_alert_owes_one_edit_listing_it(store: Store) -> None:
    a, b = await _feed(store, "a"), await _feed(store, "b")
    sent = await _sent(store, a)
    assert await _due(store, at(100), ["console"]) == []
    await _copy(store, b, "b1", "Outlet B", 10, a)
    assert await store.pending_alerts(10) == []  # nothing new is sent
    assert await _due(store, at(9), ["console"]) == []  # due from the copy on
    [edit] = await _due(store, at(10), ["console"])
    assert (edit.alert.id, edit.remote_id) == (sent, "m1")
    assert edit.alert.extra == {"also_reported_by": "Outlet B"}
    assert await _due(store, at(10), ["slack"]) == []  # per platform
    await store.mark_edited(sent, "Outlet B", at(11))
    assert await _due(store, at(1000), ["console"]) == []  # done


async def test_at_most_one_edit_a_minute_and_none_lost(store: Store) -> None:
    a, b, c, d = [await _feed(store, n) for n in "abcd"]
    sent = await _sent(store, a)
    await _copy(store, b, "b1", "Outlet B", 10, a)
    [edit] = await _due(store, at(10), ["console"])
    # Outlet C arrives while the edit is on its way: the edit showed B only.
    await _copy(store, c, "c1", "Outlet C", 11, a)
    await store.mark_edited(sent, edit.alert.extra["also_reported_by"], at(12))
    assert await _due(store, at(71), ["console"]) == []  # not within the minute
    [again] = await _due(store, at(72), ["console"])
    assert again.alert.extra == {"also_reported_by": "Outlet B, Outlet C"}
    await store.mark_edited(sent, "Outlet B, Outlet C", at(72))
    # D comes 10 s after that edit: owed, but a minute after the last edit.
    await _copy(store, d, "d1", "Outlet D", 82, a)
    assert await _due(store, at(131), ["console"]) == []
    [third] = await _due(store, at(132), ["console"])
    assert third.alert.extra == {"also_reported_by": "Outlet B, Outlet C, Outlet D"}


async def test_a_deferred_edit_waits_and_a_dropped_one_never_comes(store: Store) -> None:
    a, b = await _feed(store, "a"), await _feed(store, "b")
    sent = await _sent(store, a)
    await _copy(store, b, "b1", "Outlet B", 10, a)
    await store.defer_edit(sent, at(50))
    assert await _due(store, at(49), ["console"]) == []
    assert len(await _due(store, at(50), ["console"])) == 1
    await store.defer_edit(sent, None)
    assert await _due(store, at(10_000), ["console"]) == []


async def test_no_edit_for_a_message_without_an_id(store: Store) -> None:
    a, b = await _feed(store, "a"), await _feed(store, "b")
    await _sent(store, a, remote_id=None)  # the console keeps no message ids
    await _copy(store, b, "b1", "Outlet B", 10, a)
    assert await _due(store, at(100), ["console"]) == []


async def test_recent_sent_alerts_of_a_channel_oldest_first(store: Store) -> None:
    a = await _feed(store, "a")
    stories = [story(a, f"s{n}") for n in range(3)]
    await store.record_refresh(a, stories, [alert(NEWS, a, s.story_id) for s in stories], at(0))
    pending = await store.pending_alerts(10)
    for n, p in enumerate(pending[:2]):
        assert p.id is not None
        await store.mark_sent(p.id, f"m{n}", at(10 + n))
    assert [(e.alert.story_id, e.remote_id) for e in await store.recent_sent(NEWS, at(0), 10)] == [
        ("s0", "m0"),
        ("s1", "m1"),
    ]  # the third is not sent
    assert [e.alert.story_id for e in await store.recent_sent(NEWS, at(11), 10)] == ["s1"]
    assert [e.alert.story_id for e in await store.recent_sent(NEWS, at(0), 1)] == ["s1"]


async def test_a_claimed_edit_is_one_processs_until_its_lease_passes(
    store: Store, other: Store
) -> None:
    # Two processes' delivery passes ask at once: one of them makes the edit; a claimer
    # that died leaves it due again once the lease has passed, for whoever asks.
    a, b = await _feed(store, "a"), await _feed(store, "b")
    sent = await _sent(store, a)
    await _copy(store, b, "b1", "Outlet B", 10, a)
    mine, theirs = await asyncio.gather(
        _due(store, at(10), ["console"]), _due(other, at(10), ["console"])
    )
    assert sorted(len(x) for x in (mine, theirs)) == [0, 1]
    assert [e.alert.id for e in mine + theirs] == [sent]
    assert await _due(store, at(10) + LEASE - timedelta(seconds=1), ["console"]) == []
    [again] = await _due(other, at(10) + LEASE, ["console"])
    assert again.alert.id == sent


async def test_a_copy_while_an_edit_is_claimed_waits_a_minute_from_the_claim(
    store: Store,
) -> None:
    a, b, c = [await _feed(store, n) for n in "abc"]
    sent = await _sent(store, a)
    await _copy(store, b, "b1", "Outlet B", 10, a)
    [claimed] = await _due(store, at(10), ["console"])
    assert claimed.alert.id == sent
    # C comes while that edit is on its way: owed, but not beside the one being made.
    await _copy(store, c, "c1", "Outlet C", 11, a)
    assert await _due(store, at(69), ["console"]) == []
    [after] = await _due(store, at(70), ["console"])
    assert after.alert.id == sent
    assert after.alert.extra == {"also_reported_by": "Outlet B, Outlet C"}
