"""FeedStore.import_feed: one OPML entry stored whole, merged into what is there."""

from __future__ import annotations

from bot.core.models import Channel
from bot.core.ports import Store

URL = "https://news.example/rss"
DESK = Channel("slack", "T1", "C1")
NEWS = Channel("discord", "1", "2")


async def test_an_imported_feed_is_stored_with_its_title_trust_and_channels(store: Store) -> None:
    feed, created = await store.import_feed(
        URL, title="Wire", operator=True, channels=[DESK, NEWS], added_by="import"
    )
    assert created
    assert (feed.url, feed.title, feed.trusted) == (URL, "Wire", True)
    assert await store.list_feeds() == [feed]
    assert sorted(map(str, await store.feed_channels(feed.id))) == sorted([str(DESK), str(NEWS)])


async def test_importing_an_existing_feed_keeps_its_title_and_only_adds(store: Store) -> None:
    first, _ = await store.attach_feed(URL, DESK, added_by="ana", title="Original")
    again, created = await store.import_feed(
        URL, title="Other", operator=False, channels=[DESK, NEWS], added_by="import"
    )
    assert not created
    assert again.id == first.id
    assert (again.title, again.trusted) == ("Original", False)
    assert sorted(map(str, await store.feed_channels(first.id))) == sorted([str(DESK), str(NEWS)])
    trusted, _ = await store.import_feed(
        URL, title=None, operator=True, channels=[], added_by="import"
    )
    assert trusted.trusted
    kept, _ = await store.import_feed(
        URL, title=None, operator=False, channels=[], added_by="import"
    )
    assert kept.trusted  # an operator feed stays one


async def test_a_feed_without_title_gets_the_imported_one(store: Store) -> None:
    await store.add_feed(URL, trusted=True, added_by=None)
    feed, created = await store.import_feed(
        URL, title="Wire", operator=False, channels=[], added_by="import"
    )
    assert not created
    assert feed.title == "Wire"
