"""Personal alerts on Slack: `@me dm`, conversations.open, the DM itself, the Home tab."""

from __future__ import annotations

from pathlib import Path

from bot.core.personal import personal_channel
from tests.support.fake_slack import TEAM, FakeSlack, event_body
from tests.support.feed_server import FeedServer, rss
from tests.support.slack_workspace import ALICE, NEWS, LiveFeed, Workspace

LAVROV = (
    "lavrov-1",
    "Russia-US talks on security guarantees to be held next month: Lavrov",
    "Talks with NATO over Ukraine are scheduled for January.",
)
SNOW = ("snow-1", "Heavy snow disrupts flights in Japan", "Dozens of flights were cancelled.")


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
    finally:
        await slack.close()


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
