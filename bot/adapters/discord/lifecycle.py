"""What happens to subscriptions when Discord's world changes under them.

Removed from a guild (kicked, or the guild deleted) -> that guild's subscriptions pause
and their unsent alerts are kept (parked) rather than tried against a guild that refuses
them; added back -> they resume and the kept alerts go out. A channel deleted -> its
subscriptions pause (a Discord channel id never comes back). An outage (GUILD_DELETE with
`unavailable`) pauses nothing: discord.py reports it as `guild_unavailable`, not as a
removal. A permission the bot lacks is found when a send fails: delivery pauses the
channel then, and CommandRunner resumes it when an interaction shows the permission back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.core.commands import CommandDeps
from bot.core.models import Channel

log = logging.getLogger(__name__)

PLATFORM = "discord"
REMOVED_FROM_GUILD = "the bot was removed from this Discord server; add it back to resume"
CHANNEL_DELETED = "this Discord channel was deleted"


class Lifecycle:
    def __init__(self, deps: CommandDeps) -> None:
        self.deps = deps

    async def guild_removed(self, guild_id: int) -> int:
        workspace = str(guild_id)
        paused = await self.deps.store.pause_workspace(PLATFORM, workspace, REMOVED_FROM_GUILD)
        for channel in await self._channels(workspace, REMOVED_FROM_GUILD):
            await self.deps.store.park_channel(channel, REMOVED_FROM_GUILD)
        await self._refresh_index(workspace)
        log.warning(
            "removed from guild: %d subscriptions paused",
            paused,
            extra={"workspace": workspace, "paused": paused},
        )
        return paused

    async def guilds_present(self, guild_ids: Iterable[int]) -> int:
        """Resume guilds the bot is in again (joined now, or while it was offline)."""
        total = 0
        for guild_id in guild_ids:
            workspace = str(guild_id)
            channels = await self._channels(workspace, REMOVED_FROM_GUILD)
            if not channels:
                continue
            resumed = await self.deps.store.resume_workspace(
                PLATFORM, workspace, REMOVED_FROM_GUILD
            )
            for channel in channels:
                await self.deps.store.unpark_channel(channel, self.deps.clock.now())
            await self._refresh_index(workspace)
            log.info(
                "back in guild: %d subscriptions resumed",
                resumed,
                extra={"workspace": workspace, "resumed": resumed},
            )
            total += resumed
        return total

    async def channel_deleted(self, guild_id: int, channel_id: int) -> int:
        channel = Channel(PLATFORM, str(guild_id), str(channel_id))
        paused = await self.deps.store.pause_channel(channel, CHANNEL_DELETED)
        if paused:
            await self.deps.store.park_channel(channel, CHANNEL_DELETED)
            await self._refresh_index(str(guild_id))
            log.warning(
                "channel deleted: %d subscriptions paused", paused, extra={"channel": str(channel)}
            )
        return paused

    async def _channels(self, workspace: str, reason: str) -> list[Channel]:
        """The guild's channels with subscriptions paused for `reason`."""
        subs = await self.deps.store.all_subscriptions()
        return list(
            dict.fromkeys(
                s.channel
                for s in subs
                if s.channel.platform == PLATFORM
                and s.channel.workspace == workspace
                and s.paused_reason == reason
            )
        )

    async def _refresh_index(self, workspace: str) -> None:
        """Alerts skip paused subscriptions by what the live index holds: update it."""
        live = self.deps.index.by_id
        for sub in await self.deps.store.all_subscriptions():
            if sub.id in live and sub.channel.workspace == workspace:
                live[sub.id] = sub
