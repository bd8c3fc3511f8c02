"""Slack with several processes: each holds its own Socket Mode connection of one app,
Slack sends each envelope to one of them, and every slash command is acknowledged and
answered exactly once, whichever process got it. The processes share one PostgreSQL
database, so what one stored the others serve."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from bot.adapters.slack import SlackAdapter, SlackOptions
from bot.config import load_settings
from bot.runtime import App, build_app
from tests.store_contract.backends import pg_schema
from tests.support.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack, slash_command_form

PROCESSES = 3
COMMANDS = 12


@asynccontextmanager
async def slack_process(fake: FakeSlack, database_url: str) -> AsyncIterator[App]:
    """What one `newsbot run` with SLACK_APP_TOKEN sets up: its store and its connection."""
    settings = load_settings(_env_file=None, database_url=database_url)
    adapter = SlackAdapter(
        SlackOptions(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake.api_url)
    )
    app = await build_app(settings, [adapter], feed_urls=[])
    try:
        await adapter.start(app.deps)
        yield app
    finally:
        await app.close()


async def test_each_command_is_answered_once_by_one_of_several_connections(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.spread = True
    fake_slack.join("CNEWS")
    async with pg_schema() as db, AsyncExitStack() as stack:
        apps = [
            await stack.enter_async_context(slack_process(fake_slack, db.url))
            for _ in range(PROCESSES)
        ]
        await fake_slack.wait_for(lambda: fake_slack.open_connections == PROCESSES)
        envelopes = []
        for n in range(COMMANDS):
            form = slash_command_form(
                f"subscribe topic{n}",
                user="UALICE",
                channel="CNEWS",
                response_url=fake_slack.response_url(f"r{n}"),
            )
            envelopes.append(await fake_slack.push_envelope("slash_commands", form))
        for n in range(COMMANDS):
            await fake_slack.wait_for(lambda n=n: fake_slack.responses_to(f"r{n}"))
        await fake_slack.wait_for(lambda: not set(envelopes) & set(fake_slack.unacked()))
        # Every process got some of them...
        assert set(fake_slack.sent_on[e] for e in envelopes) == set(range(1, PROCESSES + 1))
        # ...and each command was acknowledged once and answered once.
        acks = Counter(a.get("envelope_id") for a in fake_slack.socket_acks)
        assert all(acks[e] == 1 for e in envelopes)
        replies = [fake_slack.responses_to(f"r{n}") for n in range(COMMANDS)]
        assert all(len(r) == 1 for r in replies)
        assert sorted(r[0]["text"].split(": ", 1)[1] for r in replies) == sorted(
            f"topic{n}" for n in range(COMMANDS)
        )
        # One store: twelve subscriptions, numbered once each, seen from every process.
        for app in apps:
            subs = await app.store.all_subscriptions()
            assert sorted(s.query for s in subs) == sorted(f"topic{n}" for n in range(COMMANDS))
            assert len({s.id for s in subs}) == COMMANDS
    fake_slack.clock.advance(10)
    await fake_slack.check_acks()
    assert fake_slack.ack_failures == []
