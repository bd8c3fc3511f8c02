"""Events: the App Home tab, channels archived/deleted/left (pause) and back (resume).

A channel the bot can no longer post in keeps its subscriptions, paused with a reason
that /news list shows, so nothing is lost when it comes back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.commands import CommandContext, channel_of
from bot.adapters.slack.home import HOME_UNSUBSCRIBE, home_view
from bot.core.alerts import set_channel_paused
from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.models import Channel
from bot.core.personal import personal_channel

log = logging.getLogger(__name__)

PAUSE_REASONS = {
    "channel_archive": "the channel was archived",
    "group_archive": "the channel was archived",
    "channel_deleted": "the channel was deleted",
    "group_deleted": "the channel was deleted",
    "channel_left": "the bot was removed from the channel; /invite it back",
    "group_left": "the bot was removed from the channel; /invite it back",
}
RESUME_EVENTS = ("channel_unarchive", "group_unarchive")
# Every event registered below; manifest.yml must subscribe to exactly these.
HANDLED_EVENTS = frozenset(
    {
        "app_home_opened",
        *PAUSE_REASONS,
        *RESUME_EVENTS,
        "member_joined_channel",
        "tokens_revoked",
        "app_uninstalled",
    }
)


async def pause(deps: CommandDeps, channel: Channel, reason: str) -> int:
    """What delivery does when a send is refused for good, done as soon as Slack says so:
    subscriptions paused (store and live index), queued alerts kept unsent."""
    count = await deps.store.pause_channel(channel, reason)
    kept = await deps.store.park_channel(channel, reason)
    set_channel_paused(deps.index.by_id, channel, reason)
    log.warning(
        "channel paused (%d subscriptions, %d alerts kept unsent): %s",
        count,
        kept,
        reason,
        extra={"channel": str(channel)},
    )
    return count


async def resume(deps: CommandDeps, channel: Channel) -> int:
    """As `/news resume`: subscriptions active again, kept alerts sent."""
    count = await deps.store.resume_channel(channel)
    kept = await deps.store.unpark_channel(channel, deps.clock.now())
    set_channel_paused(deps.index.by_id, channel, None)
    if count or kept:
        log.info(
            "channel resumed (%d subscriptions, %d kept alerts)",
            count,
            kept,
            extra={"channel": str(channel)},
        )
    return count


def register_events(
    app: AsyncApp,
    ctx: CommandContext,
    bot_user_id: Callable[[], str | None],
    on_revoked: Callable[[str], None],
) -> None:
    @app.event("app_home_opened")
    async def home_opened(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        await publish_home(ctx, client, str(event.get("user")), str(body.get("team_id")))

    @app.action(re.compile(rf"^{HOME_UNSUBSCRIBE}:\d+$"))
    async def stop_personal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The Home tab's Stop on a personal subscription: unsubscribe, show the tab again."""
        await ack()
        user = str((body.get("user") or {}).get("id"))
        team = str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id"))
        actions = body.get("actions") or [{}]
        mine = personal_channel("slack", team, user)
        inv = Invocation(mine, user, True, personal=mine)
        await handle_command(f"unsubscribe {actions[0].get('value')}", inv, ctx.deps)
        await publish_home(ctx, client, user, team)

    for name, reason in PAUSE_REASONS.items():
        _on_pause(app, ctx, name, reason)

    for name in RESUME_EVENTS:

        @app.event(name)
        async def unarchived(event: dict[str, Any], body: dict[str, Any]) -> None:
            await resume(ctx.deps, channel_of(str(body.get("team_id")), str(event.get("channel"))))

    @app.event("member_joined_channel")
    async def joined(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("user") and event.get("user") == bot_user_id():
            await resume(ctx.deps, channel_of(str(body.get("team_id")), str(event.get("channel"))))

    @app.event("tokens_revoked")
    async def tokens_revoked(event: dict[str, Any]) -> None:
        bot_ids = (event.get("tokens") or {}).get("bot") or []
        if bot_user_id() in bot_ids:
            on_revoked("tokens_revoked")

    @app.event("app_uninstalled")
    async def uninstalled() -> None:
        on_revoked("app_uninstalled")


def _on_pause(app: AsyncApp, ctx: CommandContext, name: str, reason: str) -> None:
    @app.event(name)
    async def paused(event: dict[str, Any], body: dict[str, Any]) -> None:
        channel = event.get("channel")
        if isinstance(channel, dict):  # some events carry the channel object
            channel = channel.get("id")
        await pause(ctx.deps, channel_of(str(body.get("team_id")), str(channel)), reason)


async def publish_home(ctx: CommandContext, client: AsyncWebClient, user: str, team: str) -> None:
    view = home_view(
        user,
        team,
        await ctx.deps.store.all_subscriptions(),
        await ctx.deps.store.list_feeds(),
        await ctx.deps.store.channels_by_feed(),
    )
    await client.views_publish(user_id=user, view=view)
