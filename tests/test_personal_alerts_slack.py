"""Personal alerts on Slack: `@me dm`, conversations.open, the DM itself, the Home tab."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.core.personal import personal_channel
from tests.support.fake_slack import TEAM, FakeSlack, event_body
from tests.support.feed_server import FeedServer, rss
from tests.support.slack_workspace import ALICE, NEWS, LiveFeed, Workspace
from tests.support.stories import LAVROV, SNOW


async def test_a_personal_subscription_arrives_in_the_persons_dm(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = LiveFeed(feed_server, "/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        reply = await slack.say("/news subscribe NATO @me dm")
        assert reply["text"] == "Subscribed #1: NATO (to you, by direct message)"
        assert reply["response_type"] == "ephemeral"
        await feed.fetched()
        feed.serve(rss(LAVROV, SNOW))
        [alert] = await fake_slack.wait_for(
            lambda: ALICE in fake_slack.ims and fake_slack.posts_in(fake_slack.ims[ALICE])
        )
        assert f"<https://news.example/lavrov-1|{LAVROV[1]}>" in alert.blocks[0]["text"]["text"]
        assert "<@" not in alert.text  # nobody to mention in one's own DM
        assert fake_slack.posts_in(NEWS) == []
        [opened] = fake_slack.called("conversations.open")[:1]
        assert opened.args["users"] == ALICE

        # In the DM with the bot: the person's own list and settings.
        dm = fake_slack.ims[ALICE]
        listing = await slack.say("/news list", channel=dm)
        assert listing["text"].startswith("Your personal subscriptions (1):\n#1  NATO")
        snooze = await slack.say("/news snooze 1h", channel=dm)  # no admin needed there
        assert snooze["text"].startswith("Snoozed until")
        settings = await slack.app.store.channel_settings(personal_channel("slack", TEAM, ALICE))
        assert settings.snooze_until is not None

        # The Home tab shows them apart from the channels'.
        await slack.sender.event(
            event_body({"type": "app_home_opened", "user": ALICE, "channel": dm, "tab": "home"})
        )
        [publish] = await fake_slack.wait_for(lambda: fake_slack.called("views.publish"))
        view = str(publish.args["view"])
        assert "By direct message to you" in view
        assert "#1  NATO" in view

        # Its Stop button, there on the Home tab, ends it (and the tab shows it gone).
        published = publish.args["view"]
        blocks = (json.loads(published) if isinstance(published, str) else published)["blocks"]
        [stop] = [b["accessory"] for b in blocks if "accessory" in b]
        status, _ = await slack.sender.interaction(home_click(ALICE, stop))
        assert status == 200
        await fake_slack.wait_for(lambda: len(fake_slack.called("views.publish")) == 2)
        assert (
            await slack.app.store.list_subscriptions(personal_channel("slack", TEAM, ALICE)) == []
        )
        assert "#1  NATO" not in str(fake_slack.called("views.publish")[-1].args["view"])
    finally:
        await slack.close()


def home_click(user: str, button: dict[str, Any]) -> dict[str, Any]:
    """A block_actions payload from a button on the Home tab: a view, no channel."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "ATEST",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": "VHOME"},
        "trigger_id": "123.456.abc",
        "team": {"id": TEAM, "domain": "test"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b1",
                "value": button["value"],
                "type": "button",
                "action_ts": "1700000000.1",
            }
        ],
    }


async def test_a_dm_slack_refuses_pauses_that_persons_subscriptions(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = LiveFeed(feed_server, "/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    workflow = "UWORKFLOW"  # a bot user: Slack will not open a DM with it
    fake_slack.bot_users.add(workflow)
    mine = personal_channel("slack", TEAM, workflow)
    try:
        await slack.say("/news subscribe NATO dm", user=workflow)
        await slack.say("/news subscribe NATO")  # the channel's own, unaffected
        await feed.fetched()
        feed.serve(rss(LAVROV, SNOW))
        await fake_slack.wait_for(lambda: fake_slack.posts_in(NEWS))
        await slack.logged("channel paused (1 subscriptions, 1 alerts kept unsent)")
        [sub] = await slack.app.store.list_subscriptions(mine)
        assert sub.paused_reason == "Slack: cannot_dm_bot: direct messages cannot go to a bot user"
        status = await slack.app.store.delivery_status(mine)
        assert (status.paused, status.pending) == (1, 0)  # kept, not dropped
        assert workflow not in fake_slack.ims
    finally:
        await slack.close()
