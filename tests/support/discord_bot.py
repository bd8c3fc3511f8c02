"""Run `newsbot run` in-process with Discord pointed at the fake, and stop it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import discord

from bot.adapters.discord.adapter import configure_endpoints, make_client
from bot.config import load_settings
from bot.runtime import run_bot
from tests.support.fake_discord import FakeDiscord

GUILD = "800000000000000001"
CHANNEL = "810000000000000001"
OTHER_CHANNEL = "810000000000000002"


def discord_settings_env(fake: FakeDiscord, tmp_path: Path, feeds: list[str]) -> dict[str, str]:
    feed_list = tmp_path / "feeds.txt"
    feed_list.write_text("".join(f"{url}\n" for url in feeds))
    return {
        **fake.env(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "NEWSBOT_FEEDS_FILE": str(feed_list),
        "NEWSBOT_POLL_INTERVAL": "1",
    }


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord, tmp_path: Path, feeds: list[str] | None = None, **overrides: object
) -> AsyncIterator[asyncio.Task[int]]:
    """`newsbot run` with DISCORD_* set to the fake, until the block ends."""
    env = discord_settings_env(fake, tmp_path, feeds or [])
    settings = load_settings(**{**{k.lower(): v for k, v in env.items()}, **overrides})
    stop = asyncio.Event()
    connected = len(fake.identifies)
    task = asyncio.create_task(run_bot(settings, stop=stop))
    try:
        # Started once the bot identified on the gateway; or it stopped first, and its error
        # is raised here.
        identified = asyncio.create_task(fake.until(lambda: len(fake.identifies) > connected))
        try:
            await asyncio.wait({task, identified}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            identified.cancel()
        if task.done():
            task.result()
            raise AssertionError("newsbot run returned before it connected to Discord")
        await identified  # re-raises the fake's TimeoutError if the bot never identified
        yield task
    finally:
        stop.set()
        async with asyncio.timeout(20):
            await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def rest_client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """A discord.py client logged in to the fake over REST only (no gateway session)."""
    configure_endpoints(fake.api_base, fake.gateway_url)
    client = make_client(1)
    try:
        await client.login("fake-token")
        yield client
    finally:
        await client.close()
        configure_endpoints(None, None)


async def eventually(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait until `predicate()` holds: for state only the bot's database or the feed server
    shows (neither tells anyone when it changes). What the fake Discord sees is waited on
    with `FakeDiscord.until`, which wakes on each change. Never a claim that something did
    not happen: that is shown by the state that makes it impossible.

    `predicate` may be a coroutine function.
    """
    async with asyncio.timeout(timeout):
        for _ in itertools.count():
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)
