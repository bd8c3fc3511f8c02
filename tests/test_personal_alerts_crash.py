"""SIGKILL while newsbot delivers personal alerts by DM: nothing lost, nothing twice.

The same harness as test_fault_injection.py (a separate process, a fake Discord that
takes a moment per message and dedupes nonces), aimed at one person's DMs: each run
opens the DM channel again (POST /users/@me/channels gives the same one), and a resend
finds its alert in that channel's history or by its nonce.
"""

from __future__ import annotations

import asyncio
import signal
from asyncio import FIRST_COMPLETED
from collections import Counter
from pathlib import Path

import pytest

from bot.core.personal import DISCORD_DM_WORKSPACE, personal_channel
from bot.store import open_sqlite
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer
from tests.support.process import query_db
from tests.test_fault_injection import Seeds, SlowMessages, feed_of, log_tail, start_bot

GUILD = "800000000000000001"
CHANNEL = "810000000000000001"
ANA = "700000000000000001"
STORIES = 40
KILLS = 8


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_sigkill_during_dm_delivery_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    seeds = Seeds.from_env()
    print(f"fault seeds: {seeds}")
    kill_rng = seeds.rng("kill-dm")
    fake = FakeDiscord(message_rate=(5, 0.5))
    fake.add_guild(GUILD, CHANNEL)
    slow = SlowMessages(fake, seeds.rng("latency-dm"))
    await fake.start()
    db = tmp_path / "bot.db"
    try:
        feed_url = feed_server.serve("/wire.xml", feed_of(STORIES))
        (tmp_path / "feeds.txt").write_text(feed_url + "\n")
        store = await open_sqlite(str(db))
        mine = personal_channel("discord", DISCORD_DM_WORKSPACE, ANA)
        await store.add_subscriptions(mine, ["NATO"], ANA)
        await store.close()
        env = {
            **fake.env(),
            "DATABASE_URL": f"sqlite:///{db}",
            "NEWSBOT_FEEDS_FILE": str(tmp_path / "feeds.txt"),
            "NEWSBOT_POLL_INTERVAL": "1",
            "NEWSBOT_BACKFILL": str(STORIES),
            "NEWSBOT_BURST_WINDOW": "0",
            "NEWSBOT_RATE_DISCORD_CHANNEL": "0",
            "NEWSBOT_RATE_DISCORD_GLOBAL": "0",
            "NEWSBOT_RETRY_BASE": "0.05",
            "NEWSBOT_RETRY_MAX": "0.5",
            "LOG_LEVEL": "INFO",
            # A killed run's claim on the DM channel lapses at once (outbox claims, issue 13).
            "NEWSBOT_LEASE_SECONDS": "1",
        }
        kills = 0
        while kills < KILLS:
            slow.arrived.clear()
            bot = await start_bot(env, tmp_path)
            exited = asyncio.ensure_future(bot.wait())
            arrived = asyncio.ensure_future(slow.arrived.wait())
            await asyncio.wait({exited, arrived}, timeout=30, return_when=FIRST_COMPLETED)
            arrived.cancel()
            assert not exited.done(), f"the bot exited on its own; {seeds}\n{log_tail(tmp_path)}"
            assert slow.arrived.is_set(), f"no message request in 30 s; {seeds}"
            await asyncio.sleep(kill_rng.uniform(0, 0.12))
            bot.send_signal(signal.SIGKILL)
            await exited
            kills += 1
        dm = fake.dm_channels[ANA]
        assert len(fake.posted(dm)) < STORIES, seeds  # still delivering when killed

        bot = await start_bot(env, tmp_path)
        try:
            await fake.wait_for_messages(dm, STORIES, timeout=40)
        finally:
            bot.send_signal(signal.SIGTERM)
            code = await bot.wait()
        assert code == 0, f"{seeds}\n{log_tail(tmp_path)}"
        async with asyncio.timeout(10):
            await slow.idle.wait()  # every message request the fake received has finished
    finally:
        await fake.stop()

    links = [m["embeds"][0]["url"] for m in fake.posted(dm)]
    assert {k: n for k, n in Counter(links).items() if n > 1} == {}, seeds
    assert links == [f"https://news.example/s{n}" for n in range(STORIES)], seeds
    assert fake.posted(CHANNEL) == []
    # One DM channel all along, however many runs opened it.
    assert set(fake.dm_channels) == {ANA}
    assert query_db(db, "SELECT channel, status, COUNT(*) FROM outbox GROUP BY 1, 2") == [
        (f"dm:{ANA}", "sent", STORIES)
    ], seeds
    nonces = Counter(r.body.get("nonce") for r in fake.calls("POST", rf"/channels/{dm}/messages$"))
    resent = sum(1 for n in nonces.values() if n > 1)  # posted again, deduped by the nonce
    found = (tmp_path / "bot.log").read_text().count("not posting it again")
    print(f"{kills} kills, {resent} DMs re-posted after a crash, {found} found already posted")
    assert resent + found > 0, f"no kill hit a DM in flight: the hard case went untested; {seeds}"
