"""`/news threads on`: a story's later developments go in a thread under its first alert."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core.models import Alert, Channel
from bot.core.ports import PendingEdit
from bot.core.threads import similarity, thread_root
from tests.support.discord_bot import CHANNEL, GUILD, eventually, running_bot
from tests.support.fake_discord import (
    BOT_ROLE_PERMISSIONS,
    CREATE_PUBLIC_THREADS,
    MANAGER_PERMISSIONS,
    SEND_MESSAGES_IN_THREADS,
    FakeDiscord,
)
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer, rss
from tests.support.slack_workspace import ALICE, NEWS, LiveFeed, Workspace
from tests.support.stories import SNOW, SUMMIT

ROOM = Channel("slack", "T1", "C1")
LATER = ("summit-2", "NATO summit opens in Vilnius with Ukraine talks", "Kyiv's place at it.")
THREAD_PERMISSIONS = CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS


def alert(alert_id: int, title: str, topics: tuple[str, ...] = ("NATO",)) -> Alert:
    when = datetime(2026, 12, 6, tzinfo=UTC)
    return Alert(ROOM, 1, f"s{alert_id}", title, "https://x.example", "W", when, "", topics, (),
                 id=alert_id)  # fmt: skip


def test_a_later_development_hangs_from_the_story_it_follows() -> None:
    first = PendingEdit(alert(1, SUMMIT[1]), "ts1")
    other = PendingEdit(alert(2, SNOW[1], ("Japan",)), "ts2")
    assert 0.5 <= similarity(LATER[1], SUMMIT[1]) < 0.8
    assert thread_root(alert(3, LATER[1]), [first, other]) == "ts1"
    # Not for another subscription's alert, nor the same story (a copy), nor a stranger.
    assert thread_root(alert(3, LATER[1], ("Ukraine",)), [first]) is None
    assert thread_root(alert(3, SUMMIT[1] + "!"), [first]) is None
    assert thread_root(alert(3, SNOW[1]), [first]) is None
    # A development of a development joins the first one's thread.
    reply = PendingEdit(alert(3, LATER[1]), "ts3")
    third = alert(4, "Vilnius summit: NATO allies pledge Ukraine talks")
    assert similarity(third.title, SUMMIT[1]) < 0.5 <= similarity(third.title, LATER[1])
    assert thread_root(third, [first, reply]) == "ts1"
    # Only what was sent before it counts: a resend finds the same thread.
    assert thread_root(alert(1, LATER[1]), [first]) is None


async def test_discord_posts_a_later_development_in_a_thread_on_the_first_alert(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/w.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        # Asked for only now, when a channel turns threads on.
        refused = await fake_discord.slash(
            "/news threads args=on",
            guild_id=GUILD,
            channel_id=CHANNEL,
            permissions=MANAGER_PERMISSIONS,
        )
        assert "Create Public Threads" in refused.text
        role = fake_discord.bot_role(GUILD)
        fake_discord.set_role_permissions(GUILD, role, BOT_ROLE_PERMISSIONS | THREAD_PERMISSIONS)
        reply = await fake_discord.slash(
            "/news threads args=on",
            guild_id=GUILD,
            channel_id=CHANNEL,
            permissions=MANAGER_PERMISSIONS,
            app_permissions=MANAGER_PERMISSIONS | THREAD_PERMISSIONS,
        )
        assert reply.text.startswith("Threads on")
        await eventually(lambda: feed_server.hits("/w.rss"))
        feed_server.serve("/w.rss", rss(SUMMIT, SNOW))
        [first] = await fake_discord.wait_for_messages(CHANNEL, 1)
        feed_server.serve("/w.rss", rss(LATER, SUMMIT, SNOW))
        [development] = await fake_discord.wait_for_messages(first["id"], 1)
        assert development["embeds"][0]["title"] == LATER[1]
        assert fake_discord.threads == {first["id"]: CHANNEL}
        assert fake_discord.posted(CHANNEL) == [first]  # not a new top-level message


async def test_slack_posts_a_later_development_as_a_thread_reply(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = LiveFeed(feed_server, "/w.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        fake_slack.admins.add(ALICE)
        await slack.say("/news subscribe NATO")
        assert (await slack.say("/news threads on"))["text"].startswith("Threads on")
        await feed.fetched()
        feed.serve(rss(SUMMIT, SNOW))
        [first] = await fake_slack.wait_for(lambda: fake_slack.posts_in(NEWS))
        feed.serve(rss(LATER, SUMMIT, SNOW))
        [_, reply] = await fake_slack.wait_for(
            lambda: len(fake_slack.posts_in(NEWS)) == 2 and fake_slack.posts_in(NEWS)
        )
        assert reply.thread_ts == first.ts
        assert LATER[1] in reply.text
        assert first.thread_ts is None
    finally:
        await slack.close()
