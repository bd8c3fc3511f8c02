"""StoryStore identity keys: the database decides which stories are the same one, so two
processes recording copies of a story at the same moment queue its alerts once.

`store` and `other` are two connections to one database, as two processes would have.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.core.models import Story
from bot.core.ports import Store, StoryKeys
from bot.feeds.dedupe import identity_keys
from tests.store_contract.builders import DESK, NEWS, alert, at, story

DAY = timedelta(days=1)


async def _feed(store: Store, name: str) -> int:
    return (await store.add_feed(f"https://{name}.example/rss", trusted=True, added_by=None)).id


def _keys(s: Story, *keys: str) -> StoryKeys:
    return StoryKeys(s.story_id, s.source, keys)


async def _record(
    store: Store, s: Story, *keys: str, when: float = 0, since: float | None = None
) -> int:
    return await store.record_refresh(
        s.feed_id,
        [s],
        [alert(NEWS, s.feed_id, s.story_id, source=s.source), alert(DESK, s.feed_id, s.story_id)],
        at(when),
        keys=[_keys(s, *keys)],
        keys_since=at(since) if since is not None else at(when) - DAY,
    )


async def test_two_outlets_recorded_at_once_by_two_processes_alert_once(
    store: Store, other: Store
) -> None:
    a, b = await _feed(store, "a"), await _feed(store, "b")
    first, copy = story(a, "a1", source="Outlet A"), story(b, "b1", source="Outlet B")
    queued = await asyncio.gather(
        _record(store, first, "link:same"), _record(other, copy, "link:same")
    )
    # Whichever committed first owns the story; the other queued nothing of its own.
    assert sorted(queued) == [0, 2]
    pending = await store.pending_alerts(10)
    assert sorted((p.channel.channel, p.story_id) for p in pending) in (
        [("desk", "a1"), ("news", "a1")],
        [("desk", "b1"), ("news", "b1")],
    )
    [news] = [p for p in pending if p.channel == NEWS]
    other_source = "Outlet B" if news.story_id == "a1" else "Outlet A"
    assert news.extra == {"also_reported_by": other_source}
    # Both stories are seen: neither alerts again.
    assert await store.unseen_story_ids(a, ["a1"]) == set()
    assert await store.unseen_story_ids(b, ["b1"]) == set()


async def test_one_feed_recorded_by_two_processes_at_once_alerts_once(
    store: Store, other: Store
) -> None:
    a = await _feed(store, "a")
    s = story(a, "a1")
    queued = await asyncio.gather(_record(store, s, "link:x"), _record(other, s, "link:x"))
    assert sorted(queued) == [0, 2]
    assert sorted(p.channel.channel for p in await store.pending_alerts(10)) == ["desk", "news"]


async def test_any_shared_key_makes_a_copy_and_a_batch_folds_into_its_first(store: Store) -> None:
    a, b = await _feed(store, "a"), await _feed(store, "b")
    assert await _record(store, story(a, "a1", source="A"), "link:1", "title:t") == 2
    # Another link, the same title: a copy.
    assert await _record(store, story(b, "b1", source="B"), "link:2", "title:t", when=1) == 0
    # Two new stories of one batch sharing a key: the first alerts, the second folds.
    c1, c2 = story(b, "c1", source="B"), story(b, "c2", source="B2")
    queued = await store.record_refresh(
        b,
        [c1, c2],
        [alert(NEWS, b, "c1", source="B"), alert(NEWS, b, "c2", source="B2")],
        at(2),
        keys=[_keys(c1, "link:3"), _keys(c2, "link:3")],
        keys_since=at(2) - DAY,
    )
    assert queued == 1
    news = {p.story_id: p.extra for p in await store.pending_alerts(10) if p.channel == NEWS}
    assert news == {"a1": {"also_reported_by": "B"}, "c1": {"also_reported_by": "B2"}}


async def test_a_key_older_than_the_window_is_taken_over(store: Store) -> None:
    a, b, c = await _feed(store, "a"), await _feed(store, "b"), await _feed(store, "c")
    assert await _record(store, story(a, "old", source="A"), "link:live") == 2
    # Two days later the same link is another story: it alerts, and owns the key now.
    later = 2 * DAY.total_seconds()
    assert await _record(store, story(b, "new", source="B"), "link:live", when=later) == 2
    assert await _record(store, story(c, "copy", source="C"), "link:live", when=later + 1) == 0
    news = {p.story_id: p.extra for p in await store.pending_alerts(10) if p.channel == NEWS}
    assert news == {"old": {}, "new": {"also_reported_by": "C"}}


async def test_a_copy_of_a_sent_alert_queues_nothing(store: Store) -> None:
    a, b = await _feed(store, "a"), await _feed(store, "b")
    await _record(store, story(a, "a1", source="A"), "link:1")
    for p in await store.pending_alerts(10):
        assert p.id is not None
        await store.mark_sent(p.id, None, at(1))
    assert await _record(store, story(b, "b1", source="B"), "link:1", when=2) == 0
    assert await store.pending_alerts(10) == []


def _titled(feed: int, story_id: str, title: str, source: str) -> Story:
    return replace(story(feed, story_id, source=source), title=title)


async def _record_near(store: Store, s: Story, when: float = 0) -> int:
    """Recorded with the keys the watcher gives it (bot.feeds.dedupe.identity_keys)."""
    return await store.record_refresh(
        s.feed_id,
        [s],
        [alert(NEWS, s.feed_id, s.story_id, source=s.source)],
        at(when),
        keys=[identity_keys(s, 4)],
        keys_since=at(when) - DAY,
    )


async def test_near_copies_recorded_at_once_by_two_processes_alert_once(
    store: Store, other: Store
) -> None:
    # Two outlets word the wire story a little differently, links differ: only the near
    # keys tie them, and each process's own duplicate index has seen neither.
    a, b = await _feed(store, "a"), await _feed(store, "b")
    first = _titled(a, "a1", "Russia and US hold security talks in Geneva on Monday", "A")
    copy = _titled(b, "b1", "Russia, US hold security talks in Geneva on Monday", "B")
    queued = await asyncio.gather(_record_near(store, first), _record_near(other, copy))
    assert sorted(queued) == [0, 1]
    [news] = await store.pending_alerts(10)
    assert news.extra == {"also_reported_by": "B" if news.story_id == "a1" else "A"}


async def test_a_shared_near_key_is_only_a_candidate(store: Store) -> None:
    # A band in common by chance (forced here) folds nothing: the titles are compared.
    a, b = await _feed(store, "a"), await _feed(store, "b")
    one = _titled(a, "a1", "Snow closes roads across the north of England", "A")
    two = _titled(b, "b1", "Parliament votes on the new budget for schools", "B")
    for n, s in enumerate((one, two)):
        own = identity_keys(s, 4)
        forced = replace(own, near=(*own.near, "near0:forced"))
        queued = await store.record_refresh(
            s.feed_id, [s], [alert(NEWS, s.feed_id, s.story_id, source=s.source)], at(n),
            keys=[forced], keys_since=at(n) - DAY,
        )  # fmt: skip
        assert queued == 1
    assert sorted(p.extra.get("also_reported_by", "") for p in await store.pending_alerts(10)) == [
        "",
        "",
    ]


async def test_keys_older_than_the_window_are_dropped_newer_ones_kept(store: Store) -> None:
    a, b, c = await _feed(store, "a"), await _feed(store, "b"), await _feed(store, "c")
    await _record(store, story(a, "old", source="A"), "link:old", "title:old", when=0)
    await _record(store, story(b, "new", source="B"), "link:new", when=100)
    assert await store.forget_story_keys(at(50), 1) == 1  # a batch at a time
    assert await store.forget_story_keys(at(50), 100) == 1
    assert await store.forget_story_keys(at(50), 100) == 0
    # Even asked with a window reaching back before them, the dropped keys own nothing
    # (a story with them alerts), and the kept one still makes a copy.
    assert await _record(store, story(c, "c1", source="C"), "link:old", when=101, since=-1) == 2
    assert await _record(store, story(c, "c2", source="C"), "link:new", when=102, since=-1) == 0
