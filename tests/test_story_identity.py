"""A story alerts once, whatever its publisher does to its date, its link or the order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tests.support.feed_server import FeedServer
from tests.support.rss import Item, rss_doc
from tests.support.watch import running_bot

DATES = [f"Mon, 27 Dec 2021 1{h}:00:00 GMT" for h in range(10)]


def nato(n: int, *, guid: bool = True) -> Item:
    return Item(
        f"NATO update number {n}",
        f"https://wire.example/nato-{n}",
        f"nato-{n}" if guid else None,
        pub_date=DATES[n % 10],
    )


async def test_pubdate_churn_tracking_parameters_and_reordering_alert_nothing_new(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    with_guid = [nato(1), nato(2)]
    without_guid = [nato(3, guid=False), nato(4, guid=False)]
    url = feed_server.serve("/wire.rss", rss_doc(*with_guid, *without_guid))
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.operator_feed(url)
        await bot.poll()
        assert await bot.delivered() == []  # the first sight only primes

        churned = [
            replace(with_guid[0], pub_date="Tue, 28 Dec 2021 09:30:00 GMT"),
            replace(with_guid[1], link=with_guid[1].link + "?utm_source=rss"),
            replace(
                without_guid[0],
                link=without_guid[0].link + "?utm_medium=social&fbclid=abc#comments",
                pub_date="Wed, 29 Dec 2021 09:30:00 GMT",
            ),
            replace(
                without_guid[1], link=without_guid[1].link.replace("https://wire", "HTTPS://WIRE")
            ),
        ]
        for doc in (churned, list(reversed(churned))):
            feed_server.serve("/wire.rss", rss_doc(*doc))
            await bot.next_cycle()
            assert await bot.delivered() == []

        feed_server.serve("/wire.rss", rss_doc(nato(5), *churned))
        await bot.next_cycle()
        assert [a.title for a in await bot.delivered()] == ["NATO update number 5"]


async def test_the_seen_set_is_bounded_but_keeps_every_id_still_in_the_feed(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async def seen_ids() -> set[str]:
        seen = await bot.store.stories_seen_since(datetime(2000, 1, 1, tzinfo=UTC))
        return {story.story_id for story, _ in seen if story.feed_id == 1}

    window = [nato(n) for n in range(6)]
    url = feed_server.serve("/wire.rss", rss_doc(*window))
    async with running_bot(tmp_path, seen_per_feed=3) as bot:
        await bot.say("/news subscribe NATO")
        await bot.operator_feed(url)
        await bot.poll()
        # Six ids in the document, a bound of three: all six stay, or they would re-alert.
        for n in (6, 7, 8, 9):
            window = [nato(n), *window[:5]]  # one new story, the oldest one drops out
            feed_server.serve("/wire.rss", rss_doc(*window))
            await bot.next_cycle()
            assert [a.title for a in await bot.delivered()] == [f"NATO update number {n}"]
            assert {i.guid for i in window} <= await seen_ids()
        # Three new stories since: everything out of the document is forgotten by now.
        assert await seen_ids() == {i.guid for i in window}
        # The same document again: nothing is new, nothing alerts.
        await bot.next_cycle()
        assert await bot.delivered() == []


async def test_a_new_feed_posts_only_its_newest_backfill_stories(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    stories = [nato(n) for n in range(4)]  # story n published at 1n:00
    url = feed_server.serve("/wire.rss", rss_doc(*stories))
    async with running_bot(tmp_path, backfill=2) as bot:
        await bot.say("/news subscribe NATO")
        await bot.operator_feed(url)
        await bot.poll()
        titles = [a.title for a in await bot.delivered()]
        assert titles == ["NATO update number 2", "NATO update number 3"]  # oldest first
        await bot.next_cycle()
        assert await bot.delivered() == []


async def test_without_backfill_a_new_feed_floods_nobody(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/wire.rss", rss_doc(*[nato(n) for n in range(4)]))
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.say(f"/news feed add {url}")
        await bot.poll()
        assert await bot.delivered() == []
        assert (await bot.feed(1)).primed
