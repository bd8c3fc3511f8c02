"""SIGKILL while newsbot delivers personal alerts by DM: nothing lost, nothing twice.

The harness of test_fault_injection.py, tests/support/crash.py (a separate process, a
fake Discord that takes a moment per message and dedupes nonces), aimed at one person's
DMs: each run opens the DM channel again (POST /users/@me/channels gives the same one),
and a resend finds its alert in that channel's history or by its nonce.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.core.personal import DISCORD_DM_WORKSPACE, personal_channel
from tests.support.crash import (
    Seeds,
    deliver_the_rest,
    delivery_env,
    kill_while_delivering,
    resends,
    slow_messages,
    subscribed_to_wire,
)
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer
from tests.support.process import query_db

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
    slow = slow_messages(fake, seeds.rng("latency-dm"))
    await fake.start()
    try:
        mine = personal_channel("discord", DISCORD_DM_WORKSPACE, ANA)
        db = await subscribed_to_wire(feed_server, tmp_path, STORIES, mine, ANA)
        env = delivery_env(fake, tmp_path, db, STORIES) | {
            # A killed run's claim on the DM channel lapses at once (outbox claims, issue 13).
            "NEWSBOT_LEASE_SECONDS": "1",
        }
        kills = 0
        while kills < KILLS:
            await kill_while_delivering(env, tmp_path, slow, kill_rng, seeds)
            kills += 1
        dm = fake.dm_channels[ANA]
        assert len(fake.posted(dm)) < STORIES, seeds  # still delivering when killed

        await deliver_the_rest(env, tmp_path, fake, dm, STORIES, slow, seeds)
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
    resent, found = resends(fake, tmp_path, dm)
    print(f"{kills} kills, {resent} DMs re-posted after a crash, {found} found already posted")
    assert resent + found > 0, f"no kill hit a DM in flight: the hard case went untested; {seeds}"
