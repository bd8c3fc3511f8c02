"""Delivery against the fake Discord at its wire: 5xx storms and a channel that refuses."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.discord_bot import CHANNEL, GUILD, eventually, running_bot
from tests.support.fake_discord import MANAGER_PERMISSIONS, FakeDiscord
from tests.support.feed_server import FeedServer, rss

FAST_RETRIES = {"newsbot_retry_base": 0.05, "newsbot_retry_max": 0.2}
STORIES = [(f"nato-{n}", f"NATO story {n}", "About NATO.") for n in range(4)]
MESSAGES = rf"/channels/{CHANNEL}/messages$"


async def list_subscriptions(fake: FakeDiscord) -> str:
    return (await fake.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)).text


async def test_a_503_storm_is_retried_until_every_alert_arrives_once_in_order(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(STORIES[0]))
    async with running_bot(fake_discord, tmp_path, [url], **FAST_RETRIES):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        await eventually(lambda: feed_server.hits("/world.rss"))
        fake_discord.fail("POST", MESSAGES, 503, times=7)
        feed_server.serve("/world.rss", rss(*reversed(STORIES)))
        messages = await fake_discord.wait_for_messages(CHANNEL, 3)
    titles = [m["embeds"][0]["title"] for m in messages]
    assert sorted(titles) == sorted(t for _, t, _ in STORIES[1:])
    assert len(titles) == len(set(titles))  # none twice
    assert len(fake_discord.calls("POST", MESSAGES)) == 7 + 3  # each refusal retried


async def test_a_channel_that_refuses_is_paused_with_its_reason_and_not_retried(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(STORIES[0]))
    async with running_bot(fake_discord, tmp_path, [url], **FAST_RETRIES):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        await eventually(lambda: feed_server.hits("/world.rss"))
        fake_discord.fail("POST", MESSAGES, 404, times=1)  # the channel is gone
        feed_server.serve("/world.rss", rss(STORIES[1], STORIES[0]))
        await eventually(lambda: fake_discord.calls("POST", MESSAGES))

        # The 404 reached the fake; the bot's state is only seen by asking it.
        for _ in range(400):
            listing = await list_subscriptions(fake_discord)
            if "paused" in listing:
                break
            await asyncio.sleep(0.05)
        assert "channel not found" in listing
        hits = len(feed_server.hits("/world.rss"))
        feed_server.serve("/world.rss", rss(STORIES[2], STORIES[1], STORIES[0]))
        await eventually(lambda: len(feed_server.hits("/world.rss")) > hits + 1)
        # Paused: the refused alert is not retried and the new story matched nothing.
        assert len(fake_discord.calls("POST", MESSAGES)) == 1

        resumed = await fake_discord.slash(
            "/news resume", guild_id=GUILD, channel_id=CHANNEL, permissions=MANAGER_PERMISSIONS
        )
        assert "1 alert kept while paused will be sent now" in resumed.text
        [message] = await fake_discord.wait_for_messages(CHANNEL, 1)
    assert message["embeds"][0]["title"] == STORIES[1][1]
