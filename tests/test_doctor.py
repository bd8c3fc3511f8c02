"""`newsbot doctor` against the fake Discord and Slack and a local feed server, each
failure produced on purpose: one line per check, what to do, exit 1 when any failed."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from bot.adapters.discord.doctor import ALL, base_permissions, channel_permissions
from bot.adapters.slack.doctor import REQUIRED_SCOPES
from bot.cli.doctor import run_doctor
from bot.config import load_settings
from bot.core.models import Channel
from bot.core.personal import DISCORD_DM_WORKSPACE, personal_channel
from bot.store import open_store
from tests.support.discord_bot import CHANNEL, GUILD, OTHER_CHANNEL, eventually, running_bot
from tests.support.fake_discord import (
    APP_ID,
    EMBED_LINKS,
    MANAGE_CHANNELS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
)
from tests.support.fake_slack import APP_TOKEN, BOT_TOKEN, MANIFEST_SCOPES, TEAM, FakeSlack
from tests.support.feed_server import FeedServer, rss
from tests.support.process import newsbot_command

GONE_CHANNEL = "810000000000000003"
HIDDEN_CHANNEL = "810000000000000004"
LEFT_GUILD = "800000000000000009"


async def subscribe(db: str, *channels: Channel) -> None:
    store = await open_store(db)
    try:
        for channel in channels:
            await store.add_subscriptions(channel, ["NATO"], "ana")
    finally:
        await store.close()


async def doctor(**settings: object) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = await run_doctor(load_settings(**settings), out)
    return code, out.getvalue().splitlines()


def line(lines: list[str], start: str) -> str:
    found = [x for x in lines if x.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


def discord(channel: str, guild: str = GUILD) -> Channel:
    return Channel("discord", guild, channel)


async def test_discord_channel_without_embed_links_and_other_failures(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake_discord.add_guild(GUILD, CHANNEL, OTHER_CHANNEL, GONE_CHANNEL, HIDDEN_CHANNEL)
    await fake_discord.delete_channel(GUILD, GONE_CHANNEL, announce=False)
    # A moderator took Embed Links from @everyone in one channel (the bot's role has it,
    # but @everyone's overwrite comes after the roles' permissions), and hid another.
    fake_discord.set_overwrite(OTHER_CHANNEL, GUILD, deny=EMBED_LINKS)
    fake_discord.set_overwrite(HIDDEN_CHANNEL, fake_discord.bot_role(GUILD), deny=VIEW_CHANNEL)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    await subscribe(
        db,
        discord(CHANNEL),
        discord(OTHER_CHANNEL),
        discord(GONE_CHANNEL),
        discord(HIDDEN_CHANNEL),
        discord("820000000000000001", LEFT_GUILD),
        personal_channel("discord", DISCORD_DM_WORKSPACE, "700000000000000001"),
    )
    env = {k.lower(): v for k, v in fake_discord.env().items()}

    code, lines = await doctor(database_url=db, **env)
    assert code == 1
    assert line(lines, "[ok]   Discord token:") == (
        f"[ok]   Discord token: valid: the bot is newsbot (id {APP_ID})"
    )
    assert line(lines, "[ok]   Discord intents:").endswith(
        "guilds only; no privileged intent needed"
    )
    assert (
        line(lines, "[ok]   Discord servers:") == f"[ok]   Discord servers: 1: Newsroom ({GUILD})"
    )
    assert line(lines, f"[ok]   Discord channel #news-{CHANNEL[-4:]}").endswith(
        "View, Send, Embed Links and Read Message History allowed"
    )
    embed = line(lines, f"[FAIL] Discord channel #news-{OTHER_CHANNEL[-4:]} ({OTHER_CHANNEL})")
    assert ": the bot lacks Embed Links -> " in embed
    assert "allow Embed Links for the newsbot role" in embed
    hidden = line(lines, f"[FAIL] Discord channel {HIDDEN_CHANNEL} (server {GUILD})")
    assert "cannot see this channel (no View Channel)" in hidden
    gone = line(lines, f"[FAIL] Discord channel {GONE_CHANNEL} (server {GUILD})")
    assert "no longer exists" in gone
    left = line(lines, f"[FAIL] Discord channel 820000000000000001 (server {LEFT_GUILD})")
    assert "the bot is not in this server" in left
    assert line(lines, "[FAIL] Discord commands:").startswith(
        "[FAIL] Discord commands: /news is not registered globally -> start newsbot run once"
    )
    assert line(lines, "[info] Discord personal subscriptions:").endswith(
        "1 people get alerts by direct message (not checked ahead)"
    )
    assert not [x for x in lines if "dm:" in x]  # a person's DM is not a channel to check
    invite = line(lines, "[info] Discord invite URL:")
    assert f"client_id={APP_ID}" in invite
    assert "permissions=84992" in invite
    # Read only: nothing but GETs reached Discord.
    assert {r.method for r in fake_discord.requests} == {"GET"}
    assert fake_discord.identifies == []  # and no gateway session

    # The commands registered (as newsbot run does at start) and the channels fixed.
    async with running_bot(fake_discord, tmp_path):
        pass
    fake_discord.set_overwrite(OTHER_CHANNEL, GUILD)
    code, lines = await doctor(database_url=db, **env)
    assert (
        line(lines, "[ok]   Discord commands:")
        == "[ok]   Discord commands: /news registered globally"
    )
    assert line(lines, f"[ok]   Discord channel #news-{OTHER_CHANNEL[-4:]}")


async def test_what_doctor_flags_is_what_discord_refuses(
    fake_discord: FakeDiscord, tmp_path: Path, feed_server: FeedServer
) -> None:
    fake_discord.set_overwrite(OTHER_CHANNEL, GUILD, deny=SEND_MESSAGES)
    feed = feed_server.serve("/wire.rss", rss(("n1", "NATO summit opens", "Leaders meet.")))
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    await subscribe(db, discord(OTHER_CHANNEL))
    env = {k.lower(): v for k, v in fake_discord.env().items()}
    code, lines = await doctor(database_url=db, **env)
    assert code == 1
    flagged = line(lines, f"[FAIL] Discord channel #news-{OTHER_CHANNEL[-4:]}")
    # Without Send Messages, Embed Links counts for nothing either (as in Discord).
    assert ": the bot lacks Send Messages, Embed Links -> " in flagged

    async def paused() -> bool:
        store = await open_store(db)
        try:
            [sub] = await store.list_subscriptions(discord(OTHER_CHANNEL))
        finally:
            await store.close()
        return sub.paused_reason is not None and "lacks permission" in sub.paused_reason

    async with running_bot(fake_discord, tmp_path, [feed], newsbot_backfill=1):
        await eventually(paused)
    assert fake_discord.posted(OTHER_CHANNEL) == []
    refused = [body for r, body in fake_discord.refused if r.path.endswith("/messages")]
    assert refused
    assert refused[0] == {"message": "Missing Permissions", "code": 50013}


async def test_every_server_is_listed_past_discords_page_of_200(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    for n in range(2, 206):  # 205 servers in all, with the fixture's
        fake_discord.add_guild(f"8000000000000{n:05d}", f"8100000000000{n:05d}", name=f"S{n}")
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    await subscribe(db, discord("810000000000000205", "800000000000000205"))
    env = {k.lower(): v for k, v in fake_discord.env().items()}
    _, lines = await doctor(database_url=db, **env)
    assert line(lines, "[ok]   Discord servers:").endswith(" and 195 more")
    assert line(lines, "[ok]   Discord servers:").startswith("[ok]   Discord servers: 205: ")
    assert len(fake_discord.calls("GET", r"^/users/@me/guilds$")) == 2
    assert line(lines, "[ok]   Discord channel #news-0205 (810000000000000205)")


async def test_a_refused_discord_token_is_one_failed_line(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    env = {k.lower(): v for k, v in fake_discord.env(token="reset-since").items()}
    code, lines = await doctor(database_url=f"sqlite:///{tmp_path / 'bot.db'}", **env)
    assert code == 1
    assert line(lines, "[FAIL] Discord token:") == (
        "[FAIL] Discord token: Discord refused DISCORD_TOKEN (401 Unauthorized) -> "
        "Developer Portal -> your application -> Bot -> Reset Token; set DISCORD_TOKEN"
    )
    assert not [x for x in lines if x.startswith(("[ok]   Discord", "[FAIL] Discord channel"))]
    assert "reset-since" not in "\n".join(lines)


def slack_settings(fake: FakeSlack, db: str, **more: object) -> dict[str, object]:
    return {
        "database_url": db,
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": APP_TOKEN,
        "slack_api_url": fake.api_url,
        **more,
    }


async def test_slack_missing_scope_channels_and_app_token(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.scopes = set(MANIFEST_SCOPES) - {"files:write"}  # installed before it was asked
    fake_slack.add_channel("CNEWS")
    fake_slack.add_channel("COUT", "UALICE", bot=False)
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    await subscribe(
        db,
        Channel("slack", TEAM, "CNEWS"),
        Channel("slack", TEAM, "COUT"),
        Channel("slack", TEAM, "CGONE"),
        Channel("slack", "T0OTHER", "CELSE"),
    )
    code, lines = await doctor(**slack_settings(fake_slack, db))
    assert code == 1
    assert line(lines, "[ok]   Slack token:") == (
        f"[ok]   Slack token: valid: workspace Test Team ({TEAM}), bot newsbot (UBOT)"
    )
    scopes = line(lines, "[FAIL] Slack scopes:")
    assert scopes.startswith("[FAIL] Slack scopes: missing files:write -> add them under OAuth")
    assert (
        line(lines, "[ok]   Slack mode:")
        == "[ok]   Slack mode: Socket Mode: the app token is valid"
    )
    assert line(lines, "[ok]   Slack channel #news-news (CNEWS):").endswith("the bot is a member")
    assert line(lines, "[FAIL] Slack channel #news-cout (COUT):").endswith(
        "the bot is not a member -> type /invite @newsbot in the channel"
    )
    assert "not found: deleted, or private" in line(lines, "[FAIL] Slack channel CGONE:")
    assert "workspace T0OTHER" in line(lines, "[warn] Slack channel CELSE:")
    assert {c.method for c in fake_slack.calls} == {
        "auth.test",
        "apps.connections.open",
        "conversations.info",
    }

    fake_slack.scopes = set(MANIFEST_SCOPES)
    code, lines = await doctor(**slack_settings(fake_slack, db, slack_app_token="xapp-revoked"))
    assert line(lines, "[ok]   Slack scopes:") == (
        f"[ok]   Slack scopes: exactly what manifest.yml asks for ({len(MANIFEST_SCOPES)})"
    )
    assert line(lines, "[FAIL] Slack mode:").startswith(
        "[FAIL] Slack mode: Slack refused SLACK_APP_TOKEN (invalid_auth) -> Basic Information"
    )


async def test_a_refused_slack_token(fake_slack: FakeSlack, tmp_path: Path) -> None:
    fake_slack.token_error = "token_revoked"
    code, lines = await doctor(**slack_settings(fake_slack, f"sqlite:///{tmp_path / 'b.db'}"))
    assert code == 1
    assert line(lines, "[FAIL] Slack token:").startswith(
        "[FAIL] Slack token: Slack refused SLACK_BOT_TOKEN (token_revoked) -> copy the Bot User"
    )


def test_the_scopes_doctor_wants_are_the_manifests() -> None:
    assert REQUIRED_SCOPES == MANIFEST_SCOPES


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_feeds_and_database_through_the_real_command(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    good = feed_server.serve("/good.rss", rss(("a1", "NATO summit", "Leaders meet.")))
    missing = feed_server.url("/missing.rss")
    page = feed_server.serve("/page", "<html><body>hello</body></html>", headers={})
    listing = tmp_path / "feeds.txt"
    listing.write_text(f"{good}\n{missing}\n{page}\n")
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    code, out, err = await _doctor_process(tmp_path, db, listing)
    lines = out.splitlines()
    assert code == 1, err
    assert lines[0] == "[ok]   settings: valid; no chat token set: the console only"
    assert line(lines, "[FAIL] database:") == (
        f"[FAIL] database: no SQLite database at {tmp_path / 'bot.db'} yet -> "
        "run newsbot migrate (or newsbot run) to create it"
    )
    assert line(lines, f"[ok]   feed {good}:") == f'[ok]   feed {good}: 200, "Test Wire" 1 item(s)'
    assert line(lines, f"[FAIL] feed {missing}:").startswith(
        f"[FAIL] feed {missing}: HTTP 404 Not Found -> check the URL"
    )
    assert "not a feed" in line(lines, f"[FAIL] feed {page}:")
    assert lines[-1] == "3 check(s) failed"
    assert not (tmp_path / "bot.db").exists()  # read only: not even created

    code, _, _ = await newsbot_command(tmp_path, db, "migrate")
    assert code == 0
    listing.write_text(f"{good}\n")
    code, out, _ = await _doctor_process(tmp_path, db, listing)
    assert (code, out.splitlines()[-1]) == (0, "all checks passed")
    assert "[ok]   database: sqlite, reachable, all " in out

    unreachable = f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres"
    code, out, _ = await _doctor_process(tmp_path, unreachable, listing)
    assert code == 1
    assert line(out.splitlines(), "[FAIL] database: cannot open PostgreSQL at 127.0.0.1:")


async def test_settings_that_do_not_load_fail_the_first_check(tmp_path: Path) -> None:
    listing = tmp_path / "feeds.txt"
    listing.write_text("")
    code, out, _ = await _doctor_process(
        tmp_path, "sqlite:///x.db", listing, NEWSBOT_POLL_INTERVAL="0"
    )
    assert code == 1
    assert out.splitlines() == [
        "[FAIL] settings: invalid setting NEWSBOT_POLL_INTERVAL: Input should be greater than"
        " or equal to 1 (got '0') -> fix that variable in the environment or .env",
        "1 check(s) failed",
    ]
    code, out, _ = await _doctor_process(tmp_path, "mysql://nope", listing)
    assert code == 1
    assert line(out.splitlines(), "[FAIL] database:").startswith(
        "[FAIL] database: DATABASE_URL: expected sqlite:///PATH"
    )


async def _doctor_process(
    tmp_path: Path, db: str, listing: Path, **env: str
) -> tuple[int, str, str]:
    return await newsbot_command(
        tmp_path, db, "doctor", env={"NEWSBOT_FEEDS_FILE": str(listing), **env}
    )


BOT_ROLE = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY


@pytest.mark.parametrize(
    ("owner", "target", "deny", "allow", "expected"),
    [
        # @everyone's overwrite applies after the roles' permissions, so it can take one.
        (False, "everyone", EMBED_LINKS, 0, BOT_ROLE & ~EMBED_LINKS),
        (True, "everyone", EMBED_LINKS, 0, -1),  # the owner is never denied anything
        (False, "me", VIEW_CHANNEL, 0, 0),  # no View Channel: nothing else counts
        (False, "me", SEND_MESSAGES, 0, VIEW_CHANNEL | READ_MESSAGE_HISTORY),  # nor Embed
        (False, "role", 0, MANAGE_CHANNELS, BOT_ROLE | MANAGE_CHANNELS),
    ],
)
def test_permission_arithmetic_follows_discords_order(
    owner: bool, target: str, deny: int, allow: int, expected: int
) -> None:
    guild = {"id": "1", "owner_id": "99" if owner else "2"}
    roles = [{"id": "1", "permissions": "0"}, {"id": "5", "permissions": str(BOT_ROLE)}]
    target_id = {"everyone": "1", "me": "99", "role": "5"}[target]
    kind = 1 if target == "me" else 0
    overwrites = [{"id": target_id, "type": kind, "allow": str(allow), "deny": str(deny)}]
    base = base_permissions(guild, roles, ["5"], "99")
    value = channel_permissions(base, "1", overwrites, ["5"], "99")
    assert value == (ALL if expected == -1 else expected)
