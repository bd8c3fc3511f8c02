"""The watcher drops story identity keys once they are older than the duplicate window:
the seen set keeps stories for months (NEWSBOT_SEEN_PER_FEED), their ten keys a story
must not stay that long (bot/feeds/watcher.py, StoryStore.forget_story_keys)."""

from __future__ import annotations

from pathlib import Path

from bot.feeds.watcher import FORGET_KEYS_EVERY, WatchPolicy
from bot.store import open_sqlite
from tests.support.feed_server import FeedServer
from tests.support.process import query_db
from tests.support.rss import Item, rss_doc
from tests.support.watch import NEWSROOM, ManualClock, loopback_watcher

QUIET = Item("Heavy snow disrupts flights in Japan", "https://a.example/snow", "snow")
NEWS = Item("NATO summit opens in Vilnius on Monday", "https://a.example/nato", "nato")


def _keys(db: Path) -> int:
    [(count,)] = query_db(db, "SELECT COUNT(*) FROM story_keys")
    assert isinstance(count, int)
    return count


async def test_keys_past_the_window_are_dropped_and_the_story_stays_seen(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    db = tmp_path / "store.db"
    store = await open_sqlite(str(db))
    url = feed_server.serve("/a.rss", rss_doc(QUIET))
    await store.add_feed(url, trusted=True, added_by=None)
    await store.add_subscriptions(NEWSROOM, ["NATO"], "ana")
    clock = ManualClock()
    policy = WatchPolicy(poll_interval=60.0)
    try:
        async with loopback_watcher(store, clock, policy) as watcher:
            await watcher.poll_once()  # primes the feed
            feed_server.serve("/a.rss", rss_doc(NEWS, QUIET))
            clock.advance(policy.poll_interval * 1.1 + 1)
            assert await watcher.poll_once() == 1
            recorded = _keys(db)
            assert recorded >= 2  # its link and title, and the title's near keys
            # Within the window they stay.
            clock.advance(FORGET_KEYS_EVERY + 1)
            await watcher.poll_once()
            assert _keys(db) == recorded
            clock.advance(policy.duplicate_window + FORGET_KEYS_EVERY + 1)
            assert await watcher.poll_once() == 0  # the story is still seen: no alert again
            assert _keys(db) == 0
    finally:
        await store.close()
