"""`newsbot run` in Slack HTTP mode as its own process, against FakeSlack."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    SlackSender,
    slash_command_form,
)


def slack_http_env(fake: FakeSlack, cwd: Path, port: int) -> dict[str, str]:
    """Settings for Slack HTTP mode on `port`: the database and cwd/feeds.txt in `cwd`."""
    return {
        "DATABASE_URL": f"sqlite:///{cwd / 'bot.db'}",
        "NEWSBOT_FEEDS_FILE": str(cwd / "feeds.txt"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_HTTP_PORT": str(port),
        "SLACK_API_URL": fake.api_url.rstrip("/"),  # the trailing slash is added for us
    }


async def subscribe_over_http(fake: FakeSlack, port: int) -> dict[str, str]:
    """Alice types `/news subscribe NATO` in CNEWS, signed as Slack signs it, and the bot
    on `port` confirms it through the response_url; the form it was sent is returned."""
    sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", fake=fake)
    form = slash_command_form(
        "subscribe NATO", user="UALICE", channel="CNEWS", response_url=fake.response_url("p")
    )
    status, _ = await sender.command(form)
    assert status == 200
    [reply] = await fake.wait_for(lambda: fake.responses_to("p"))
    assert reply["text"] == "Subscribed #1: NATO"
    return form
