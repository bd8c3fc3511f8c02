"""NEWSBOT_HTTP_PORT = SLACK_HTTP_PORT: one server answers Slack, /metrics and /readyz."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer, rss
from tests.support.ops import free_port, get, listening_ports, readyz, wait_for
from tests.support.process import start_newsbot
from tests.support.slack_process import slack_http_env, subscribe_over_http


async def test_slack_http_mode_shares_the_metrics_and_health_port(
    fake_slack: FakeSlack, feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.serve("/world.rss", rss())
    (tmp_path / "feeds.txt").write_text(url + "\n")
    fake_slack.join("CNEWS")
    port = free_port()
    env = slack_http_env(fake_slack, tmp_path, port) | {"NEWSBOT_HTTP_PORT": str(port)}
    proc = await start_newsbot(env, tmp_path)
    try:

        async def ready() -> object:
            status, body = await readyz(port)
            return body if status == 200 else None

        body = await wait_for(ready, "ready")
        assert body["checks"]["slack"] == "ok"
        assert listening_ports(proc.pid) == {port}  # one listener for all of it

        form = await subscribe_over_http(fake_slack, port)

        # Bolt's signature check guards the shared route as it does its own listener.
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/slack/events", data=form) as unsigned,
        ):
            assert unsigned.status == 401

        status, text = await get(port, "/metrics")
        assert status == 200
        assert 'newsbot_subscriptions{platform="slack"} 1.0' in text
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
