"""The two ways Slack reaches the bot: Socket Mode, and `newsbot run` in HTTP mode."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack import SlackAdapter, SlackOptions
from bot.config import load_settings
from bot.runtime import build_app
from tests.support.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    FakeSlack,
    event_body,
    slash_command_form,
)
from tests.support.feed_server import FeedServer, rss
from tests.support.ops import free_port
from tests.support.process import start_newsbot
from tests.support.slack_process import slack_http_env, subscribe_over_http
from tests.support.slack_workspace import LiveFeed, LogEvents


async def test_socket_mode_handles_a_slash_command_envelope(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    adapter = SlackAdapter(
        SlackOptions(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake_slack.api_url)
    )
    app = await build_app(settings, [adapter], feed_urls=[])
    fake_slack.join("CNEWS")
    try:
        await adapter.start(app.deps)
        assert fake_slack.called("apps.connections.open")[0].token == APP_TOKEN
        form = slash_command_form(
            "subscribe NATO",
            user="UALICE",
            channel="CNEWS",
            response_url=fake_slack.response_url("s"),
        )
        envelope = await fake_slack.push_envelope("slash_commands", form)
        acks = await fake_slack.wait_for(
            lambda: [a for a in fake_slack.socket_acks if a.get("envelope_id") == envelope]
        )
        assert len(acks) == 1
        [reply] = await fake_slack.wait_for(lambda: fake_slack.responses_to("s"))
        assert reply["text"] == "Subscribed #1: NATO"
        assert [s.query for s in await app.store.all_subscriptions()] == ["NATO"]
    finally:
        await app.close()


async def test_a_healthy_start_logs_no_bolt_warning(
    fake_slack: FakeSlack,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As in production, the token is in the environment, where Bolt reads it by itself.
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    adapter = SlackAdapter(
        SlackOptions(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake_slack.api_url)
    )
    app = await build_app(settings, [adapter], feed_urls=[])
    caplog.set_level(logging.INFO)
    try:
        await adapter.start(app.deps)
        assert await adapter.connected()
    finally:
        await app.close()
    bolt = [r.getMessage() for r in caplog.records if r.name.startswith("slack_bolt")]
    assert not [m for m in bolt if "token" in m.lower()], bolt


async def test_socket_mode_acknowledges_events_in_time_so_slack_never_resends(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    adapter = SlackAdapter(
        SlackOptions(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake_slack.api_url)
    )
    app = await build_app(settings, [adapter], feed_urls=[])
    fake_slack.join("CNEWS")
    log = LogEvents("bot")
    try:
        await adapter.start(app.deps)
        form = slash_command_form(
            "subscribe NATO",
            user="UALICE",
            channel="CNEWS",
            response_url=fake_slack.response_url("s"),
        )
        command = await fake_slack.push_envelope("slash_commands", form)
        await fake_slack.wait_for(lambda: fake_slack.responses_to("s"))
        await fake_slack.wait_for(lambda: command not in fake_slack.unacked())
        archive = {"type": "channel_archive", "channel": "CNEWS"}
        envelope = await fake_slack.push_envelope("events_api", event_body(archive))
        await log.wait("channel paused", channel=f"slack:{TEAM}/CNEWS")
        assert envelope not in fake_slack.unacked()
        [sub] = await app.store.all_subscriptions()
        assert sub.paused_reason == "the channel was archived"
        fake_slack.clock.advance(10)  # well past every deadline
        await fake_slack.check_acks()
        assert fake_slack.redelivered == []
        assert fake_slack.ack_failures == []
    finally:
        log.close()
        await app.close()


async def test_newsbot_run_in_http_mode_from_command_to_alert(
    fake_slack: FakeSlack, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed = LiveFeed(feed_server, "/world.rss", rss(("snow-1", "Heavy snow in Japan", "F.")))
    (tmp_path / "feeds.txt").write_text(feed.url + "\n")
    fake_slack.join("CNEWS")
    port = free_port()
    env = slack_http_env(fake_slack, tmp_path, port) | {"NEWSBOT_POLL_INTERVAL": "1"}
    proc = await start_newsbot(env, tmp_path)
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(30):
            while b"Slack HTTP mode listening" not in (line := await proc.stderr.readline()):
                assert line, "the bot exited before listening"
        await subscribe_over_http(fake_slack, port)

        await feed.fetched()
        feed.serve(
            rss(("nato-1", "NATO ministers meet", "In Brussels."), ("snow-1", "Heavy snow", "F."))
        )
        [alert] = await fake_slack.wait_for(lambda: fake_slack.posts_in("CNEWS"))
        assert "<https://news.example/nato-1|NATO ministers meet>" in alert.block_text()
    finally:
        if proc.returncode is None:
            proc.terminate()
        async with asyncio.timeout(10):
            assert await proc.wait() == 0


def test_http_mode_without_a_signing_secret_exits_2_naming_it(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env={**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "DATABASE_URL": "sqlite:///x.db"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr
    assert BOT_TOKEN not in result.stderr


async def test_a_port_in_use_is_a_setting_error_naming_it(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    from bot.config import ConfigError

    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        adapter = SlackAdapter(
            SlackOptions(
                bot_token=BOT_TOKEN,
                signing_secret=SIGNING_SECRET,
                http_port=port,
                http_host="127.0.0.1",
                api_url=fake_slack.api_url,
            )
        )
        app = await build_app(settings, [adapter], feed_urls=[])
        try:
            with pytest.raises(ConfigError, match=f"SLACK_HTTP_PORT.*{port}"):
                await adapter.start(app.deps)
        finally:
            await app.close()


async def test_a_refused_app_token_stops_socket_mode_cleanly(
    fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    adapter = SlackAdapter(
        SlackOptions(bot_token=BOT_TOKEN, app_token="xapp-revoked", api_url=fake_slack.api_url)
    )
    app = await build_app(settings, [adapter], feed_urls=[])
    try:
        await adapter.start(app.deps)
        await adapter.stopped.wait()
        assert [r for r in caplog.records if "SLACK_APP_TOKEN" in r.getMessage()]
    finally:
        await app.close()


async def test_slack_unreachable_at_start_does_not_stop_the_bot(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    http = SlackAdapter(
        SlackOptions(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            http_port=0,
            http_host="127.0.0.1",
            api_url=dead,
        )
    )
    socket_mode = SlackAdapter(SlackOptions(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=dead))
    app = await build_app(settings, [http], feed_urls=[])
    sdk = LogEvents("slack_bolt.newsbot")  # the app's logger, which the SDK is handed too
    try:
        await http.start(app.deps)
        assert http.port is not None
        # Serving (it asks Slack who it is on the first request): an unsigned request is
        # answered, refused as Slack's signing rules say.
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{http.port}/slack/events", data=b"{}") as answer,
        ):
            assert answer.status == 401
        await socket_mode.start(app.deps)  # returns; the SDK keeps trying to connect
        # Alive and still trying: the SDK's own connect loop, in the background, failed
        # once more after start() returned and said it retries.
        [failed, *_] = await sdk.wait("Failed to connect")
        assert "Retrying" in failed.getMessage()
        assert not socket_mode.stopped.is_set()
    finally:
        sdk.close()
        await socket_mode.stop()
        await app.close()
