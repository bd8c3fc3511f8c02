"""User group mentions on Slack: `/news subscribe NATO @analysts` by an admin."""

from __future__ import annotations

from pathlib import Path

from bot.core.models import Channel
from tests.support.fake_slack import TEAM, FakeSlack
from tests.support.feed_server import FeedServer, rss
from tests.support.slack_workspace import ALICE, NEWS, LiveFeed, Workspace
from tests.support.stories import LAVROV, MOSCOW, SNOW


async def test_a_group_mention_pings_that_group_until_it_is_disabled(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    fake_slack.usergroups.update({"S0ANALYST": "analysts", "S0OTHERS": "others"})
    feed = LiveFeed(feed_server, "/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        refused = await slack.say("/news subscribe NATO @analysts", user="UBOB")
        assert refused["text"].startswith("Mentioning a role or user group needs")
        assert await slack.app.store.list_subscriptions(Channel("slack", TEAM, NEWS)) == []
        fake_slack.admins.add(ALICE)
        reply = await slack.say("/news subscribe NATO <!subteam^S0ANALYST|@analysts>")
        assert reply["text"] == "Subscribed #1: NATO"
        await feed.fetched()
        feed.serve(rss(LAVROV, SNOW))
        [alert] = await fake_slack.wait_for(lambda: fake_slack.posts_in(NEWS))
        assert fake_slack.pinged_groups(alert) == ["S0ANALYST"]
        assert "<!subteam^S0ANALYST>" in alert.text

        # Disabled: the next alert leaves it out, and the log says so once.
        fake_slack.disable_group("S0ANALYST")
        slack.adapter.notifier.groups.forget()  # as a minute later: the list is read again
        feed.serve(rss(MOSCOW, LAVROV, SNOW))
        [_, later] = await fake_slack.wait_for(
            lambda: len(fake_slack.posts_in(NEWS)) == 2 and fake_slack.posts_in(NEWS)
        )
        assert "subteam" not in later.text + later.block_text()
        await slack.logged("user group mention dropped", group_id="S0ANALYST")
    finally:
        await slack.close()
