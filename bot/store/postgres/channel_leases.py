"""Channel leases on PostgreSQL: one process at a time sends a channel's alerts.

A claim upserts the lease row of each channel with a due head: a row held by another
owner and not expired is left alone (ON CONFLICT ... WHERE), and a second claim racing
for the same row waits for the first to commit, then sees its lease and skips it, so two
processes get disjoint channels. Rows are upserted in channel order, so two claims lock
them in the same order and never deadlock. A released lease keeps its row (expired,
token kept), so every new token is greater than any handed out before. A lease whose
owner's process is gone is taken over at once (liveness.py), not when it expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from bot.core.models import Channel
from bot.core.ports import ChannelClaim, Delivery, Lease, LeaseLost
from bot.store.postgres.database import PgDatabase, changed
from bot.store.postgres.liveness import gone
from bot.store.postgres.outbox import row_to_alert

_CLAIM = (
    "WITH heads AS (SELECT DISTINCT ON (platform, workspace, channel) platform, workspace,"
    " channel, id, next_attempt_at FROM outbox"
    " WHERE status = 'pending' AND platform = ANY($1::text[])"
    " ORDER BY platform, workspace, channel, id),"
    " due AS (SELECT h.platform, h.workspace, h.channel, h.id FROM heads h"
    " LEFT JOIN channel_leases l ON l.platform = h.platform AND l.workspace = h.workspace"
    " AND l.channel = h.channel"
    " WHERE h.next_attempt_at <= $2 AND (l.owner IS NULL OR l.owner = $3 OR l.expires_at <= $2"
    f" OR {gone('l.owner')})"
    " ORDER BY h.id LIMIT $4)"
    " INSERT INTO channel_leases (platform, workspace, channel, owner, token, expires_at)"
    " SELECT platform, workspace, channel, $3, 1, $5 FROM due"
    " ORDER BY platform, workspace, channel"
    " ON CONFLICT (platform, workspace, channel) DO UPDATE"
    " SET owner = excluded.owner, token = channel_leases.token + 1,"
    " expires_at = excluded.expires_at"
    " WHERE channel_leases.owner = $3 OR channel_leases.expires_at <= $2"
    f" OR {gone('channel_leases.owner')}"
    " RETURNING platform, workspace, channel, token"
)
_DUE = (
    "WITH mine AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS m(p, w, c))"
    " UPDATE outbox o SET claimed_by = $6, claimed_until = $7 FROM ("
    " SELECT id FROM (SELECT o2.id, o2.next_attempt_at, ROW_NUMBER() OVER"
    " (PARTITION BY o2.platform, o2.workspace, o2.channel ORDER BY o2.id) AS n"
    " FROM outbox o2 JOIN mine ON o2.platform = mine.p AND o2.workspace = mine.w"
    " AND o2.channel = mine.c WHERE o2.status = 'pending') numbered"
    " WHERE n <= $4 AND next_attempt_at <= $5) due WHERE o.id = due.id RETURNING o.*"
)


def _delivery(row: asyncpg.Record) -> Delivery:
    # created_at: first seen, for newsbot_alert_latency_seconds
    return Delivery(row_to_alert(row), row["attempts"], row["maybe_sent"], row["created_at"])


class PgChannelLeases:
    db: PgDatabase

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
        until = now + lease_for
        await self.db.alive(owner)
        async with self.db.transaction() as conn:
            taken = await conn.fetch(_CLAIM, list(platforms), now, owner, limit, until)
            if not taken:
                return []
            rows = await conn.fetch(
                _DUE,
                [r[0] for r in taken],
                [r[1] for r in taken],
                [r[2] for r in taken],
                per_channel,
                now,
                owner,
                until,
            )
        due: dict[tuple[str, str, str], list[asyncpg.Record]] = {}
        for row in sorted(rows, key=lambda r: r["id"]):
            due.setdefault((row["platform"], row["workspace"], row["channel"]), []).append(row)
        tokens = {(r[0], r[1], r[2]): r[3] for r in taken}
        # Channels in the order of their oldest alert, as due_deliveries gives them.
        return [
            ChannelClaim(
                Channel(*key), Lease(owner, tokens[key], until), tuple(_delivery(r) for r in found)
            )
            for key, found in due.items()
        ]

    async def mark_claimed_in_flight(
        self, alert_id: int, now: datetime, lease: Lease, lease_for: timedelta
    ) -> bool:
        async with self.db.transaction() as conn:
            renewed = await conn.execute(
                "UPDATE channel_leases l SET expires_at = $1 FROM outbox o"
                " WHERE o.id = $2 AND l.platform = o.platform AND l.workspace = o.workspace"
                " AND l.channel = o.channel AND l.token = $3 AND l.owner = $4",
                now + lease_for,
                alert_id,
                lease.token,
                lease.owner,
            )
            if changed(renewed) == 0:
                raise LeaseLost(f"alert {alert_id}: the channel's lease was taken over")
            marked = await conn.execute(
                "UPDATE outbox SET maybe_sent = TRUE, in_flight_at = $1, attempts = attempts + 1,"
                " claimed_by = $2, claimed_until = $3 WHERE id = $4 AND status = 'pending'",
                now,
                lease.owner,
                now + lease_for,
                alert_id,
            )
            return changed(marked) > 0

    async def release_channel(self, channel: Channel, lease: Lease) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE channel_leases SET expires_at = '-infinity' WHERE platform = $1"
                " AND workspace = $2 AND channel = $3 AND token = $4",
                channel.platform,
                channel.workspace,
                channel.channel,
                lease.token,
            )
