"""What happens to subscriptions when Discord's world changes under them.

Removed from a guild (kicked, or the guild deleted) -> that guild's subscriptions pause;
added back -> they resume. A channel deleted -> its subscriptions pause (a Discord channel
id never comes back). An outage (GUILD_DELETE with `unavailable`) pauses nothing:
discord.py reports it as `guild_unavailable`, not as a removal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.core.commands import CommandDeps
from bot.core.models import Channel

log = logging.getLogger(__name__)

PLATFORM = "discord"
REMOVED_FROM_GUILD = "the bot was removed from this Discord server"
CHANNEL_DELETED = "this Discord channel was deleted"


class Lifecycle:
    def __init__(self, deps: CommandDeps) -> None:
        self.deps = deps

    async def guild_removed(self, guild_id: int) -> int:
        paused = await self.deps.store.pause_workspace(PLATFORM, str(guild_id), REMOVED_FROM_GUILD)
        await self._refresh_index(str(guild_id))
        log.warning(
            "removed from guild: %d subscriptions paused",
            paused,
            extra={"workspace": str(guild_id), "paused": paused},
        )
        return paused

    async def guilds_present(self, guild_ids: Iterable[int]) -> int:
        """Resume guilds the bot is in again (joined now, or while it was offline)."""
        total = 0
        for guild_id in guild_ids:
            resumed = await self.deps.store.resume_workspace(
                PLATFORM, str(guild_id), REMOVED_FROM_GUILD
            )
            if resumed:
                await self._refresh_index(str(guild_id))
                log.info(
                    "back in guild: %d subscriptions resumed",
                    resumed,
                    extra={"workspace": str(guild_id), "resumed": resumed},
                )
            total += resumed
        return total

    async def channel_deleted(self, guild_id: int, channel_id: int) -> int:
        channel = Channel(PLATFORM, str(guild_id), str(channel_id))
        paused = await self.deps.store.pause_channel(channel, CHANNEL_DELETED)
        if paused:
            await self._refresh_index(str(guild_id))
            log.warning(
                "channel deleted: %d subscriptions paused", paused, extra={"channel": str(channel)}
            )
        return paused

    async def _refresh_index(self, workspace: str) -> None:
        """The matcher skips paused subscriptions by what the index holds: update it."""
        for sub in await self.deps.store.all_subscriptions():
            if sub.channel.platform == PLATFORM and sub.channel.workspace == workspace:
                self.deps.index.remove(sub.id)
                self.deps.index.add(sub)
