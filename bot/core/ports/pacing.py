"""The send budget every delivering process draws from (issue 13, item 8).

Delivery asks before each send; the answer must count the sends of every process that
shares the store, or several processes would post at several times the platform's rate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.core.models import Channel
from bot.core.pacing import Rate


class SendPacing(Protocol):
    async def reserve_send(
        self, channel: Channel, channel_rate: Rate, platform_rate: Rate, now: datetime
    ) -> float:
        """Take one send for `channel` at `now` if the channel's budget, its platform's
        budget and any block (a 429) all allow it, and return 0.0; otherwise take nothing
        and return the seconds until one may (a lower bound: another process may take
        that slot first). Atomic across every process sharing the store."""
        ...

    async def block_sends(
        self, channel: Channel, until: datetime, *, whole_platform: bool = False
    ) -> None:
        """A 429's Retry-After: no send to `channel` (to its whole platform when
        `whole_platform`) before `until`, from any process. A later block never shortens
        an earlier, longer one."""
        ...
