"""SendPacing on PostgreSQL: one budget for every process sharing the database.

Each reservation is one call of the `reserve_send` function (migration 0009): under a
transaction-level advisory lock per budget key it drops the key's sends older than its
window, counts the rest, reads any 429 block, and records the send only when every key
has room. So the fleet together keeps to COUNT sends in any SECONDS per channel and per
platform, exactly as one process does in memory, for one round trip per send; and a
block written by the process that got the 429 stops every process until it ends.

Times are the senders' clocks (as the outbox's are): hosts sharing a database keep them
in step with NTP; a skew of a few milliseconds moves a window by as much.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.models import Channel
from bot.core.pacing import Rate, channel_key, platform_key
from bot.store.postgres.database import PgDatabase


class PgPacing:
    db: PgDatabase

    async def reserve_send(
        self, channel: Channel, channel_rate: Rate, platform_rate: Rate, now: datetime
    ) -> float:
        # The platform's key first, always: every reservation takes its locks in the
        # same order, so none waits on another in a cycle.
        async with self.db.reading() as conn:
            wait = await conn.fetchval(
                "SELECT reserve_send($1::text[], $2::int[], $3::float8[], $4)",
                [platform_key(channel.platform), channel_key(channel)],
                [platform_rate.count, channel_rate.count],
                [platform_rate.per, channel_rate.per],
                now,
            )
        return float(wait)

    async def block_sends(
        self, channel: Channel, until: datetime, *, whole_platform: bool = False
    ) -> None:
        key = platform_key(channel.platform) if whole_platform else channel_key(channel)
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO send_blocks (key, blocked_until) VALUES ($1, $2)"
                " ON CONFLICT (key) DO UPDATE SET blocked_until ="
                " greatest(send_blocks.blocked_until, excluded.blocked_until)",
                key,
                until,
            )
