"""The bot as a person meets it on the console: commands in, replies and alerts out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from tests.support.console import ConsoleBot
from tests.support.feed_server import FeedServer, rss
from tests.support.process import query_db
from tests.support.stories import LAVROV, SNOW


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


def gated_feed(feed_server: FeedServer, path: str, subscribed: asyncio.Event, *bodies: str) -> str:
    """Serve `path` only once `subscribed` is set, so no poll of the feed can find a story
    before the subscription is made; the n-th answer is bodies[n], the last one repeated."""
    answered: list[int] = []

    async def answer(request: web.Request) -> web.StreamResponse:
        await subscribed.wait()
        body = bodies[min(len(answered), len(bodies) - 1)]
        answered.append(len(answered))
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    return feed_server.handle(path, answer)


async def test_new_story_alerts_exactly_once_across_poll_cycles(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    subscribed = asyncio.Event()
    # The first poll sees the feed as it was; every later one finds the story published.
    url = gated_feed(feed_server, "/world.rss", subscribed, rss(SNOW), rss(LAVROV, SNOW))
    bot = await ConsoleBot.start(bot_env(tmp_path, [url]), tmp_path)
    try:
        assert await bot.say("/news subscribe NATO") == "Subscribed #1: NATO"
        subscribed.set()

        alert = await bot.read_block()
        assert LAVROV[1] in alert
        assert "https://news.example/lavrov-1" in alert
        assert "Matched: NATO" in alert

        # The second answer brought the story; two more poll cycles of the unchanged feed
        # are recorded once the fifth request has arrived.
        await feed_server.wait_for_hits("/world.rss", 5)
    finally:
        subscribed.set()  # on a failure too: no request is left waiting in the feed server
        code, rest, log = await bot.stop_and_read_rest()
    assert code == 0, log
    assert rest == []  # all it wrote after the alert, up to its exit: no second alert
    # Sent once, and nothing queued that a later run could still send.
    assert query_db(tmp_path / "bot.db", "SELECT story_id, status FROM outbox") == [
        ("lavrov-1", "sent")
    ]


async def test_stories_already_in_a_new_feed_do_not_flood(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    subscribed = asyncio.Event()
    # The story reaches the bot only after the subscribe reply, so the poll that finds it
    # runs with the subscription in place: a test that polled before subscribing would
    # pass here without testing anything. (The poll may start earlier; its fetch waits.)
    url = gated_feed(feed_server, "/world.rss", subscribed, rss(LAVROV))
    bot = await ConsoleBot.start(bot_env(tmp_path, [url]), tmp_path)
    try:
        assert await bot.say("/news subscribe NATO") == "Subscribed #1: NATO"
        subscribed.set()
        # The first answer (a story NATO matches) is recorded once the second is asked for.
        await feed_server.wait_for_hits("/world.rss", 2)
    finally:
        subscribed.set()  # on a failure too: no request is left waiting in the feed server
        code, rest, log = await bot.stop_and_read_rest()
    assert code == 0, log
    assert rest == []
    db = tmp_path / "bot.db"
    # Recorded as seen, so no later poll alerts on it; and no alert queued for it.
    assert query_db(db, "SELECT story_id FROM stories") == [("lavrov-1",)]
    assert query_db(db, "SELECT COUNT(*) FROM outbox") == [(0,)]
