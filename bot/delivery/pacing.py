"""Pacing: stay below each platform's rate limits, per channel and per platform.

The budgets (`NEWSBOT_RATE_*`) and the 429 blocks live behind the `SendPacing` contract:
in this process's memory when one process sends (SQLite: `LocalPacing`), in the database
when several share PostgreSQL, so the fleet together stays within each budget and a 429
pauses every process. The Pacer only knows which rate applies to which channel.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.models import Channel
from bot.core.pacing import UNLIMITED, LocalPacing, Rate
from bot.core.ports import SendPacing

__all__ = ["UNLIMITED", "Pacer", "Rate"]


class Pacer:
    """Each platform's channel and platform rates, over the budget store that counts."""

    def __init__(
        self,
        channel_rates: dict[str, Rate],
        platform_rates: dict[str, Rate],
        shared: SendPacing | None = None,
    ) -> None:
        self.channel_rates = channel_rates
        self.platform_rates = platform_rates
        self.budget: SendPacing = shared if shared is not None else LocalPacing()

    async def reserve(self, channel: Channel, now: datetime) -> float:
        """Take a send for `channel` now (0.0), or the seconds to wait (nothing taken)."""
        return await self.budget.reserve_send(
            channel,
            self.channel_rates.get(channel.platform, UNLIMITED),
            self.platform_rates.get(channel.platform, UNLIMITED),
            now,
        )

    async def block(
        self, channel: Channel, until: datetime, *, whole_platform: bool = False
    ) -> None:
        """A 429's Retry-After: nothing more to this channel (or platform) before `until`."""
        await self.budget.block_sends(channel, until, whole_platform=whole_platform)
