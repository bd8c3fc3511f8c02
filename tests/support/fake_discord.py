"""A local Discord: the REST routes and the gateway websocket that newsbot's adapter uses.

Point discord.py at it with `DISCORD_API_BASE=fake.api_base` and
`DISCORD_GATEWAY_URL=fake.gateway_url` (or `Route.BASE` / `DEFAULT_GATEWAY` in-process).
It records every request and keeps the messages each channel received, and it is as strict
as Discord, without a test arranging anything:

- message rules (fake_discord_rules.py): no empty message (50006), embed and component
  limits (400 Invalid Form Body, 50035, with the path of the field), 25 autocomplete
  choices, command names lower-case with required options first;
- interactions: the first response within 3 seconds, once; a follow-up or an edit of the
  original response before that first response is an Unknown Webhook (404, 10015);
- a model of the guilds and channels the bot is in: a post to a channel deleted (404,
  10003 Unknown Channel) or in a guild the bot left (403, 50001 Missing Access) fails by
  itself, whether or not the bot saw the gateway event;
- rate limits: X-RateLimit-* headers on every answer and a 429 (with `Via` and a JSON
  `retry_after`, which discord.py needs to wait and retry) for the sixth message within five
  seconds in a channel;
- `enforce_nonce` dedupes a repeated nonce for `nonce_memory` seconds only (Discord: a few
  minutes), so a later resend is kept from posting twice only by the bot's own check;
- direct messages: POST /users/@me/channels opens (or returns the same) DM channel of a
  user (400, 50033 Invalid Recipient(s) for the bot itself or a user Discord does not
  know); a message to a person who closed their DMs, blocked the bot or shares no server
  with it is 403, 50007 "Cannot send messages to this user" (`close_dms`);
- role mentions: a message's `mention_roles` are the roles its content mentions that
  allowed_mentions lets through (its `roles` list, or `parse` with "roles"; both at once is
  400) and that exist and are mentionable or the bot may Mention Everyone; `add_role`,
  `delete_role` (a GUILD_ROLE_DELETE event, as Discord sends);
- threads: POST /channels/{id}/messages/{id}/threads starts a public thread on a message
  (its id is the message's; 160004 when it has one already; 50013 without Create Public
  Threads); a message in a thread needs Send Messages in Threads (`threads`);
- message edits (PATCH /channels/{id}/messages/{id}): only the bot's own messages (50005
  Cannot edit a message authored by another user), the same content rules as a post, and
  an edit never notifies anyone again (Discord pings on create only); kept in `edits`.

The rate windows and the nonce memory read `clock`, which a test may replace by a
ManualClock to move time without sleeping. A test can still make the fake answer 429 / 5xx /
403 / 404 on purpose (`fail`). Facts about what discord.py needs from a fake are written
where the fake relies on them.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiohttp
from aiohttp import WSMsgType, web

from tests.support.fake_discord_rules import (
    EMPTY_MESSAGE,
    Allowance,
    FormError,
    RateBuckets,
    allowed_mentions_errors,
    autocomplete_errors,
    command_errors,
    form_error_body,
    is_empty_message,
    message_errors,
)

APP_ID = "900000000000000001"
BOT_USER_ID = APP_ID
MANAGE_CHANNELS = 1 << 4
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ADMINISTRATOR = 1 << 3
# The role Discord makes for a bot invited with permissions (managed, named after the bot):
# the invite URL's View Channel, Send Messages, Embed Links and Read Message History.
BOT_ROLE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY
# What an ordinary member may do in a channel: no Manage Channels.
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | (1 << 31)  # + use app commands
MANAGER_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_CHANNELS

# Discord: at most 5 messages per 5 seconds in one channel (the bucket of POST messages).
MESSAGE_RATE = (5, 5.0)
# Every other route: a generous bucket, so discord.py's limiter still sees real headers.
DEFAULT_RATE = (50, 1.0)
# Discord remembers a nonce sent with enforce_nonce for "a few minutes".
NONCE_MEMORY = 180.0

UNKNOWN_CHANNEL = {"message": "Unknown Channel", "code": 10003}
MISSING_ACCESS = {"message": "Missing Access", "code": 50001}
UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
UNKNOWN_INTERACTION = {"message": "Unknown interaction", "code": 10062}
CANNOT_DM = {"message": "Cannot send messages to this user", "code": 50007}
INVALID_RECIPIENT = {"message": "Invalid Recipient(s)", "code": 50033}
UNKNOWN_MESSAGE = {"message": "Unknown Message", "code": 10008}
NOT_AUTHOR = {"message": "Cannot edit a message authored by another user", "code": 50005}
UNKNOWN_MEMBER = {"message": "Unknown Member", "code": 10007}
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}
UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}

# Where the fake keeps the files of a multipart request, inside the message body.
FILES_KEY = "_fake_files"

_snowflakes = itertools.count(1_100_000_000_000_000_000)


def snowflake() -> str:
    return str(next(_snowflakes))


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # Exactly "application/json": with "; charset=utf-8" discord.py reads the body as text.
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class ManualClock:
    """A clock a test moves by hand: rate windows pass and nonces are forgotten at once."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    at: float
    status: int = 0  # what the fake answered (0 while it is still answering)


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    retry_after: float
    via: bool
    message: str
    code: int
    lost_response: bool = False  # the request took effect; only the answer is the fault
    is_global: bool = False  # a 429 for the whole bot (X-RateLimit-Global), not one route


@dataclass
class Interaction:
    """One INTERACTION_CREATE the fake pushed, and every response the bot made to it."""

    id: str
    token: str
    sent_at: float
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    followed_up: asyncio.Event = field(default_factory=asyncio.Event)
    refusals: list[Any] = field(default_factory=list)  # what Discord said to refused answers
    late: bool = False  # the first response came after the 3-second limit

    @property
    def texts(self) -> list[str]:
        """What the person who asked sees: reply content, follow-ups and edits, in order."""
        out: list[str] = []
        for body in [c.get("data") or {} for c in self.callbacks] + self.followups + self.edits:
            if body.get("content"):
                out.append(body["content"])
            for embed in body.get("embeds") or []:
                out.append(embed.get("description") or embed.get("title") or "")
        return out

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def files(self) -> list[tuple[str, bytes]]:
        """(filename, bytes) of every file attached to a response, in order."""
        bodies = [c.get("data") or {} for c in self.callbacks] + self.followups + self.edits
        return [(f["filename"], f["content"]) for b in bodies for f in b.get(FILES_KEY) or []]

    @property
    def ephemeral(self) -> bool:
        flags = 0
        for c in self.callbacks:
            flags |= int((c.get("data") or {}).get("flags") or 0)
        for f in self.followups:
            flags |= int(f.get("flags") or 0)
        return bool(flags & 64)

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices the bot offered (callback type 8)."""
        for c in self.callbacks:
            if c.get("type") == 8:
                return list((c.get("data") or {}).get("choices") or [])
        return []


class FakeDiscord:
    def __init__(
        self,
        *,
        heartbeat_interval_ms: int = 41_250,
        clock: Callable[[], float] = time.monotonic,
        nonce_memory: float = NONCE_MEMORY,
        message_rate: tuple[int, float] = MESSAGE_RATE,
    ) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.clock = clock
        self.nonce_memory = nonce_memory  # seconds a nonce dedupes; 0: forgotten at once
        self.message_rate = message_rate  # (messages, seconds) per channel
        self.requests: list[Recorded] = []
        self.rate_limited: list[Recorded] = []  # requests the fake's own limits refused (429)
        self.refused: list[tuple[Recorded, dict[str, Any]]] = []  # 4xx answers and their bodies
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.received_at: dict[str, float] = {}  # message id -> when it was created (clock)
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None: global)
        self.interactions: dict[str, Interaction] = {}
        self.guilds: dict[str, dict[str, Any]] = {}
        self.token = "fake-token"  # the bot token REST calls must carry (else 401)
        self.roles: dict[str, list[dict[str, Any]]] = {}  # guild id -> its roles
        self.bot_roles: dict[str, list[str]] = {}  # guild id -> the bot member's role ids
        self.overwrites: dict[str, list[dict[str, Any]]] = {}  # channel id -> overwrites
        self.identifies: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.connections = 0  # sessions started: IDENTIFY or RESUME
        self.resumes: list[dict[str, Any]] = []
        self.response_deadline = 3.0  # seconds for an interaction's first response
        self._channel_guild: dict[str, str] = {}  # every channel ever in a guild of the fake
        self._deleted_channels: set[str] = set()
        self.dm_channels: dict[str, str] = {}  # user id -> their DM channel with the bot
        self.threads: dict[str, str] = {}  # thread id (= its first message's) -> parent
        self.unknown_users: set[str] = set()  # users Discord has no account for
        self.dms_closed: set[str] = set()  # users the bot cannot message (see close_dms)
        self.edits: list[tuple[str, str, dict[str, Any]]] = []  # (channel, message, body)
        self._nonces: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._buckets = RateBuckets(lambda: self.clock())
        self._faults: list[Fault] = []
        self._sockets: list[web.WebSocketResponse] = []
        # Each identified session's [shard_id, num_shards]: Discord sends a guild's events
        # only to the shard (guild_id >> 22) % num_shards.
        self._shards: dict[web.WebSocketResponse, tuple[int, int]] = {}
        self._seq = 0
        self._changed = asyncio.Condition()  # notified whenever the fake's state changes
        self._identified = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- addresses --------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def env(self, token: str = "fake-token") -> dict[str, str]:
        return {
            "DISCORD_TOKEN": token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    # -- the world --------------------------------------------------------------------------

    def add_guild(self, guild_id: str, *channel_ids: str, name: str = "Newsroom") -> None:
        """A guild the bot is in; sent in READY and as GUILD_CREATE on the next connect."""
        for channel_id in channel_ids:
            self._channel_guild[channel_id] = guild_id
            self._deleted_channels.discard(channel_id)
        if guild_id not in self.roles:
            bot_role = snowflake()
            self.roles[guild_id] = [
                _role(guild_id, "@everyone", MEMBER_PERMISSIONS, 0),
                _role(bot_role, "newsbot", BOT_ROLE_PERMISSIONS, 1, managed=True),
            ]
            self.bot_roles[guild_id] = [bot_role]
        self.guilds[guild_id] = {
            "id": guild_id,
            "name": name,
            "channels": [
                {"id": c, "type": 0, "name": f"news-{c[-4:]}", "position": i, "guild_id": guild_id}
                for i, c in enumerate(channel_ids)
            ],
        }

    def add_role(self, guild_id: str, name: str, *, mentionable: bool = True) -> str:
        """A role in the guild (as its admins make one); its id."""
        role = _role(snowflake(), name, 0, len(self.roles[guild_id]))
        role["mentionable"] = mentionable
        self.roles[guild_id].append(role)
        return str(role["id"])

    async def delete_role(self, guild_id: str, role_id: str) -> None:
        """An admin deleted the role: gone from the guild, and GUILD_ROLE_DELETE is sent."""
        self.roles[guild_id] = [r for r in self.roles[guild_id] if r["id"] != role_id]
        await self.dispatch("GUILD_ROLE_DELETE", {"guild_id": guild_id, "role_id": role_id})

    def pinged_roles(self, channel_id: str, body: dict[str, Any]) -> list[str]:
        """The roles a message with this body notifies, by Discord's rules."""
        allowed = body.get("allowed_mentions")
        parse = ["roles"] if allowed is None else list(allowed.get("parse") or [])
        listed = [] if allowed is None else [str(r) for r in allowed.get("roles") or []]
        guild_id = self._channel_guild.get(channel_id)
        roles = {r["id"]: r for r in self.roles.get(guild_id or "", [])}
        everyone = bool(guild_id) and bool(self.bot_permissions(channel_id) & MENTION_EVERYONE)
        return [
            rid
            for rid in dict.fromkeys(re.findall(r"<@&(\d+)>", str(body.get("content") or "")))
            if rid in roles
            and ("roles" in parse or rid in listed)
            and (roles[rid]["mentionable"] or everyone)
        ]

    def bot_role(self, guild_id: str) -> str:
        """The id of the role Discord made for the bot in this guild (managed)."""
        return self.bot_roles[guild_id][0]

    def set_role_permissions(self, guild_id: str, role_id: str, permissions: int) -> None:
        """A server admin edits a role (the bot's, or @everyone: its id is the guild's)."""
        for role in self.roles[guild_id]:
            if role["id"] == role_id:
                role["permissions"] = str(permissions)
                return
        raise KeyError(role_id)

    def set_overwrite(
        self,
        channel_id: str,
        target_id: str,
        *,
        allow: int = 0,
        deny: int = 0,
        member: bool = False,
    ) -> None:
        """A channel permission overwrite for a role (or, `member`, one user)."""
        found = [o for o in self.overwrites.get(channel_id, []) if o["id"] != target_id]
        found.append(
            {"id": target_id, "type": 1 if member else 0, "allow": str(allow), "deny": str(deny)}
        )
        self.overwrites[channel_id] = found

    def bot_permissions(self, channel_id: str) -> int:
        """What the bot may do in a channel, worked out from the roles and overwrites the
        fake holds, step by step as Discord's documentation describes."""
        guild_id = self._channel_guild[channel_id]
        roles = {r["id"]: int(r["permissions"]) for r in self.roles[guild_id]}
        mine = self.bot_roles[guild_id]
        allowed = roles[guild_id]
        for role_id in mine:
            allowed |= roles.get(role_id, 0)
        if allowed & ADMINISTRATOR:
            return -1  # every permission
        overwrites = self.overwrites.get(channel_id, [])
        for o in overwrites:  # @everyone's overwrite first
            if o["id"] == guild_id:
                allowed = (allowed & ~int(o["deny"])) | int(o["allow"])
        role_allow = role_deny = 0
        for o in overwrites:
            if o["type"] == 0 and o["id"] in mine:
                role_allow |= int(o["allow"])
                role_deny |= int(o["deny"])
        allowed = (allowed & ~role_deny) | role_allow
        for o in overwrites:
            if o["type"] == 1 and o["id"] == BOT_USER_ID:
                allowed = (allowed & ~int(o["deny"])) | int(o["allow"])
        return allowed

    def _posting_refused(self, channel_id: str) -> dict[str, Any] | None:
        """What Discord says to a post in a server channel the bot's permissions (its roles
        and the channel's overwrites) do not allow: no View Channel is Missing Access, no
        Send Messages is Missing Permissions."""
        guild_id = self._channel_guild.get(channel_id)
        if guild_id is None or guild_id not in self.roles:
            return None  # not a server channel (a DM)
        allowed = self.bot_permissions(channel_id)
        if allowed == -1:
            return None
        if not allowed & VIEW_CHANNEL:
            return MISSING_ACCESS
        if not allowed & SEND_MESSAGES:
            return MISSING_PERMISSIONS
        return None

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float = 0.2,
        via: bool = True,
        message: str | None = None,
        code: int = 0,
        lost_response: bool = False,
        is_global: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with `status` (429 with Retry-After;
        `is_global`: the bot's global limit, as Discord marks it).

        `lost_response`: carry the request out first (the message is created), then answer
        with the fault, as when a response is lost on its way back.
        """
        default = {
            403: "Missing Permissions",
            404: "Unknown Channel",
            429: "You are being rate limited.",
        }.get(status, "Server error")
        codes = {403: 50013, 404: 10003}
        self._faults.append(
            Fault(
                method.upper(),
                re.compile(path_regex),
                status,
                times,
                retry_after,
                via,
                message or default,
                code or codes.get(status, 0),
                lost_response,
                is_global,
            )
        )

    def close_dms(self, user_id: str) -> None:
        """The person closed their DMs, blocked the bot, or left every server it is in."""
        self.dms_closed.add(user_id)

    def dm_user(self, channel_id: str) -> str | None:
        return next((u for u, c in self.dm_channels.items() if c == channel_id), None)

    def access_refused(self, channel_id: str) -> tuple[int, dict[str, Any]] | None:
        """Why Discord would refuse the bot in this channel now, or None if it would not.

        A channel that was deleted, or that the fake never had, is Unknown Channel (404);
        one in a guild the bot is no longer in is Missing Access (403).
        """
        if channel_id in self.dm_channels.values():
            return None  # a DM channel is always there; sending to it may still be refused
        guild_id = self._channel_guild.get(channel_id)
        if guild_id is None or channel_id in self._deleted_channels:
            return 404, UNKNOWN_CHANNEL
        if guild_id not in self.guilds:
            return 403, MISSING_ACCESS
        return None

    def posted(self, channel_id: str) -> list[dict[str, Any]]:
        """Messages created in a channel, in order (each once, whatever the retries)."""
        return list(self.messages.get(channel_id, []))

    def bot_message(self, channel_id: str, *custom_ids: str) -> dict[str, Any]:
        """A message the bot posted earlier (not recorded here), with these buttons."""
        buttons = [
            {"type": 2, "style": 2, "label": "Unsubscribe", "custom_id": c} for c in custom_ids
        ]
        return self._message(channel_id, {"components": [{"type": 1, "components": buttons}]})

    def calls(self, method: str, path_regex: str) -> list[Recorded]:
        rx = re.compile(path_regex)
        return [r for r in self.requests if r.method == method and rx.search(r.path)]

    async def wait_for_messages(
        self, channel_id: str, count: int, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        await self.until(lambda: len(self.messages.get(channel_id, [])) >= count, timeout)
        return self.posted(channel_id)

    async def until(self, predicate: Callable[[], object], timeout: float = 20.0) -> None:
        """Wait until `predicate()` holds, checked each time the fake's state changes.

        The fake changes on every request it answers and every gateway frame it receives,
        so this wakes on what the bot did, never on a timer.
        """
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: bool(predicate()))

    async def _touch(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until_connected(self, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            await self._identified.wait()

    # -- gateway pushes ---------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) to the gateway sessions that get it: a guild's events
        (an interaction, a channel deleted, the guild itself) only to the session of the
        shard that guild belongs to, as Discord does; anything else to every session."""
        self._seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self._seq, "d": data})
        guild = data.get("guild_id") or (data.get("id") if event.startswith("GUILD_") else None)
        for ws in list(self._sockets):
            if ws.closed:
                continue
            if guild is not None and not self._shard_owns(ws, str(guild)):
                continue
            await ws.send_str(frame)

    def _shard_owns(self, ws: web.WebSocketResponse, guild_id: str) -> bool:
        shard_id, count = self._shards.get(ws, (0, 1))
        return (int(guild_id) >> 22) % count == shard_id

    async def remove_from_guild(self, guild_id: str, *, announce: bool = True) -> None:
        """The bot was kicked or the guild deleted: GUILD_DELETE without `unavailable`.

        From now on its channels answer Missing Access. `announce=False`: the bot does not
        hear of it (it was offline), so only a refused post can tell it.
        """
        self.guilds.pop(guild_id, None)
        if announce:
            await self.dispatch("GUILD_DELETE", {"id": guild_id})

    async def rejoin_guild(self, guild_id: str, *channel_ids: str) -> None:
        self.add_guild(guild_id, *channel_ids)
        # A guild joined now comes without "unavailable" (discord.py: guild_join); the ones
        # sent after READY say "unavailable": false (guild_available).
        payload = self._guild_payload(self.guilds[guild_id])
        del payload["unavailable"]
        await self.dispatch("GUILD_CREATE", payload)

    async def delete_channel(
        self, guild_id: str, channel_id: str, *, announce: bool = True
    ) -> None:
        """The channel is deleted: Unknown Channel from now on; CHANNEL_DELETE if `announce`."""
        guild = self.guilds.get(guild_id)
        if guild is not None:
            guild["channels"] = [c for c in guild["channels"] if c["id"] != channel_id]
        self._deleted_channels.add(channel_id)
        if not announce:
            return
        await self.dispatch(
            "CHANNEL_DELETE",
            {"id": channel_id, "type": 0, "guild_id": guild_id, "name": "gone", "position": 0},
        )

    def _member(self, user_id: str, permissions: int) -> dict[str, Any]:
        return {
            "user": {
                "id": user_id,
                "username": f"user{user_id[-4:]}",
                "discriminator": "0",
                "avatar": None,
                "global_name": None,
            },
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(permissions),
        }

    def _interaction_payload(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        guild_id: str | None,
        channel_id: str,
        user_id: str,
        permissions: int,
        message: dict[str, Any] | None = None,
        app_permissions: int = MEMBER_PERMISSIONS,
    ) -> tuple[dict[str, Any], Interaction]:
        if guild_id is None:
            return self._dm_interaction_payload(kind, data, user_id, message)
        if self._channel_guild.get(channel_id) != guild_id or channel_id in self._deleted_channels:
            # Nobody can type a command in a channel that does not exist (or not there).
            raise AssertionError(f"no channel {channel_id} in guild {guild_id} to interact in")
        interaction = Interaction(id=snowflake(), token=f"tok-{snowflake()}", sent_at=0.0)
        payload: dict[str, Any] = {
            "id": interaction.id,
            "application_id": APP_ID,
            "type": kind,
            "data": data,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "channel": {"id": channel_id, "type": 0, "guild_id": guild_id, "name": "news"},
            "member": self._member(user_id, permissions),
            "token": interaction.token,
            "version": 1,
            "app_permissions": str(app_permissions),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild_id},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        self.interactions[interaction.id] = interaction
        return payload, interaction

    def _dm_interaction_payload(
        self, kind: int, data: dict[str, Any], user_id: str, message: dict[str, Any] | None
    ) -> tuple[dict[str, Any], Interaction]:
        """An interaction in the person's DM with the bot (context 1, BOT_DM): no guild, no
        member, the user themself; the DM channel is the one POST /users/@me/channels gives."""
        channel_id = self.dm_channels.setdefault(user_id, snowflake())
        interaction = Interaction(id=snowflake(), token=f"tok-{snowflake()}", sent_at=0.0)
        payload: dict[str, Any] = {
            "id": interaction.id,
            "application_id": APP_ID,
            "type": kind,
            "data": data,
            "channel_id": channel_id,
            "channel": {"id": channel_id, "type": 1, "recipients": []},
            "user": self._member(user_id, 0)["user"],
            "token": interaction.token,
            "version": 1,
            # In a DM the bot may post, embed and read history; nobody manages anything.
            "app_permissions": str(MEMBER_PERMISSIONS | (1 << 16)),  # + Read Message History
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": "0"},
            "context": 1,
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        self.interactions[interaction.id] = interaction
        return payload, interaction

    def _command_id(self, guild_id: str | None, name: str) -> str:
        for cmd in self.commands.get(guild_id, []) + self.commands.get(None, []):
            if cmd["name"] == name:
                return str(cmd["id"])
        return snowflake()

    async def slash(
        self,
        text: str,
        *,
        guild_id: str | None,
        channel_id: str = "",
        user_id: str = "700000000000000001",
        permissions: int = MEMBER_PERMISSIONS,
        focused: str | None = None,
        wait: bool = True,
        app_permissions: int = MEMBER_PERMISSIONS,
    ) -> Interaction:
        """Run `/news sub [group] name=value ...` as a person would: an INTERACTION_CREATE.

        `text` reads like the command line, e.g. `/news subscribe query=NATO` or
        `/news feed add url=https://...`. Option values may contain spaces: everything up to
        the next ` name=` belongs to the option. `focused` makes it an autocomplete request
        for that option. `guild_id=None`: typed in the person's DM with the bot.
        """
        parts = text.removeprefix("/").split(" ", 1)
        root = parts[0]
        rest = parts[1] if len(parts) > 1 else ""
        words = rest.split(" ")
        path: list[str] = []
        while words and words[0] and "=" not in words[0]:
            path.append(words.pop(0))
        options: list[dict[str, Any]] = []
        for m in re.finditer(r"(\w+)=(.*?)(?=\s+\w+=|$)", " ".join(words)):
            name, value = m.group(1), m.group(2)
            opt: dict[str, Any] = {"name": name, "type": 3, "value": value}
            if value.lstrip("-").isdigit() and name in {"id", "count", "hours", "limit"}:
                opt = {"name": name, "type": 4, "value": int(value)}
            if value in {"true", "false"}:
                opt = {"name": name, "type": 5, "value": value == "true"}
            if name == "role":  # a ROLE option: its id, resolved below as Discord does
                opt = {"name": name, "type": 8, "value": value}
            if name == focused:
                opt["focused"] = True
            options.append(opt)
        for sub in reversed(path):
            kind = 1 if sub == path[-1] else 2
            options = [{"name": sub, "type": kind, "options": options}]
        data: dict[str, Any] = {
            "id": self._command_id(guild_id, root),
            "name": root,
            "type": 1,
            "options": options,
        }
        resolved_roles = [o for o in _walk(options) if o.get("type") == 8]
        if resolved_roles and guild_id is not None:
            known = {r["id"]: r for r in self.roles.get(guild_id, [])}
            data.setdefault("resolved", {})["roles"] = {
                str(o["value"]): known[str(o["value"])] for o in resolved_roles
            }
        resolved_users = [o for o in _walk(options) if o.get("type") == 6]
        if resolved_users:
            data["resolved"] = {
                "users": {
                    str(o["value"]): self._member(str(o["value"]), 0)["user"]
                    for o in resolved_users
                }
            }
        payload, interaction = self._interaction_payload(
            4 if focused else 2,
            data,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            permissions=permissions,
            app_permissions=app_permissions,
        )
        return await self._push_interaction(payload, interaction, wait)

    async def click(
        self,
        message: dict[str, Any],
        custom_id: str,
        *,
        guild_id: str | None,
        user_id: str = "700000000000000001",
        permissions: int = MEMBER_PERMISSIONS,
        wait: bool = True,
    ) -> Interaction:
        """Press a button of a message the bot posted (a component INTERACTION_CREATE)."""
        payload, interaction = self._interaction_payload(
            3,
            {"custom_id": custom_id, "component_type": 2},
            guild_id=guild_id,
            channel_id=message["channel_id"],
            user_id=user_id,
            permissions=permissions,
            message=message,
        )
        return await self._push_interaction(payload, interaction, wait)

    async def _push_interaction(
        self, payload: dict[str, Any], interaction: Interaction, wait: bool
    ) -> Interaction:
        interaction.sent_at = time.monotonic()
        await self.dispatch("INTERACTION_CREATE", payload)
        if wait:
            await self.until(lambda: interaction.answered.is_set() or interaction.refusals, 10)
            # Deferred replies arrive as follow-ups/edits soon after.
            if any(c.get("type") in (5, 6) for c in interaction.callbacks):
                await self.until(
                    lambda: interaction.followed_up.is_set() or interaction.refusals, 20
                )
            if interaction.refusals:
                # The person who asked would see "The application did not respond".
                raise AssertionError(f"Discord refused the bot's answer: {interaction.refusals}")
        return interaction

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/api/v10")
        body: Any = None
        if request.content_type == "multipart/form-data":
            body = await _multipart_body(request)
        elif request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        recorded = Recorded(request.method, path, body, dict(request.headers), time.monotonic())
        self.requests.append(recorded)
        try:
            response = await self._answer(request, recorded)
        finally:
            await self._touch()
        recorded.status = response.status
        if 400 <= response.status < 500 and response.status != 429:
            self.refused.append((recorded, _json_body(response)))
        return response

    async def _answer(self, request: web.Request, recorded: Recorded) -> web.Response:
        path, body = recorded.path, recorded.body
        fault = self._take_fault(request.method, path)
        if fault is not None and fault.status >= 500 and not fault.lost_response:
            # Discord's edge failed before the API saw the request: no bucket, no headers.
            return self._fault_response(fault)
        if (
            not path.startswith(("/interactions/", "/webhooks/"))
            and request.headers.get("Authorization") != f"Bot {self.token}"
        ):
            # Every bot route needs the token; interaction answers carry their own.
            return json_response(UNAUTHORIZED, status=401)
        allowance = self._take_allowance(request.method, path)
        if allowance.retry_after is not None:
            if fault is not None:
                fault.times += 1  # not reached: it still applies to the next request
            self.rate_limited.append(recorded)
            return _rate_limited(allowance)
        if fault is not None and not fault.lost_response:
            return _with_rate_headers(self._fault_response(fault), allowance)
        for method, rx, handler in self._routes:
            if method == request.method and (m := rx.fullmatch(path)):
                groups = m.groupdict()
                if handler in (FakeDiscord._callback, FakeDiscord._history, FakeDiscord._my_guilds):
                    groups["request_query"] = request.query
                response = await handler(self, body, **groups)
                if fault is not None:
                    response = self._fault_response(fault)
                return _with_rate_headers(response, allowance)
        return json_response({"message": "404: Not Found", "code": 0}, status=404)

    def _take_allowance(self, method: str, path: str) -> Allowance:
        """The request's place in its bucket: messages per channel, else a roomy default."""
        if method == "POST" and (m := _CHANNEL_MESSAGES.fullmatch(path)):
            limit, window = self.message_rate
            bucket = _bucket_name("POST /channels/{id}/messages")
            return self._buckets.take(bucket, m["channel_id"], limit, window)
        major = _MAJOR.search(path)
        bucket = _bucket_name(f"{method} {_NUMBERS.sub('{id}', path)}")
        limit, window = DEFAULT_RATE
        return self._buckets.take(bucket, major.group(0) if major else "", limit, window)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.pattern.search(path) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _fault_response(self, fault: Fault) -> web.Response:
        """What a test asked for; a 429 here brings its own rate-limit headers."""
        if fault.status == 429:
            headers = {
                "Retry-After": str(max(1, round(fault.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(fault.retry_after),
                "X-RateLimit-Bucket": "fakebucket",
                "X-RateLimit-Scope": "user",
            }
            if fault.via:
                headers["Via"] = "1.1 google"
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
                headers["X-RateLimit-Scope"] = "global"
            return json_response(
                {
                    "message": fault.message,
                    "retry_after": fault.retry_after,
                    "global": fault.is_global,
                },
                status=429,
                headers=headers,
            )
        if fault.status >= 500:
            return web.Response(status=fault.status, text=fault.message)
        return json_response({"message": fault.message, "code": fault.code}, status=fault.status)

    async def _users_me(self, body: Any) -> web.Response:
        return json_response(self._bot_user())

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_USER_ID,
            "username": "newsbot",
            "discriminator": "0",
            "avatar": None,
            "global_name": None,
            "bot": True,
            "flags": 0,
            "mfa_enabled": False,
            "verified": True,
        }

    async def _application(self, body: Any) -> web.Response:
        return json_response(
            {
                "id": APP_ID,
                "name": "newsbot",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": {**self._bot_user(), "id": "700000000000000999", "bot": False},
                "verify_key": "00",
                "flags": 0,
                "team": None,
                "summary": "",
                "interactions_endpoint_url": None,
            }
        )

    async def _gateway_bot(self, body: Any) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _sync(self, body: Any, guild_id: str | None = None, app_id: str = "") -> web.Response:
        errors = command_errors(list(body or []))
        if errors:
            return json_response(form_error_body(errors), status=400)
        stored = []
        for cmd in body or []:
            stored.append(
                {
                    "id": snowflake(),
                    "application_id": APP_ID,
                    "version": snowflake(),
                    "type": 1,
                    "default_member_permissions": None,
                    "dm_permission": True,
                    "nsfw": False,
                    **({"guild_id": guild_id} if guild_id else {}),
                    **cmd,
                }
            )
        self.commands[guild_id] = stored
        return json_response(stored)

    async def _global_sync(self, body: Any, app_id: str) -> web.Response:
        return await self._sync(body, None, app_id)

    async def _guild_sync(self, body: Any, app_id: str, guild_id: str) -> web.Response:
        return await self._sync(body, guild_id, app_id)

    async def _start_thread(self, body: Any, channel_id: str, message_id: str) -> web.Response:
        refused = self.access_refused(channel_id)
        if refused is not None:
            return json_response(refused[1], status=refused[0])
        if not self.bot_permissions(channel_id) & CREATE_PUBLIC_THREADS:
            return json_response({"message": "Missing Permissions", "code": 50013}, status=403)
        if not any(m["id"] == message_id for m in self.messages.get(channel_id, [])):
            return json_response(UNKNOWN_MESSAGE, status=404)
        if message_id in self.threads:
            return json_response(
                {"message": "A thread has already been created for this message", "code": 160004},
                status=400,
            )
        name = str((body or {}).get("name") or "")
        if not 1 <= len(name) <= 100:
            error = FormError(
                "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
            return json_response(form_error_body([error]), status=400)
        guild_id = self._channel_guild[channel_id]
        self.threads[message_id] = channel_id
        self._channel_guild[message_id] = guild_id
        await self._touch()
        return json_response(
            {
                "id": message_id,
                "type": 11,
                "guild_id": guild_id,
                "parent_id": channel_id,
                "name": name,
                "owner_id": BOT_USER_ID,
                "message_count": 0,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": int((body or {}).get("auto_archive_duration") or 1440),
                    "archive_timestamp": "2024-01-01T00:00:00+00:00",
                    "locked": False,
                },
            }
        )

    async def _open_dm(self, body: Any) -> web.Response:
        """POST /users/@me/channels: the one DM channel between the bot and a user."""
        recipient = str((body or {}).get("recipient_id") or "")
        if not recipient.isdigit() or recipient == BOT_USER_ID or recipient in self.unknown_users:
            return json_response(INVALID_RECIPIENT, status=400)
        channel_id = self.dm_channels.setdefault(recipient, snowflake())
        user = self._member(recipient, 0)["user"]
        return json_response(
            {"id": channel_id, "type": 1, "last_message_id": None, "flags": 0, "recipients": [user]}
        )

    async def _edit_message(self, body: Any, channel_id: str, message_id: str) -> web.Response:
        body = body or {}
        refused = self.access_refused(channel_id)
        if refused is not None:
            return json_response(refused[1], status=refused[0])
        found = next((m for m in self.messages.get(channel_id, []) if m["id"] == message_id), None)
        if found is None:
            return json_response(UNKNOWN_MESSAGE, status=404)
        if found["author"]["id"] != BOT_USER_ID:
            return json_response(NOT_AUTHOR, status=403)
        errors = message_errors(body) + allowed_mentions_errors(body)
        if errors:
            return json_response(form_error_body(errors), status=400)
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                found[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if is_empty_message(found):
            return json_response(EMPTY_MESSAGE, status=400)
        found["edited_timestamp"] = "2024-01-01T00:01:00+00:00"
        self.edits.append((channel_id, message_id, body))
        await self._touch()
        return json_response({k: v for k, v in found.items() if k != "nonce"})

    async def _create_message(self, body: Any, channel_id: str) -> web.Response:
        body = body or {}
        refused = self.access_refused(channel_id)
        if refused is not None:
            return json_response(refused[1], status=refused[0])
        if self.dm_user(channel_id) in self.dms_closed:
            return json_response(CANNOT_DM, status=403)
        parent = self.threads.get(channel_id)
        if parent is not None and not self.bot_permissions(parent) & SEND_MESSAGES_IN_THREADS:
            return json_response({"message": "Missing Permissions", "code": 50013}, status=403)
        denied = self._posting_refused(channel_id)
        if denied is not None:
            return json_response(denied, status=403)
        errors = message_errors(body) + allowed_mentions_errors(body)
        if errors:
            return json_response(form_error_body(errors), status=400)
        if is_empty_message(body):
            return json_response(EMPTY_MESSAGE, status=400)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get((channel_id, str(nonce)))
            if earlier is not None and self.clock() - earlier[0] < self.nonce_memory:
                return json_response(earlier[1])
        message = self._message(channel_id, body)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (self.clock(), message)
        self.messages.setdefault(channel_id, []).append(message)
        self.received_at[message["id"]] = self.clock()
        await self._touch()
        return json_response(message)

    async def _history(self, body: Any, channel_id: str, request_query: Any = None) -> web.Response:
        """GET /channels/{id}/messages: newest first, `limit` 1-100 (50 by default), `before`.

        Like Discord, it returns what it stored (embeds, components with their custom ids)
        but never the nonce.
        """
        query = request_query or {}
        refused = self.access_refused(channel_id)
        if refused is not None:
            return json_response(refused[1], status=refused[0])
        try:
            limit = int(query.get("limit", 50))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            error = FormError("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 100.")
            return json_response(form_error_body([error]), status=400)
        newest_first = list(reversed(self.messages.get(channel_id, [])))
        if "before" in query:
            newest_first = [m for m in newest_first if int(m["id"]) < int(query["before"])]
        page = [{k: v for k, v in m.items() if k != "nonce"} for m in newest_first[:limit]]
        return json_response(page)

    def _message(self, channel_id: str, body: dict[str, Any], *, flags: int = 0) -> dict[str, Any]:
        return {
            "id": snowflake(),
            "channel_id": channel_id,
            "type": 0,
            "author": self._bot_user(),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": self.pinged_roles(channel_id, body),
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": "2024-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "flags": int(body.get("flags") or flags),
            "nonce": body.get("nonce"),
            "allowed_mentions": body.get("allowed_mentions"),
        }

    async def _callback(
        self, body: Any, interaction_id: str, token: str, request_query: Any = None
    ) -> web.Response:
        request_query = request_query or {}
        interaction = self.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            return json_response(UNKNOWN_INTERACTION, status=404)
        if time.monotonic() - interaction.sent_at > self.response_deadline:
            interaction.late = True
            return json_response(UNKNOWN_INTERACTION, status=404)
        if interaction.callbacks:
            return json_response(
                {"message": "Interaction has already been acknowledged.", "code": 40060},
                status=400,
            )
        body = body or {}
        refusal = _callback_refusal(body)
        if refusal is not None:
            interaction.refusals.append(_json_body(refusal))
            return refusal
        interaction.callbacks.append(body)
        interaction.answered.set()
        if request_query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        response: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": body.get("type") == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
        }
        if body.get("type") in (4, 7):
            message = self._message("0", data, flags=flags)
            response["interaction"]["response_message_id"] = message["id"]
            response["resource"] = {"type": body["type"], "message": message}
        else:
            response["resource"] = {"type": body.get("type", 4)}
        return json_response(response)

    async def _followup(self, body: Any, app_id: str, token: str) -> web.Response:
        interaction = self._by_token(token)
        # Until the interaction has its first response, its webhook does not exist yet.
        if interaction is None or not interaction.callbacks:
            return json_response(UNKNOWN_WEBHOOK, status=404)
        errors = message_errors(body or {})
        if errors or is_empty_message(body or {}):
            refusal = form_error_body(errors) if errors else EMPTY_MESSAGE
            interaction.refusals.append(refusal)
            return json_response(refusal, status=400)
        interaction.followups.append(body or {})
        interaction.followed_up.set()
        return json_response(self._message("0", body or {}))

    async def _edit_original(self, body: Any, app_id: str, token: str) -> web.Response:
        interaction = self._by_token(token)
        if interaction is None or not interaction.callbacks:
            return json_response(UNKNOWN_WEBHOOK, status=404)
        errors = message_errors(body or {})
        if errors:
            interaction.refusals.append(form_error_body(errors))
            return json_response(form_error_body(errors), status=400)
        interaction.edits.append(body or {})
        interaction.followed_up.set()
        return json_response(self._message("0", body or {}))

    def _by_token(self, token: str) -> Interaction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    async def _my_guilds(self, body: Any, request_query: Any = None) -> web.Response:
        """GET /users/@me/guilds: partial guilds, with the bot's permissions in each, by id,
        `limit` (1-200, 200 by default) at a time after the id `after`."""
        query = request_query or {}
        limit = int(query.get("limit", 200))
        if not 1 <= limit <= 200:
            error = FormError("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 200.")
            return json_response(form_error_body([error]), status=400)
        after = int(query.get("after", 0))
        ordered = sorted(self.guilds.values(), key=lambda g: int(g["id"]))
        page = [g for g in ordered if int(g["id"]) > after][:limit]
        return json_response(
            [
                {
                    "id": g["id"],
                    "name": g["name"],
                    "icon": None,
                    "owner": False,
                    "permissions": str(self._guild_permissions(g["id"])),
                    "features": [],
                }
                for g in page
            ]
        )

    def _guild_permissions(self, guild_id: str) -> int:
        roles = {r["id"]: int(r["permissions"]) for r in self.roles[guild_id]}
        value = roles[guild_id]
        for role_id in self.bot_roles[guild_id]:
            value |= roles.get(role_id, 0)
        return value

    async def _get_guild(self, body: Any, guild_id: str) -> web.Response:
        if guild_id not in self.guilds:
            return json_response(MISSING_ACCESS, status=403)
        payload = self._guild_payload(self.guilds[guild_id])
        for key in ("channels", "threads", "members", "voice_states", "presences"):
            payload.pop(key, None)  # REST's guild object has none of the gateway's lists
        return json_response(payload)

    async def _get_roles(self, body: Any, guild_id: str) -> web.Response:
        if guild_id not in self.guilds:
            return json_response(MISSING_ACCESS, status=403)
        return json_response(self.roles[guild_id])

    async def _get_member(self, body: Any, guild_id: str, user_id: str) -> web.Response:
        if guild_id not in self.guilds:
            return json_response(MISSING_ACCESS, status=403)
        if user_id != BOT_USER_ID:
            return json_response(UNKNOWN_MEMBER, status=404)
        member = self._member(user_id, 0)
        member.pop("permissions")  # only interactions carry a member's permissions
        member["user"] = self._bot_user()
        member["roles"] = list(self.bot_roles[guild_id])
        return json_response(member)

    async def _get_channel(self, body: Any, channel_id: str) -> web.Response:
        """GET /channels/{id}: 404 when gone, 403 Missing Access when the bot cannot see
        it (not in the guild, or no View Channel there), else it with its overwrites."""
        refused = self.access_refused(channel_id)
        if refused is not None:
            return json_response(refused[1], status=refused[0])
        allowed = self.bot_permissions(channel_id)
        if allowed != -1 and not allowed & VIEW_CHANNEL:
            return json_response(MISSING_ACCESS, status=403)
        guild_id = self._channel_guild[channel_id]
        [channel] = [c for c in self.guilds[guild_id]["channels"] if c["id"] == channel_id]
        return json_response(
            {**channel, "permission_overwrites": list(self.overwrites.get(channel_id, []))}
        )

    async def _global_commands(self, body: Any, app_id: str) -> web.Response:
        return json_response(self.commands.get(None, []))

    async def _guild_commands(self, body: Any, app_id: str, guild_id: str) -> web.Response:
        return json_response(self.commands.get(guild_id, []))

    _routes: ClassVar[list[tuple[str, re.Pattern[str], Any]]] = [
        ("GET", re.compile(r"/users/@me"), _users_me),
        ("GET", re.compile(r"/users/@me/guilds"), _my_guilds),
        ("GET", re.compile(r"/guilds/(?P<guild_id>\d+)"), _get_guild),
        ("GET", re.compile(r"/guilds/(?P<guild_id>\d+)/roles"), _get_roles),
        ("GET", re.compile(r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)"), _get_member),
        ("GET", re.compile(r"/channels/(?P<channel_id>\d+)"), _get_channel),
        ("GET", re.compile(r"/applications/(?P<app_id>\d+)/commands"), _global_commands),
        (
            "GET",
            re.compile(r"/applications/(?P<app_id>\d+)/guilds/(?P<guild_id>\d+)/commands"),
            _guild_commands,
        ),
        ("GET", re.compile(r"/oauth2/applications/@me"), _application),
        ("GET", re.compile(r"/gateway/bot"), _gateway_bot),
        ("PUT", re.compile(r"/applications/(?P<app_id>\d+)/commands"), _global_sync),
        (
            "PUT",
            re.compile(r"/applications/(?P<app_id>\d+)/guilds/(?P<guild_id>\d+)/commands"),
            _guild_sync,
        ),
        ("POST", re.compile(r"/channels/(?P<channel_id>\d+)/messages"), _create_message),
        (
            "PATCH",
            re.compile(r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)"),
            _edit_message,
        ),
        ("POST", re.compile(r"/users/@me/channels"), _open_dm),
        (
            "POST",
            re.compile(r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)/threads"),
            _start_thread,
        ),
        ("GET", re.compile(r"/channels/(?P<channel_id>\d+)/messages"), _history),
        (
            "POST",
            re.compile(r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback"),
            _callback,
        ),
        ("POST", re.compile(r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"), _followup),
        (
            "PATCH",
            re.compile(r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)/messages/@original"),
            _edit_original,
        ),
    ]

    # -- gateway ----------------------------------------------------------------------------

    def _guild_payload(self, guild: dict[str, Any]) -> dict[str, Any]:
        gid = guild["id"]
        return {
            "id": gid,
            "name": guild["name"],
            "icon": None,
            "owner_id": "700000000000000999",
            "features": [],
            "roles": [dict(r) for r in self.roles.get(gid, [])],
            "channels": [dict(c) for c in guild["channels"]],
            "threads": [],
            "members": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "member_count": 2,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
        }

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    self.heartbeats += 1
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    await self._identify(ws, frame["d"])
                elif op == 6:
                    self.resumes.append(frame["d"])
                    self.connections += 1
                    self._seq += 1
                    await ws.send_str(
                        json.dumps({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
                    )
                await self._touch()
        finally:
            self._sockets.remove(ws)
            self._shards.pop(ws, None)
            await self._touch()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        shard = data.get("shard") or [0, 1]
        shard_id, count = int(shard[0]), int(shard[1])
        if count < 1 or not 0 <= shard_id < count:
            # Discord: close code 4010, "Invalid shard"; the client must not reconnect.
            await ws.close(code=4010, message=b"Invalid shard.")
            return
        self.connections += 1
        self._shards[ws] = (shard_id, count)
        self._seq += 1
        mine = [g for g in self.guilds.values() if self._shard_owns(ws, g["id"])]
        ready = {
            "v": 10,
            "user": self._bot_user(),
            "guilds": [{"id": g["id"], "unavailable": True} for g in mine],
            "session_id": f"session-{snowflake()}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
            "shard": shard,
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": ready}))
        for guild in mine:
            self._seq += 1
            frame = {"op": 0, "t": "GUILD_CREATE", "s": self._seq, "d": self._guild_payload(guild)}
            await ws.send_str(json.dumps(frame))
        self._identified.set()

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def disconnect_all(self) -> None:
        """Close every gateway session (the bot should reconnect)."""
        for ws in list(self._sockets):
            await ws.close(code=4000, message=b"fake: reconnect")

    async def end_sessions(self, code: int, reason: str) -> None:
        """Close every gateway session with a close code the client must not reconnect
        after, as Discord does (4004 "Authentication failed.": the token was reset while
        the bot ran)."""
        for ws in list(self._sockets):
            await ws.close(code=code, message=reason.encode())

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()


async def _multipart_body(request: web.Request) -> dict[str, Any]:
    """A request with files, as Discord takes them: the JSON in `payload_json`, each file
    in a part `files[n]` that the payload's `attachments` list names by id n. The files
    land in the message body under FILES_KEY (the body of a callback: in its data)."""
    body: dict[str, Any] = {}
    parts: dict[str, tuple[str, bytes]] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        assert isinstance(part, aiohttp.BodyPartReader)
        if part.name == "payload_json":
            body = json.loads(await part.read())
        elif part.name and part.name.startswith("files["):
            parts[part.name[6:-1]] = (part.filename or "", bytes(await part.read()))
    message = body.get("data", body) if "type" in body and "data" in body else body
    attachments = message.get("attachments") or []
    named = {str(a.get("id")): a for a in attachments}
    if set(named) != set(parts):  # Discord: each file part must be named in attachments
        raise web.HTTPBadRequest(text=f"attachments {sorted(named)} != files {sorted(parts)}")
    message[FILES_KEY] = [
        {"filename": named[i].get("filename") or parts[i][0], "content": parts[i][1]}
        for i in sorted(parts)
    ]
    return body


def _walk(options: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for opt in options:
        yield opt
        yield from _walk(opt.get("options") or [])


def _json_body(response: web.Response) -> Any:
    raw = response.body
    if not isinstance(raw, bytes | bytearray) or not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _callback_refusal(body: dict[str, Any]) -> web.Response | None:
    """Discord's rules for an interaction's first response, by its type."""
    kind = body.get("type")
    data = body.get("data") or {}
    if kind == 8:  # autocomplete choices
        errors = autocomplete_errors(data)
    elif kind in (4, 7):  # a message (or the update of the clicked one)
        errors = [FormError(f"data.{e.path}", e.code, e.message) for e in message_errors(data)]
        if not errors and kind == 4 and is_empty_message(data):
            return json_response(EMPTY_MESSAGE, status=400)
    else:  # 5 and 6 defer; 1 is pong
        errors = []
    return json_response(form_error_body(errors), status=400) if errors else None


_CHANNEL_MESSAGES = re.compile(r"/channels/(?P<channel_id>\d+)/messages")
# A route's top-level resource: its bucket is counted per channel, guild or webhook.
_MAJOR = re.compile(r"/(?:channels|guilds)/\d+|/(?:webhooks|interactions)/\d+/[^/]+")
_NUMBERS = re.compile(r"\d+")


def _bucket_name(route: str) -> str:
    """An opaque hash for a route, as Discord's X-RateLimit-Bucket is."""
    return hashlib.sha1(route.encode()).hexdigest()[:16]


def _rate_headers(allowance: Allowance) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(allowance.limit),
        "X-RateLimit-Remaining": str(allowance.remaining),
        "X-RateLimit-Reset": f"{time.time() + allowance.reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{allowance.reset_after:.3f}",
        "X-RateLimit-Bucket": allowance.bucket,
    }


def _with_rate_headers(response: web.Response, allowance: Allowance) -> web.Response:
    if "X-RateLimit-Bucket" not in response.headers:  # a 429 a test asked for has its own
        response.headers.update(_rate_headers(allowance))
    return response


def _rate_limited(allowance: Allowance) -> web.Response:
    """Discord's 429. discord.py waits `retry_after` and retries only when the answer has a
    `Via` header and a JSON body; without `Via` it takes the 429 for a Cloudflare ban."""
    retry_after = allowance.retry_after or 0.0
    return json_response(
        {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
        status=429,
        headers={
            **_rate_headers(allowance),
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        },
    )


def _role(
    role_id: str, name: str, permissions: int, position: int, *, managed: bool = False
) -> dict[str, Any]:
    return {
        "id": role_id,
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": managed,
        "mentionable": False,
        "flags": 0,
    }
