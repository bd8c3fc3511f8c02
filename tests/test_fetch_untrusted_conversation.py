"""`/news feed add` through the real bot: the probe wired by the runtime refuses internal URLs."""

from __future__ import annotations

from pathlib import Path

from tests.support.console import ConsoleBot
from tests.support.feed_server import FeedServer, rss


async def test_a_feed_on_this_machine_cannot_be_added_from_chat(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    internal = feed_server.serve("/admin/feed.rss", rss(("a1", "Internal", "Not for chat.")))
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "NEWSBOT_POLL_INTERVAL": "60"}
    bot = await ConsoleBot.start(env, tmp_path)
    try:
        reply = await bot.say(f"/news feed add {internal}")
        assert reply == "Not added: refused: 127.0.0.1 is a loopback address"
        named = internal.replace("127.0.0.1", "localhost")
        reply = await bot.say(f"/news feed add {named}")
        assert reply.startswith("Not added: refused: localhost resolves to ")
        assert reply.endswith("a loopback address")
        reply = await bot.say("/news feed add file:///etc/passwd")
        assert reply == "Not added: refused: only http and https URLs can be added"
        assert "No feeds yet" in await bot.say("/news feed list")
    finally:
        assert await bot.stop() == 0
    assert feed_server.hits("/admin/feed.rss") == []
