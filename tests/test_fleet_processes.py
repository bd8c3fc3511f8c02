"""Three `newsbot run` processes on one PostgreSQL database, some killed with SIGKILL and
started again while stories appear: every alert reaches the fake Discord or Slack exactly
once, and no channel gets more than the platform allows (the fakes answer 429 beyond
Discord's 5 per 5 s and Slack's 1 per second per channel, as the platforms do).

The short form of benchmarks/bench_fleet.py (tests/support/fleet.py is shared).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import open_store
from tests.store_contract.backends import pg_schema
from tests.support.discord_bot import eventually
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import FakeSlack
from tests.support.fleet import Fleet, FleetShape

PROCESSES = 3
ROUNDS = 6
STORIES_PER_ROUND = 40  # 240 stories, one alert each, over 24 channels
KILLS_AFTER_ROUNDS = (1, 3)

SHAPE = FleetShape(feeds=20, hosts=4, discord_channels=12, slack_channels=12)


@pytest.mark.timeout(240)
async def test_three_processes_deliver_every_alert_once_within_the_budgets(
    tmp_path: Path, fake_discord: FakeDiscord, fake_slack: FakeSlack
) -> None:
    async with pg_schema() as db:
        fleet = Fleet(SHAPE, db.url, tmp_path, fake_discord, fake_slack)
        try:
            await fleet.prepare()
            await fleet.run(PROCESSES)
            # The seed stories are recorded as seen before anything is published, so
            # every story below is new to the bot when it appears.
            await eventually(lambda: fleet.farm.polled_all(2), 60)
            for round_ in range(ROUNDS):
                fleet.publish(STORIES_PER_ROUND)
                await fleet.wait_delivered(len(fleet.published) // 2, 60)
                if round_ in KILLS_AFTER_ROUNDS:
                    slot = await fleet.kill_one()
                    await fleet.start(slot)
            await fleet.wait_delivered(len(fleet.published), 120)
            codes = await fleet.stop_all()
        finally:
            await fleet.close()
        # Every process has exited: what the fakes hold now is all they will ever get.
        assert codes == [0] * PROCESSES, fleet.log_text()
        outcome = fleet.outcome()
        assert outcome.expected == ROUNDS * STORIES_PER_ROUND
        assert (outcome.lost, outcome.duplicated) == (0, 0)
        assert fleet.kills == len(KILLS_AFTER_ROUNDS)
        # The fakes refuse what the platforms refuse: a channel over its limit gets a 429.
        assert outcome.rate_limited == 0
        assert fake_discord.rate_limited == []
        assert fake_slack.rate_limited == []
        # And the store agrees: nothing left to send, nothing sent twice.
        store = await open_store(db.url)
        try:
            assert await store.pending_alerts(10) == []
        finally:
            await store.close()
