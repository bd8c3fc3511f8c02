"""The Discord adapter: a discord.py client serving `/news`, posting alerts, minding guilds.

Start-up: point discord.py at DISCORD_API_BASE / DISCORD_GATEWAY_URL when set, log in
(REST), log the invite URL, sync the commands (to DISCORD_GUILD_ID only when set: instant,
for development; globally otherwise), then keep the gateway connection in a task that
reconnects on its own. Intents: only `guilds` (for joins, removals and channel
deletions); no privileged intent, since slash commands need no message content.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, Literal

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.background import run_until_stopped
from bot.adapters.discord.buttons import UnsubscribeButton
from bot.adapters.discord.commands import build_tree
from bot.adapters.discord.lifecycle import Lifecycle
from bot.adapters.discord.notifier import DiscordNotifier
from bot.adapters.discord.runner import CommandRunner
from bot.config import ConfigError, Settings
from bot.core.commands import CommandDeps
from bot.core.models import Channel
from bot.core.ports import SendPacing
from bot.observe import metrics

log = logging.getLogger(__name__)

# newsbot never joins voice: the warnings about missing voice libraries are noise at start.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

DEFAULT_API_BASE = Route.BASE
DEFAULT_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY
# A 429 asking for a longer wait than this is handed to delivery (RateLimited) rather than
# slept through inside one send; discord.py clamps the value to at least 30 s.
MAX_RATELIMIT_WAIT = 30.0
# Read Message History lets a resend find an alert already posted (notifier.py); without
# it the resend relies on the nonce alone, so it is asked for but not required.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, read_message_history=True
)
INVITE_SCOPES = ("bot", "applications.commands")
# Names the platform in a platform-wide block (the channel itself does not matter).
ANY_CHANNEL = Channel("discord", "", "")


def configure_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Send discord.py's REST and gateway traffic elsewhere (a proxy, a local fake).

    Both are class attributes in discord.py, so this is process-wide, as the settings are.
    """
    Route.BASE = api_base.rstrip("/") if api_base else DEFAULT_API_BASE
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url) if gateway_url else DEFAULT_GATEWAY


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES
    )


class _Events:
    """Gateway events, shared by the plain and the sharded client."""

    newsbot_runner: CommandRunner | None = None
    newsbot_life: Lifecycle | None = None

    @property
    def _client(self) -> discord.Client:
        assert isinstance(self, discord.Client)
        return self

    async def on_ready(self) -> None:
        client = self._client
        log.info("connected to Discord as %s in %d servers", client.user, len(client.guilds))
        if self.newsbot_life is not None:
            await self.newsbot_life.guilds_present(g.id for g in client.guilds)

    async def on_resumed(self) -> None:
        log.info("Discord session resumed")

    async def on_guild_join(self, guild: discord.Guild) -> None:
        if self.newsbot_life is not None:
            await self.newsbot_life.guilds_present([guild.id])

    async def on_guild_available(self, guild: discord.Guild) -> None:
        if self.newsbot_life is not None:
            await self.newsbot_life.guilds_present([guild.id])

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        if self.newsbot_life is not None:
            await self.newsbot_life.guild_removed(guild.id)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if self.newsbot_life is not None:
            await self.newsbot_life.channel_deleted(channel.guild.id, channel.id)


class NewsbotClient(_Events, discord.Client):
    pass


class ShardedNewsbotClient(_Events, discord.AutoShardedClient):
    pass


def _rate_limit_trace(
    on_global: Callable[[float], None] = lambda seconds: None,
) -> aiohttp.TraceConfig:
    """Counts Discord's 429s (newsbot_rate_limited_total): discord.py waits most of them
    out inside one request, where delivery never sees them. A global one (the bot as a
    whole is over Discord's limit) also goes to `on_global` with its Retry-After, so
    every process waits it out, not only the one discord.py pauses."""

    async def on_request_end(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status == 429:
            metrics.rate_limited("discord")
            headers = params.response.headers
            if headers.get("X-RateLimit-Global", "").lower() == "true":
                try:
                    on_global(float(headers.get("Retry-After", "1")))
                except ValueError:
                    on_global(1.0)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


def make_client(
    shard_count: int | Literal["auto"],
    shard_ids: Sequence[int] = (),
    on_global_limit: Callable[[float], None] = lambda seconds: None,
) -> discord.Client:
    """One connection below 2 shards; AutoShardedClient for a count or "auto".

    `shard_ids`: only these shards of `shard_count` in this process (DISCORD_SHARD_IDS),
    the others run elsewhere; Discord sends each guild's events to one shard only."""
    options: dict[str, Any] = {
        "intents": intents(),
        "max_ratelimit_timeout": MAX_RATELIMIT_WAIT,
        "http_trace": _rate_limit_trace(on_global_limit),
    }
    if shard_count == "auto":
        return ShardedNewsbotClient(**options)
    if shard_count > 1:
        if shard_ids:
            options["shard_ids"] = list(shard_ids)
        return ShardedNewsbotClient(shard_count=shard_count, **options)
    return NewsbotClient(**options)


class DiscordAdapter:
    platform = "discord"

    def __init__(
        self,
        token: str,
        *,
        api_base: str | None = None,
        gateway_url: str | None = None,
        guild_id: int | None = None,
        shard_count: int | Literal["auto"] = 1,
        shard_ids: Sequence[int] = (),
        chat: bool = True,
    ) -> None:
        configure_endpoints(api_base, gateway_url)
        self.token = token
        self.guild_id = guild_id
        # chat False (NEWSBOT_ROLES without chat): REST only, to send alerts; no gateway,
        # no commands, which the processes with the chat role serve.
        self.chat = chat
        self.client = make_client(shard_count, shard_ids, self._globally_limited)
        # The send budget shared with the other processes (the runtime sets it: the store).
        self.pacing: SendPacing | None = None
        self._blocking: set[asyncio.Task[None]] = set()
        self.deps: CommandDeps | None = None
        self._notifier = DiscordNotifier(self.client, lookup=self._topic_ids)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordAdapter:
        assert settings.discord_token is not None
        return cls(
            settings.discord_token.get_secret_value(),
            api_base=settings.discord_api_base,
            gateway_url=settings.discord_gateway_url,
            guild_id=settings.discord_guild_id,
            shard_count=settings.discord_shard_count,
            shard_ids=settings.discord_shard_id_list,
            chat="chat" in settings.roles,
        )

    @property
    def notifier(self) -> DiscordNotifier:
        return self._notifier

    async def start(self, deps: CommandDeps) -> None:
        self.deps = deps
        client = self.client
        runner = CommandRunner(deps)
        assert isinstance(client, _Events)
        client.newsbot_runner = runner
        client.newsbot_life = Lifecycle(deps)
        tree = build_tree(client, runner)
        client.add_dynamic_items(UnsubscribeButton)
        try:
            await client.login(self.token)
        except discord.LoginFailure:
            await client.close()
            raise ConfigError("invalid setting DISCORD_TOKEN: Discord refused the token") from None
        if not self.chat:
            log.info("Discord: sending alerts only (NEWSBOT_ROLES has no chat)")
            return
        application_id = client.application_id
        if application_id is not None:
            log.info("invite newsbot to a server: %s", invite_url(application_id))
        await self._sync(tree)
        self._task = asyncio.create_task(self._connect(), name="discord-gateway")

    async def _sync(self, tree: discord.app_commands.CommandTree[Any]) -> None:
        try:
            if self.guild_id is not None:
                guild = discord.Object(id=self.guild_id)
                tree.copy_global_to(guild=guild)
                synced = await tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), self.guild_id)
            else:
                synced = await tree.sync()
                log.info("synced %d commands globally (may take a while to appear)", len(synced))
        except discord.HTTPException as exc:
            # The commands of the last successful sync still work; keep serving.
            log.error("command sync failed: %s", exc)

    async def _connect(self) -> None:
        # discord.py reconnects by itself after the gateway drops; what comes out of
        # connect() is final (a refused token or intents, a closed client).
        await self.client.connect(reconnect=True)

    async def connected(self) -> bool:
        """For /readyz: logged in and, when it serves chat, every gateway session open
        (False while discord.py reconnects after Discord went away)."""
        client = self.client
        if client.is_closed() or client.user is None:
            return False
        if not self.chat:
            return True  # REST only, logged in
        if not client.is_ready():
            return False
        if isinstance(client, discord.AutoShardedClient):
            return all(not shard.is_closed() for shard in client.shards.values())
        return client.ws is not None and client.ws.open

    async def run(self, stop: asyncio.Event) -> None:
        """Until stop; a gateway connection that ends for good is raised, not logged and
        forgotten: a process that can no longer hear Discord must exit and be restarted."""
        await run_until_stopped(stop, self._task, must_outlive="the Discord gateway connection")

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _globally_limited(self, seconds: float) -> None:
        """Discord answered a global 429: discord.py pauses this process; the block goes to
        the shared budget too, so the other processes pause their Discord sends until then."""
        if self.pacing is None:
            return
        now = self.deps.clock.now() if self.deps is not None else datetime.now(UTC)
        until = now + timedelta(seconds=seconds)
        log.warning("Discord global rate limit: every process waits until %s", until.isoformat())
        block = self.pacing.block_sends(ANY_CHANNEL, until, whole_platform=True)
        task = asyncio.ensure_future(block)
        self._blocking.add(task)
        task.add_done_callback(self._blocking.discard)

    async def _topic_ids(self, channel: Channel) -> Mapping[str, int]:
        if self.deps is None:
            return {}
        subs = await self.deps.store.list_subscriptions(channel)
        return {s.query: s.id for s in subs if s.paused_reason is None}
