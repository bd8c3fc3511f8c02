"""topic: on Slack as a person meets it: the command, and an alert saying which name fired
(signed requests into the running app, alerts out to the local fake Web API)."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer, rss
from tests.support.slack_workspace import NEWS, LiveFeed, Workspace

SNOW = ("snow-1", "Heavy snow disrupts flights in Japan", "Dozens of flights were cancelled.")
KREMLIN = (
    "kremlin-1",
    "Лавров: переговоры возможны",
    "The Kremlin said on Monday that talks could resume.",
)


async def test_topics_command_and_a_topic_alert(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = LiveFeed(feed_server, "/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        listing = await slack.say("/news topics united")
        assert "United Kingdom" in listing["text"]
        assert listing["response_type"] == "ephemeral"
        assert not fake_slack.called("users.info")  # anyone may ask: no role looked up

        refused = await slack.say("/news subscribe topic:Rusia")
        assert "did you mean Russia?" in refused["text"]
        subscribed = await slack.say("/news subscribe topic:Russia")
        assert subscribed["text"] == "Subscribed #1: topic:Russia"

        await feed.fetched()
        feed.serve(rss(KREMLIN, SNOW))
        [alert] = await fake_slack.wait_for(lambda: fake_slack.posts_in(NEWS))
        section = alert.blocks[0]["text"]["text"]
        assert "The *Kremlin* said on Monday" in section  # the name that fired, in bold
        context = alert.blocks[1]["elements"]
        assert any(
            "Topics: topic:Russia · Matched: Russia (via Лавров, Kremlin)" in e["text"]
            for e in context
        )
    finally:
        await slack.close()
