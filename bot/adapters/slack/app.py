"""SlackAdapter: the Bolt app, served over Socket Mode or HTTP, and its notifier.

Socket Mode (SLACK_APP_TOKEN set) needs no public URL: the bot dials out to the
websocket URL that `apps.connections.open` hands back. HTTP mode serves Bolt's aiohttp
app at /slack/events and verifies every request's signature (Bolt's
RequestVerification: HMAC-SHA256 of `v0:{timestamp}:{body}`, at most 5 minutes old).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError

from bot.adapters.background import run_until_stopped
from bot.adapters.slack.client import api_url, web_client
from bot.adapters.slack.commands import CommandContext, register_commands
from bot.adapters.slack.dms import DirectMessages
from bot.adapters.slack.errors import TOKEN_ERRORS, error_code
from bot.adapters.slack.events import register_events
from bot.adapters.slack.groups import UserGroups
from bot.adapters.slack.notifier import SlackNotifier
from bot.adapters.slack.permissions import AdminCheck
from bot.config import ConfigError
from bot.core.commands import CommandDeps
from bot.observe.http import PostMount, listen

log = logging.getLogger(__name__)
BOLT_LOG = logging.getLogger("slack_bolt.newsbot")

EVENTS_PATH = "/slack/events"
UNREACHABLE = (aiohttp.ClientError, TimeoutError, OSError)


@dataclass(frozen=True)
class SlackOptions:
    bot_token: str
    app_token: str | None = None  # set: Socket Mode
    signing_secret: str | None = None  # HTTP mode: required
    http_port: int = 3000
    http_host: str = "0.0.0.0"  # Slack must reach it; put TLS in front (README)
    api_url: str | None = None
    admin_users: frozenset[str] = field(default_factory=frozenset)
    # False (NEWSBOT_ROLES without chat): the Web API only, to send alerts; no Socket Mode
    # connection or HTTP listener, which the processes with the chat role serve.
    chat: bool = True

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


class SlackAdapter:
    platform = "slack"

    def __init__(self, options: SlackOptions) -> None:
        if not options.socket_mode and not options.signing_secret:
            raise ValueError("HTTP mode needs a signing secret")
        self.options = options
        base = self.base_url = api_url(options.api_url)
        # Commands, events and the home tab may repeat a call after a dropped connection;
        # the notifier's client may not (a repeated post is a duplicate alert).
        self.client = web_client(options.bot_token, base, retry_connection_errors=True)
        self._notifier = SlackNotifier(
            web_client(options.bot_token, base, retry_connection_errors=False),
            on_token_error=self._token_refused,
        )
        self.admins = AdminCheck(self.client, options.admin_users)
        self.identity: dict[str, Any] | None = None
        self.port: int | None = None  # the HTTP port actually bound
        self.stopped = asyncio.Event()
        self._runner: web.AppRunner | None = None
        # NEWSBOT_HTTP_PORT = SLACK_HTTP_PORT: /slack/events on the operator's server.
        self._shared: PostMount | None = None
        self._sharing: PostMount | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._connecting: asyncio.Task[None] | None = None

    @property
    def notifier(self) -> SlackNotifier:
        return self._notifier

    async def start(self, deps: CommandDeps) -> None:
        if not await self._identify():
            return
        if not self.options.chat:
            log.info("Slack: sending alerts only (NEWSBOT_ROLES has no chat)")
            return
        name = str((self.identity or {}).get("user") or "newsbot")
        app = AsyncApp(
            # Tokenless: Bolt gives each request a copy with the token _authorize returns.
            client=web_client(None, self.base_url, retry_connection_errors=True),
            authorize=self._authorizer(),
            signing_secret=self.options.signing_secret or "",
            logger=BOLT_LOG,
            name="newsbot",
        )
        ctx = CommandContext(
            deps=deps,
            client=self.client,
            admins=self.admins,
            bot_name=name,
            on_token_error=self._token_refused,
            dms=DirectMessages(self.client),
            groups=UserGroups(self.client),
        )
        register_commands(app, ctx)
        register_events(app, ctx, self._bot_user_id, self._token_refused)

        async def listener_failed(error: Exception) -> None:  # Bolt passes args by name
            await self._listener_failed(error)

        app.error(listener_failed)
        if self.options.app_token is not None:
            self._socket = AsyncSocketModeHandler(
                app, self.options.app_token, web_client=self.client
            )
            # The SDK's connect() retries every failure forever, a refused token too: ask
            # for the websocket URL here, where a refusal can stop the Slack side cleanly.
            try:
                opened = await self.client.apps_connections_open(app_token=self.options.app_token)
            except UNREACHABLE as exc:
                # Not the token's fault: the SDK's own loop keeps trying in the background,
                # and the rest of the bot starts meanwhile.
                log.warning("Slack Socket Mode not connected yet (%s); retrying", _why(exc))
                self._connecting = asyncio.create_task(
                    self._socket.connect_async(),  # type: ignore[no-untyped-call]
                    name="slack-socket-connect",
                )
                return
            except SlackApiError as exc:
                code = error_code(exc)
                if code not in TOKEN_ERRORS:
                    raise
                log.error(
                    "Slack refused SLACK_APP_TOKEN (%s): the Slack side is stopped, the rest "
                    "of the bot keeps running; create an app-level token with "
                    "connections:write and restart",
                    code,
                )
                self._notifier.stop(f"the app token was refused ({code})")
                await self.stop()
                return
            self._socket.client.wss_uri = str(opened["url"])
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack connected over Socket Mode as @%s", name)
        elif self._sharing is not None:
            self._shared = self._sharing
            self._shared.mount_post(EVENTS_PATH, app.server(path=EVENTS_PATH).handle_post_requests)
            self.port = self._shared.port
            log.info(
                "Slack HTTP mode at %s on the metrics and health port %d as @%s",
                EVENTS_PATH,
                self.port,
                name,
            )
        else:
            self._runner = web.AppRunner(app.web_app(path=EVENTS_PATH), access_log=None)
            await self._runner.setup()
            try:
                self.port = await listen(
                    self._runner,
                    self.options.http_host,
                    self.options.http_port,
                    "SLACK_HTTP_PORT",
                )
            except ConfigError:
                await self.stop()
                raise
            log.info(
                "Slack HTTP mode listening on %s:%d%s as @%s",
                self.options.http_host,
                self.port,
                EVENTS_PATH,
                name,
            )

    async def connected(self) -> bool:
        """For /readyz: the Slack side is up (its tokens not refused) and, in Socket Mode,
        the websocket is open and answering pings; in HTTP mode, listening."""
        if self.stopped.is_set() or self.identity is None:
            return False
        if not self.options.chat:
            return True  # Web API only
        if self._socket is not None:
            return bool(await self._socket.client.is_connected())
        return self._runner is not None or self._shared is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Until stop. The SDK keeps Socket Mode connected on its own; a background
        connect that fails is raised. Slack refusing the tokens stops only the Slack side
        (logged at start), by design: the other platforms keep running."""
        await run_until_stopped(stop, self._connecting)

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()  # type: ignore[no-untyped-call]
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._shared is not None:
            shared, self._shared = self._shared, None
            shared.mount_post(EVENTS_PATH, None)  # the operator's routes keep serving
        self.stopped.set()

    def share_http(self, server: PostMount) -> None:
        """Serve HTTP mode's /slack/events on `server` (set up to forward it) instead of
        a listener of its own: one port for Slack, metrics and health. Before start."""
        self._sharing = server

    async def _identify(self) -> bool:
        """auth.test once: who the bot is, and whether its token still works."""
        try:
            self.identity = dict((await self.client.auth_test()).data)  # type: ignore[arg-type]
        except SlackApiError as exc:
            code = error_code(exc)
            if code in TOKEN_ERRORS:
                self._token_refused(code)
                return False
            log.warning("Slack auth.test failed (%s); will retry on the first request", code)
        except UNREACHABLE as exc:
            # Slack unreachable at start: serve anyway; _authorize asks again per request.
            log.warning("Slack unreachable (%s); will retry on the first request", _why(exc))
        return True

    def _authorizer(self) -> Callable[[], Awaitable[AuthorizeResult]]:
        """Bolt's authorize hook: the identity auth.test gave, so no auth.test per request.

        A closure, not a method: Bolt passes arguments by the parameter names it sees.
        """

        async def authorize() -> AuthorizeResult:
            return await self._authorize()

        return authorize

    async def _authorize(self) -> AuthorizeResult:
        if self.identity is None:
            self.identity = dict((await self.client.auth_test()).data)  # type: ignore[arg-type]
        ident = self.identity
        return AuthorizeResult(
            enterprise_id=ident.get("enterprise_id"),
            team_id=ident.get("team_id"),
            team=ident.get("team"),
            url=ident.get("url"),
            bot_user_id=ident.get("user_id"),
            bot_id=ident.get("bot_id"),
            bot_token=self.options.bot_token,
        )

    async def _listener_failed(self, error: Exception) -> None:
        """Bolt's error hook: a token refused anywhere stops the Slack side; else log."""
        if isinstance(error, SlackApiError) and error_code(error) in TOKEN_ERRORS:
            self._token_refused(error_code(error))
            return
        log.error("Slack listener failed: %s: %s", type(error).__name__, error)

    def _bot_user_id(self) -> str | None:
        return None if self.identity is None else self.identity.get("user_id")

    def _token_refused(self, code: str) -> None:
        """Stop the Slack side only: Discord and the console keep running."""
        if self.stopped.is_set() or self._stopping is not None:
            return
        log.error(
            "Slack refused the bot token (%s): the Slack side is stopped, the rest of the bot "
            "keeps running; put a valid SLACK_BOT_TOKEN in place and restart",
            code,
        )
        self._notifier.stop(f"the bot token was refused ({code})")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        # Not awaited here: this may run inside a request handler that stop() waits for.
        self._stopping = loop.create_task(self.stop(), name="slack-stop")


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _not_the_token_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns, at every
    # start, that the client we pass wins over it. The client is tokenless on purpose
    # (the authorizer gives each request its token): nothing is wrong, so say nothing.
    return "`token` will be unused" not in record.getMessage()


BOLT_LOG.addFilter(_not_the_token_warning)
