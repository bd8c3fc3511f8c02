"""Slack with several processes. Socket Mode: each holds its own connection of one app,
Slack sends each envelope to one of them, and every slash command is acknowledged and
answered exactly once, whichever process got it. HTTP mode: behind a load balancer each
request reaches one process, and an event Slack sends again may reach another, which
changes nothing more. The processes share one PostgreSQL database, so what one stored
the others serve."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from bot.adapters.slack import SlackAdapter, SlackOptions
from bot.config import load_settings
from bot.runtime import App, build_app
from tests.store_contract.backends import pg_schema
from tests.support.discord_bot import eventually
from tests.support.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    SlackSender,
    event_body,
    slash_command_form,
)

PROCESSES = 3
COMMANDS = 12


@asynccontextmanager
async def slack_process(
    fake: FakeSlack, database_url: str, *, http: bool = False
) -> AsyncIterator[App]:
    """What one `newsbot run` sets up for Slack: its store and its Socket Mode connection
    (SLACK_APP_TOKEN), or with `http` its own HTTP listener on a free loopback port."""
    settings = load_settings(_env_file=None, database_url=database_url)
    options = (
        SlackOptions(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            http_port=0,
            http_host="127.0.0.1",
            api_url=fake.api_url,
        )
        if http
        else SlackOptions(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake.api_url)
    )
    adapter = SlackAdapter(options)
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


async def test_http_mode_behind_a_balancer_answers_each_command_once(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Each request reaches one process (the balancer's choice, here turn by turn); an
    event Slack sends again after a timeout may reach another, and changes nothing more."""
    fake_slack.join("CNEWS")
    async with pg_schema() as db, AsyncExitStack() as stack:
        apps = [
            await stack.enter_async_context(slack_process(fake_slack, db.url, http=True))
            for _ in range(PROCESSES)
        ]
        senders = [
            SlackSender(f"http://127.0.0.1:{_port(app)}/slack/events", fake=fake_slack)
            for app in apps
        ]
        for n in range(COMMANDS):
            form = slash_command_form(
                f"subscribe topic{n}",
                user="UALICE",
                channel="CNEWS",
                response_url=fake_slack.response_url(f"h{n}"),
            )
            status, _ = await senders[n % PROCESSES].command(form)
            assert status == 200
        for n in range(COMMANDS):
            [reply] = await fake_slack.wait_for(lambda n=n: fake_slack.responses_to(f"h{n}"))
            assert reply["text"].endswith(f": topic{n}")
        subs = await apps[0].store.all_subscriptions()
        assert sorted(s.query for s in subs) == sorted(f"topic{n}" for n in range(COMMANDS))
        # The channel is archived; the first process's answer is lost on the way, so Slack
        # sends the event again and the balancer gives it to the second.
        archived = event_body({"type": "channel_archive", "channel": "CNEWS"})
        assert (await senders[0].post(_json(archived), "application/json"))[0] == 200
        again = await senders[1].post(
            _json(archived), "application/json", retry=(1, "http_timeout")
        )
        assert again[0] == 200

        # Events are acknowledged first and handled after: the store says when it is done.
        async def all_paused() -> bool:
            reasons = [s.paused_reason for s in await apps[1].store.all_subscriptions()]
            return reasons == ["the channel was archived"] * COMMANDS

        await eventually(all_paused)
        for app in apps:
            paused = {s.paused_reason for s in await app.store.all_subscriptions()}
            assert paused == {"the channel was archived"}
    assert fake_slack.ack_failures == []


def _port(app: App) -> int:
    [adapter] = app.adapters
    assert isinstance(adapter, SlackAdapter)
    assert adapter.port is not None
    return adapter.port


def _json(body: object) -> bytes:
    return json.dumps(body).encode()
