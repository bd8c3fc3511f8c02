"""Which chat platforms this process talks to: the adapter protocol the runtime drives,
and the choice of adapters from the settings (tokens set, NEWSBOT_ROLES)."""

from __future__ import annotations

import asyncio
from typing import Protocol, TextIO, runtime_checkable

from bot.config import ConfigError, Settings
from bot.core.commands import CommandDeps
from bot.core.ports import Notifier, SendPacing


@runtime_checkable
class SharesRateLimits(Protocol):
    """An adapter that hears rate limits delivery never sees (Discord's global 429s,
    waited out inside discord.py) and writes them to the shared send budget."""

    pacing: SendPacing | None


class Adapter(Protocol):
    platform: str

    @property
    def notifier(self) -> Notifier: ...

    async def start(self, deps: CommandDeps) -> None: ...

    async def connected(self) -> bool:
        """Whether the platform is reachable now (for /readyz)."""
        ...

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; raise when the platform connection is lost for good."""
        ...

    async def stop(self) -> None: ...


def select_adapters(settings: Settings, stdin: TextIO, stdout: TextIO) -> list[Adapter]:
    """The console when no chat token is set; otherwise each configured platform.

    None for a process that neither delivers nor serves chat (NEWSBOT_ROLES=poll); one
    that delivers without chat gets them to send alerts only (REST, no connection)."""
    from bot.adapters.console import ConsoleAdapter

    if not settings.roles & {"deliver", "chat"}:
        return []
    chat = "chat" in settings.roles
    adapters: list[Adapter] = []
    if settings.discord_token is not None:
        from bot.adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter.from_settings(settings))
    if settings.slack_bot_token is not None:
        adapters.append(_slack_adapter(settings))
    return adapters or [ConsoleAdapter(stdin, stdout, chat=chat)]


def _slack_adapter(settings: Settings) -> Adapter:
    from bot.adapters.slack import SlackAdapter, SlackOptions

    assert settings.slack_bot_token is not None
    app_token = settings.slack_app_token
    secret = settings.slack_signing_secret
    if app_token is None and secret is None:
        raise ConfigError(
            "invalid setting SLACK_SIGNING_SECRET: required in HTTP mode "
            "(or set SLACK_APP_TOKEN for Socket Mode)"
        )
    return SlackAdapter(
        SlackOptions(
            bot_token=settings.slack_bot_token.get_secret_value(),
            app_token=app_token.get_secret_value() if app_token else None,
            signing_secret=secret.get_secret_value() if secret else None,
            http_port=settings.slack_http_port,
            api_url=settings.slack_api_url or None,
            admin_users=settings.slack_admin_user_ids,
            chat="chat" in settings.roles,
        )
    )
