"""Personal alerts on Discord: `dm:True`, a DM channel opened by the bot, 50007 pauses."""

from __future__ import annotations

from pathlib import Path

from bot.core.personal import DISCORD_DM_WORKSPACE, personal_channel
from bot.store import open_sqlite
from tests.support.discord_bot import CHANNEL, GUILD, eventually, running_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer, rss
from tests.support.stories import LAVROV, SNOW

ANA = "700000000000000001"


async def test_a_personal_subscription_is_delivered_by_direct_message(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        reply = await fake_discord.slash(
            "/news subscribe query=NATO dm=true", guild_id=GUILD, channel_id=CHANNEL, user_id=ANA
        )
        assert reply.text == "Subscribed #1: NATO (to you, by direct message)"
        assert reply.ephemeral
        await eventually(lambda: feed_server.hits("/world.rss"))
        feed_server.serve("/world.rss", rss(LAVROV, SNOW))
        await fake_discord.until(lambda: ANA in fake_discord.dm_channels)
        dm = fake_discord.dm_channels[ANA]
        [message] = await fake_discord.wait_for_messages(dm, 1)
        assert message["embeds"][0]["title"] == LAVROV[1]
        assert message["allowed_mentions"]["parse"] == []
        assert fake_discord.posted(CHANNEL) == []  # the channel it was made in gets nothing
        [opened] = fake_discord.calls("POST", r"/users/@me/channels$")
        assert opened.body == {"recipient_id": int(ANA)}

        # In the DM itself: the person's own list, and their own quiet hours.
        listing = await fake_discord.slash("/news list", guild_id=None, user_id=ANA)
        assert listing.text.startswith("Your personal subscriptions (1):\n#1  NATO")
        quiet = await fake_discord.slash(
            "/news quiet period=22:00-07:00 UTC", guild_id=None, user_id=ANA
        )
        assert quiet.text.startswith("Quiet hours 22:00-07:00 UTC")
        # The unsubscribe button on the DM alert works there.
        [button] = message["components"][0]["components"]
        pressed = await fake_discord.click(message, button["custom_id"], guild_id=None, user_id=ANA)
        assert pressed.text == "Unsubscribed #1: NATO"


async def test_cannot_send_messages_to_this_user_pauses_until_their_next_command(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(SNOW))
    mine = personal_channel("discord", DISCORD_DM_WORKSPACE, ANA)
    async with running_bot(fake_discord, tmp_path, [url]):
        await fake_discord.slash(
            "/news subscribe query=NATO dm=true", guild_id=GUILD, channel_id=CHANNEL, user_id=ANA
        )
        await eventually(lambda: feed_server.hits("/world.rss"))
        fake_discord.close_dms(ANA)
        feed_server.serve("/world.rss", rss(LAVROV, SNOW))
        await fake_discord.until(
            lambda: any(body.get("code") == 50007 for _, body in fake_discord.refused)
        )
        store = await open_sqlite(str(tmp_path / "bot.db"))
        try:

            async def paused() -> bool:
                subs = await store.list_subscriptions(mine)
                return bool(subs and subs[0].paused_reason)

            await eventually(paused)
            [sub] = await store.list_subscriptions(mine)
            assert sub.paused_reason is not None
            assert "Cannot send messages to this user" in sub.paused_reason
            status = await store.delivery_status(mine)
            assert (status.paused, status.pending) == (1, 0)  # kept, not dropped
        finally:
            await store.close()
        dm = fake_discord.dm_channels[ANA]
        assert fake_discord.posted(dm) == []

        # They open their DMs again; their next command, anywhere, resumes them.
        fake_discord.dms_closed.discard(ANA)
        reply = await fake_discord.slash(
            "/news help", guild_id=GUILD, channel_id=CHANNEL, user_id=ANA
        )
        assert reply.text.startswith("Your direct messages were paused")
        [message] = await fake_discord.wait_for_messages(dm, 1)
        assert message["embeds"][0]["title"] == LAVROV[1]
