"""SendPacing on SQLite: the budget in this process's memory.

A SQLite store has one process sending (the file takes one writer), so the in-process
sliding windows are the whole budget, as before issue 13, and a send costs no write.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.models import Channel
from bot.core.pacing import LocalPacing, Rate


class SqlitePacing:
    _local_pacing: LocalPacing | None = None

    def _pacing(self) -> LocalPacing:
        if self._local_pacing is None:
            self._local_pacing = LocalPacing()
        return self._local_pacing

    async def reserve_send(
        self, channel: Channel, channel_rate: Rate, platform_rate: Rate, now: datetime
    ) -> float:
        return await self._pacing().reserve_send(channel, channel_rate, platform_rate, now)

    async def block_sends(
        self, channel: Channel, until: datetime, *, whole_platform: bool = False
    ) -> None:
        await self._pacing().block_sends(channel, until, whole_platform=whole_platform)
