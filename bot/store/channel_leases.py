"""Channel leases on SQLite: which process sends a channel's alerts.

One process serves a SQLite file, so its claims never meet another owner's; the
contract is kept so that delivery runs the same code on both backends. A released lease
keeps its row (expired, its token kept): a new claim's token must be greater than any
handed out before, or a stalled process's old token could match again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import aiosqlite

from bot.core.models import Channel
from bot.core.ports import ChannelClaim, Delivery, Lease, LeaseLost
from bot.store.database import Database, from_db_time, to_db_time
from bot.store.outbox import _row_to_alert

_KEY = "platform = ? AND workspace = ? AND channel = ?"
# Earlier than any to_db_time() stamp: a released lease.
_EXPIRED = ""

# Channels whose oldest pending alert is due and that no other owner holds: the oldest
# heads first, so a channel waiting long is served first.
_CLAIMABLE = (
    "SELECT h.platform, h.workspace, h.channel FROM ("
    " SELECT platform, workspace, channel, MIN(id) AS head FROM outbox"
    " WHERE status = 'pending' AND platform IN (SELECT value FROM json_each(?))"
    " GROUP BY platform, workspace, channel) h"
    " JOIN outbox o ON o.id = h.head"
    " LEFT JOIN channel_leases l ON l.platform = h.platform AND l.workspace = h.workspace"
    " AND l.channel = h.channel"
    " WHERE o.next_attempt_at <= ? AND (l.owner IS NULL OR l.owner = ? OR l.expires_at <= ?)"
    " ORDER BY h.head LIMIT ?"
)
_TAKE = (
    "INSERT INTO channel_leases (platform, workspace, channel, owner, token, expires_at)"
    " VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (platform, workspace, channel) DO UPDATE"
    " SET owner = excluded.owner, token = channel_leases.token + 1,"
    " expires_at = excluded.expires_at RETURNING token"
)
_DUE = (
    "SELECT * FROM (SELECT *, ROW_NUMBER() OVER"
    " (PARTITION BY platform, workspace, channel ORDER BY id) AS n FROM outbox"
    " WHERE status = 'pending' AND platform || char(31) || workspace || char(31) || channel"
    " IN (SELECT value FROM json_each(?))) WHERE n <= ? AND next_attempt_at <= ? ORDER BY id"
)


def _joined(key: tuple[str, str, str]) -> str:
    return "\x1f".join(key)


def _key(channel: Channel) -> tuple[str, str, str]:
    return (channel.platform, channel.workspace, channel.channel)


def _delivery(row: aiosqlite.Row) -> Delivery:
    return Delivery(
        _row_to_alert(row),
        row["attempts"],
        bool(row["maybe_sent"]),
        from_db_time(row["created_at"]),  # first seen: newsbot_alert_latency_seconds
    )


class SqliteChannelLeases:
    db: Database

    async def claim_channels(
        self,
        owner: str,
        now: datetime,
        platforms: Sequence[str],
        *,
        per_channel: int,
        limit: int,
        lease_for: timedelta,
    ) -> list[ChannelClaim]:
        if not platforms or limit <= 0:
            return []
        stamp, until = to_db_time(now), now + lease_for
        async with self.db.transaction() as conn:
            async with conn.execute(
                _CLAIMABLE, (json.dumps(list(platforms)), stamp, owner, stamp, limit)
            ) as cur:
                keys = [(r[0], r[1], r[2]) for r in await cur.fetchall()]
            if not keys:
                return []
            leases: dict[tuple[str, str, str], Lease] = {}
            for key in keys:
                async with conn.execute(_TAKE, (*key, owner, to_db_time(until))) as cur:
                    row = await cur.fetchone()
                assert row is not None
                leases[key] = Lease(owner, row[0], until)
            async with conn.execute(
                _DUE, (json.dumps([_joined(k) for k in keys]), per_channel, stamp)
            ) as cur:
                rows = list(await cur.fetchall())
            await conn.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ?"
                " WHERE id IN (SELECT value FROM json_each(?))",
                (owner, to_db_time(until), json.dumps([r["id"] for r in rows])),
            )
        due: dict[tuple[str, str, str], list[Delivery]] = {k: [] for k in keys}
        for row in rows:
            due[(row["platform"], row["workspace"], row["channel"])].append(_delivery(row))
        return [ChannelClaim(Channel(*k), leases[k], tuple(due[k])) for k in keys if due[k]]

    async def mark_claimed_in_flight(
        self, alert_id: int, now: datetime, lease: Lease, lease_for: timedelta
    ) -> bool:
        stamp = to_db_time(now)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE channel_leases SET expires_at = ? WHERE token = ? AND owner = ?"
                " AND (platform, workspace, channel) ="
                " (SELECT platform, workspace, channel FROM outbox WHERE id = ?)",
                (to_db_time(now + lease_for), lease.token, lease.owner, alert_id),
            )
            if cur.rowcount == 0:
                raise LeaseLost(f"alert {alert_id}: the channel's lease was taken over")
            cur = await conn.execute(
                "UPDATE outbox SET maybe_sent = 1, in_flight_at = ?, attempts = attempts + 1,"
                " claimed_by = ?, claimed_until = ? WHERE id = ? AND status = 'pending'",
                (stamp, lease.owner, to_db_time(now + lease_for), alert_id),
            )
            return cur.rowcount > 0

    async def release_channel(self, channel: Channel, lease: Lease) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                f"UPDATE channel_leases SET expires_at = ? WHERE {_KEY} AND token = ?",
                (_EXPIRED, *_key(channel), lease.token),
            )
