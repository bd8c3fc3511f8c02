"""newsbot on Discord, as a server meets it: slash commands in, embeds out (a local fake)."""

from __future__ import annotations

from pathlib import Path

from tests.support.discord_bot import CHANNEL, GUILD, eventually, running_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer, rss

LAVROV = (
    "lavrov-1",
    "Russia-US talks on security guarantees to be held next month: Lavrov",
    "Talks with NATO over Ukraine are scheduled for January.",
)
SNOW = ("snow-1", "Heavy snow disrupts flights in Japan", "Dozens of flights were cancelled.")


async def test_subscribe_then_a_story_arrives_as_an_embed(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        reply = await fake_discord.slash(
            "/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL
        )
        assert "Subscribed #1: NATO" in reply.text
        assert not reply.ephemeral  # the channel learns what it will receive

        await eventually(lambda: feed_server.hits("/world.rss"))
        feed_server.serve("/world.rss", rss(LAVROV, SNOW))

        [message] = await fake_discord.wait_for_messages(CHANNEL, 1)
        [embed] = message["embeds"]
        assert embed["title"] == LAVROV[1]
        assert embed["url"] == "https://news.example/lavrov-1"
        assert "**NATO**" in embed["description"]
        topics = {f["name"]: f["value"] for f in embed["fields"]}
        assert topics["Matched topics"] == "NATO"
        [button] = message["components"][0]["components"]
        assert button["custom_id"] == "newsbot:unsub:1"
        assert message["allowed_mentions"]["parse"] == []


async def test_a_member_without_manage_channels_is_refused_feed_add(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/new.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path):
        reply = await fake_discord.slash(
            f"/news feed add url={url}", guild_id=GUILD, channel_id=CHANNEL
        )
        assert "needs the Manage Channels permission" in reply.text
        assert reply.ephemeral
        assert not feed_server.hits("/new.rss")  # refused before anything was fetched


async def test_a_429_on_message_create_is_waited_out_and_nothing_is_lost(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        await fake_discord.slash(
            "/news subscribe query=NATO, Japan", guild_id=GUILD, channel_id=CHANNEL
        )
        await eventually(lambda: feed_server.hits("/world.rss"))
        fake_discord.fail("POST", rf"/channels/{CHANNEL}/messages", 429, retry_after=0.3, times=2)
        feed_server.serve(
            "/world.rss",
            rss(LAVROV, ("snow-2", "More snow in Japan", "Flights cancelled again."), SNOW),
        )
        messages = await fake_discord.wait_for_messages(CHANNEL, 2)
        titles = sorted(m["embeds"][0]["title"] for m in messages)
        assert titles == sorted([LAVROV[1], "More snow in Japan"])
        attempts = fake_discord.calls("POST", rf"/channels/{CHANNEL}/messages")
        assert len(attempts) == 4  # two 429s, then each alert once
        assert [m["nonce"] for m in messages] == [a.body["nonce"] for a in attempts[2:]]
        assert attempts[1].at - attempts[0].at >= 0.25  # Retry-After (0.3 s) was honoured
