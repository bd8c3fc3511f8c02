"""SubscriptionStore on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from bot.core.models import Channel, Subscription
from bot.store.postgres.database import PgDatabase, changed
from bot.store.rows import Shared, subscription_from_row

_CHANNEL = "platform = $1 AND workspace = $2 AND channel = $3"


def _as_is(value: datetime) -> datetime:
    return value  # timestamptz: asyncpg gives an aware datetime


def _row_to_subscription(row: asyncpg.Record, shared: Shared | None = None) -> Subscription:
    return subscription_from_row(row, _as_is, shared)


class PgSubscriptions:
    db: PgDatabase

    async def add_subscriptions(
        self,
        channel: Channel,
        queries: Sequence[str],
        created_by: str,
        *,
        mention: str | None = None,
    ) -> list[Subscription]:
        now = datetime.now(UTC)
        added: list[Subscription] = []
        async with self.db.transaction() as conn:
            for query in queries:
                row = await conn.fetchrow(
                    "INSERT INTO subscriptions"
                    " (platform, workspace, channel, query, created_by, created_at, mention)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
                    channel.platform,
                    channel.workspace,
                    channel.channel,
                    query,
                    created_by,
                    now,
                    mention,
                )
                assert row is not None
                added.append(_row_to_subscription(row))
        return added

    async def pause_channel(self, channel: Channel, reason: str) -> int:
        async with self.db.transaction() as conn:
            return changed(
                await conn.execute(
                    f"UPDATE subscriptions SET paused_reason = $4 WHERE {_CHANNEL}",
                    channel.platform,
                    channel.workspace,
                    channel.channel,
                    reason,
                )
            )

    async def resume_channel(self, channel: Channel) -> int:
        async with self.db.transaction() as conn:
            return changed(
                await conn.execute(
                    "UPDATE subscriptions SET paused_reason = NULL"
                    f" WHERE {_CHANNEL} AND paused_reason IS NOT NULL",
                    channel.platform,
                    channel.workspace,
                    channel.channel,
                )
            )

    async def pause_workspace(self, platform: str, workspace: str, reason: str) -> int:
        async with self.db.transaction() as conn:
            return changed(
                await conn.execute(
                    "UPDATE subscriptions SET paused_reason = $3 WHERE platform = $1"
                    " AND workspace = $2 AND paused_reason IS NULL",
                    platform,
                    workspace,
                    reason,
                )
            )

    async def resume_workspace(self, platform: str, workspace: str, reason: str) -> int:
        async with self.db.transaction() as conn:
            return changed(
                await conn.execute(
                    "UPDATE subscriptions SET paused_reason = NULL WHERE platform = $1"
                    " AND workspace = $2 AND paused_reason = $3",
                    platform,
                    workspace,
                    reason,
                )
            )

    async def remove_subscription(
        self, channel: Channel, subscription_id: int
    ) -> Subscription | None:
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                f"DELETE FROM subscriptions WHERE {_CHANNEL} AND id = $4 RETURNING *",
                channel.platform,
                channel.workspace,
                channel.channel,
                subscription_id,
            )
        return _row_to_subscription(row) if row is not None else None

    async def list_subscriptions(self, channel: Channel) -> list[Subscription]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                f"SELECT * FROM subscriptions WHERE {_CHANNEL} ORDER BY id",
                channel.platform,
                channel.workspace,
                channel.channel,
            )
        return [_row_to_subscription(r) for r in rows]

    async def all_subscriptions(self) -> list[Subscription]:
        async with self.db.reading() as conn:
            rows = await conn.fetch("SELECT * FROM subscriptions ORDER BY id")
        shared = Shared()
        return [_row_to_subscription(r, shared) for r in rows]
