"""`/news feed export` on Discord (an attachment to the reply) and Slack (a file uploaded
into the channel through files.getUploadURLExternal and files.completeUploadExternal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import listparser

from bot.core.models import Channel
from bot.store import open_store
from tests.support.discord_bot import CHANNEL, GUILD, running_bot
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import TEAM, FakeSlack
from tests.support.slack_workspace import ALICE, NEWS, Workspace

OPERATOR = "https://wire.example/rss"
MINE = "https://blog.example/feed"
THEIRS = "https://elsewhere.example/feed"


async def seed(db: str, mine: Channel) -> None:
    store = await open_store(db)
    try:
        await store.import_feed(OPERATOR, title="Wire", operator=True, channels=[], added_by="op")
        await store.attach_feed(MINE, mine, added_by="ana", title="Blog")
        await store.attach_feed(THEIRS, Channel(mine.platform, mine.workspace, "C0"), added_by="b")
    finally:
        await store.close()


def feeds_in(document: bytes) -> dict[str, list[list[str]]]:
    parsed = listparser.parse(document)
    assert not parsed.bozo
    return {f.url: f.categories for f in parsed.feeds}


async def test_discord_replies_with_an_opml_attachment(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    here = Channel("discord", GUILD, CHANNEL)
    await seed(f"sqlite:///{tmp_path / 'bot.db'}", here)
    async with running_bot(fake_discord, tmp_path):
        reply = await fake_discord.slash("/news feed export", guild_id=GUILD, channel_id=CHANNEL)
    assert reply.text.startswith("2 feed(s) this channel gets stories from, as OPML")
    assert reply.ephemeral
    [(name, content)] = reply.files
    assert name == "newsbot-feeds.opml"
    found = feeds_in(content)
    assert set(found) == {OPERATOR, MINE}  # not another channel's feed
    assert ["newsbot-channel", "discord", GUILD, CHANNEL] in found[MINE]


async def export_in_news(fake_slack: FakeSlack, tmp_path: Path) -> dict[str, Any]:
    """`/news feed export` typed in NEWS, whose feeds are seeded: the bot's reply."""
    await seed(f"sqlite:///{tmp_path / 'bot.db'}", Channel("slack", TEAM, NEWS))
    workspace = await Workspace.start(fake_slack, tmp_path)
    try:
        return await workspace.say("/news feed export")
    finally:
        await workspace.close()


async def test_slack_uploads_the_opml_file_into_the_channel(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    reply = await export_in_news(fake_slack, tmp_path)
    assert reply["text"].startswith("2 feed(s) this channel gets stories from, as OPML")
    [upload] = fake_slack.files
    assert (upload.channel, upload.filename, upload.title) == (
        NEWS,
        "newsbot-feeds.opml",
        "newsbot-feeds.opml",
    )
    assert upload.content is not None
    assert set(feeds_in(upload.content)) == {OPERATOR, MINE}
    assert [c.method for c in fake_slack.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


async def test_slack_says_why_when_the_file_cannot_be_shared(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.scopes.discard("files:write")  # an app installed before the scope was asked
    reply = await export_in_news(fake_slack, tmp_path)
    assert reply["text"].endswith(
        "The file could not be shared here: the Slack app lacks a scope; reinstall it from"
        " manifest.yml"
    )
    assert fake_slack.files == []


async def test_slack_export_in_the_bots_dm_uploads_into_that_dm(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    await seed(f"sqlite:///{tmp_path / 'bot.db'}", Channel("slack", TEAM, NEWS))
    workspace = await Workspace.start(fake_slack, tmp_path)
    try:
        # Alice opened the app's Messages tab: her DM with the bot exists.
        dm = "D00000042"
        fake_slack.ims[ALICE] = dm
        fake_slack.add_channel(dm, ALICE)
        reply = await workspace.say("/news feed export", channel=dm)
    finally:
        await workspace.close()
    # The person's own feeds: the operator's (a DM adds none from chat).
    assert reply["text"].startswith("1 feed(s) this channel gets stories from, as OPML")
    [upload] = fake_slack.files
    assert upload.channel == dm
    assert upload.content is not None
    assert set(feeds_in(upload.content)) == {OPERATOR}
