"""SubscriptionStore on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from bot.core.models import Channel, Subscription
from bot.store.database import Database, from_db_time, to_db_time
from bot.store.rows import Shared, subscription_from_row


def _created_at(value: str) -> datetime:
    created = from_db_time(value)
    assert created is not None  # NOT NULL in the schema
    return created


def _row_to_subscription(row: aiosqlite.Row, shared: Shared | None = None) -> Subscription:
    return subscription_from_row(row, _created_at, shared)


class SqliteSubscriptions:
    db: Database

    async def add_subscriptions(
        self,
        channel: Channel,
        queries: Sequence[str],
        created_by: str,
        *,
        mention: str | None = None,
    ) -> list[Subscription]:
        now = to_db_time(datetime.now(UTC))
        ids: list[int] = []
        async with self.db.transaction() as conn:
            for query in queries:
                cur = await conn.execute(
                    "INSERT INTO subscriptions"
                    " (platform, workspace, channel, query, created_by, created_at, mention)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        channel.platform,
                        channel.workspace,
                        channel.channel,
                        query,
                        created_by,
                        now,
                        mention,
                    ),
                )
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
        created = from_db_time(now)
        assert created is not None
        return [
            Subscription(i, channel, q, created_by, created, mention=mention)
            for i, q in zip(ids, queries, strict=True)
        ]

    async def pause_channel(self, channel: Channel, reason: str) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE subscriptions SET paused_reason = ? WHERE platform = ?"
                " AND workspace = ? AND channel = ?",
                (reason, channel.platform, channel.workspace, channel.channel),
            )
            return cur.rowcount

    async def resume_channel(self, channel: Channel) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE subscriptions SET paused_reason = NULL WHERE platform = ?"
                " AND workspace = ? AND channel = ? AND paused_reason IS NOT NULL",
                (channel.platform, channel.workspace, channel.channel),
            )
            return cur.rowcount

    async def pause_workspace(self, platform: str, workspace: str, reason: str) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE subscriptions SET paused_reason = ? WHERE platform = ?"
                " AND workspace = ? AND paused_reason IS NULL",
                (reason, platform, workspace),
            )
            return cur.rowcount

    async def resume_workspace(self, platform: str, workspace: str, reason: str) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE subscriptions SET paused_reason = NULL WHERE platform = ?"
                " AND workspace = ? AND paused_reason = ?",
                (platform, workspace, reason),
            )
            return cur.rowcount

    async def remove_subscription(
        self, channel: Channel, subscription_id: int
    ) -> Subscription | None:
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM subscriptions WHERE id = ? AND platform = ? AND workspace = ?"
                " AND channel = ?",
                (subscription_id, channel.platform, channel.workspace, channel.channel),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            await conn.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
        return _row_to_subscription(row)

    async def list_subscriptions(self, channel: Channel) -> list[Subscription]:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT * FROM subscriptions WHERE platform = ? AND workspace = ? AND channel = ?"
                " ORDER BY id",
                (channel.platform, channel.workspace, channel.channel),
            ) as cur,
        ):
            return [_row_to_subscription(r) for r in await cur.fetchall()]

    async def all_subscriptions(self) -> list[Subscription]:
        async with (
            self.db.reading() as conn,
            conn.execute("SELECT * FROM subscriptions ORDER BY id") as cur,
        ):
            shared = Shared()
            return [_row_to_subscription(r, shared) for r in await cur.fetchall()]
