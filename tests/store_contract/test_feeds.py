"""FeedStore: the feed list, who uses each feed, fetch state, health, moves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.core.models import Channel
from bot.core.ports import FetchState, Store
from tests.store_contract.builders import DESK, NEWS, alert, at, failed, ok

URL = "https://news.example/rss"


async def test_a_url_is_one_feed_and_trust_only_grows(store: Store) -> None:
    feed = await store.add_feed(URL, trusted=False, added_by="ana")
    assert (feed.url, feed.trusted, feed.title, feed.primed) == (URL, False, None, False)
    assert (feed.failures, feed.paused, feed.etag, feed.ttl_seconds) == (0, False, None, 0)
    trusted = await store.add_feed(URL, trusted=True, added_by=None)
    assert trusted.id == feed.id
    assert trusted.trusted
    again = await store.add_feed(URL, trusted=False, added_by="bo")
    assert again.trusted  # an operator feed stays one
    assert await store.list_feeds() == [again]


async def test_feeds_are_found_by_id_hash_id_or_url(store: Store) -> None:
    a = await store.add_feed(URL, trusted=True, added_by=None)
    b = await store.add_feed("https://other.example/atom", trusted=True, added_by=None)
    assert [f.id for f in await store.list_feeds()] == [a.id, b.id]
    assert await store.get_feed(b.id) == b
    assert await store.get_feed(a.id + b.id + 100) is None
    assert await store.find_feed(str(b.id)) == b
    assert await store.find_feed(f" #{b.id} ") == b
    assert await store.find_feed(URL) == a
    assert await store.find_feed("https://nowhere.example/") is None
    assert await store.find_feed(str(a.id + b.id + 100)) is None


async def test_due_feeds_oldest_due_first_paused_never(store: Store) -> None:
    before = datetime.now(UTC)
    a = await store.add_feed("https://a.example/", trusted=True, added_by=None)
    b = await store.add_feed("https://b.example/", trusted=True, added_by=None)
    c = await store.add_feed("https://c.example/", trusted=True, added_by=None)
    assert await store.due_feeds(before, 10) == []  # a new feed is due from when it was added
    later = datetime(2099, 1, 1, tzinfo=UTC)
    assert [f.id for f in await store.due_feeds(later, 10)] == [a.id, b.id, c.id]
    await store.save_fetch_states(
        [(a.id, ok(at(300))), (b.id, ok(at(100))), (c.id, ok(at(200)))], at(0)
    )
    assert [f.id for f in await store.due_feeds(at(99), 10)] == []
    assert [f.id for f in await store.due_feeds(at(100), 10)] == [b.id]
    assert [f.id for f in await store.due_feeds(at(300), 10)] == [b.id, c.id, a.id]
    assert [f.id for f in await store.due_feeds(at(300), 2)] == [b.id, c.id]
    await store.pause_feed(c.id, failed(at(200), "gone"), [], at(1))
    assert [f.id for f in await store.due_feeds(at(300), 10)] == [b.id, a.id]


async def test_a_success_saves_validators_and_keeps_what_it_did_not_learn(store: Store) -> None:
    feed = await store.add_feed(URL, trusted=True, added_by=None)
    first = FetchState(
        etag='"v1"',
        last_modified="Mon, 01 Jan 2026 10:00:00 GMT",
        next_check_at=at(60),
        title="Wire",
        content_hash="h1",
        ttl_seconds=30,
    )
    await store.save_fetch_state(feed.id, first, at(0))
    saved = await store.get_feed(feed.id)
    assert saved is not None
    assert (saved.etag, saved.last_modified, saved.title) == (
        '"v1"',
        "Mon, 01 Jan 2026 10:00:00 GMT",
        "Wire",
    )
    assert (saved.content_hash, saved.ttl_seconds, saved.last_checked_at) == ("h1", 30, at(0))
    # A 304: no title, hash or ttl learned; the stored ones stay.
    await store.save_fetch_state(feed.id, FetchState('"v2"', None, at(120)), at(60))
    saved = await store.get_feed(feed.id)
    assert saved is not None
    assert (saved.etag, saved.last_modified, saved.title) == ('"v2"', None, "Wire")
    assert (saved.content_hash, saved.ttl_seconds, saved.last_checked_at) == ("h1", 30, at(60))


async def test_failures_count_up_from_the_first_and_a_success_clears_them(store: Store) -> None:
    feed = await store.add_feed(URL, trusted=True, added_by=None)
    await store.save_fetch_state(feed.id, ok(at(60), etag='"v1"'), at(0))
    await store.save_fetch_state(feed.id, failed(at(120), "HTTP 503"), at(60))
    await store.save_fetch_state(feed.id, failed(at(240), "x" * 900), at(120))
    saved = await store.get_feed(feed.id)
    assert saved is not None
    assert (saved.failures, saved.failing_since, saved.last_checked_at) == (2, at(60), at(120))
    assert saved.last_error == "x" * 500  # kept short
    assert saved.etag == '"v1"'  # a failure keeps the validators
    assert [f.id for f in await store.due_feeds(at(240), 10)] == [feed.id]
    await store.save_fetch_state(feed.id, ok(at(300)), at(240))
    saved = await store.get_feed(feed.id)
    assert saved is not None
    assert (saved.failures, saved.failing_since, saved.last_error) == (0, None, None)


async def test_many_outcomes_are_saved_at_once(store: Store) -> None:
    a = await store.add_feed("https://a.example/", trusted=True, added_by=None)
    b = await store.add_feed("https://b.example/", trusted=True, added_by=None)
    await store.save_fetch_states([], at(0))  # nothing to save is fine
    await store.save_fetch_states(
        [(a.id, ok(at(60), title="A")), (b.id, failed(at(90), "DNS"))], at(0)
    )
    got_a, got_b = await store.get_feed(a.id), await store.get_feed(b.id)
    assert got_a is not None
    assert got_b is not None
    assert (got_a.title, got_a.failures) == ("A", 0)
    assert (got_b.last_error, got_b.failures) == ("DNS", 1)


async def test_pause_records_the_failure_and_queues_the_notices_resume_undoes_it(
    store: Store,
) -> None:
    feed = await store.add_feed(URL, trusted=True, added_by=None)
    notice = alert(NEWS, feed.id, "notice:paused:1", kind="notice")
    await store.pause_feed(feed.id, failed(at(60), "HTTP 410"), [notice], at(5))
    paused = await store.get_feed(feed.id)
    assert paused is not None
    assert (paused.paused, paused.paused_at, paused.failures, paused.last_error) == (
        True,
        at(5),
        1,
        "HTTP 410",
    )
    [queued] = await store.pending_alerts(10)
    assert (queued.kind, queued.story_id, queued.channel) == ("notice", "notice:paused:1", NEWS)
    # The same notice again (a second pause of the same spell) is not queued twice.
    await store.pause_feed(feed.id, failed(at(60), "HTTP 410"), [notice], at(6))
    assert len(await store.pending_alerts(10)) == 1
    resumed = await store.resume_feed(feed.id, at(100))
    assert resumed is not None
    assert (resumed.paused, resumed.paused_at, resumed.failures, resumed.last_error) == (
        False,
        None,
        0,
        None,
    )
    assert resumed.failing_since is None
    assert [f.id for f in await store.due_feeds(at(100), 10)] == [feed.id]
    assert await store.resume_feed(feed.id + 100, at(100)) is None


async def test_a_feed_moves_unless_the_url_is_taken(store: Store) -> None:
    a = await store.add_feed("https://a.example/", trusted=True, added_by=None)
    b = await store.add_feed("https://b.example/", trusted=True, added_by=None)
    assert await store.move_feed(a.id, "https://a.example/new")
    moved = await store.get_feed(a.id)
    assert moved is not None
    assert moved.url == "https://a.example/new"
    assert await store.find_feed("https://a.example/") is None
    assert not await store.move_feed(a.id, b.url)
    unmoved = await store.get_feed(a.id)
    assert unmoved is not None
    assert unmoved.url == "https://a.example/new"


async def test_channels_attach_and_detach_a_feed(store: Store) -> None:
    feed, attached = await store.attach_feed(URL, NEWS, added_by="ana", title="Wire")
    assert attached
    assert (feed.url, feed.trusted, feed.title) == (URL, False, "Wire")
    again, attached_again = await store.attach_feed(URL, NEWS, added_by="ana")
    assert (again.id, attached_again) == (feed.id, False)
    _, desk_attached = await store.attach_feed(URL, DESK, added_by="bo")
    assert desk_attached
    assert await store.feed_channels(feed.id) == [NEWS, DESK]
    assert await store.channels_by_feed() == {feed.id: [NEWS, DESK]}
    assert await store.detach_feed(feed.id, NEWS) == 1
    assert await store.detach_feed(feed.id, NEWS) is None  # not attached any more
    assert await store.feed_channels(feed.id) == [DESK]
    assert await store.detach_feed(feed.id, DESK) == 0
    # Nobody uses it any more: it is gone, so nothing polls it.
    assert await store.get_feed(feed.id) is None
    assert await store.channels_by_feed() == {}


async def test_an_operator_feed_stays_when_its_last_channel_detaches(store: Store) -> None:
    operator = await store.add_feed(URL, trusted=True, added_by=None)
    feed, attached = await store.attach_feed(URL, NEWS, added_by="ana", title="Ignored")
    assert (feed.id, feed.trusted, attached) == (operator.id, True, True)
    assert await store.detach_feed(feed.id, NEWS) == 0
    assert await store.get_feed(feed.id) == operator
    assert await store.feed_channels(feed.id) == []


async def test_the_last_channels_detaching_at_once_leave_no_feed_behind(store: Store) -> None:
    channels = [Channel("console", "local", f"c{n}") for n in range(6)]
    for channel in channels:
        feed, _ = await store.attach_feed(URL, channel, added_by="ana")
    # Several connections open already (where the backend has a pool), so the detaches
    # really run side by side.
    await asyncio.gather(*(store.feed_channels(feed.id) for _ in channels))
    left = await asyncio.gather(*(store.detach_feed(feed.id, c) for c in channels))
    assert sorted(n for n in left if n is not None) == [0, 1, 2, 3, 4, 5]
    assert await store.get_feed(feed.id) is None
