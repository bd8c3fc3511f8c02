"""A local fake of Slack: the Web API, response_urls, a Socket Mode websocket, and the
signed requests Slack sends to an app in HTTP mode.

It speaks the wire protocol the real slack_sdk / slack-bolt code paths use:
`AsyncWebClient(base_url=fake.api_url)` sends every Web API
call here, `apps.connections.open` hands back a ws://127.0.0.1 URL. Everything received
is recorded. It is as strict as Slack where newsbot relies on Slack's rules:

- Block Kit limits (tests/support/slack_limits.py): a layout that breaks one is refused
  whole with Slack's invalid_blocks payload, as is an image Slack could not download
  (see `unreachable_images`); a message with neither text nor blocks gets `no_text`.
- Channels: a post to a channel the fake does not know gets `channel_not_found`, to one
  the bot is not a member of `not_in_channel` (`add_channel`, `join`, `leave`).
- Rate limits: every method has its tier and chat.postMessage its one message per second
  per channel; a burst above them gets a 429 with Retry-After without a test asking
  (`rate_limit` still forces one).
- Acknowledgements: a command, interaction or event not acknowledged within 3 s is
  recorded in `ack_failures`, and stop() fails the test with them; an unacknowledged
  Events API envelope is sent again with `retry_attempt` and `retry_reason` (in HTTP
  mode, SlackSender.event resends with X-Slack-Retry-Num and X-Slack-Retry-Reason).
- A response_url takes 5 messages within 30 minutes, then answers 404 `used_url` or
  `expired_url`.
- Direct messages: conversations.open gives a person's one IM channel with the bot (the
  same `D…` id every time); a bot user is `cannot_dm_bot`, someone no longer in the
  workspace `user_not_found`, a deactivated account `user_disabled` (`bot_users`,
  `gone_users`, `deactivated`).
- User groups: usergroups.list gives the enabled ones (`usergroups`, `disable_group`);
  `pinged_groups` says which groups a posted message notifies: those its text or blocks
  mention as `<!subteam^ID>` that exist and are enabled.
- Threads: a post with `thread_ts` is a reply (not in conversations.history; in
  conversations.replies with its thread's first message).
- chat.update edits only a message posted in that channel (else `message_not_found`), by
  the same block rules as a post; it never notifies anyone again (kept in `updates`).

Deadlines and rate windows read `clock`, which a test moves with `clock.advance(…)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import yaml
from aiohttp import web

from tests.support.slack_limits import (
    ACK_DEADLINE,
    MAX_VIEW_BLOCKS,
    METHOD_TIERS,
    POST_PER_CHANNEL,
    RESPONSE_URL_LIFETIME,
    RESPONSE_URL_USES,
    SOCKET_RETRIES,
    Bucket,
    FakeClock,
    block_problems,
)

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
# The bot scopes manifest.yml asks for: what an app installed from it is granted.
MANIFEST_SCOPES = frozenset(yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])
# The scopes a method accepts (any one of them), per its reference page; a token with
# none of them gets `missing_scope`, naming what was needed and what it has.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.open": ("im:write", "channels:manage", "groups:write", "mpim:write"),
    "conversations.replies": ("channels:history", "groups:history", "im:history"),
    "usergroups.list": ("usergroups:read",),
    "chat.update": ("chat:write",),
    "conversations.info": ("channels:read", "groups:read"),
    "users.info": ("users:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret"
TEAM = "T0TEST"
BOT_USER = "UBOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    args: dict[str, Any]
    thread_ts: str | None = None  # a reply in the thread of the post with this ts
    at: float = field(default_factory=time.monotonic)  # when the fake received it

    def block_text(self) -> str:
        """All text in the blocks, for assertions on what a reader sees."""
        return json.dumps(self.blocks, ensure_ascii=False)


@dataclass
class UploadedFile:
    """A file the bot uploaded (files.getUploadURLExternal, its upload URL, then
    files.completeUploadExternal, as slack_sdk's files_upload_v2 does)."""

    id: str
    filename: str
    length: int
    content: bytes | None = None  # None until its upload URL received the bytes
    title: str = ""
    channel: str | None = None  # where completeUploadExternal shared it
    initial_comment: str = ""


@dataclass
class Envelope:
    """A Socket Mode envelope sent and not yet acknowledged."""

    body: dict[str, Any]
    sent_at: float


def _flag(args: dict[str, Any], name: str) -> bool:
    """A boolean argument of a Web API call: Slack takes true or 1 (form or JSON)."""
    return str(args.get(name)).lower() in {"true", "1"}


@dataclass
class FakeSlack:
    bot_token: str = BOT_TOKEN
    app_token: str = APP_TOKEN
    admins: set[str] = field(default_factory=set)
    # The channels that exist and their member ids; the bot posts only where BOT_USER is.
    members: dict[str, set[str]] = field(default_factory=dict)
    channel_errors: dict[str, str] = field(default_factory=dict)  # channel -> error code
    token_error: str | None = None  # e.g. "token_revoked": every bot-token call fails
    ims: dict[str, str] = field(default_factory=dict)  # user -> their IM with the bot
    bot_users: set[str] = field(default_factory=set)  # conversations.open: cannot_dm_bot
    gone_users: set[str] = field(default_factory=set)  # conversations.open: user_not_found
    deactivated: set[str] = field(default_factory=set)  # conversations.open: user_disabled
    usergroups: dict[str, str] = field(default_factory=dict)  # id -> handle
    disabled_groups: set[str] = field(default_factory=set)
    updates: list[dict[str, Any]] = field(default_factory=list)  # chat.update calls accepted
    # What the installed app was granted; every answer to the bot token says so in its
    # x-oauth-scopes header, as Slack's do.
    scopes: set[str] = field(default_factory=lambda: set(MANIFEST_SCOPES))
    files: list[UploadedFile] = field(default_factory=list)  # shared with completeUploadExternal
    lose_answers: int = 0  # posts that are made but answered with a 500 (a lost reply)
    # Image URLs (or hosts) Slack cannot download: a message showing one is refused whole.
    unreachable_images: set[str] = field(default_factory=set)
    # Details of an invalid_blocks answer to every post with blocks (a layout Slack refuses).
    refuse_blocks: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    posted: list[Posted] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # via response_url
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    redelivered: list[dict[str, Any]] = field(default_factory=list)  # envelopes sent again
    # What Slack would have shown as an error: acks missing or late (see check_acks).
    ack_failures: list[str] = field(default_factory=list)
    rate_limited: list[Call] = field(default_factory=list)  # calls answered 429
    refused_responses: list[dict[str, Any]] = field(default_factory=list)  # via response_url
    clock: FakeClock = field(default_factory=FakeClock)
    # Slack's natural rate limits; off only for a benchmark that measures throughput
    # against the fake (a test keeps them: the bot must pace itself as with Slack).
    rate_limits: bool = True
    # Slack spreads an app's envelopes over its open Socket Mode connections (up to 10;
    # several processes each hold one), each envelope to one connection. Off: each goes
    # to the newest connection, as with one process that reconnected.
    spread: bool = False
    # envelope_id -> the connection (numbered from 1 in order of opening) it was sent to
    sent_on: dict[str, int] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._limits: dict[str, list[int]] = {}  # method -> Retry-After values to answer
        self._buckets: dict[tuple[str, str], Bucket] = {}  # (method, channel or "") -> bucket
        self._issued: dict[str, float] = {}  # response_url key -> when it was handed out
        self._pending: dict[str, Envelope] = {}  # envelope_id -> unacknowledged envelope
        self._timers: list[asyncio.TimerHandle] = []  # one per envelope: its 3 s are up
        self._checks: set[asyncio.Task[None]] = set()
        self._holds: dict[str, asyncio.Event] = {}  # method -> answered once set
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_numbers: dict[web.WebSocketResponse, int] = {}
        self._turn = itertools.count()
        self._socket_ready = asyncio.Event()
        self._uploads: dict[str, UploadedFile] = {}  # file id -> upload, shared or not

    # -- set-up -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str) -> str:
        """The response_url of one request; its 30 minutes start when it is first asked for."""
        self._issued.setdefault(key, self.clock.now())
        return f"http://127.0.0.1:{self.port}/respond/{key}"

    def add_channel(self, channel: str, *members: str, bot: bool = True) -> None:
        """A channel that exists, with these members, and the bot among them if `bot`."""
        people = self.members.setdefault(channel, set())
        people.update(members)
        if bot:
            people.add(BOT_USER)

    def join(self, channel: str) -> None:
        """The bot was /invited (the channel exists from then on)."""
        self.members.setdefault(channel, set()).add(BOT_USER)

    def leave(self, channel: str) -> None:
        self.members.get(channel, set()).discard(BOT_USER)

    def ack_failed(self, what: str) -> None:
        """Record a missing or late acknowledgement (Slack shows the person an error)."""
        self.ack_failures.append(what)

    def take_ack_failures(self) -> list[str]:
        """The failures recorded so far, forgotten, for a test that provokes them."""
        failures, self.ack_failures = self.ack_failures, []
        return failures

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and this Retry-After."""
        self._limits.setdefault(method, []).extend([retry_after] * times)

    def hold(self, method: str) -> asyncio.Event:
        """Keep calls of `method` unanswered until the returned event is set (slow Slack)."""
        return self._holds.setdefault(method, asyncio.Event())

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Shut down; fails (AssertionError) if Slack would have shown an ack error."""
        for timer in self._timers:
            timer.cancel()
        await asyncio.gather(*self._checks, return_exceptions=True)
        await self.check_acks()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        failures = self.take_ack_failures()
        assert not failures, f"Slack would have shown errors: {failures}"

    # -- what the bot did -----------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts_in(self, channel: str) -> list[Posted]:
        return [p for p in self.posted if p.channel == channel]

    async def wait_for(self, predicate: Any, timeout: float = 20.0) -> Any:
        """Wait until predicate() returns something truthy (a guard timeout, not a check)."""
        async with asyncio.timeout(timeout), self._changed:
            while not (result := predicate()):
                await self._changed.wait()
            return result

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- the Web API ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await _arguments(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        self.calls.append(Call(method, args, token))
        await self._notify()
        if method in self._holds:
            await self._holds[method].wait()
        limits = self._limits.get(method)
        if limits:
            wait = limits.pop(0)
            self.rate_limited.append(self.calls[-1])  # asked for, and a 429 all the same
            return _json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)})
        if method == "apps.connections.open":
            if token != self.app_token:
                return _json({"ok": False, "error": "invalid_auth"})
            return _json({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"})
        if token != self.bot_token:
            return _json({"ok": False, "error": "invalid_auth"})
        if self.token_error:
            return _json({"ok": False, "error": self.token_error})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return _json({"ok": False, "error": "unknown_method"})
        granted = {"x-oauth-scopes": ",".join(sorted(self.scopes))}
        accepted = METHOD_SCOPES.get(method, ())
        if accepted and not self.scopes & set(accepted):
            refusal = {
                "ok": False,
                "error": "missing_scope",
                "needed": ",".join(accepted),
                "provided": ",".join(sorted(self.scopes)),
            }
            return _json(refusal, headers={**granted, "x-accepted-oauth-scopes": accepted[0]})
        delay = self._over_limit(method, args)
        if delay > 0:
            self.rate_limited.append(self.calls[-1])
            await self._notify()
            retry_after = str(max(1, math.ceil(delay)))
            return _json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": retry_after})
        result: dict[str, Any] = await handler(args)
        return _json(result, headers=granted)

    def _over_limit(self, method: str, args: dict[str, Any]) -> float:
        """Seconds until this call would be within its method's rate (0: it is now)."""
        if not self.rate_limits:
            return 0.0
        if method == "chat.postMessage":
            key, tier = (method, str(args.get("channel"))), POST_PER_CHANNEL
        elif method in METHOD_TIERS:
            key, tier = (method, ""), METHOD_TIERS[method]
        else:
            return 0.0
        bucket = self._buckets.setdefault(key, Bucket(tier))
        return bucket.take(self.clock.now())

    async def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test.slack.example/",
            "team": "Test Team",
            "user": "newsbot",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": "BTEST",
            "is_enterprise_install": False,
        }

    def _channel_error(self, channel: str, *, member: bool = True) -> str | None:
        """The error Slack gives for this channel: unknown, or (if `member`) not joined."""
        if channel in self.channel_errors:
            return self.channel_errors[channel]
        if channel not in self.members:
            return "channel_not_found"
        if member and BOT_USER not in self.members[channel]:
            return "not_in_channel"
        return None

    async def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        error = self._channel_error(channel)
        if error:
            return {"ok": False, "error": error}
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not blocks and not str(args.get("text") or "") and not args.get("attachments"):
            return {"ok": False, "error": "no_text"}
        problems = block_problems(blocks) + self._image_problems(blocks)
        problems = (self.refuse_blocks if blocks else []) + problems
        if problems:
            return _invalid_blocks(problems)
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        ts = f"{1700000000 + next(self._ts)}.000100"
        thread = str(args["thread_ts"]) if args.get("thread_ts") else None
        self.posted.append(
            Posted(channel, ts, str(args.get("text") or ""), blocks, metadata, args, thread)
        )
        await self._notify()
        if self.lose_answers > 0:
            self.lose_answers -= 1
            raise web.HTTPInternalServerError(text="upstream connect error")
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}

    def _image_problems(self, blocks: list[dict[str, Any]]) -> list[str]:
        """What Slack says of image elements it will not show: too long, or not downloadable.

        Slack fetches every image_url while accepting the message; when it cannot, it
        refuses the whole message, naming the element by a JSON pointer.
        """
        problems = []
        for where, image in _images(blocks):
            url = str(image.get("image_url") or "")
            alt = str(image.get("alt_text") or "")
            if not alt:
                problems.append(f"missing required field: alt_text [json-pointer:{where}]")
            elif len(alt) > 2000:
                problems.append(
                    f"must be less than 2001 characters [json-pointer:{where}/alt_text]"
                )
            if len(url) > 3000:
                problems.append(
                    f"must be less than 3001 characters [json-pointer:{where}/image_url]"
                )
            elif not self._downloadable(url):
                problems.append(f"downloading image failed [json-pointer:{where}/image_url]")
        return problems

    def _downloadable(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return False
        return url not in self.unreachable_images and parts.hostname not in self.unreachable_images

    async def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        error = self._channel_error(channel)
        if error:
            return {"ok": False, "error": error}
        with_metadata = _flag(args, "include_all_metadata")
        limit = int(args.get("limit") or 100)
        messages = []
        top = [p for p in self.posts_in(channel) if p.thread_ts is None]  # no thread replies
        for post in reversed(top):  # newest first, as Slack answers
            message: dict[str, Any] = {"type": "message", "ts": post.ts, "text": post.text}
            if post.blocks:
                message["blocks"] = post.blocks
            if with_metadata and post.metadata:
                message["metadata"] = post.metadata
            messages.append(message)
        return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}

    async def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """The IM between the bot and one person, opened once and the same ever after."""
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        assert len(users) == 1, "the fake models one-person IMs only, as newsbot opens"
        [user] = users
        if user == BOT_USER or user in self.bot_users:
            return {"ok": False, "error": "cannot_dm_bot"}
        if user in self.gone_users:
            return {"ok": False, "error": "user_not_found"}
        if user in self.deactivated:
            return {"ok": False, "error": "user_disabled"}
        existed = user in self.ims
        channel = self.ims.setdefault(user, f"D{len(self.ims) + 1:08d}")
        self.members.setdefault(channel, set()).update({user, BOT_USER})
        im: dict[str, Any] = {"id": channel}
        if _flag(args, "return_im"):
            im.update({"is_im": True, "user": user, "is_open": True})
        return {"ok": True, "no_op": existed, "already_open": existed, "channel": im}

    async def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its first message, then its replies, oldest first (as Slack does)."""
        channel = str(args.get("channel"))
        error = self._channel_error(channel)
        if error:
            return {"ok": False, "error": error}
        ts = str(args.get("ts") or "")
        thread = [p for p in self.posts_in(channel) if p.ts == ts or p.thread_ts == ts]
        if not any(p.ts == ts for p in thread):
            return {"ok": False, "error": "thread_not_found"}
        with_metadata = _flag(args, "include_all_metadata")
        messages = []
        for post in thread:
            message: dict[str, Any] = {"type": "message", "ts": post.ts, "text": post.text}
            if post.thread_ts:
                message["thread_ts"] = post.thread_ts
            if with_metadata and post.metadata:
                message["metadata"] = post.metadata
            messages.append(message)
        return {"ok": True, "messages": messages, "has_more": False}

    async def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        with_disabled = _flag(args, "include_disabled")
        groups = [
            {"id": gid, "handle": handle, "name": handle, "date_delete": 0}
            for gid, handle in self.usergroups.items()
            if with_disabled or gid not in self.disabled_groups
        ]
        return {"ok": True, "usergroups": groups}

    def disable_group(self, group_id: str) -> None:
        """An admin disabled (Slack's "delete") the group: it notifies no one any more."""
        self.disabled_groups.add(group_id)

    def pinged_groups(self, post: Posted) -> list[str]:
        text = post.text + json.dumps(post.blocks)
        return [
            gid
            for gid in dict.fromkeys(re.findall(r"<!subteam\^([A-Z0-9]+)", text))
            if gid in self.usergroups and gid not in self.disabled_groups
        ]

    async def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        error = self._channel_error(channel)
        if error:
            return {"ok": False, "error": error}
        ts = str(args.get("ts") or "")
        post = next((p for p in self.posted if p.channel == channel and p.ts == ts), None)
        if post is None:
            return {"ok": False, "error": "message_not_found"}
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not blocks and not str(args.get("text") or ""):
            return {"ok": False, "error": "no_text"}
        problems = block_problems(blocks) + self._image_problems(blocks)
        if problems:
            return _invalid_blocks(problems)
        post.text = str(args.get("text") or "")
        post.blocks = blocks
        self.updates.append(args)
        await self._notify()
        return {"ok": True, "channel": channel, "ts": ts, "text": post.text}

    async def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        error = self._channel_error(channel, member=False)
        if error:
            return {"ok": False, "error": error}
        is_member = BOT_USER in self.members[channel]
        name = f"news-{channel[-4:].lower()}"
        return {
            "ok": True,
            "channel": {"id": channel, "name": name, "is_member": is_member, "is_archived": False},
        }

    async def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        length = str(args.get("length") or "")
        if not filename or not length.isdigit() or int(length) < 1:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ts):08d}"
        self._uploads[file_id] = UploadedFile(file_id, filename, int(length))
        upload_url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
        return {"ok": True, "upload_url": upload_url, "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """The upload URL: the file's bytes in the body, as files_upload_v2 sends them."""
        upload = self._uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="not found")
        upload.content = await request.read()
        return web.Response(text=f"OK - {len(upload.content)}")

    async def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        channel = args.get("channel_id")
        if channel:
            error = self._channel_error(str(channel))
            if error:
                return {"ok": False, "error": error}
        done = []
        for item in files:
            upload = self._uploads.get(str(item.get("id")))
            # An id never handed out, or whose bytes never arrived, or not as many bytes
            # as announced: Slack has no such file to complete.
            if upload is None or upload.content is None or len(upload.content) != upload.length:
                return {"ok": False, "error": "file_not_found"}
            upload.title = str(item.get("title") or upload.filename)
            upload.channel = str(channel) if channel else None
            upload.initial_comment = str(args.get("initial_comment") or "")
            self.files.append(upload)
            done.append({"id": upload.id, "name": upload.filename, "title": upload.title})
        await self._notify()
        return {"ok": True, "files": done}

    async def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user"))
        admin = user in self.admins
        return {"ok": True, "user": {"id": user, "is_admin": admin, "is_owner": False}}

    async def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        blocks = list(view.get("blocks") or [])
        problems = block_problems(blocks, MAX_VIEW_BLOCKS, "/view")
        if problems:  # Slack's answer to a view it refuses
            return {**_invalid_blocks(problems), "error": "invalid_arguments"}
        return {"ok": True, "view": {"id": "V1"}}

    # -- response_url ---------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        key = body["_key"] = request.match_info["key"]
        issued = self._issued.get(key)
        error = None
        if issued is None:
            error = "invalid_url"  # never handed out with a request
        elif self.clock.now() - issued > RESPONSE_URL_LIFETIME:
            error = "expired_url"
        elif len(self.responses_to(key)) >= RESPONSE_URL_USES:
            error = "used_url"
        if error is not None:
            self.refused_responses.append({**body, "_error": error})
            await self._notify()
            return web.Response(status=404, text=error)
        # A response_url answers as an incoming webhook does: 400 and the error code.
        error = None
        if not str(body.get("text") or "") and not body.get("blocks"):
            error = "no_text"
        elif block_problems(list(body.get("blocks") or [])):
            error = "invalid_blocks"
        if error is not None:
            self.refused_responses.append({**body, "_error": error})
            await self._notify()
            return web.Response(status=400, text=error)
        self.responses.append(body)
        await self._notify()
        return web.Response(text="ok")

    def responses_to(self, key: str) -> list[dict[str, Any]]:
        return [r for r in self.responses if r["_key"] == key]

    # -- Socket Mode ----------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self._socket_numbers[ws] = len(self._socket_numbers) + 1
        await ws.send_json(
            {"type": "hello", "num_connections": len(self._sockets), "debug_info": {}}
        )
        self._socket_ready.set()
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                ack = json.loads(msg.data)
                self.socket_acks.append(ack)
                self._acked(str(ack.get("envelope_id")))
                await self._notify()
        self._sockets.remove(ws)
        return ws

    def _acked(self, envelope_id: str) -> None:
        pending = self._pending.pop(envelope_id, None)
        if pending is None:
            return
        late = self.clock.now() - pending.sent_at
        if late > ACK_DEADLINE:
            self.ack_failed(
                f"envelope {envelope_id} ({pending.body['type']}) acknowledged after {late:.1f} s"
            )

    @property
    def open_connections(self) -> int:
        """Socket Mode connections open now."""
        return len(self._sockets)

    def unacked(self) -> list[str]:
        """The envelope ids sent and not acknowledged yet."""
        return list(self._pending)

    async def check_acks(self) -> None:
        """What Slack does once an envelope's 3 s are up: an Events API envelope is sent
        again (up to 3 times, with retry_attempt and retry_reason); for a command or an
        interaction the person sees an error, so the test fails at stop()."""
        now = self.clock.now()
        expired = [e for e, p in self._pending.items() if now - p.sent_at > ACK_DEADLINE]
        for envelope_id in expired:
            pending = self._pending.pop(envelope_id)
            body = pending.body
            attempt = int(body.get("retry_attempt") or 0)
            if body["type"] != "events_api" or attempt >= SOCKET_RETRIES:
                self.ack_failed(f"envelope {envelope_id} ({body['type']}) never acknowledged")
                continue
            again = {
                **body,
                "envelope_id": f"env-{next(self._ts)}",
                "retry_attempt": attempt + 1,
                "retry_reason": "timeout",
            }
            self.redelivered.append(again)
            await self._send_envelope(again)
        if expired:
            await self._notify()

    def _deadline_passed(self) -> None:
        check = asyncio.ensure_future(self.check_acks())
        self._checks.add(check)
        check.add_done_callback(self._checks.discard)

    async def _send_envelope(self, body: dict[str, Any]) -> None:
        self._pending[str(body["envelope_id"])] = Envelope(body, self.clock.now())
        # Slack's timer for this envelope (a test that moves the clock calls check_acks).
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(ACK_DEADLINE + 0.01, self._deadline_passed))
        if self._sockets:
            live = self._sockets
            ws = live[next(self._turn) % len(live)] if self.spread else live[-1]
            self.sent_on[str(body["envelope_id"])] = self._socket_numbers[ws]
            await ws.send_json(body)

    async def push_envelope(self, kind: str, payload: Mapping[str, Any]) -> str:
        """Send a Socket Mode envelope to the connected bot; returns its envelope_id."""
        await asyncio.wait_for(self._socket_ready.wait(), 20)
        envelope_id = f"env-{next(self._ts)}"
        await self._send_envelope(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
                "payload": dict(payload),
            }
        )
        return envelope_id


async def _arguments(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            args.update(body)
    else:
        args.update(dict(await request.post()))
    return args


def _images(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Every image in a message's blocks with its JSON pointer: image blocks, section
    accessories and context elements."""
    found = []
    for n, block in enumerate(blocks):
        if block.get("type") == "image":
            found.append((f"/blocks/{n}", block))
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "image":
            found.append((f"/blocks/{n}/accessory", accessory))
        if block.get("type") == "context":
            for m, element in enumerate(block.get("elements") or []):
                if isinstance(element, dict) and element.get("type") == "image":
                    found.append((f"/blocks/{n}/elements/{m}", element))
    return found


def _invalid_blocks(problems: list[str]) -> dict[str, Any]:
    """Slack's answer to a layout it refuses: the code, then each problem twice over."""
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": problems,
        "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
    }


def _json(
    data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=json.dumps(data), status=status, headers=headers, content_type="application/json"
    )


# -- what Slack sends to an app in HTTP mode --------------------------------------------------


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    """X-Slack-Signature: v0= + hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slash_command_form(
    text: str, *, user: str, channel: str, response_url: str, team: str = TEAM
) -> dict[str, str]:
    """The form fields of a slash-command request, as Slack documents them."""
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "team_domain": "test",
        "channel_id": channel,
        "channel_name": "news",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/news",
        "text": text,
        "api_app_id": "ATEST",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "123.456.abc",
    }


def button_click_payload(
    *, user: str, channel: str, action_id: str, value: str, response_url: str, team: str = TEAM
) -> dict[str, Any]:
    """A block_actions interaction payload for one button click."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "ATEST",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1700000001.000100", "channel_id": channel},
        "trigger_id": "123.456.abc",
        "team": {"id": team, "domain": "test"},
        "channel": {"id": channel, "name": "news"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "newsbot_topics",
                "value": value,
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }


def event_body(event: Mapping[str, Any], team: str = TEAM) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "api_app_id": "ATEST",
        "event": dict(event),
        "type": "event_callback",
        "event_id": f"Ev{int(time.time() * 1000)}",
        "event_time": int(time.time()),
    }


@dataclass
class SlackSender:
    """Posts to the app's /slack/events the way Slack does, signed with the secret.

    Slack waits 3 s for the answer: with `fake` set, an answer that takes longer (by the
    fake's clock) or never comes is recorded as an ack failure there, and a request Slack
    gave up on answers (0, "").
    """

    url: str
    secret: str = SIGNING_SECRET
    fake: FakeSlack | None = None
    retries: list[tuple[int, str]] = field(default_factory=list)  # events sent again

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        retry: tuple[int, str] | None = None,
    ) -> tuple[int, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature or sign(body, ts, self.secret),
        }
        if retry is not None:
            headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"] = str(retry[0]), retry[1]
        clock = self.fake.clock if self.fake is not None else FakeClock()
        start = clock.now()
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    self.url,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=ACK_DEADLINE),
                ) as response,
            ):
                status, text = response.status, await response.text()
        except TimeoutError:
            if self.fake is not None:
                self.fake.ack_failed(f"{self.url}: no answer within {ACK_DEADLINE:.0f} s")
            return 0, ""
        took = clock.now() - start
        if self.fake is not None and took > ACK_DEADLINE:
            self.fake.ack_failed(f"{self.url}: answered after {took:.1f} s")
        return status, text

    async def command(self, form: Mapping[str, str], **kwargs: Any) -> tuple[int, str]:
        body = urlencode(dict(form)).encode()
        return await self.post(body, "application/x-www-form-urlencoded", **kwargs)

    async def interaction(self, payload: Mapping[str, Any], **kwargs: Any) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded", **kwargs)

    async def event(self, body: Mapping[str, Any], **kwargs: Any) -> tuple[int, str]:
        """Deliver an Events API request; like Slack, send it again (up to 3 times, with
        X-Slack-Retry-Num and X-Slack-Retry-Reason) while it is not answered in time or is
        answered with a server error. The last answer is returned."""
        data = json.dumps(body).encode()
        status, text = await self.post(data, "application/json", **kwargs)
        for attempt in range(1, SOCKET_RETRIES + 1):
            if status != 0 and status < 500:
                break
            reason = "http_timeout" if status == 0 else "http_error"
            self.retries.append((attempt, reason))
            status, text = await self.post(
                data, "application/json", retry=(attempt, reason), **kwargs
            )
        return status, text
