"""FeedStore leases: several processes sharing one database refresh each due feed once.

`store` and `other` are two connections to one database, as two processes would have.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.ports import FeedClaim, LeaseLost, Store
from tests.store_contract.builders import NEWS, alert, at, failed, ok, story

LEASE = timedelta(seconds=60)
MANY = 100


async def _feeds(store: Store, urls: list[str]) -> list[int]:
    ids = [(await store.add_feed(u, trusted=True, added_by=None)).id for u in urls]
    # Due at at(0), each a second after the previous: a known "oldest due first" order.
    await store.save_fetch_states([(i, ok(at(n - len(ids)))) for n, i in enumerate(ids)], at(-100))
    return ids


async def _claim(
    store: Store, owner: str, when: float, *, limit: int = MANY, per_host: int = MANY
) -> list[FeedClaim]:
    return await store.claim_feeds(owner, at(when), limit=limit, lease_for=LEASE, per_host=per_host)


async def test_a_claim_leases_due_feeds_oldest_first_and_never_twice(store: Store) -> None:
    ids = await _feeds(store, [f"https://h{n}.example/rss" for n in range(4)])
    await store.pause_feed(ids[3], failed(at(-50), "gone"), [], at(-60))
    claims = await _claim(store, "a", 0, limit=2)
    assert [c.feed.id for c in claims] == ids[:2]
    assert {(c.lease.owner, c.lease.expires_at) for c in claims} == {("a", at(0) + LEASE)}
    # The rest for whoever asks next; the paused feed for no one; nothing twice.
    assert [c.feed.id for c in await _claim(store, "b", 1)] == [ids[2]]
    assert await _claim(store, "a", 2) == []
    assert await _claim(store, "c", -10) == []  # nothing due yet at that time


async def test_two_owners_racing_get_disjoint_feeds_and_all_of_them(
    store: Store, other: Store
) -> None:
    ids = await _feeds(store, [f"https://h{n}.example/rss" for n in range(40)])

    async def take(s: Store, owner: str) -> list[int]:
        got: list[int] = []
        while claims := await _claim(s, owner, 1, limit=3):
            got += [c.feed.id for c in claims]
        return got

    a, b = await asyncio.gather(take(store, "a"), take(other, "b"))
    assert not set(a) & set(b)
    assert sorted(a + b) == sorted(ids)


async def test_an_expired_lease_is_taken_over_with_a_new_token(store: Store, other: Store) -> None:
    [feed] = await _feeds(store, ["https://a.example/rss"])
    [mine] = await _claim(store, "a", 0)
    assert await _claim(other, "b", 59) == []  # still a's
    [theirs] = await _claim(other, "b", 61)  # a died or stalled: b takes it
    assert theirs.feed.id == feed
    assert theirs.lease.owner == "b"
    assert theirs.lease.token > mine.lease.token


async def test_an_owner_never_reclaims_a_feed_it_still_refreshes(store: Store) -> None:
    # A refresh slower than its lease: the owner's next claim must not lease the feed
    # again (that would move the token on and fence out its own result).
    ids = await _feeds(store, ["https://a.example/rss", "https://b.example/rss"])
    [running] = await _claim(store, "a", 0, limit=1)
    later = await store.claim_feeds(
        "a", at(61), limit=MANY, lease_for=LEASE, per_host=MANY, exclude={running.feed.id}
    )
    assert [c.feed.id for c in later] == [ids[1]]
    await store.finish_feeds([(running, ok(at(62)))], at(62))  # its result still stands
    tokens = {c.feed.id: c.lease.token for c in await _claim(store, "b", 62 + 3600)}
    assert tokens[running.feed.id] == running.lease.token + 1  # leased once since, not twice


async def test_a_fenced_out_result_is_refused_and_the_newer_one_stands(
    store: Store, other: Store
) -> None:
    [feed] = await _feeds(store, ["https://a.example/rss"])
    [stale] = await _claim(store, "a", 0)
    [fresh] = await _claim(other, "b", 61)
    # b's refresh: its stories and outcome are written.
    b_story = story(feed, "b1")
    assert (
        await other.record_refresh(
            feed, [b_story], [alert(NEWS, feed, "b1")], at(62), lease=fresh.lease
        )
        == 1
    )
    assert await other.finish_feeds([(fresh, ok(at(400), etag="new"))], at(63)) == []
    # a wakes up: everything it would write is refused, nothing of it is kept.
    with pytest.raises(LeaseLost):
        await store.record_refresh(
            feed, [story(feed, "a1")], [alert(NEWS, feed, "a1")], at(64), lease=stale.lease
        )
    assert await store.finish_feeds([(stale, ok(at(100), etag="old"))], at(65)) == [feed]
    with pytest.raises(LeaseLost):
        await store.pause_feed(
            feed, failed(at(100), "boom"), [alert(NEWS, feed, "notice")], at(66), lease=stale.lease
        )
    saved = await store.get_feed(feed)
    assert saved is not None
    assert (saved.etag, saved.paused, saved.failures) == ("new", False, 0)
    assert await store.unseen_story_ids(feed, ["a1", "b1"]) == {"a1"}
    assert [a.story_id for a in await store.pending_alerts(10)] == ["b1"]
    # b's lease ended with its result: the feed is due again at its next check only.
    assert await _claim(store, "a", 399) == []
    assert [c.feed.id for c in await _claim(store, "a", 400)] == [feed]


async def test_a_result_saved_within_the_lease_frees_the_feed(store: Store) -> None:
    a, b = await _feeds(store, ["https://a.example/rss", "https://b.example/rss"])
    ca, cb = await _claim(store, "a", 0)
    assert (
        await store.finish_feeds([(ca, ok(at(100))), (cb, failed(at(50), "timeout"))], at(1)) == []
    )
    got_b = await store.get_feed(b)
    assert got_b is not None
    assert (got_b.failures, got_b.last_error) == (1, "timeout")
    # Due again at their next checks, for any owner (no lease is left behind).
    assert [c.feed.id for c in await _claim(store, "z", 50)] == [b]
    assert [c.feed.id for c in await _claim(store, "y", 100)] == [a]


async def test_released_claims_are_free_at_once(store: Store, other: Store) -> None:
    ids = await _feeds(store, ["https://a.example/rss", "https://b.example/rss"])
    claims = await _claim(store, "a", 0)
    await store.release_feeds(claims)
    assert [c.feed.id for c in await _claim(other, "b", 1)] == ids


async def test_the_per_host_cap_counts_every_owners_live_leases(store: Store, other: Store) -> None:
    busy = [f"https://busy.example/feed/{n}" for n in range(5)]
    ids = await _feeds(store, [*busy, "https://quiet.example/rss"])
    first = await _claim(store, "a", 0, per_host=2)
    assert [c.feed.id for c in first] == [ids[0], ids[1], ids[5]]
    assert await _claim(other, "b", 1, per_host=2) == []  # busy.example has its two
    await store.finish_feeds([(first[0], ok(at(500)))], at(2))
    [next_one] = await _claim(other, "b", 3, per_host=2)
    assert next_one.feed.id == ids[2]
    # An expired lease no longer counts (its process is gone), b's live one still does.
    assert [c.feed.id for c in await _claim(other, "b", 61, per_host=2)] == [ids[1], ids[5]]
