"""OutboxStore, HoldStore, ParkStore and ChannelStatusStore on PostgreSQL.

The statuses are the SQLite store's (bot/store/outbox.py): pending -> sent; pending ->
held -> folded (into a digest row) or pending again; pending/held -> paused when the
platform refuses the channel for good; pending -> rejected when it refuses one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg

from bot.core.models import Alert, Channel
from bot.core.ports import ChannelDeliveryStatus, Delivery, HeldChannel, OutboxDepth
from bot.store.payload import decode_alert, encode_alert
from bot.store.postgres.database import PgDatabase, changed

if TYPE_CHECKING:
    from bot.store.postgres.database import Conn

_CHANNEL = "platform = $1 AND workspace = $2 AND channel = $3"


def _key(channel: Channel) -> tuple[str, str, str]:
    return (channel.platform, channel.workspace, channel.channel)


def row_to_alert(row: asyncpg.Record) -> Alert:
    channel = Channel(row["platform"], row["workspace"], row["channel"])
    return decode_alert(row["id"], channel, row["feed_id"], row["story_id"], row["payload"])


# One statement for a batch; WITH ORDINALITY keeps the outbox ids in the batch's order.
_INSERT = (
    "INSERT INTO outbox (platform, workspace, channel, feed_id, story_id, payload, kind,"
    " created_at, next_attempt_at)"
    " SELECT p, w, c, f, s, pl, k, $8, $8 FROM unnest($1::text[], $2::text[], $3::text[],"
    " $4::bigint[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS t(p, w, c, f, s,"
    " pl, k, n) ORDER BY n ON CONFLICT (platform, workspace, channel, feed_id, story_id)"
    " DO NOTHING"
)


async def insert_alerts(conn: Conn, alerts: Sequence[Alert], now: datetime) -> int:
    """Queue each alert not queued yet (unique per channel, feed and story), inside the
    caller's transaction; returns how many were new."""
    if not alerts:
        return 0
    return changed(
        await conn.execute(
            _INSERT,
            [a.channel.platform for a in alerts],
            [a.channel.workspace for a in alerts],
            [a.channel.channel for a in alerts],
            [a.feed_id for a in alerts],
            [a.story_id for a in alerts],
            [encode_alert(a) for a in alerts],
            [a.kind for a in alerts],
            now,
        )
    )


class PgOutbox:
    db: PgDatabase

    async def queue_alerts(self, alerts: Sequence[Alert], now: datetime) -> int:
        async with self.db.transaction() as conn:
            return await insert_alerts(conn, alerts, now)

    async def pending_alerts(self, limit: int) -> list[Alert]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1"
                " ORDER BY id LIMIT $2",
                datetime.now(UTC),
                limit,
            )
        return [row_to_alert(r) for r in rows]

    async def outbox_depth(self) -> OutboxDepth:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT platform, status, COUNT(*) AS n, MIN(created_at) AS first FROM outbox"
                " WHERE status IN ('pending', 'held', 'paused') GROUP BY platform, status"
            )
        return OutboxDepth(
            {(r["platform"], r["status"]): r["n"] for r in rows},
            {r["platform"]: r["first"] for r in rows if r["status"] == "pending"},
        )

    async def due_deliveries(
        self, now: datetime, platforms: Sequence[str], per_channel: int, limit: int
    ) -> list[Delivery]:
        if not platforms:
            return []
        # Per channel: its pending rows numbered oldest first, and whether the oldest is
        # due. A channel waiting on a retry gives nothing, so order holds; the per-channel
        # cap keeps one flooded channel from starving the others.
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM ("
                " SELECT *, ROW_NUMBER() OVER w AS n, FIRST_VALUE(next_attempt_at) OVER w"
                " AS head FROM outbox WHERE status = 'pending' AND platform = ANY($1::text[])"
                " WINDOW w AS (PARTITION BY platform, workspace, channel ORDER BY id)"
                ") due WHERE n <= $2 AND head <= $3 AND next_attempt_at <= $3"
                " ORDER BY id LIMIT $4",
                list(platforms),
                per_channel,
                now,
                limit,
            )
        return [
            Delivery(row_to_alert(r), r["attempts"], r["maybe_sent"], r["created_at"]) for r in rows
        ]

    async def mark_in_flight(self, alert_id: int, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET maybe_sent = TRUE, in_flight_at = $1,"
                " attempts = attempts + 1 WHERE id = $2",
                now,
                alert_id,
            )

    async def mark_sent(self, alert_id: int, remote_id: str | None, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = $1, remote_id = $2,"
                " last_error = NULL WHERE id = $3",
                now,
                remote_id,
                alert_id,
            )

    async def mark_failed(
        self, alert_id: int, error: str, retry_at: datetime, *, maybe_sent: bool = True
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET last_error = $1, next_attempt_at = $2, maybe_sent = $3"
                " WHERE id = $4",
                error[:500],
                retry_at,
                maybe_sent,
                alert_id,
            )

    async def mark_rejected(self, alert_id: int, error: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'rejected', last_error = $1, maybe_sent = FALSE"
                " WHERE id = $2",
                error[:500],
                alert_id,
            )

    async def hold_alerts(self, channel: Channel, reason: str, now: datetime) -> int:
        async with self.db.transaction() as conn:
            return changed(
                await conn.execute(
                    "UPDATE outbox SET status = 'held', held_reason = $4, held_at = $5"
                    f" WHERE {_CHANNEL} AND status = 'pending' AND kind = 'alert'"
                    " AND NOT maybe_sent",
                    *_key(channel),
                    reason,
                    now,
                )
            )

    async def held_channels(self) -> list[HeldChannel]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT platform, workspace, channel, COUNT(*) AS count,"
                " MIN(held_at) AS oldest FROM outbox WHERE status = 'held'"
                " GROUP BY platform, workspace, channel ORDER BY MIN(id)"
            )
        return [
            HeldChannel(
                Channel(r["platform"], r["workspace"], r["channel"]), r["count"], r["oldest"]
            )
            for r in rows
        ]

    async def held_alerts(self, channel: Channel) -> list[Alert]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                f"SELECT * FROM outbox WHERE {_CHANNEL} AND status = 'held' ORDER BY id",
                *_key(channel),
            )
        return [row_to_alert(r) for r in rows]

    async def fold_held(
        self, channel: Channel, digests: Sequence[tuple[Alert, Sequence[int]]], now: datetime
    ) -> int:
        folded = 0
        async with self.db.transaction() as conn:
            for digest, ids in digests:
                await insert_alerts(conn, [digest], now)
                digest_id = await conn.fetchval(
                    f"SELECT id FROM outbox WHERE {_CHANNEL} AND feed_id = $4 AND story_id = $5",
                    *_key(channel),
                    digest.feed_id,
                    digest.story_id,
                )
                assert digest_id is not None
                folded += changed(
                    await conn.execute(
                        "UPDATE outbox SET status = 'folded', digest_id = $4"
                        f" WHERE {_CHANNEL} AND status = 'held' AND id = ANY($5::bigint[])",
                        *_key(channel),
                        digest_id,
                        list(ids),
                    )
                )
        return folded

    async def release_held(self, channel: Channel, alert_ids: Sequence[int]) -> int:
        async with self.db.transaction() as conn:
            return changed(
                await conn.execute(
                    "UPDATE outbox SET status = 'pending', held_reason = NULL"
                    f" WHERE {_CHANNEL} AND status = 'held' AND id = ANY($4::bigint[])",
                    *_key(channel),
                    list(alert_ids),
                )
            )

    async def count_sent(self, channel: Channel, since: datetime) -> int:
        async with self.db.reading() as conn:
            count: int = await conn.fetchval(
                f"SELECT COUNT(*) FROM outbox WHERE {_CHANNEL} AND sent_at > $4",
                *_key(channel),
                since,
            )
        return count

    async def park_channel(self, channel: Channel, reason: str) -> int:
        async with self.db.transaction() as conn:
            return changed(
                await conn.execute(
                    "UPDATE outbox SET status = 'paused', last_error = $4"
                    f" WHERE {_CHANNEL} AND status IN ('pending', 'held')",
                    *_key(channel),
                    reason[:500],
                )
            )

    async def unpark_channel(self, channel: Channel, now: datetime) -> int:
        async with self.db.transaction() as conn:
            return changed(
                await conn.execute(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = $4,"
                    f" held_reason = NULL WHERE {_CHANNEL} AND status = 'paused'",
                    *_key(channel),
                    now,
                )
            )

    async def delivery_status(self, channel: Channel) -> ChannelDeliveryStatus:
        async with self.db.reading() as conn:
            counts = {
                r[0]: r[1]
                for r in await conn.fetch(
                    f"SELECT status, COUNT(*) FROM outbox WHERE {_CHANNEL} GROUP BY status",
                    *_key(channel),
                )
            }
            last_sent = await conn.fetchval(
                f"SELECT MAX(sent_at) FROM outbox WHERE {_CHANNEL} AND status = 'sent'",
                *_key(channel),
            )
            head = await conn.fetchrow(
                f"SELECT next_attempt_at, last_error FROM outbox WHERE {_CHANNEL}"
                " AND status IN ('pending', 'paused') ORDER BY id LIMIT 1",
                *_key(channel),
            )
        return ChannelDeliveryStatus(
            pending=counts.get("pending", 0),
            held=counts.get("held", 0),
            paused=counts.get("paused", 0),
            last_sent_at=last_sent,
            next_attempt_at=head[0] if head else None,
            last_error=head[1] if head else None,
            rejected=counts.get("rejected", 0),
        )
