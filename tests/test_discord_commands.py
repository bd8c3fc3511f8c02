"""The rest of `/news` on Discord: slow commands, feed pickers, generic core commands, setup."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.discord import runner as runner_module
from bot.adapters.discord.adapter import ShardedNewsbotClient
from bot.config import ConfigError, load_settings
from bot.core.commands import REGISTRY, CommandDeps, Invocation, Reply
from bot.core.commands.base import Command
from bot.store import SqliteStore, open_sqlite
from tests.support.discord_bot import CHANNEL, GUILD, eventually, running_bot
from tests.support.fake_discord import MANAGER_PERMISSIONS, FakeDiscord
from tests.support.feed_server import FeedServer, rss


async def test_a_slow_command_is_deferred_then_answered(
    tmp_path: Path, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()

    async def slowpoke(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
        """Take longer than Discord waits for a first response."""
        await release.wait()
        return Reply(f"done with {args}")

    monkeypatch.setitem(
        REGISTRY, "slowpoke", Command("slowpoke", "slowpoke <what>", "Take a while", slowpoke)
    )
    monkeypatch.setattr(runner_module, "DEFER_AFTER", 0.1)
    async with running_bot(fake_discord, tmp_path):
        asked = await fake_discord.slash(
            "/news slowpoke args=the report", guild_id=GUILD, channel_id=CHANNEL, wait=False
        )
        await asked.answered.wait()
        assert [c["type"] for c in asked.callbacks] == [5]  # "newsbot is thinking…"
        assert asked.ephemeral
        release.set()
        await asked.followed_up.wait()
        assert asked.text == "done with the report"
        assert not asked.late


async def test_generic_core_commands_appear_under_news_with_their_permission(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        [news] = fake_discord.commands[None]
        names = {o["name"] for o in news["options"]}
        assert {"subscribe", "unsubscribe", "list", "feed", "preview", "help"} <= names
        assert {"digest", "quiet", "status", "resume"} <= names
        refused = await fake_discord.slash("/news resume", guild_id=GUILD, channel_id=CHANNEL)
        assert "Manage Channels" in refused.text
        allowed = await fake_discord.slash(
            "/news resume", guild_id=GUILD, channel_id=CHANNEL, permissions=MANAGER_PERMISSIONS
        )
        assert allowed.text == "This channel is not paused."
        refused = await fake_discord.slash(
            "/news quiet period=22:00-07:00 Europe/Berlin", guild_id=GUILD, channel_id=CHANNEL
        )
        assert "Manage Channels" in refused.text


async def test_options_longer_than_discord_allows_are_refused_by_the_bot(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        reply = await fake_discord.slash(
            "/news subscribe query=" + "NATO " * 60, guild_id=GUILD, channel_id=CHANNEL
        )
        assert "the limit is 200" in reply.text
        assert reply.ephemeral
        listing = await fake_discord.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)
        assert "No subscriptions" in listing.text


async def test_feed_remove_offers_the_feeds_as_you_type(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    world = feed_server.serve("/world.rss", rss(title="World Wire"))
    science = feed_server.serve("/science.rss", rss(title="Science Wire"))
    async with running_bot(fake_discord, tmp_path, [world, science]):
        typed = await fake_discord.slash(
            "/news feed remove feed=science",
            guild_id=GUILD,
            channel_id=CHANNEL,
            focused="feed",
            permissions=MANAGER_PERMISSIONS,
        )
        assert [c["value"] for c in typed.choices] == ["2"]


async def test_preview_and_help_answer_only_the_person_who_asked(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    lavrov = ("lavrov-1", "Talks on security guarantees: Lavrov", "NATO talks in January.")
    world = feed_server.serve("/world.rss", rss(lavrov))
    async with running_bot(fake_discord, tmp_path, [world]):
        helped = await fake_discord.slash("/news help", guild_id=GUILD, channel_id=CHANNEL)
        assert "/news subscribe" in helped.text
        assert helped.ephemeral
        await eventually(lambda: feed_server.hits("/world.rss"))
        store = await open_sqlite(str(tmp_path / "bot.db"))
        try:
            await eventually(lambda: seen_stories(store))
        finally:
            await store.close()
        preview = await fake_discord.slash(
            "/news preview query=NATO", guild_id=GUILD, channel_id=CHANNEL
        )
        assert preview.ephemeral
        assert "would have caught 1 of the 1 stories" in preview.text
        assert "Talks on security guarantees: Lavrov" in preview.text


async def test_a_deleted_channel_pauses_its_subscriptions(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        await fake_discord.delete_channel(GUILD, CHANNEL)
        store = await open_sqlite(str(tmp_path / "bot.db"))
        try:
            await eventually(lambda: paused(store))
            [sub] = await store.all_subscriptions()
            assert sub.paused_reason == "this Discord channel was deleted"
        finally:
            await store.close()


async def test_commands_sync_to_one_guild_when_discord_guild_id_is_set(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path, discord_guild_id=int(GUILD)):
        assert [c["name"] for c in fake_discord.commands[GUILD]] == ["news"]
        assert None not in fake_discord.commands
        reply = await fake_discord.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)
        assert "No subscriptions" in reply.text


async def test_a_shard_count_above_one_connects_each_shard(
    tmp_path: Path, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def identify_now(self: object, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py spaces identifies 5 s apart, as Discord asks; the fake does not."""

    monkeypatch.setattr(ShardedNewsbotClient, "before_identify_hook", identify_now)
    async with running_bot(fake_discord, tmp_path, discord_shard_count=2):
        await fake_discord.until(lambda: len(fake_discord.identifies) == 2)
        assert sorted(i["shard"] for i in fake_discord.identifies) == [[0, 2], [1, 2]]
        assert fake_discord.identifies[0]["intents"] == 1  # guilds only: nothing privileged


async def test_auto_sharding_asks_discord_for_the_shard_count(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path, discord_shard_count="auto"):
        assert fake_discord.calls("GET", r"/gateway/bot$")
        assert [i["shard"] for i in fake_discord.identifies] == [[0, 1]]


def test_a_bad_shard_count_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "many")
    with pytest.raises(ConfigError, match="DISCORD_SHARD_COUNT"):
        load_settings()
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "0")
    with pytest.raises(ConfigError, match="DISCORD_SHARD_COUNT"):
        load_settings()
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "AUTO")
    assert load_settings().discord_shard_count == "auto"


async def paused(store: SqliteStore) -> bool:
    return any(s.paused_reason for s in await store.all_subscriptions())


async def seen_stories(store: SqliteStore) -> int:
    return len(await store.recent_stories(datetime.now(UTC) - timedelta(days=1)))


async def test_a_manager_adding_a_feed_on_this_machine_is_told_why_not(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/internal.rss", rss())
    async with running_bot(fake_discord, tmp_path):
        reply = await fake_discord.slash(
            f"/news feed add url={url}",
            guild_id=GUILD,
            channel_id=CHANNEL,
            permissions=MANAGER_PERMISSIONS,
        )
        assert reply.text == "Not added: refused: 127.0.0.1 is a loopback address"
        assert not feed_server.hits("/internal.rss")
        listing = await fake_discord.slash("/news feed list", guild_id=GUILD, channel_id=CHANNEL)
        assert "internal.rss" not in listing.text


async def test_a_core_command_discord_would_refuse_is_left_out_not_the_whole_sync(
    tmp_path: Path, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stats(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
        return Reply("stats")

    # Discord refuses a command name with capitals (400), and with it the whole bulk sync.
    monkeypatch.setitem(REGISTRY, "Stats", Command("Stats", "Stats", "Counts", stats))
    async with running_bot(fake_discord, tmp_path):
        assert [r for r, _ in fake_discord.refused] == []
        [news] = fake_discord.commands[None]
        names = {o["name"] for o in news["options"]}
        assert "Stats" not in names
        assert {"subscribe", "resume", "status"} <= names


async def test_more_subscriptions_than_discord_shows_offer_the_first_25(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        for first in (0, 15):  # the query option holds 200 characters: two commands
            topics = ", ".join(f"topic{n}" for n in range(first, first + 15))
            await fake_discord.slash(
                f"/news subscribe query={topics}", guild_id=GUILD, channel_id=CHANNEL
            )
        assert "#30  topic29" in await list_text(fake_discord)
        typed = await fake_discord.slash(
            "/news unsubscribe subscription=topic",
            guild_id=GUILD,
            channel_id=CHANNEL,
            focused="subscription",
        )
    # Discord refuses a 26th choice (and with it the whole answer): the bot offers 25.
    assert fake_discord.refused == []
    assert [c["value"] for c in typed.choices] == [str(n) for n in range(1, 26)]


async def list_text(fake: FakeDiscord) -> str:
    return (await fake.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)).text
