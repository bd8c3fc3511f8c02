"""newsbot on Discord, as a server meets it: slash commands in, embeds out (a local fake)."""

from __future__ import annotations

from pathlib import Path

from bot.store import SqliteStore, open_sqlite
from tests.support.discord_bot import CHANNEL, GUILD, OTHER_CHANNEL, eventually, running_bot
from tests.support.fake_discord import MEMBER_PERMISSIONS, SEND_MESSAGES, FakeDiscord
from tests.support.feed_server import FeedServer, rss
from tests.support.stories import LAVROV, SNOW


async def test_subscribe_then_a_story_arrives_as_an_embed(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        reply = await fake_discord.slash(
            "/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL
        )
        assert "Subscribed #1: NATO" in reply.text
        assert not reply.ephemeral  # the channel learns what it will receive

        await eventually(lambda: feed_server.hits("/world.rss"))
        feed_server.serve("/world.rss", rss(LAVROV, SNOW))

        [message] = await fake_discord.wait_for_messages(CHANNEL, 1)
        [embed] = message["embeds"]
        assert embed["title"] == LAVROV[1]
        assert embed["url"] == "https://news.example/lavrov-1"
        assert "**NATO**" in embed["description"]
        topics = {f["name"]: f["value"] for f in embed["fields"]}
        assert topics["Matched topics"] == "NATO"
        [button] = message["components"][0]["components"]
        # The subscription, then the alert's key (its nonce), which a resend looks for.
        assert button["custom_id"] == f"newsbot:unsub:1:{message['nonce']}"
        assert message["allowed_mentions"]["parse"] == []


async def test_list_shows_who_subscribed_as_a_mention_that_pings_no_one(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    bob = "700000000000000002"
    async with running_bot(fake_discord, tmp_path):
        await fake_discord.slash(
            "/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL, user_id=bob
        )
        listing = await fake_discord.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)
        assert f"#1  NATO  (by <@{bob}>)" in listing.text.splitlines()  # shown as Bob's name
        [callback] = listing.callbacks
        assert callback["data"]["allowed_mentions"] == {"parse": []}  # and Bob is not pinged


async def test_a_member_without_manage_channels_is_refused_feed_add(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/new.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path):
        reply = await fake_discord.slash(
            f"/news feed add url={url}", guild_id=GUILD, channel_id=CHANNEL
        )
        assert "needs the Manage Channels permission" in reply.text
        assert reply.ephemeral
        assert not feed_server.hits("/new.rss")  # refused before anything was fetched


async def test_a_429_on_message_create_is_waited_out_and_nothing_is_lost(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        await fake_discord.slash(
            "/news subscribe query=NATO, Japan", guild_id=GUILD, channel_id=CHANNEL
        )
        await eventually(lambda: feed_server.hits("/world.rss"))
        fake_discord.fail("POST", rf"/channels/{CHANNEL}/messages", 429, retry_after=0.3, times=2)
        feed_server.serve(
            "/world.rss",
            rss(LAVROV, ("snow-2", "More snow in Japan", "Flights cancelled again."), SNOW),
        )
        messages = await fake_discord.wait_for_messages(CHANNEL, 2)
        titles = sorted(m["embeds"][0]["title"] for m in messages)
        assert titles == sorted([LAVROV[1], "More snow in Japan"])
        attempts = fake_discord.calls("POST", rf"/channels/{CHANNEL}/messages")
        assert len(attempts) == 4  # two 429s, then each alert once
        assert [m["nonce"] for m in messages] == [a.body["nonce"] for a in attempts[2:]]
        assert attempts[1].at - attempts[0].at >= 0.25  # Retry-After (0.3 s) was honoured


async def test_the_unsubscribe_button_works_after_a_restart(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        await eventually(lambda: feed_server.hits("/world.rss"))
        feed_server.serve("/world.rss", rss(LAVROV, SNOW))
        [alert] = await fake_discord.wait_for_messages(CHANNEL, 1)

    async with running_bot(fake_discord, tmp_path, [url]):  # a new process, same database
        [button] = alert["components"][0]["components"]
        reply = await fake_discord.click(alert, button["custom_id"], guild_id=GUILD)
        assert reply.text == "Unsubscribed #1: NATO"
        listing = await fake_discord.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)
        assert "No subscriptions in this channel" in listing.text


async def test_a_button_posted_before_alerts_carried_their_key_still_unsubscribes(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        old = fake_discord.bot_message(CHANNEL, "newsbot:unsub:1")
        reply = await fake_discord.click(old, "newsbot:unsub:1", guild_id=GUILD)
        assert reply.text == "Unsubscribed #1: NATO"
        listing = await fake_discord.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)
        assert "No subscriptions in this channel" in listing.text


async def test_a_button_cannot_remove_another_channels_subscription(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        elsewhere = fake_discord.bot_message(OTHER_CHANNEL, "newsbot:unsub:1")
        reply = await fake_discord.click(elsewhere, "newsbot:unsub:1", guild_id=GUILD)
        assert "No subscription #1 in this channel" in reply.text
        listing = await fake_discord.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)
        assert "#1  NATO" in listing.text


async def test_unsubscribe_offers_the_channels_subscriptions_as_you_type(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        await fake_discord.slash(
            "/news subscribe query=NATO, Ukraine, Russia", guild_id=GUILD, channel_id=CHANNEL
        )
        typed = await fake_discord.slash(
            "/news unsubscribe subscription=uk",
            guild_id=GUILD,
            channel_id=CHANNEL,
            focused="subscription",
        )
        assert typed.choices == [{"name": "#2 Ukraine", "value": "2"}]
        reply = await fake_discord.slash(
            "/news unsubscribe subscription=2", guild_id=GUILD, channel_id=CHANNEL
        )
        assert reply.text == "Unsubscribed #2: Ukraine"


async def test_removed_from_a_server_pauses_its_subscriptions_and_rejoining_resumes(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        await fake_discord.remove_from_guild(GUILD)
        store = await open_sqlite(str(tmp_path / "bot.db"))
        try:
            await eventually(lambda: paused_reasons(store))
            [reason] = await paused_reasons(store)
            assert "removed from this Discord server" in reason

            await fake_discord.rejoin_guild(GUILD, CHANNEL)
            await eventually(lambda: no_pauses(store))
        finally:
            await store.close()
        listing = await fake_discord.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)
        assert "#1  NATO" in listing.text
        assert "paused" not in listing.text


async def test_a_missing_permission_pauses_the_channel_with_the_reason_in_list(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        await eventually(lambda: feed_server.hits("/world.rss"))
        fake_discord.fail("POST", rf"/channels/{CHANNEL}/messages", 403)
        feed_server.serve("/world.rss", rss(LAVROV, SNOW))
        store = await open_sqlite(str(tmp_path / "bot.db"))
        try:
            await eventually(lambda: paused_reasons(store))  # delivery paused the channel
        finally:
            await store.close()

        cannot_post = MEMBER_PERMISSIONS & ~SEND_MESSAGES
        listing = await fake_discord.slash(
            "/news list", guild_id=GUILD, channel_id=CHANNEL, app_permissions=cannot_post
        )
        assert "paused" in listing.text
        assert "lacks permission" in listing.text
        assert "Send Messages" in listing.text

        # The permission is given back: the next command notices and the kept alert goes out.
        await fake_discord.slash("/news list", guild_id=GUILD, channel_id=CHANNEL)
        [message] = await fake_discord.wait_for_messages(CHANNEL, 1)
        assert message["embeds"][0]["title"] == LAVROV[1]


async def test_subscribers_who_ask_are_mentioned_and_nobody_else(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        await fake_discord.slash(
            "/news subscribe query=NATO mention=true",
            guild_id=GUILD,
            channel_id=CHANNEL,
            user_id="700000000000000042",
        )
        await eventually(lambda: feed_server.hits("/world.rss"))
        everyone = ("ping-1", "@everyone NATO summit <@&5> opens", "@here read this")
        feed_server.serve("/world.rss", rss(everyone, SNOW))
        [message] = await fake_discord.wait_for_messages(CHANNEL, 1)
        assert message["content"] == "<@700000000000000042>"
        assert message["allowed_mentions"]["parse"] == []  # no @everyone, @here or roles
        assert message["allowed_mentions"]["users"] == [700000000000000042]


async def paused_reasons(store: SqliteStore) -> list[str]:
    subs = await store.all_subscriptions()
    return [s.paused_reason for s in subs if s.paused_reason]


async def no_pauses(store: SqliteStore) -> bool:
    return not await paused_reasons(store)


async def test_after_a_dropped_gateway_connection_the_bot_reconnects_and_answers(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    async with running_bot(fake_discord, tmp_path):
        sessions = len(fake_discord.identifies)
        await fake_discord.disconnect_all()
        await fake_discord.until(lambda: fake_discord.connections > sessions)
        reply = await fake_discord.slash(
            "/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL
        )
        assert "Subscribed #1: NATO" in reply.text
