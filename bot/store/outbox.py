"""OutboxStore on SQLite: pending alerts, oldest first per channel, until sent.

Statuses: pending -> sent; pending -> held -> folded (into a digest row) or pending
again; pending/held -> paused when the platform refuses the channel for good;
pending -> rejected when it refuses that one message for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from bot.core.models import Alert, Channel
from bot.core.ports import ChannelDeliveryStatus, Delivery, HeldChannel, OutboxDepth
from bot.store.database import Database, from_db_time, to_db_time
from bot.store.payload import decode_alert, encode_alert

_CHANNEL = "platform = ? AND workspace = ? AND channel = ?"
# The statuses still to be sent; the index on (status, ...) keeps sent history unread.
_DEPTH = (
    "SELECT platform, status, COUNT(*), MIN(created_at) FROM outbox"
    " WHERE status IN ('pending', 'held', 'paused') GROUP BY platform, status"
)


def _key(channel: Channel) -> tuple[str, str, str]:
    return (channel.platform, channel.workspace, channel.channel)


def _row_to_alert(row: aiosqlite.Row) -> Alert:
    channel = Channel(row["platform"], row["workspace"], row["channel"])
    return decode_alert(row["id"], channel, row["feed_id"], row["story_id"], row["payload"])


async def insert_alerts(conn: aiosqlite.Connection, alerts: Sequence[Alert], stamp: str) -> int:
    """INSERT OR IGNORE each alert into the outbox inside the caller's transaction."""
    queued = 0
    for a in alerts:
        cur = await conn.execute(
            "INSERT OR IGNORE INTO outbox (platform, workspace, channel, feed_id,"
            " story_id, payload, created_at, next_attempt_at, kind)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (
                *_key(a.channel),
                a.feed_id,
                a.story_id,
                encode_alert(a),
                stamp,
                stamp,
                a.kind,
            ),
        )
        queued += cur.rowcount
    return queued


class SqliteOutbox:
    db: Database

    async def queue_alerts(self, alerts: Sequence[Alert], now: datetime) -> int:
        async with self.db.transaction() as conn:
            return await insert_alerts(conn, alerts, to_db_time(now))

    async def pending_alerts(self, limit: int) -> list[Alert]:
        now = to_db_time(datetime.now(UTC))
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY id LIMIT ?",
                (now, limit),
            ) as cur,
        ):
            return [_row_to_alert(r) for r in await cur.fetchall()]

    async def outbox_depth(self) -> OutboxDepth:
        async with (
            self.db.reading() as conn,
            conn.execute(_DEPTH) as cur,
        ):
            rows = await cur.fetchall()
        oldest: dict[str, datetime] = {}
        for platform, status, _, first in rows:
            when = from_db_time(first)
            if status == "pending" and when is not None:
                oldest[platform] = when
        return OutboxDepth({(r[0], r[1]): r[2] for r in rows}, oldest)

    async def due_deliveries(
        self, now: datetime, platforms: Sequence[str], per_channel: int, limit: int
    ) -> list[Delivery]:
        if not platforms:
            return []
        marks = ",".join("?" * len(platforms))
        # Per channel: its pending rows numbered oldest first, and whether the oldest is
        # due. A channel waiting on a retry gives nothing, so order holds; the per-channel
        # cap keeps one flooded channel from starving the others.
        sql = (
            "SELECT * FROM ("
            " SELECT *, ROW_NUMBER() OVER w AS n, FIRST_VALUE(next_attempt_at) OVER w AS head"
            f" FROM outbox WHERE status = 'pending' AND platform IN ({marks})"
            " WINDOW w AS (PARTITION BY platform, workspace, channel ORDER BY id)"
            ") WHERE n <= ? AND head <= ? AND next_attempt_at <= ? ORDER BY id LIMIT ?"
        )
        stamp = to_db_time(now)
        async with (
            self.db.reading() as conn,
            conn.execute(sql, (*platforms, per_channel, stamp, stamp, limit)) as cur,
        ):
            return [
                Delivery(
                    _row_to_alert(r),
                    r["attempts"],
                    bool(r["maybe_sent"]),
                    from_db_time(r["created_at"]),
                )
                for r in await cur.fetchall()
            ]

    async def mark_in_flight(self, alert_id: int, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET maybe_sent = 1, in_flight_at = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (to_db_time(now), alert_id),
            )

    async def mark_sent(self, alert_id: int, remote_id: str | None, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, remote_id = ?, last_error = NULL"
                " WHERE id = ?",
                (to_db_time(now), remote_id, alert_id),
            )

    async def mark_failed(
        self, alert_id: int, error: str, retry_at: datetime, *, maybe_sent: bool = True
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET last_error = ?, next_attempt_at = ?, maybe_sent = ?"
                " WHERE id = ?",
                (error[:500], to_db_time(retry_at), int(maybe_sent), alert_id),
            )

    async def mark_rejected(self, alert_id: int, error: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'rejected', last_error = ?, maybe_sent = 0"
                " WHERE id = ?",
                (error[:500], alert_id),
            )

    async def hold_alerts(self, channel: Channel, reason: str, now: datetime) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET status = 'held', held_reason = ?, held_at = ?"
                f" WHERE {_CHANNEL} AND status = 'pending' AND kind = 'alert'"
                " AND maybe_sent = 0",
                (reason, to_db_time(now), *_key(channel)),
            )
            return cur.rowcount

    async def held_channels(self) -> list[HeldChannel]:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT platform, workspace, channel, COUNT(*) AS count,"
                " MIN(held_at) AS oldest FROM outbox WHERE status = 'held'"
                " GROUP BY platform, workspace, channel ORDER BY MIN(id)"
            ) as cur,
        ):
            rows = await cur.fetchall()
        held = []
        for r in rows:
            oldest = from_db_time(r["oldest"])
            assert oldest is not None
            channel = Channel(r["platform"], r["workspace"], r["channel"])
            held.append(HeldChannel(channel, r["count"], oldest))
        return held

    async def held_alerts(self, channel: Channel) -> list[Alert]:
        async with (
            self.db.reading() as conn,
            conn.execute(
                f"SELECT * FROM outbox WHERE {_CHANNEL} AND status = 'held' ORDER BY id",
                _key(channel),
            ) as cur,
        ):
            return [_row_to_alert(r) for r in await cur.fetchall()]

    async def fold_held(
        self, channel: Channel, digests: Sequence[tuple[Alert, Sequence[int]]], now: datetime
    ) -> int:
        stamp = to_db_time(now)
        folded = 0
        async with self.db.transaction() as conn:
            for digest, ids in digests:
                await insert_alerts(conn, [digest], stamp)
                async with conn.execute(
                    f"SELECT id FROM outbox WHERE {_CHANNEL} AND feed_id = ? AND story_id = ?",
                    (*_key(channel), digest.feed_id, digest.story_id),
                ) as cur:
                    row = await cur.fetchone()
                assert row is not None
                for alert_id in ids:
                    cur2 = await conn.execute(
                        "UPDATE outbox SET status = 'folded', digest_id = ?"
                        f" WHERE id = ? AND status = 'held' AND {_CHANNEL}",
                        (row["id"], alert_id, *_key(channel)),
                    )
                    folded += cur2.rowcount
        return folded

    async def release_held(self, channel: Channel, alert_ids: Sequence[int]) -> int:
        released = 0
        async with self.db.transaction() as conn:
            for alert_id in alert_ids:
                cur = await conn.execute(
                    "UPDATE outbox SET status = 'pending', held_reason = NULL"
                    f" WHERE id = ? AND status = 'held' AND {_CHANNEL}",
                    (alert_id, *_key(channel)),
                )
                released += cur.rowcount
        return released

    async def count_sent(self, channel: Channel, since: datetime) -> int:
        async with (
            self.db.reading() as conn,
            conn.execute(
                f"SELECT COUNT(*) FROM outbox WHERE {_CHANNEL} AND sent_at > ?",
                (*_key(channel), to_db_time(since)),
            ) as cur,
        ):
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def park_channel(self, channel: Channel, reason: str) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET status = 'paused', last_error = ?"
                f" WHERE {_CHANNEL} AND status IN ('pending', 'held')",
                (reason[:500], *_key(channel)),
            )
            return cur.rowcount

    async def unpark_channel(self, channel: Channel, now: datetime) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, held_reason = NULL"
                f" WHERE {_CHANNEL} AND status = 'paused'",
                (to_db_time(now), *_key(channel)),
            )
            return cur.rowcount

    async def delivery_status(self, channel: Channel) -> ChannelDeliveryStatus:
        async with self.db.reading() as conn:
            async with conn.execute(
                f"SELECT status, COUNT(*) FROM outbox WHERE {_CHANNEL} GROUP BY status",
                _key(channel),
            ) as cur:
                counts = {r[0]: r[1] for r in await cur.fetchall()}
            async with conn.execute(
                f"SELECT MAX(sent_at) FROM outbox WHERE {_CHANNEL} AND status = 'sent'",
                _key(channel),
            ) as cur:
                row = await cur.fetchone()
                last_sent = from_db_time(row[0]) if row else None
            async with conn.execute(
                f"SELECT next_attempt_at, last_error FROM outbox WHERE {_CHANNEL}"
                " AND status IN ('pending', 'paused') ORDER BY id LIMIT 1",
                _key(channel),
            ) as cur:
                head = await cur.fetchone()
        return ChannelDeliveryStatus(
            pending=counts.get("pending", 0),
            held=counts.get("held", 0),
            paused=counts.get("paused", 0),
            last_sent_at=last_sent,
            next_attempt_at=from_db_time(head[0]) if head else None,
            last_error=head[1] if head else None,
            rejected=counts.get("rejected", 0),
        )
