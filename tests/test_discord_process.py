"""`python -m bot run` as its own process, with DISCORD_* pointing at the local fake."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.support.discord_bot import CHANNEL, GUILD, discord_settings_env, eventually
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer, rss
from tests.support.process import start_newsbot
from tests.support.stories import LAVROV


async def test_newsbot_run_serves_discord_from_the_environment(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss())
    env = discord_settings_env(fake_discord, tmp_path, [url])
    proc = await start_newsbot(env, tmp_path)
    try:
        await fake_discord.wait_until_connected()
        synced = fake_discord.commands[None]  # no DISCORD_GUILD_ID: synced globally
        assert [c["name"] for c in synced] == ["news"]
        reply = await fake_discord.slash(
            "/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL
        )
        assert "Subscribed #1: NATO" in reply.text
        await eventually(lambda: feed_server.hits("/world.rss"))
        feed_server.serve("/world.rss", rss(LAVROV))
        [message] = await fake_discord.wait_for_messages(CHANNEL, 1)
        assert message["embeds"][0]["title"] == LAVROV[1]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert "scope=bot+applications.commands" in log
    # View Channel, Send Messages, Embed Links, Read Message History; no more
    assert "permissions=84992" in log
    assert "fake-token" not in log


async def test_a_gateway_lost_for_good_ends_the_process_with_1_and_one_traceback(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss())
    env = discord_settings_env(fake_discord, tmp_path, [url])
    proc = await start_newsbot(env, tmp_path)
    try:
        await fake_discord.wait_until_connected()
        # The token is reset while the bot runs: no reconnect can help, so the process
        # must end (for its supervisor to restart it) rather than serve nothing.
        await fake_discord.end_sessions(4004, "Authentication failed.")
    finally:
        async with asyncio.timeout(30):
            _, stderr = await proc.communicate()
    log = stderr.decode()
    assert proc.returncode == 1, log
    # Logged once, with the traceback of what ended it. (discord.py may log a traceback
    # of its own when its ready-delay task outlives the closed client; that one is not ours.)
    assert log.count("the discord adapter loop failed") == 1, log
    assert (
        log.count("discord.errors.ConnectionClosed: Shard ID None WebSocket closed with 4004") == 1
    )
    assert "fake-token" not in log
