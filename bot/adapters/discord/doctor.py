"""`newsbot doctor` for Discord: what the bot's token can see, read without changing anything.

The token (and the bot's name), the gateway intents against what the application has
switched on, the servers the bot is in, each channel that holds subscriptions and the
bot's permissions there, the `/news` command registration and the invite URL. Only GET
requests, through discord.py's own HTTP client (rate limits waited out as in the bot).

The bot's permissions in a channel are computed as Discord does
(https://discord.com/developers/docs/topics/permissions, "Permission Overwrites"): the
server owner has all; else @everyone's and the bot's roles' permissions together, all of
them with Administrator; then the channel's overwrites for @everyone, for the bot's roles
(denies, then allows, of all of them together) and for the bot itself, in that order.
Without View Channel nothing else in the channel counts; without Send Messages neither
does Embed Links.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import discord
from discord.http import HTTPClient

from bot.adapters.discord.adapter import configure_endpoints, intents, invite_url
from bot.config import Settings
from bot.core.checks import Check, fail, info, ok, warn
from bot.core.models import Channel

# What the bot needs in a channel with subscriptions, in the words Discord's settings use.
NEEDED = (
    ("View Channel", discord.Permissions(view_channel=True).value),
    ("Send Messages", discord.Permissions(send_messages=True).value),
    ("Embed Links", discord.Permissions(embed_links=True).value),
    ("Read Message History", discord.Permissions(read_message_history=True).value),
)
ADMINISTRATOR = discord.Permissions(administrator=True).value
ALL = discord.Permissions.all().value
VIEW = discord.Permissions(view_channel=True).value
SEND = discord.Permissions(send_messages=True).value
# Needing Send Messages to mean anything: without it these are denied too.
NEEDS_SEND = discord.Permissions(embed_links=True, attach_files=True, mention_everyone=True).value
# Privileged intents and the application flags that switch each on (full or limited).
PRIVILEGED: dict[str, tuple[str, int, int]] = {
    "members": ("Server Members Intent", 1 << 15, 1 << 14),
    "presences": ("Presence Intent", 1 << 13, 1 << 12),
    "message_content": ("Message Content Intent", 1 << 19, 1 << 18),
}
COMMAND = "news"
GUILD_PAGE = 200  # the most GET /users/@me/guilds answers at once
SHOWN_GUILDS = 10  # servers named on the line; the rest are counted
HOW_TO_FIX_PERMISSIONS = (
    "in the channel's settings -> Permissions, allow {names} for the newsbot role "
    "(or re-invite with the invite URL below)"
)


def base_permissions(
    guild: Mapping[str, Any],
    roles: Sequence[Mapping[str, Any]],
    member_roles: Iterable[str],
    me: str,
) -> int:
    """The bot's server-wide permissions: @everyone's and its roles', or all."""
    if str(guild.get("owner_id")) == me:
        return ALL
    by_id = {str(r["id"]): int(r["permissions"]) for r in roles}
    value = by_id.get(str(guild["id"]), 0)
    for role in member_roles:
        value |= by_id.get(str(role), 0)
    return ALL if value & ADMINISTRATOR else value


def channel_permissions(
    base: int,
    guild_id: str,
    overwrites: Sequence[Mapping[str, Any]],
    member_roles: Iterable[str],
    me: str,
) -> int:
    """`base` after the channel's overwrites, then the implicit denials."""
    if base & ADMINISTRATOR:
        return ALL
    by_target = {str(o["id"]): o for o in overwrites}
    value = base
    everyone = by_target.get(guild_id)
    if everyone is not None:
        value = (value & ~int(everyone["deny"])) | int(everyone["allow"])
    allow = deny = 0
    for role in member_roles:
        found = by_target.get(str(role))
        if found is not None and int(found.get("type", 0)) == 0:
            allow |= int(found["allow"])
            deny |= int(found["deny"])
    value = (value & ~deny) | allow
    mine = by_target.get(me)
    if mine is not None and int(mine.get("type", 1)) == 1:
        value = (value & ~int(mine["deny"])) | int(mine["allow"])
    if not value & VIEW:
        return 0
    if not value & SEND:
        value &= ~NEEDS_SEND
    return value


class _Api:
    """The few GETs the checks make, each answering (payload, None) or (None, why not)."""

    def __init__(self, http: HTTPClient) -> None:
        self.http = http

    async def get(self, call: Any) -> tuple[Any, str | None]:
        try:
            return await call, None
        except discord.HTTPException as exc:
            return None, f"{exc.status} {exc.text or exc.response.reason}".strip()


async def discord_checks(settings: Settings, channels: Sequence[Channel]) -> list[Check]:
    """Every Discord check, in order; `channels`: the Discord channels holding subscriptions."""
    assert settings.discord_token is not None
    configure_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    http = HTTPClient(asyncio.get_running_loop())
    try:
        return await _checks(http, settings, channels)
    finally:
        await http.close()
        configure_endpoints(None, None)


async def _checks(http: HTTPClient, settings: Settings, channels: Sequence[Channel]) -> list[Check]:
    assert settings.discord_token is not None
    try:
        me = await http.static_login(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        return [
            fail(
                "Discord token",
                "Discord refused DISCORD_TOKEN (401 Unauthorized)",
                "Developer Portal -> your application -> Bot -> Reset Token; set DISCORD_TOKEN",
            )
        ]
    except (discord.HTTPException, OSError) as exc:
        return [
            fail(
                "Discord token",
                f"could not reach Discord: {exc}",
                "check the network (and DISCORD_API_BASE if set)",
            )
        ]
    me_id = str(me["id"])
    found = [ok("Discord token", f"valid: the bot is {me['username']} (id {me_id})")]
    api = _Api(http)
    app, problem = await api.get(http.application_info())
    app_id = str(app["id"]) if app else me_id
    found.append(_intents_check(app, problem))
    guilds, problem = await _all_guilds(api, http)
    joined: set[str] | None = {str(g["id"]) for g in guilds}
    if problem is not None:
        found.append(fail("Discord servers", f"could not list them: {problem}", "retry later"))
        joined = None  # unknown: no channel is said to be in a server the bot left
    elif not guilds:
        found.append(
            fail("Discord servers", "the bot is in no server", "open the invite URL below")
        )
    else:
        names = ", ".join(f"{g['name']} ({g['id']})" for g in guilds[:SHOWN_GUILDS])
        more = f" and {len(guilds) - SHOWN_GUILDS} more" if len(guilds) > SHOWN_GUILDS else ""
        found.append(ok("Discord servers", f"{len(guilds)}: {names}{more}"))
    found += await _channel_checks(api, http, channels, joined, me_id)
    found.append(await _commands_check(api, http, app_id, settings.discord_guild_id))
    found.append(info("Discord invite URL", invite_url(int(app_id))))
    return found


async def _all_guilds(api: _Api, http: HTTPClient) -> tuple[list[Any], str | None]:
    """Every server the bot is in: Discord lists them 200 at a time, oldest first."""
    found: list[Any] = []
    while True:
        after = found[-1]["id"] if found else None
        page, problem = await api.get(http.get_guilds(GUILD_PAGE, after=after))
        if page is None:
            return found, problem
        found.extend(page)
        if len(page) < GUILD_PAGE:
            return found, None


def _intents_check(app: Mapping[str, Any] | None, problem: str | None) -> Check:
    wanted = [name for name, on in intents() if on]
    privileged = [name for name in wanted if name in PRIVILEGED]
    if not privileged:
        return ok("Discord intents", f"{', '.join(wanted)} only; no privileged intent needed")
    if app is None:
        return warn("Discord intents", f"could not read the application: {problem}")
    flags = int(app.get("flags") or 0)
    off = [
        PRIVILEGED[n][0] for n in privileged if not flags & (PRIVILEGED[n][1] | PRIVILEGED[n][2])
    ]
    if off:
        return fail(
            "Discord intents",
            f"needed but off: {', '.join(off)}",
            "Developer Portal -> Bot -> Privileged Gateway Intents: switch them on",
        )
    return ok("Discord intents", f"{', '.join(wanted)}; privileged ones switched on")


async def _channel_checks(
    api: _Api, http: HTTPClient, channels: Sequence[Channel], joined: set[str] | None, me: str
) -> list[Check]:
    if not channels:
        return [info("Discord channels", "no channel holds subscriptions yet")]
    found: list[Check] = []
    guild_cache: dict[str, tuple[Any, Any, Any, str | None]] = {}
    for channel in sorted(set(channels), key=str):
        name = f"Discord channel {channel.channel} (server {channel.workspace})"
        if joined is not None and channel.workspace not in joined:
            found.append(
                fail(
                    name,
                    "the bot is not in this server (removed, or the server was deleted)",
                    "invite it back with the invite URL below, or unsubscribe there",
                )
            )
            continue
        data, problem = await api.get(http.get_channel(channel.channel))
        if data is None:
            found.append(_unreachable(name, problem or "?"))
            continue
        if channel.workspace not in guild_cache:
            guild, p1 = await api.get(http.get_guild(channel.workspace))
            roles, p2 = await api.get(http.get_roles(channel.workspace))
            member, p3 = await api.get(http.get_member(channel.workspace, me))
            guild_cache[channel.workspace] = (guild, roles, member, p1 or p2 or p3)
        guild, roles, member, problem = guild_cache[channel.workspace]
        if problem is not None:
            found.append(warn(name, f"could not read the server's roles: {problem}"))
            continue
        member_roles = [str(r) for r in member.get("roles", [])]
        base = base_permissions(guild, roles, member_roles, me)
        value = channel_permissions(
            base, channel.workspace, data.get("permission_overwrites") or [], member_roles, me
        )
        label = f"Discord channel #{data.get('name', channel.channel)} ({channel.channel})"
        missing = [title for title, bit in NEEDED if not value & bit]
        if missing:
            found.append(
                fail(
                    label,
                    "the bot lacks " + ", ".join(missing),
                    HOW_TO_FIX_PERMISSIONS.format(names=", ".join(missing)),
                )
            )
        else:
            found.append(ok(label, "View, Send, Embed Links and Read Message History allowed"))
    return found


def _unreachable(name: str, problem: str) -> Check:
    if problem.startswith("404"):
        return fail(name, "the channel no longer exists", "unsubscribe there (/news list)")
    if problem.startswith("403"):
        return fail(
            name,
            "the bot cannot see this channel (no View Channel)",
            HOW_TO_FIX_PERMISSIONS.format(names="View Channel"),
        )
    return warn(name, f"could not read the channel: {problem}")


async def _commands_check(api: _Api, http: HTTPClient, app_id: str, guild_id: int | None) -> Check:
    if guild_id is not None:
        where = f"in server {guild_id} (DISCORD_GUILD_ID)"
        commands, problem = await api.get(http.get_guild_commands(app_id, guild_id))
    else:
        where = "globally"
        commands, problem = await api.get(http.get_global_commands(app_id))
    if commands is None:
        return warn("Discord commands", f"could not list them: {problem}")
    if any(c.get("name") == COMMAND for c in commands):
        return ok("Discord commands", f"/{COMMAND} registered {where}")
    return fail(
        "Discord commands",
        f"/{COMMAND} is not registered {where}",
        "start newsbot run once: it registers the commands at start",
    )
