"""StoryStore: the seen set, stories and their alerts in one step, copies, pruning."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.ports import Store, StoryCopy
from tests.store_contract.builders import DESK, NEWS, alert, at, story

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


async def _feed(store: Store, name: str = "a") -> int:
    return (await store.add_feed(f"https://{name}.example/rss", trusted=True, added_by=None)).id


async def test_stories_and_alerts_are_recorded_together(store: Store) -> None:
    feed = await _feed(store)
    assert await store.unseen_story_ids(feed, []) == set()
    assert await store.unseen_story_ids(feed, ["g1", "g2"]) == {"g1", "g2"}
    g1 = story(feed, "g1")
    assert await store.record_refresh(feed, [g1], [alert(NEWS, feed, "g1")], at(0), prime=True) == 1
    # Recording the same again (a re-poll after a crash) queues nothing twice.
    assert await store.record_refresh(feed, [g1], [alert(NEWS, feed, "g1")], at(1)) == 0
    assert await store.unseen_story_ids(feed, ["g1", "g2"]) == {"g2"}
    assert await store.unseen_story_ids(await _feed(store, "b"), ["g1"]) == {"g1"}  # per feed
    [pending] = await store.pending_alerts(10)
    assert (pending.title, pending.topics, pending.channel) == ("Title g1", ("NATO",), NEWS)
    feed_now = await store.get_feed(feed)
    assert feed_now is not None
    assert feed_now.primed


async def test_a_refresh_without_alerts_still_marks_its_stories_seen(store: Store) -> None:
    feed = await _feed(store)
    assert await store.record_refresh(feed, [story(feed, "g1"), story(feed, "g2")], [], at(0)) == 0
    assert await store.unseen_story_ids(feed, ["g1", "g2", "g3"]) == {"g3"}
    assert await store.pending_alerts(10) == []
    feed_now = await store.get_feed(feed)
    assert feed_now is not None
    assert not feed_now.primed  # only when asked


async def test_seen_stories_come_back_whole_and_in_time_order(store: Store) -> None:
    feed = await _feed(store)
    s1 = story(feed, "s1", published=at(-3600))
    s2, s3 = story(feed, "s2"), story(feed, "s3")
    await store.record_refresh(feed, [s1], [], at(0))
    await store.record_refresh(feed, [s2, s3], [], at(10))
    # The first sighting counts: seeing s1 again does not make it new.
    await store.record_refresh(feed, [s1], [], at(20))
    assert await store.stories_seen_since(LONG_AGO) == [(s1, at(0)), (s2, at(10)), (s3, at(10))]
    assert await store.stories_seen_since(at(10)) == [(s2, at(10)), (s3, at(10))]
    assert await store.stories_seen_since(at(11)) == []
    # Newest first, ties latest recorded first.
    assert await store.recent_stories(LONG_AGO) == [s3, s2, s1]
    assert await store.recent_stories(LONG_AGO, limit=2) == [s3, s2]
    assert await store.recent_stories(at(5)) == [s3, s2]


async def test_titles_seen_since_come_back_a_page_at_a_time_in_time_order(store: Store) -> None:
    a, b = await _feed(store, "a"), await _feed(store, "b")
    early = [story(a, f"e{n}") for n in range(5)]
    late = [story(b, f"l{n}") for n in range(3)]
    await store.record_refresh(a, early, [], at(0))
    await store.record_refresh(b, late, [], at(10))
    await store.record_refresh(a, early[:2], [], at(20))  # seen again: not new

    pages = [page async for page in store.titles_seen_since(LONG_AGO)]
    rows = [row for page in pages for row in page]
    assert rows == [(s.feed_id, s.story_id, s.title, s.link, s.source, at(0)) for s in early] + [
        (s.feed_id, s.story_id, s.title, s.link, s.source, at(10)) for s in late
    ]
    later = [row async for page in store.titles_seen_since(at(5)) for row in page]
    assert [r[1] for r in later] == ["l0", "l1", "l2"]
    assert [row async for page in store.titles_seen_since(at(11)) for row in page] == []


async def test_a_copy_folds_into_the_earlier_alert_as_also_reported_by(store: Store) -> None:
    a, b, c = await _feed(store, "a"), await _feed(store, "b"), await _feed(store, "c")
    await store.record_refresh(a, [story(a, "a1")], [alert(NEWS, a, "a1")], at(0))
    copy_b = StoryCopy("b1", "Outlet B", ((a, "a1"),))
    queued = await store.record_refresh(
        b,
        [story(b, "b1", source="Outlet B")],
        [alert(NEWS, b, "b1", source="Outlet B"), alert(DESK, b, "b1", source="Outlet B")],
        at(10),
        copies=[copy_b],
    )
    assert queued == 1  # only DESK, which had nothing for the earlier copy
    pending = await store.pending_alerts(10)
    assert [(p.channel, p.feed_id, p.story_id) for p in pending] == [
        (NEWS, a, "a1"),
        (DESK, b, "b1"),
    ]
    assert pending[0].extra == {"also_reported_by": "Outlet B"}
    assert pending[1].extra == {}
    # A third outlet adds its name; the original outlet's own name is never added.
    copy_c = StoryCopy("c1", "Outlet C", ((a, "a1"), (b, "b1")))
    same = StoryCopy("c2", "Wire", ((a, "a1"),))
    queued = await store.record_refresh(
        c,
        [story(c, "c1", source="Outlet C"), story(c, "c2")],
        [alert(NEWS, c, "c1", source="Outlet C"), alert(NEWS, c, "c2")],
        at(20),
        copies=[copy_c, same],
    )
    assert queued == 0
    pending = await store.pending_alerts(10)
    assert pending[0].extra == {"also_reported_by": "Outlet B, Outlet C"}
    assert await store.unseen_story_ids(c, ["c1", "c2"]) == set()  # recorded all the same


async def test_a_copy_of_a_story_already_sent_sends_nothing(store: Store) -> None:
    a, b = await _feed(store, "a"), await _feed(store, "b")
    await store.record_refresh(a, [story(a, "a1")], [alert(NEWS, a, "a1")], at(0))
    [sent] = await store.pending_alerts(10)
    assert sent.id is not None
    await store.mark_sent(sent.id, "m1", at(1))
    queued = await store.record_refresh(
        b,
        [story(b, "b1")],
        [alert(NEWS, b, "b1")],
        at(10),
        copies=[StoryCopy("b1", "Outlet B", ((a, "a1"),))],
    )
    assert queued == 0
    assert await store.pending_alerts(10) == []
    assert await store.count_sent(NEWS, at(0)) == 1


async def test_a_copy_sees_the_alert_queued_earlier_in_the_same_refresh(store: Store) -> None:
    a = await _feed(store)
    queued = await store.record_refresh(
        a,
        [story(a, "first"), story(a, "again")],
        [alert(NEWS, a, "first"), alert(NEWS, a, "again", source="Desk B")],
        at(0),
        copies=[StoryCopy("again", "Desk B", ((a, "first"),))],
    )
    assert queued == 1
    [pending] = await store.pending_alerts(10)
    assert (pending.story_id, pending.extra) == ("first", {"also_reported_by": "Desk B"})


async def test_the_seen_set_keeps_the_newest_and_every_current_id(store: Store) -> None:
    feed, other = await _feed(store, "a"), await _feed(store, "b")
    ids = [f"s{n}" for n in range(6)]
    await store.record_refresh(other, [story(other, i) for i in ids], [], at(0))
    for n, story_id in enumerate(ids):
        await store.record_refresh(feed, [story(feed, story_id)], [], at(n))
    # Bound 2, the document still carries s0 and s1: those stay, as do the newest two.
    await store.record_refresh(
        feed, [story(feed, "s6")], [], at(10), keep=2, current_ids=["s6", "s0", "s1"]
    )
    assert await store.unseen_story_ids(feed, [*ids, "s6"]) == {"s2", "s3", "s4"}
    # Pruning is per feed.
    assert await store.unseen_story_ids(other, ids) == set()
    # No stories, no pruning (nothing was parsed).
    await store.record_refresh(feed, [], [], at(11), keep=1)
    assert await store.unseen_story_ids(feed, [*ids, "s6"]) == {"s2", "s3", "s4"}


async def test_a_refresh_that_cannot_queue_its_alerts_marks_nothing_seen(store: Store) -> None:
    feed = await _feed(store)
    # A feed id beyond any integer column: the outbox insert fails after the stories'.
    unstorable = alert(NEWS, 2**64, "g1")
    # Which error is the driver's own (the protocol names none); what follows is the point.
    with pytest.raises(Exception):  # noqa: B017, PT011
        await store.record_refresh(feed, [story(feed, "g1")], [unstorable], at(0), prime=True)
    # Both or neither: the story stays unseen, so the next poll matches it again.
    assert await store.unseen_story_ids(feed, ["g1"]) == {"g1"}
    assert await store.pending_alerts(10) == []
    feed_now = await store.get_feed(feed)
    assert feed_now is not None
    assert not feed_now.primed
