"""Discord across processes: DISCORD_SHARD_IDS runs only those shards in a process, each
guild's commands reach (and are answered by) the process holding its shard, and a
process without a gateway connection sends alerts by REST. The processes share one
PostgreSQL database; the fake routes a guild's events to its shard only, as Discord does,
and refuses an interaction answered twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.adapters.discord.adapter import ShardedNewsbotClient
from bot.config import load_settings
from bot.core.models import Channel
from bot.runtime import run_bot
from bot.store import open_store
from tests.store_contract.backends import pg_schema
from tests.store_contract.builders import NOW, alert
from tests.support.discord_bot import discord_settings_env, running_bot
from tests.support.fake_discord import FakeDiscord

SHARDS = 2
GUILD_ON_0 = str((1000 * SHARDS) << 22)  # Discord: shard = (guild_id >> 22) % shards
GUILD_ON_1 = str((1000 * SHARDS + 1) << 22)
CHANNEL_ON_0 = "820000000000000001"
CHANNEL_ON_1 = "820000000000000002"


@pytest.fixture(autouse=True)
def identify_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    async def identify_now(self: object, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py spaces identifies 5 s apart, as Discord asks; the fake does not."""

    monkeypatch.setattr(ShardedNewsbotClient, "before_identify_hook", identify_now)


def _shard(database_url: str, ids: str) -> dict[str, object]:
    """One chat process of two, on the shared database, running the shards `ids`."""
    return {
        "database_url": database_url,
        "discord_shard_count": SHARDS,
        "discord_shard_ids": ids,
        "newsbot_roles": "chat",
    }


async def test_each_process_runs_its_shards_and_answers_its_guilds_once(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    fake_discord.add_guild(GUILD_ON_0, CHANNEL_ON_0)
    fake_discord.add_guild(GUILD_ON_1, CHANNEL_ON_1)
    async with (
        pg_schema() as db,
        running_bot(fake_discord, tmp_path, None, **_shard(db.url, "0")),
        running_bot(fake_discord, tmp_path, None, **_shard(db.url, "1")),
    ):
        await fake_discord.until(lambda: len(fake_discord.identifies) == SHARDS)
        assert sorted(i["shard"] for i in fake_discord.identifies) == [[0, 2], [1, 2]]
        on_1 = await fake_discord.slash(
            "/news subscribe query=NATO", guild_id=GUILD_ON_1, channel_id=CHANNEL_ON_1
        )
        on_0 = await fake_discord.slash(
            "/news subscribe query=Ukraine", guild_id=GUILD_ON_0, channel_id=CHANNEL_ON_0
        )
        # One answer each (a second would have been refused and raised in slash()).
        assert "Subscribed #1: NATO" in on_1.text
        assert "Subscribed #2: Ukraine" in on_0.text  # one store: ids run on
        assert len(on_1.callbacks) == len(on_0.callbacks) == 1


async def test_a_shard_beyond_the_count_is_refused_by_the_fake_as_by_discord(
    fake_discord: FakeDiscord,
) -> None:
    """What the fake's strictness rests on: Discord closes an IDENTIFY for shard 2 of 2."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.ws_connect(fake_discord.gateway_url) as ws:
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": "fake-token", "shard": [2, 2]}})
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE
        assert msg.data == 4010
    assert fake_discord.connections == 0


async def test_a_process_without_chat_sends_alerts_by_rest_alone(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    fake_discord.add_guild(GUILD_ON_0, CHANNEL_ON_0)
    fake_discord.add_guild(GUILD_ON_1, CHANNEL_ON_1)
    async with pg_schema() as db:
        store = await open_store(db.url)
        try:
            notices = [
                alert(Channel("discord", GUILD_ON_0, CHANNEL_ON_0), 0, "notice:a", kind="notice"),
                alert(Channel("discord", GUILD_ON_1, CHANNEL_ON_1), 0, "notice:b", kind="notice"),
            ]
            assert await store.queue_alerts(notices, NOW) == 2
        finally:
            await store.close()
        env = discord_settings_env(fake_discord, tmp_path, [])
        named = {k.lower(): v for k, v in env.items()}
        settings = load_settings(**{**named, "database_url": db.url, "newsbot_roles": "deliver"})
        stop = asyncio.Event()
        task = asyncio.create_task(run_bot(settings, stop=stop))
        try:
            await fake_discord.wait_for_messages(CHANNEL_ON_0, 1)
            await fake_discord.wait_for_messages(CHANNEL_ON_1, 1)
        finally:
            stop.set()
            async with asyncio.timeout(20):
                code = await task
    assert code == 0
    assert fake_discord.identifies == []  # never on the gateway
    assert fake_discord.commands == {}  # nor syncing commands: the chat processes do
