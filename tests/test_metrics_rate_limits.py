"""newsbot_rate_limited_total counts each 429 where it arrives: in discord.py's and
slack_sdk's HTTP clients, which wait most of them out inside one request."""

from __future__ import annotations

from prometheus_client import REGISTRY

from bot.adapters.slack.client import web_client
from tests.support.discord_bot import CHANNEL, rest_client
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import BOT_TOKEN, FakeSlack


def rate_limited(platform: str) -> float:
    found = REGISTRY.get_sample_value("newsbot_rate_limited_total", {"platform": platform})
    return found or 0.0


async def test_discord_429s_waited_out_by_discord_py_are_counted(
    fake_discord: FakeDiscord,
) -> None:
    before = rate_limited("discord")
    fake_discord.fail("POST", r"/channels/\d+/messages$", 429, times=2, retry_after=0.1)
    async with rest_client(fake_discord) as client:
        await client.get_partial_messageable(int(CHANNEL)).send("hello")
    answered = [r for r in fake_discord.requests if r.status == 429]
    assert len(answered) == 2
    assert len(fake_discord.posted(CHANNEL)) == 1  # the send itself got through
    assert rate_limited("discord") - before == len(answered)


async def test_slack_429s_are_counted_whether_waited_out_or_not(fake_slack: FakeSlack) -> None:
    fake_slack.join("CNEWS")
    before = rate_limited("slack")
    fake_slack.rate_limit("chat.postMessage", retry_after=1, times=1)
    client = web_client(BOT_TOKEN, fake_slack.api_url, retry_connection_errors=False)
    await client.chat_postMessage(channel="CNEWS", text="hello")
    assert len(fake_slack.rate_limited) == 1
    assert rate_limited("slack") - before == len(fake_slack.rate_limited)
