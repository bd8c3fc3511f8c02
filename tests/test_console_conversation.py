"""The bot as a person meets it on the console: commands in, replies and alerts out."""

from __future__ import annotations

from pathlib import Path

from tests.support.console import ConsoleBot
from tests.support.feed_server import FeedServer, rss

LAVROV = (
    "lavrov-1",
    "Russia-US talks on security guarantees to be held next month: Lavrov",
    "Talks with NATO over Ukraine are scheduled for January.",
)
SNOW = ("snow-1", "Heavy snow disrupts flights in Japan", "Dozens of flights were cancelled.")


def bot_env(tmp_path: Path, feeds: list[str]) -> dict[str, str]:
    feed_list = tmp_path / "feeds.txt"
    feed_list.write_text("\n".join(feeds) + "\n")
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "NEWSBOT_FEEDS_FILE": str(feed_list),
        "NEWSBOT_POLL_INTERVAL": "1",
    }


async def test_subscribe_list_unsubscribe_help(tmp_path: Path) -> None:
    bot = await ConsoleBot.start(bot_env(tmp_path, []), tmp_path)
    try:
        reply = await bot.say("/news subscribe Russia, NATO, Ukraine")
        assert reply.splitlines() == [
            "Subscribed #1: Russia",
            "Subscribed #2: NATO",
            "Subscribed #3: Ukraine",
        ]
        listing = await bot.say("/news list")
        assert "#1  Russia  (by console)" in listing  # the console's user, by name
        assert "#3  Ukraine" in listing

        assert await bot.say("/news unsubscribe 2") == "Unsubscribed #2: NATO"
        listing = await bot.say("/news list")
        assert "NATO" not in listing
        assert "#1  Russia" in listing

        missing = await bot.say("/news unsubscribe 2")
        assert "No subscription #2" in missing

        help_text = await bot.say("/news help")
        for name in ("subscribe", "unsubscribe", "list", "help"):
            assert f"/news {name}" in help_text

        assert "Unknown command `frobnicate`" in await bot.say("/news frobnicate")
        assert "Already subscribed: russia" in await bot.say("/news subscribe russia")
    finally:
        assert await bot.stop() == 0


async def test_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    env = bot_env(tmp_path, [])
    bot = await ConsoleBot.start(env, tmp_path)
    await bot.say("/news subscribe NATO")
    await bot.stop()
    bot = await ConsoleBot.start(env, tmp_path)
    try:
        assert "#1  NATO" in await bot.say("/news list")
    finally:
        await bot.stop()


async def test_new_story_alerts_exactly_once_across_poll_cycles(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    bot = await ConsoleBot.start(bot_env(tmp_path, [url]), tmp_path)
    try:
        await bot.say("/news subscribe NATO")
        # Let the first poll see the feed as it was, then publish the story.
        while not feed_server.hits("/world.rss"):
            assert await bot.read_nothing_for(0.2) is None
        feed_server.serve("/world.rss", rss(LAVROV, SNOW))

        alert = await bot.read_block()
        assert LAVROV[1] in alert
        assert "https://news.example/lavrov-1" in alert
        assert "Matched: NATO" in alert

        polls = len(feed_server.hits("/world.rss"))
        # Two more poll cycles of the unchanged feed: no second alert.
        while len(feed_server.hits("/world.rss")) < polls + 2:
            assert await bot.read_nothing_for(0.5) is None
        assert await bot.read_nothing_for(0.5) is None
    finally:
        await bot.stop()


async def test_stories_already_in_a_new_feed_do_not_flood(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(LAVROV))
    env = bot_env(tmp_path, [url])
    bot = await ConsoleBot.start(env, tmp_path)
    try:
        await bot.say("/news subscribe NATO")
        while len(feed_server.hits("/world.rss")) < 2:
            assert await bot.read_nothing_for(0.3) is None
    finally:
        await bot.stop()
