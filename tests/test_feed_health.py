"""A feed that keeps failing: backoff, then a pause, one notice per channel, and resume."""

from __future__ import annotations

from pathlib import Path

from bot.core.models import Channel
from tests.support.feed_server import FeedServer
from tests.support.rss import Item, rss_doc
from tests.support.watch import DESK, NEWSROOM, running_bot

QUIET = Channel("console", "local", "quiet")
STORY = Item("Harbour reopens after storm", "https://wire.example/harbour", "h1")


async def test_backoff_doubles_then_pause_notifies_each_channel_once_and_resume_recovers(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/down.rss", "oops", status=500)

    def hits() -> int:
        return len(feed_server.hits("/down.rss"))

    async with running_bot(tmp_path, poll_interval=60, pause_after=4) as bot:
        await bot.say(f"/news feed add {url}")
        await bot.say(f"/news feed add {url}", DESK)
        await bot.poll()
        assert hits() == 1
        listing = await bot.say("/news feed list")
        assert "failing since" in listing
        assert "(1 in a row): HTTP 500 Internal Server Error" in listing

        # Each failure doubles the wait: 60 s, then 120 s, then 240 s (plus < 10% jitter).
        for done, wait in enumerate((60, 120, 240), start=1):
            await bot.later(wait - 1)
            assert hits() == done
            await bot.later(wait * 0.1 + 2)
            assert hits() == done + 1

        listing = await bot.say("/news feed list")
        assert "paused since" in listing
        assert "after 4 failures" in listing
        assert "/news feed resume 1" in listing

        notices = {ch: await bot.rendered(ch) for ch in (NEWSROOM, DESK)}
        for channel, [notice] in notices.items():
            assert "Feed paused" in notice, channel
            assert url in notice
            assert "failed 4 times in a row since" in notice
            assert "last error: HTTP 500 Internal Server Error" in notice

        # Paused: a day goes by with no request and no second notice.
        for _ in range(5):
            await bot.later(86400)
        assert hits() == 4
        assert await bot.delivered() == []

        feed_server.serve("/down.rss", rss_doc(STORY))
        assert await bot.say("/news feed resume 1") == "Feed #1 resumed; checking it now."
        await bot.poll()
        assert hits() == 5
        listing = await bot.say("/news feed list")
        assert "ok, checked" in listing
        assert "failing" not in listing
        assert "is not paused" in await bot.say(f"/news feed resume {url}")


async def test_a_paused_operator_feed_notifies_every_channel_with_subscriptions(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/down.rss", "", status=503)
    async with running_bot(tmp_path, poll_interval=60, pause_after=2) as bot:
        await bot.say("/news subscribe NATO")
        await bot.say("/news subscribe Japan", DESK)
        await bot.operator_feed(url)
        await bot.poll()
        await bot.later(3600)
        delivered = await bot.delivered()
        assert sorted(str(a.channel) for a in delivered) == sorted([str(NEWSROOM), str(DESK)])
        assert all(a.kind == "notice" for a in delivered)
        assert await bot.delivered(QUIET) == []


async def test_a_feed_that_recovers_is_ok_again_and_its_error_count_resets(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/flaky.rss", "", status=502)
    async with running_bot(tmp_path, poll_interval=60, pause_after=3) as bot:
        await bot.say(f"/news feed add {url}")
        await bot.poll()
        await bot.later(70)
        assert (await bot.feed(1)).failures == 2
        feed_server.serve("/flaky.rss", rss_doc(STORY))
        await bot.later(140)
        feed = await bot.feed(1)
        assert (feed.failures, feed.failing_since, feed.last_error, feed.paused) == (
            0,
            None,
            None,
            False,
        )
        # Two more failures later: counted from zero, so not paused.
        feed_server.serve("/flaky.rss", "", status=502)
        await bot.later(70)
        await bot.later(140)
        assert (await bot.feed(1)).failures == 2
        assert not (await bot.feed(1)).paused
        assert await bot.delivered() == []
