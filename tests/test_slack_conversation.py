"""Slack as a person meets it: signed requests into the running HTTP-mode app, alerts out
to a local fake Web API (tests/support/fake_slack.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.slack.blocks import UNSUBSCRIBE_ACTION
from bot.core.models import Channel
from tests.support.fake_slack import (
    TEAM,
    FakeSlack,
    event_body,
    sign,
    slash_command_form,
)
from tests.support.feed_server import FeedServer, rss
from tests.support.slack_workspace import ALICE, NEWS, LiveFeed, Workspace
from tests.support.stories import LAVROV, SNOW

HOSTILE = (
    "hostile-1",
    "&lt;!channel&gt; NATO &amp; friends &lt;@U999&gt;",
    "Read &lt;https://evil.example|this&gt; now, &lt;!here&gt;",
)


@pytest.fixture
async def slack(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Workspace]:
    workspace = await Workspace.start(fake_slack, tmp_path)
    try:
        yield workspace
    finally:
        await workspace.close()


async def test_subscribe_list_unsubscribe_replies(slack: Workspace) -> None:
    reply = await slack.say("/news subscribe Russia, NATO")
    assert reply["text"].splitlines() == ["Subscribed #1: Russia", "Subscribed #2: NATO"]
    assert reply["response_type"] == "in_channel"  # announces a change to the channel

    listing = await slack.say("/news list")
    assert "#2  NATO" in listing["text"]
    assert listing["response_type"] == "ephemeral"

    gone = await slack.say("/news unsubscribe 1")
    assert gone["text"] == "Unsubscribed #1: Russia"
    assert "Unknown command `frobnicate`" in (await slack.say("/news frobnicate"))["text"]


async def test_list_shows_who_subscribed_as_a_mention_no_query_can_forge(
    slack: Workspace,
) -> None:
    await slack.say("/news subscribe NATO")
    # Bob's query holds a mention as Slack sends one; in the list it must stay text.
    await slack.say("/news subscribe Ukraine <@UALICE|alice>", user="UBOB")

    listing = await slack.say("/news list")
    lines = listing["text"].splitlines()
    assert "#1  NATO  (by <@UALICE>)" in lines  # Slack shows Alice's name there
    assert "#2  Ukraine &lt;@UALICE|alice&gt;  (by <@UBOB>)" in lines
    # Only the one who asked sees it, and a mention in an ephemeral message pings no one.
    assert listing["response_type"] == "ephemeral"


async def test_a_story_in_a_feed_arrives_as_block_kit_alert(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = LiveFeed(feed_server, "/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        await slack.say("/news subscribe NATO")
        await feed.fetched()
        feed.serve(rss(LAVROV, SNOW))

        [alert] = await fake_slack.wait_for(lambda: fake_slack.posts_in(NEWS))
        section = alert.blocks[0]["text"]["text"]
        assert f"<https://news.example/lavrov-1|{LAVROV[1]}>" in section
        assert "with *NATO* over Ukraine" in section  # matched word in bold
        context = alert.blocks[1]["elements"]
        assert any("Topics: NATO" in e["text"] for e in context)
        assert any("Test Wire" in e["text"] for e in context)
        button = alert.blocks[2]["elements"][0]
        assert button["value"] == "NATO"
        assert LAVROV[1] in alert.text  # the plain fallback for notifications
        assert alert.args["unfurl_links"] is False
        assert alert.args["unfurl_media"] is False
        assert "link_names" not in alert.args
        assert "parse" not in alert.args
        assert alert.metadata is not None
        assert alert.metadata["event_type"] == "newsbot_alert"
        assert isinstance(alert.metadata["event_payload"]["alert_id"], int)
    finally:
        await slack.close()


async def test_feed_text_can_never_ping_the_channel(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = LiveFeed(feed_server, "/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        await slack.say("/news subscribe NATO")
        await feed.fetched()
        feed.serve(rss(HOSTILE, SNOW))

        [alert] = await fake_slack.wait_for(lambda: fake_slack.posts_in(NEWS))
        everything = alert.block_text() + alert.text
        for control in ("<!channel>", "<!here>", "<@U999>", "<https://evil.example"):
            assert control not in everything
        section = alert.blocks[0]["text"]["text"]
        # What the feed normaliser leaves of the markup is shown as text, never a control.
        assert "&lt;@U999&gt;" in section
        assert "&amp; friends" in section
    finally:
        await slack.close()


async def test_the_unsubscribe_button_stops_that_topic(slack: Workspace) -> None:
    await slack.say("/news subscribe Russia, NATO")
    reply = await slack.click(f"{UNSUBSCRIBE_ACTION}:1", "NATO")
    assert reply["text"] == "Unsubscribed #2: NATO"
    assert "NATO" not in (await slack.say("/news list"))["text"]

    again = await slack.click(f"{UNSUBSCRIBE_ACTION}:1", "NATO")
    assert "no subscription to `NATO`" in again["text"]
    assert again["response_type"] == "ephemeral"


async def test_bad_or_stale_signatures_get_401_and_do_nothing(
    slack: Workspace, fake_slack: FakeSlack
) -> None:
    form = slash_command_form(
        "subscribe NATO", user=ALICE, channel=NEWS, response_url=fake_slack.response_url("x")
    )
    status, _ = await slack.sender.command(form, signature="v0=" + "0" * 64)
    assert status == 401
    old = int(time.time()) - 6 * 60
    status, _ = await slack.sender.command(form, timestamp=old)
    assert status == 401
    # A correct signature of a different body is still wrong for this one.
    status, _ = await slack.sender.command(form, signature=sign(b"token=x", int(time.time())))
    assert status == 401
    assert await slack.app.store.list_subscriptions(Channel("slack", TEAM, NEWS)) == []
    assert fake_slack.responses_to("x") == []


async def test_subscribing_where_the_bot_is_not_invited_says_how_to_fix_it(
    slack: Workspace, fake_slack: FakeSlack
) -> None:
    fake_slack.add_channel("CQUIET", ALICE, bot=False)  # the bot is not a member
    reply = await slack.say("/news subscribe NATO", channel="CQUIET")
    assert reply["text"] == "Subscribed #1: NATO"
    hints = await fake_slack.wait_for(
        lambda: [r for r in fake_slack.responses if "/invite" in r["text"]]
    )
    assert "`/invite @newsbot`" in hints[0]["text"]
    assert hints[0]["response_type"] == "ephemeral"


async def test_archived_channel_pauses_its_subscriptions_and_unarchive_resumes(
    slack: Workspace,
) -> None:
    await slack.say("/news subscribe NATO")
    channel = Channel("slack", TEAM, NEWS)

    async def reasons() -> tuple[list[str | None], str | None]:
        # Stored, and in the live index the matcher uses.
        stored = [s.paused_reason for s in await slack.app.store.list_subscriptions(channel)]
        return stored, slack.app.index.by_id[1].paused_reason

    status, _ = await slack.sender.event(event_body({"type": "channel_archive", "channel": NEWS}))
    assert status == 200
    # The listener runs after the ack; it logs once store and index are both updated.
    await slack.logged("channel paused", channel=str(channel))
    assert await reasons() == (["the channel was archived"], "the channel was archived")

    await slack.sender.event(event_body({"type": "channel_unarchive", "channel": NEWS}))
    await slack.logged("channel resumed", channel=str(channel))
    assert await reasons() == ([None], None)


async def test_app_home_lists_my_subscriptions_and_feed_health(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [url])
    try:
        await slack.say("/news subscribe NATO")
        fake_slack.join("COTHER")
        await slack.say("/news subscribe Japan", channel="COTHER")
        await slack.say("/news subscribe Brexit", user="UBOB", channel="CBOB")
        # Feeds added in a channel feed only that channel's subscriptions.
        store = slack.app.store
        await store.attach_feed(
            "https://a.example/rss", Channel("slack", TEAM, NEWS), added_by="UX"
        )
        await store.attach_feed(
            "https://b.example/rss", Channel("slack", TEAM, "CBOB"), added_by="UX"
        )
        await slack.sender.event(
            event_body({"type": "app_home_opened", "user": ALICE, "channel": "D1", "tab": "home"})
        )
        [publish] = await fake_slack.wait_for(lambda: fake_slack.called("views.publish"))
        assert publish.args["user_id"] == ALICE
        view = str(publish.args["view"])
        assert "NATO" in view
        assert "Japan" in view
        assert "<#COTHER>" in view
        assert "Brexit" not in view  # Bob's, not Alice's
        assert url in view  # an operator feed: everyone's
        assert "https://a.example/rss" in view
        assert "https://b.example/rss" not in view
        assert "not checked yet" in view  # its health, in the words of /news feed list
    finally:
        await slack.close()


async def test_managing_delivery_is_for_workspace_admins_or_listed_users(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.admins.add("UADMIN")
    slack = await Workspace.start(fake_slack, tmp_path, admin_users=frozenset({"UEDITOR"}))
    try:
        refused = await slack.say("/news digest hourly")  # Alice is a plain member
        assert "workspace admin" in refused["text"]
        assert refused["response_type"] == "ephemeral"
        asked = [c.args["user"] for c in fake_slack.called("users.info")]
        assert asked == [ALICE]

        allowed = await slack.say("/news digest hourly", user="UADMIN")
        assert allowed["text"].startswith("Digest hourly")
        assert allowed["response_type"] == "in_channel"
        assert (await slack.say("/news quiet off", user="UEDITOR"))["text"] == "Quiet hours off."

        # Anyone in the channel may subscribe, and nobody's role is looked up for it.
        calls = len(fake_slack.called("users.info"))
        assert (await slack.say("/news subscribe NATO"))["text"] == "Subscribed #1: NATO"
        assert len(fake_slack.called("users.info")) == calls
    finally:
        await slack.close()


async def test_the_command_is_acknowledged_before_its_slow_work(
    slack: Workspace, fake_slack: FakeSlack
) -> None:
    users_info = fake_slack.hold("users.info")  # Slack is slow to say who Alice is
    form = slash_command_form(
        "digest hourly", user=ALICE, channel=NEWS, response_url=fake_slack.response_url("slow")
    )
    status, body = await slack.sender.command(form)
    # The ack came back while the permission check was still waiting on Slack.
    assert status == 200
    assert body == ""
    assert not users_info.is_set()
    assert fake_slack.responses_to("slow") == []
    users_info.set()
    [reply] = await fake_slack.wait_for(lambda: fake_slack.responses_to("slow"))
    assert "workspace admin" in reply["text"]


async def test_subscribe_at_me_mentions_me_in_its_alerts(slack: Workspace) -> None:
    reply = await slack.say("/news subscribe NATO summit @me")
    assert reply["text"] == "Subscribed #1: NATO summit"
    [sub] = await slack.app.store.list_subscriptions(Channel("slack", TEAM, NEWS))
    assert sub.mention == ALICE
    plain = await slack.say("/news subscribe Russia", user="UBOB")
    assert plain["text"] == "Subscribed #2: Russia"
    subs = await slack.app.store.list_subscriptions(Channel("slack", TEAM, NEWS))
    assert subs[1].mention is None


async def test_a_token_revoked_while_answering_a_command_stops_slack(
    slack: Workspace, fake_slack: FakeSlack
) -> None:
    fake_slack.token_error = "token_revoked"
    reply = await slack.say("/news digest hourly")  # needs users.info, which now fails
    assert "token" in reply["text"]
    await slack.adapter.stopped.wait()
    assert slack.adapter.port is not None
    assert slack.adapter.notifier.stopped_reason is not None


async def test_a_member_who_is_not_an_admin_is_refused_feed_add(
    slack: Workspace, fake_slack: FakeSlack
) -> None:
    refused = await slack.say("/news feed add https://news.example/rss")
    assert "workspace admin" in refused["text"]
    assert refused["response_type"] == "ephemeral"
    assert "Feeds (" not in (await slack.say("/news feed list"))["text"]

    fake_slack.admins.add("UADMIN")
    # An admin gets past the permission check; the URL itself is then checked (and this
    # one, on the loopback interface, refused: nothing is fetched from chat there).
    admin = await slack.say("/news feed add http://127.0.0.1:9/rss", user="UADMIN")
    assert "workspace admin" not in admin["text"]
    assert admin["text"].startswith("Not added")


async def test_a_post_whose_answer_was_lost_is_found_and_not_posted_again(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = LiveFeed(feed_server, "/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        await slack.say("/news subscribe NATO")
        await feed.fetched()
        fake_slack.lose_answers = 1  # Slack posts it, but the bot only sees a 500
        feed.serve(rss(LAVROV, SNOW))

        # Delivery retries with maybe_sent; the notifier finds the post by its metadata,
        # and the dispatcher logs "alert sent" once the outbox row is marked sent.
        await slack.logged("alert sent")
        assert fake_slack.called("conversations.history")
        channel = Channel("slack", TEAM, NEWS)
        status = await slack.app.store.delivery_status(channel)
        assert status.last_sent_at is not None
        assert status.pending == 0
        [post] = fake_slack.posts_in(NEWS)
        assert len(fake_slack.called("chat.postMessage")) == 1
        assert LAVROV[1] in post.text
    finally:
        await slack.close()


async def test_many_alerts_for_one_channel_are_paced_below_slacks_rate(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = LiveFeed(feed_server, "/world.rss", rss(SNOW))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        await slack.say("/news subscribe NATO")
        await feed.fetched()
        stories = [(f"nato-{n}", f"NATO story {n}", "NATO ministers meet.") for n in range(5)]
        feed.serve(rss(*stories, SNOW))

        await slack.logged("alert sent", count=5)
        assert len(fake_slack.posts_in(NEWS)) == 5
        # Slack allows a burst of three, then one a second: delivery's pacing kept below
        # it, so Slack never had to answer 429.
        assert fake_slack.rate_limited == []
    finally:
        await slack.close()
