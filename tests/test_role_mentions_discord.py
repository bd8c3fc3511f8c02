"""Role mentions on Discord: `role:@Analysts` by a manager pings exactly that role."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.discord_bot import CHANNEL, GUILD, eventually, running_bot
from tests.support.fake_discord import MANAGER_PERMISSIONS, FakeDiscord
from tests.support.feed_server import FeedServer, rss
from tests.support.stories import LAVROV, MOSCOW, SNOW


async def test_a_role_mention_pings_that_role_and_no_other(
    tmp_path: Path,
    fake_discord: FakeDiscord,
    feed_server: FeedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    analysts = fake_discord.add_role(GUILD, "Analysts")
    others = fake_discord.add_role(GUILD, "Everyone else")
    url = feed_server.serve("/world.rss", rss(SNOW))
    async with running_bot(fake_discord, tmp_path, [url]):
        refused = await fake_discord.slash(
            f"/news subscribe query=NATO role={analysts}", guild_id=GUILD, channel_id=CHANNEL
        )
        assert refused.text.startswith("Mentioning a role or user group needs the Manage")
        reply = await fake_discord.slash(
            f"/news subscribe query=NATO role={analysts}",
            guild_id=GUILD,
            channel_id=CHANNEL,
            permissions=MANAGER_PERMISSIONS,
        )
        assert reply.text == "Subscribed #1: NATO"
        await eventually(lambda: feed_server.hits("/world.rss"))
        feed_server.serve("/world.rss", rss(LAVROV, SNOW))
        [message] = await fake_discord.wait_for_messages(CHANNEL, 1)
        assert message["content"] == f"<@&{analysts}>"
        allowed = message["allowed_mentions"]
        assert [str(r) for r in allowed["roles"]] == [analysts]
        assert "roles" not in allowed["parse"]
        assert "everyone" not in allowed["parse"]
        assert message["mention_roles"] == [analysts]  # pinged: that role, and no other
        assert others not in message["mention_roles"]

        # The role is deleted: the next alert goes out without it, and the log says so once.
        await fake_discord.delete_role(GUILD, analysts)
        feed_server.serve("/world.rss", rss(MOSCOW, LAVROV, SNOW))
        [_, later] = await fake_discord.wait_for_messages(CHANNEL, 2)
        assert later["embeds"][0]["title"] == MOSCOW[1]
        assert later.get("content") in ("", None)
        assert later["mention_roles"] == []
    dropped = [r for r in caplog.records if r.getMessage().startswith("role mention dropped")]
    assert [getattr(r, "role_id", None) for r in dropped] == [analysts]
