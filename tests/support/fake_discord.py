"""A local Discord: the REST routes and the gateway websocket that newsbot's adapter uses.

Point discord.py at it with `DISCORD_API_BASE=fake.api_base` and
`DISCORD_GATEWAY_URL=fake.gateway_url` (or `Route.BASE` / `DEFAULT_GATEWAY` in-process).
It records every request, keeps the messages each channel received, applies Discord's
documented rules (nonce dedupe with `enforce_nonce`, for as long as a test lets it remember
nonces, nonce <= 25 characters, embed limits,
http(s) embed urls, the 3-second first response to an interaction, 100-character command
descriptions), serves a channel's history (GET messages, newest first, without the nonce, as
Discord does) and answers 429 / 5xx / 403 / 404 when a test tells it to. Facts about what
discord.py needs from a fake are written where the fake relies on them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import WSMsgType, web

APP_ID = "900000000000000001"
BOT_USER_ID = APP_ID
MANAGE_CHANNELS = 1 << 4
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
# What an ordinary member may do in a channel: no Manage Channels.
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | (1 << 31)  # + use app commands
MANAGER_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_CHANNELS

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


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    at: float


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
    def __init__(self, *, heartbeat_interval_ms: int = 41_250) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.requests: list[Recorded] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None: global)
        self.interactions: dict[str, Interaction] = {}
        self.guilds: dict[str, dict[str, Any]] = {}
        self.identifies: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.connections = 0  # sessions started: IDENTIFY or RESUME
        self.resumes: list[dict[str, Any]] = []
        self.response_deadline = 3.0  # seconds for an interaction's first response
        self.remember_nonces = True  # False: as Discord minutes after a message was created
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self._faults: list[Fault] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._message_event = asyncio.Condition()
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
        self.guilds[guild_id] = {
            "id": guild_id,
            "name": name,
            "channels": [
                {"id": c, "type": 0, "name": f"news-{c[-4:]}", "position": i, "guild_id": guild_id}
                for i, c in enumerate(channel_ids)
            ],
        }

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
    ) -> None:
        """Answer the next `times` matching requests with `status` (429 with Retry-After).

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
            )
        )

    def forget_nonces(self) -> None:
        """What Discord does a few minutes after a message: a repeated nonce posts again."""
        self._nonces.clear()

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
        async with asyncio.timeout(timeout), self._message_event:
            await self._message_event.wait_for(
                lambda: len(self.messages.get(channel_id, [])) >= count
            )
        return self.posted(channel_id)

    async def wait_until_connected(self, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            await self._identified.wait()

    # -- gateway pushes ---------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) to every connected gateway session."""
        self._seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self._seq, "d": data})
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_str(frame)

    async def remove_from_guild(self, guild_id: str) -> None:
        """The bot was kicked or the guild deleted: GUILD_DELETE without `unavailable`."""
        self.guilds.pop(guild_id, None)
        await self.dispatch("GUILD_DELETE", {"id": guild_id})

    async def rejoin_guild(self, guild_id: str, *channel_ids: str) -> None:
        self.add_guild(guild_id, *channel_ids)
        # A guild joined now comes without "unavailable" (discord.py: guild_join); the ones
        # sent after READY say "unavailable": false (guild_available).
        payload = self._guild_payload(self.guilds[guild_id])
        del payload["unavailable"]
        await self.dispatch("GUILD_CREATE", payload)

    async def delete_channel(self, guild_id: str, channel_id: str) -> None:
        guild = self.guilds.get(guild_id)
        if guild is not None:
            guild["channels"] = [c for c in guild["channels"] if c["id"] != channel_id]
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
        guild_id: str,
        channel_id: str,
        user_id: str,
        permissions: int,
        message: dict[str, Any] | None = None,
        app_permissions: int = MEMBER_PERMISSIONS,
    ) -> tuple[dict[str, Any], Interaction]:
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

    def _command_id(self, guild_id: str, name: str) -> str:
        for cmd in self.commands.get(guild_id, []) + self.commands.get(None, []):
            if cmd["name"] == name:
                return str(cmd["id"])
        return snowflake()

    async def slash(
        self,
        text: str,
        *,
        guild_id: str,
        channel_id: str,
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
        for that option.
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
        guild_id: str,
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
            async with asyncio.timeout(10):
                await interaction.answered.wait()
            # Deferred replies arrive as follow-ups/edits soon after: give them a moment.
            if any(c.get("type") in (5, 6) for c in interaction.callbacks):
                async with asyncio.timeout(20):
                    await interaction.followed_up.wait()
        return interaction

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/api/v10")
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        self.requests.append(
            Recorded(request.method, path, body, dict(request.headers), time.monotonic())
        )
        fault = self._take_fault(request.method, path)
        if fault is not None and not fault.lost_response:
            return self._fault_response(fault)
        for method, rx, handler in self._routes:
            if method == request.method and (m := rx.fullmatch(path)):
                groups = m.groupdict()
                if handler in (FakeDiscord._callback, FakeDiscord._history):
                    groups["request_query"] = request.query
                response = await handler(self, body, **groups)
                return self._fault_response(fault) if fault is not None else response
        return json_response({"message": "404: Not Found", "code": 0}, status=404)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.pattern.search(path) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _fault_response(self, fault: Fault) -> web.Response:
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
            return json_response(
                {"message": fault.message, "retry_after": fault.retry_after, "global": False},
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
        problems = [p for cmd in body or [] for p in _command_problems(cmd)]
        if problems:
            return _form_error(problems)
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

    async def _create_message(self, body: Any, channel_id: str) -> web.Response:
        body = body or {}
        problems = _message_problems(body)
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            problems.append("nonce: must be 25 or fewer in length")
        if problems:
            return _form_error(problems)
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get((channel_id, str(nonce)))
            if earlier is not None:
                return json_response(earlier)
        message = self._message(channel_id, body)
        if nonce is not None and self.remember_nonces:
            self._nonces[(channel_id, str(nonce))] = message
        async with self._message_event:
            self.messages.setdefault(channel_id, []).append(message)
            self._message_event.notify_all()
        return json_response(message)

    async def _history(self, body: Any, channel_id: str, request_query: Any = None) -> web.Response:
        """GET /channels/{id}/messages: newest first, `limit` 1-100 (50 by default), `before`.

        Like Discord, it returns what it stored (embeds, components with their custom ids)
        but never the nonce.
        """
        query = request_query or {}
        try:
            limit = int(query.get("limit", 50))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return _form_error(["limit: must be between 1 and 100"])
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
            "mention_roles": [],
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
            return json_response({"message": "Unknown interaction", "code": 10062}, status=404)
        if time.monotonic() - interaction.sent_at > self.response_deadline:
            interaction.late = True
            return json_response({"message": "Unknown interaction", "code": 10062}, status=404)
        if interaction.callbacks:
            return json_response(
                {"message": "Interaction has already been acknowledged.", "code": 40060},
                status=400,
            )
        problems = _message_problems((body or {}).get("data") or {})
        if problems:
            return _form_error(problems)
        body = body or {}
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
        if interaction is None:
            return json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        problems = _message_problems(body or {})
        if problems:
            return _form_error(problems)
        interaction.followups.append(body or {})
        interaction.followed_up.set()
        return json_response(self._message("0", body or {}))

    async def _edit_original(self, body: Any, app_id: str, token: str) -> web.Response:
        interaction = self._by_token(token)
        if interaction is None:
            return json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        problems = _message_problems(body or {})
        if problems:
            return _form_error(problems)
        interaction.edits.append(body or {})
        interaction.followed_up.set()
        return json_response(self._message("0", body or {}))

    def _by_token(self, token: str) -> Interaction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    _routes: ClassVar[list[tuple[str, re.Pattern[str], Any]]] = [
        ("GET", re.compile(r"/users/@me"), _users_me),
        ("GET", re.compile(r"/oauth2/applications/@me"), _application),
        ("GET", re.compile(r"/gateway/bot"), _gateway_bot),
        ("PUT", re.compile(r"/applications/(?P<app_id>\d+)/commands"), _global_sync),
        (
            "PUT",
            re.compile(r"/applications/(?P<app_id>\d+)/guilds/(?P<guild_id>\d+)/commands"),
            _guild_sync,
        ),
        ("POST", re.compile(r"/channels/(?P<channel_id>\d+)/messages"), _create_message),
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
            "roles": [
                {
                    "id": gid,
                    "name": "@everyone",
                    "permissions": str(MEMBER_PERMISSIONS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
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
        finally:
            self._sockets.remove(ws)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        self.connections += 1
        shard = data.get("shard") or [0, 1]
        self._seq += 1
        ready = {
            "v": 10,
            "user": self._bot_user(),
            "guilds": [{"id": g, "unavailable": True} for g in self.guilds],
            "session_id": f"session-{snowflake()}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
            "shard": shard,
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": ready}))
        for guild in list(self.guilds.values()):
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
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def disconnect_all(self) -> None:
        """Close every gateway session (the bot should reconnect)."""
        for ws in list(self._sockets):
            await ws.close(code=4000, message=b"fake: reconnect")

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()


def _walk(options: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for opt in options:
        yield opt
        yield from _walk(opt.get("options") or [])


def _form_error(problems: list[str]) -> web.Response:
    return json_response(
        {"message": "Invalid Form Body", "code": 50035, "errors": {"_problems": problems}},
        status=400,
    )


def _command_problems(cmd: dict[str, Any]) -> list[str]:
    problems = []
    if len(cmd.get("description") or "") > 100:
        problems.append(f"{cmd.get('name')}: description longer than 100")
    if not re.fullmatch(r"[-_\w]{1,32}", cmd.get("name") or ""):
        problems.append(f"{cmd.get('name')!r}: invalid name")
    for opt in cmd.get("options") or []:
        problems += _command_problems(opt)
    if len(cmd.get("options") or []) > 25:
        problems.append(f"{cmd.get('name')}: more than 25 options")
    return problems


def _message_problems(body: dict[str, Any]) -> list[str]:
    """Discord's documented message limits; a 400 here is never fixed by retrying."""
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append("content: longer than 2000")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append("embeds: more than 10")
    total = 0
    for embed in embeds:
        title = embed.get("title") or ""
        description = embed.get("description") or ""
        fields = embed.get("fields") or []
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        if len(title) > 256:
            problems.append("embed title: longer than 256")
        if len(description) > 4096:
            problems.append("embed description: longer than 4096")
        if len(fields) > 25:
            problems.append("embed fields: more than 25")
        if len(footer) > 2048:
            problems.append("embed footer: longer than 2048")
        for f in fields:
            if len(f.get("name") or "") > 256 or len(f.get("value") or "") > 1024:
                problems.append("embed field: name over 256 or value over 1024")
        for key in ("url",):
            url = embed.get(key)
            if url is not None and not re.match(r"https?://", url):
                problems.append(f"embed {key}: Scheme {url!r} is not supported")
        for key in ("thumbnail", "image"):
            url = (embed.get(key) or {}).get("url")
            if url is not None and not re.match(r"https?://|attachment://", url):
                problems.append(f"embed {key}.url: Scheme {url!r} is not supported")
        total += len(title) + len(description) + len(footer) + len(author)
        total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
    if total > 6000:
        problems.append("embeds: more than 6000 characters in all")
    rows = body.get("components") or []
    if len(rows) > 5:
        problems.append("components: more than 5 rows")
    for row in rows:
        for comp in row.get("components") or []:
            if len(comp.get("custom_id") or "") > 100:
                problems.append("custom_id: longer than 100")
            if len(comp.get("label") or "") > 80:
                problems.append("button label: longer than 80")
    return problems
