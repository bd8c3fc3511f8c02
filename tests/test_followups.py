"""Follow-ups: a sent alert is edited to list the outlets that reported its story later.

On Discord (PATCH of the message) and Slack (chat.update): never a new message, never a
ping; the store's side (once a minute, none lost) is in store_contract/test_followups.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.core.models import Channel
from tests.support.discord_bot import CHANNEL, GUILD, eventually, running_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import TEAM, FakeSlack
from tests.support.feed_server import FeedServer, rss
from tests.support.slack_alerts import notifier_for, slack_alert
from tests.support.slack_workspace import NEWS, LiveFeed, Workspace
from tests.support.stories import SNOW, SUMMIT


async def test_discord_edits_the_sent_alert_to_list_a_later_outlet(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    a = feed_server.serve("/a.rss", rss(SNOW, title="Outlet A"))
    b = feed_server.serve("/b.rss", rss(SNOW, title="Outlet B"))
    async with running_bot(fake_discord, tmp_path, [a, b]):
        await fake_discord.slash(
            "/news subscribe query=NATO mention=true", guild_id=GUILD, channel_id=CHANNEL
        )
        await eventually(lambda: feed_server.hits("/a.rss") and feed_server.hits("/b.rss"))
        feed_server.serve("/a.rss", rss(SUMMIT, SNOW, title="Outlet A"))
        [message] = await fake_discord.wait_for_messages(CHANNEL, 1)
        assert "Also reported by" not in str(message["embeds"])
        # The same story (its link) from another outlet, after the alert went out.
        feed_server.serve("/b.rss", rss(SUMMIT, SNOW, title="Outlet B"))
        await fake_discord.until(lambda: fake_discord.edits)
        [(channel_id, message_id, body)] = fake_discord.edits
        assert (channel_id, message_id) == (CHANNEL, message["id"])
        assert "Outlet B" in str(body["embeds"])
        assert body["allowed_mentions"] == {"parse": []}  # an edit pings no one
        [edited] = fake_discord.posted(CHANNEL)  # still one message: nothing new posted
        assert "Also reported by" in str(edited["embeds"])
        assert edited["edited_timestamp"] is not None


async def test_slack_updates_the_sent_alert_to_list_a_later_outlet(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    a = LiveFeed(feed_server, "/a.rss", rss(SNOW, title="Outlet A"))
    b = LiveFeed(feed_server, "/b.rss", rss(SNOW, title="Outlet B"))
    slack = await Workspace.start(fake_slack, tmp_path, [a.url, b.url])
    try:
        await slack.say("/news subscribe NATO")
        await a.fetched()
        await b.fetched()
        a.serve(rss(SUMMIT, SNOW, title="Outlet A"))
        [alert] = await fake_slack.wait_for(lambda: fake_slack.posts_in(NEWS))
        b.serve(rss(SUMMIT, SNOW, title="Outlet B"))
        [update] = await fake_slack.wait_for(lambda: fake_slack.updates)
        assert (update["channel"], update["ts"]) == (NEWS, alert.ts)
        [post] = fake_slack.posts_in(NEWS)  # updated in place, nothing new posted
        assert "Outlet B" in post.block_text()
        status = await slack.app.store.delivery_status(Channel("slack", TEAM, NEWS))
        assert (status.pending, status.held) == (0, 0)
    finally:
        await slack.close()


async def test_a_slack_edit_keeps_the_picture_or_goes_without_it_as_a_post_does(
    fake_slack: FakeSlack,
) -> None:
    picture = "https://img.example/summit.jpg"
    notifier = notifier_for(fake_slack)
    first = slack_alert(NEWS, 7, image=picture)
    sent = await notifier.send(first)
    assert sent.remote_id is not None
    later = replace(first, extra={"also_reported_by": "Outlet B"})
    await notifier.edit(later, sent.remote_id)
    assert picture in fake_slack.posts_in(NEWS)[0].block_text()
    # Slack cannot fetch the picture any more: the edit is made without it, not lost.
    fake_slack.unreachable_images.add(picture)
    await notifier.edit(replace(first, extra={"also_reported_by": "Outlet B, C"}), sent.remote_id)
    [post] = fake_slack.posts_in(NEWS)
    assert picture not in post.block_text()
    assert "Outlet B, C" in post.block_text()
    assert len(fake_slack.updates) == 2  # the refused update changed nothing
