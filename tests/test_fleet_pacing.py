"""Several processes, one budget: stores opened separately on one PostgreSQL database
(as `newsbot run` processes do) share each channel's and platform's send budget and
every 429 block. Sends at one instant from all of them at once are what a budget
without a lock would overshoot."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.models import Channel
from bot.core.pacing import UNLIMITED, Rate
from bot.core.ports import Store
from bot.store import open_store
from tests.store_contract.backends import pg_schema
from tests.store_contract.builders import NOW, SLACK, alert, at
from tests.support.discord_bot import CHANNEL, GUILD, OTHER_CHANNEL, running_bot
from tests.support.fake_discord import FakeDiscord

PROCESSES = 3
CHANNELS = [Channel("discord", "G1", f"{n}") for n in range(5)]
CHANNEL_RATE = Rate(4, 5.0)
PLATFORM_RATE = Rate(10, 1.0)


@pytest.fixture
async def fleet() -> AsyncIterator[list[Store]]:
    async with pg_schema() as made:
        stores = [await open_store(made.url) for _ in range(PROCESSES)]
        try:
            yield stores
        finally:
            for store in stores:
                await store.close()


async def _rush(fleet: list[Store], seconds: float, tries: int) -> Counter[Channel]:
    """Every process asks for `tries` sends to every channel at the same instant."""

    async def ask(store: Store, channel: Channel) -> Channel | None:
        wait = await store.reserve_send(channel, CHANNEL_RATE, PLATFORM_RATE, at(seconds))
        return channel if wait == 0 else None

    asks = [ask(s, c) for s in fleet for c in CHANNELS for _ in range(tries)]
    return Counter(c for c in await asyncio.gather(*asks) if c is not None)


async def test_the_fleet_keeps_to_one_platform_and_channel_budget(fleet: list[Store]) -> None:
    first = await _rush(fleet, 0.0, tries=4)  # 60 asks at once
    assert sum(first.values()) == PLATFORM_RATE.count
    assert max(first.values()) <= CHANNEL_RATE.count
    # A second later the platform has room again; the channels only what they left.
    second = await _rush(fleet, 1.0, tries=4)
    assert sum(second.values()) == PLATFORM_RATE.count
    both = first + second
    assert dict(both) == {c: CHANNEL_RATE.count for c in CHANNELS}
    # Every channel is full until its first sends leave the five-second window.
    assert await _rush(fleet, 2.0, tries=2) == Counter()
    assert sum((await _rush(fleet, 5.0, tries=4)).values()) == PLATFORM_RATE.count


async def test_a_global_429_in_one_process_pauses_the_platform_in_every_other(
    fleet: list[Store],
) -> None:
    one, other, third = fleet
    await one.block_sends(CHANNELS[0], at(40), whole_platform=True)
    for store in (other, third):
        for channel in CHANNELS:
            wait = await store.reserve_send(channel, CHANNEL_RATE, UNLIMITED, at(10))
            assert wait == pytest.approx(30.0)
    # Slack's budget is not Discord's.
    assert await other.reserve_send(SLACK, CHANNEL_RATE, UNLIMITED, at(10)) == 0.0
    assert await third.reserve_send(CHANNELS[1], CHANNEL_RATE, UNLIMITED, at(40)) == 0.0


async def test_a_channel_429_seen_by_one_process_holds_that_channel_in_all(
    fleet: list[Store],
) -> None:
    one, other, _ = fleet
    await one.block_sends(CHANNELS[2], at(7))
    assert await other.reserve_send(CHANNELS[2], UNLIMITED, UNLIMITED, at(1)) == pytest.approx(6.0)
    assert await other.reserve_send(CHANNELS[3], UNLIMITED, UNLIMITED, at(1)) == 0.0


async def test_a_process_whose_clock_is_behind_cannot_squeeze_in(fleet: list[Store]) -> None:
    """Sends are recorded in order per key: one stamped earlier than the log's last send
    counts from that last send, so a lagging clock cannot open a window the others
    have already filled."""
    ahead, behind, _ = fleet
    one = Rate(1, 1.0)
    assert await ahead.reserve_send(CHANNELS[0], one, UNLIMITED, at(10)) == 0.0
    # 0.5 s behind: its window (9.5 - 1, 9.5] seems not to hold the send at 10.
    assert await behind.reserve_send(CHANNELS[0], one, UNLIMITED, at(9.5)) == pytest.approx(1.5)
    assert await behind.reserve_send(CHANNELS[0], one, UNLIMITED, at(11)) == 0.0


async def test_a_global_429_discord_py_waits_out_also_pauses_the_other_processes(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    """discord.py waits a global 429 out inside the request, where delivery never sees
    it: the adapter writes it to the shared budget, so the other processes wait too."""
    async with pg_schema() as db:
        other = await open_store(db.url)
        try:
            channel = Channel("discord", GUILD, CHANNEL)
            notice = alert(channel, 0, "notice:global", kind="notice")
            await other.queue_alerts([notice], NOW)
            fake_discord.fail("POST", r"/channels/\d+/messages", 429, retry_after=2, is_global=True)
            before = datetime.now(UTC)
            async with running_bot(fake_discord, tmp_path, None, database_url=db.url):
                await fake_discord.wait_for_messages(CHANNEL, 1)  # after waiting it out
            posts = fake_discord.calls("POST", r"/channels/\d+/messages$")
            assert [p.status for p in posts] == [429, 200]
            # Another process's Discord send, asked as of just before the 429, waits
            # for the block; Slack's does not; once the block is over, Discord's goes.
            elsewhere = Channel("discord", GUILD, OTHER_CHANNEL)
            wait = await other.reserve_send(elsewhere, UNLIMITED, UNLIMITED, before)
            assert wait >= 2.0
            assert await other.reserve_send(SLACK, UNLIMITED, UNLIMITED, before) == 0.0
            later = before + timedelta(seconds=wait)
            assert await other.reserve_send(elsewhere, UNLIMITED, UNLIMITED, later) == 0.0
        finally:
            await other.close()
