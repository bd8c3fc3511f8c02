"""How `newsbot run` ends, through a real process: SIGTERM lets the send in flight finish
(at most 10 s) and exits 0; a loop killed by an unexpected error exits 1."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.core.models import Channel
from bot.store import open_store
from tests.support.crash import HeldRoute
from tests.support.discord_bot import CHANNEL, GUILD, discord_settings_env
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer, rss
from tests.support.process import query_db, start_newsbot

STORIES = [(f"s{n}", f"NATO story number {n}", "Allies meet.") for n in range(3)]


def held_messages(fake: FakeDiscord) -> tuple[HeldRoute, asyncio.Event]:
    """The fake Discord holding every message request until the test sets the event it
    returns, so a send is certainly in flight when the signal arrives."""
    release = asyncio.Event()
    return HeldRoute(fake, FakeDiscord._create_message, release.wait), release


async def _bot(
    tmp_path: Path, fake: FakeDiscord, feed_server: FeedServer
) -> asyncio.subprocess.Process:
    """A Discord bot whose channel subscribes to NATO and whose feed holds three stories
    that match: three alerts, sent one after another."""
    url = feed_server.serve("/world.rss", rss(*STORIES))
    env = discord_settings_env(fake, tmp_path, [url]) | {
        "NEWSBOT_BACKFILL": "10",
        "NEWSBOT_BURST_WINDOW": "0",
    }
    store = await open_store(env["DATABASE_URL"])
    await store.add_subscriptions(Channel("discord", GUILD, CHANNEL), ["NATO"], "operator")
    await store.close()
    return await start_newsbot(env, tmp_path)


def _outbox(tmp_path: Path) -> list[tuple[object, ...]]:
    return query_db(
        tmp_path / "bot.db", "SELECT story_id, status, maybe_sent FROM outbox ORDER BY id"
    )


async def test_sigterm_finishes_the_send_in_flight_starts_no_other_and_exits_0(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    held, release = held_messages(fake_discord)
    proc = await _bot(tmp_path, fake_discord, feed_server)
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(30):
            await held.arrived.wait()  # the first alert's message is on its way
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await proc.stderr.readuntil(b"stopping")  # the signal was handled
        release.set()  # only now may the send in flight end
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
    finally:
        release.set()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    # The send in flight was finished and recorded; no other send was started.
    assert held.requests == 1
    assert len(fake_discord.posted(CHANNEL)) == 1
    assert _outbox(tmp_path) == [("s0", "sent", 1), ("s1", "pending", 0), ("s2", "pending", 0)]


async def test_a_send_that_outlasts_the_drain_is_cut_off_after_10_s_and_resent_later(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    held, release = held_messages(fake_discord)
    proc = await _bot(tmp_path, fake_discord, feed_server)
    try:
        async with asyncio.timeout(30):
            await held.arrived.wait()
        proc.send_signal(signal.SIGTERM)  # and the message is never released
        async with asyncio.timeout(40):
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        release.set()
    log = err.decode()
    assert proc.returncode == 0, log
    assert "dispatcher still busy after 10 s; cancelled" in log
    # Left in flight: the next start asks Discord before resending it (nonce, history).
    assert _outbox(tmp_path) == [("s0", "pending", 1), ("s1", "pending", 0), ("s2", "pending", 0)]
    assert fake_discord.posted(CHANNEL) == []


async def test_a_loop_killed_by_an_unexpected_error_ends_the_process_with_1(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    # Injected through sitecustomize, which Python imports at start-up from PYTHONPATH:
    # the delivery loop fails the way a bug would, after the bot has started.
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(
        "import bot.delivery.dispatcher as d\n"
        "async def run(self, stop, tick=1.0):\n"
        "    await self.deliver_pending()\n"
        "    raise ZeroDivisionError('injected: a bug in the delivery loop')\n"
        "d.Dispatcher.run = run\n",
        encoding="utf-8",
    )
    url = feed_server.serve("/world.rss", rss(*STORIES))
    env = discord_settings_env(fake_discord, tmp_path, [url]) | {"PYTHONPATH": str(inject)}
    proc = await start_newsbot(env, tmp_path)
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    log = err.decode()
    assert proc.returncode == 1, log
    # Logged once, with the traceback of what ended it; the other loops were stopped.
    assert log.count("the dispatcher loop failed; stopping newsbot") == 1, log
    assert log.count("ZeroDivisionError: injected: a bug in the delivery loop") == 1, log
