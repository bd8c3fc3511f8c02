"""/news feed add, remove, list and resume, as people in two channels use them."""

from __future__ import annotations

from pathlib import Path

from tests.support.console import ConsoleBot
from tests.support.feed_server import FeedServer
from tests.support.rss import Item, rss_doc
from tests.support.watch import DESK, running_bot

NATO = Item("NATO ministers meet in Brussels over Ukraine", "https://wire.example/nato", "n1")
SNOW = Item("Heavy snow disrupts flights in Japan", "https://wire.example/snow", "s1")


async def test_add_marks_what_the_feed_holds_as_seen_then_alerts_on_new_stories(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/wire.rss", rss_doc(NATO, title="Wire"))
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        reply = await bot.say(f"/news feed add {url}")
        assert reply.startswith("Added feed #1")
        assert bot.probe.asked == [url]
        await bot.poll()
        assert await bot.delivered() == []  # what it already held: seen, not posted

        later = Item("NATO summit date set", "https://wire.example/summit", "n2")
        feed_server.serve("/wire.rss", rss_doc(later, NATO, title="Wire"))
        await bot.next_cycle()
        [alert] = await bot.rendered()
        assert "NATO summit date set" in alert
        assert "Wire" in alert


async def test_a_refused_url_says_why_and_stores_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.probe.refusals["http://10.0.0.5/feed"] = "10.0.0.5 is a private network address"
        reply = await bot.say("/news feed add http://10.0.0.5/feed")
        assert reply == "Not added: 10.0.0.5 is a private network address"
        assert len(reply.splitlines()) == 1
        assert await bot.store.list_feeds() == []
        assert await bot.say("/news feed list") == "No feeds yet. Add one with /news feed add <url>"


async def test_add_remove_and_resume_need_the_manage_permission(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        for words in ("add https://wire.example/rss", "remove 1", "resume 1"):
            reply = await bot.say(f"/news feed {words}", manage=False)
            assert "needs the Manage Channels permission" in reply
        assert bot.probe.asked == []
        assert await bot.store.list_feeds() == []
        # Anyone may look at the list.
        assert "No feeds yet" in await bot.say("/news feed list", manage=False)


async def test_one_feed_per_url_however_many_channels_add_it(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/wire.rss", rss_doc(SNOW))
    async with running_bot(tmp_path) as bot:
        assert (await bot.say(f"/news feed add {url}")).startswith("Added feed #1")
        assert (await bot.say(f"/news feed add {url}", DESK)).startswith("Added feed #1")
        assert "already has feed #1" in await bot.say(f"/news feed add {url}")
        await bot.poll()
        assert len(feed_server.hits("/wire.rss")) == 1
        listing = await bot.say("/news feed list")
        assert "added by 2 channel(s), this one included" in listing


async def test_remove_detaches_while_others_use_the_feed_and_deletes_it_after(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/wire.rss", rss_doc(SNOW))
    async with running_bot(tmp_path) as bot:
        await bot.say(f"/news feed add {url}")
        await bot.say(f"/news feed add {url}", DESK)
        reply = await bot.say("/news feed remove 1")
        assert reply == "Feed #1 removed from this channel; 1 other channel(s) still use it."
        assert "did not add feed #1" in await bot.say("/news feed remove 1")
        assert len(await bot.store.list_feeds()) == 1
        # By URL this time; the last user removes it for good.
        assert await bot.say(f"/news feed remove {url}", DESK) == f"Feed #1 removed ({url})."
        assert await bot.store.list_feeds() == []
        assert "No feed 1" in await bot.say("/news feed remove 1", DESK)


async def test_operator_feeds_cannot_be_removed_from_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        feed = await bot.operator_feed("https://operator.example/rss")
        reply = await bot.say(f"/news feed remove {feed.id}")
        assert "is an operator feed (NEWSBOT_FEEDS_FILE); it cannot be removed" in reply
        assert "[operator]" in await bot.say("/news feed list")
        assert len(await bot.store.list_feeds()) == 1


async def test_stories_of_a_feed_added_in_one_channel_alert_only_its_adders(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/wire.rss", rss_doc(SNOW))
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.say("/news subscribe NATO", DESK)
        await bot.say(f"/news feed add {url}", DESK)
        await bot.poll()
        feed_server.serve("/wire.rss", rss_doc(NATO, SNOW))
        await bot.next_cycle()
        alerts = await bot.delivered()
        assert [(a.channel, a.title) for a in alerts] == [(DESK, NATO.title)]


async def test_odd_feed_commands_get_usage(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        assert (await bot.say("/news feed")).startswith("Usage: /news feed add <url>")
        assert (await bot.say("/news feed frob")).startswith("Usage: /news feed add <url>")
        assert await bot.say("/news feed add") == "Usage: /news feed add <url>"
        assert "No feed 42" in await bot.say("/news feed resume 42")
        assert "/news feed" in await bot.say("/news help")


async def test_add_through_the_real_probe_then_the_story_arrives(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/wire.rss", rss_doc(SNOW, title="Harbour Wire"))
    async with running_bot(tmp_path, real_probe=True) as bot:
        await bot.say("/news subscribe NATO")
        reply = await bot.say(f"/news feed add {url}")
        assert reply.startswith(f"Added feed #1 Harbour Wire ({url})")
        not_a_feed = feed_server.serve("/page.html", "<html><body>hello</body></html>")
        refused = await bot.say(f"/news feed add {not_a_feed}")
        assert refused.startswith("Not added: ")
        assert "not an RSS, Atom or RDF feed" in refused
        assert len(refused.splitlines()) == 1
        assert [f.url for f in await bot.store.list_feeds()] == [url]

        await bot.poll()
        feed_server.serve("/wire.rss", rss_doc(NATO, SNOW, title="Harbour Wire"))
        await bot.next_cycle()
        [alert] = await bot.rendered()
        assert NATO.title in alert


async def test_on_the_console_a_loopback_feed_is_refused_in_one_line(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/wire.rss", rss_doc(SNOW))
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "NEWSBOT_POLL_INTERVAL": "1"}
    bot = await ConsoleBot.start(env, tmp_path)
    try:
        reply = await bot.say(f"/news feed add {url}")
        assert reply.startswith("Not added: ")
        assert "127.0.0.1" in reply
        assert len(reply.splitlines()) == 1
        assert await bot.say("/news feed list") == (
            "No feeds yet. Add one with /news feed add <url>"
        )
        assert feed_server.hits("/wire.rss") == []
    finally:
        await bot.stop()
