"""Feed leases on PostgreSQL: which of several processes refreshes a due feed.

A claim takes due feeds no one holds (or whose lease expired: their process died or
stalled) with FOR UPDATE SKIP LOCKED, and stamps each with the owner, a new fencing token
and an expiry. Claims take turns under a transaction-level advisory lock: each counts the
live leases per host after the previous claim committed, so the per-host cap holds for
the whole fleet; a claim is one short statement, so the turn costs little. A lease whose
owner's process is gone is taken over at once (liveness.py), not when it expires.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from bot.core.ports import FeedClaim, FetchState, Lease
from bot.store.fencing import fenced
from bot.store.postgres.database import CLAIM_LOCK, SCHEMA_KEY, PgDatabase
from bot.store.postgres.feeds import _row_to_feed, write_fetch_states
from bot.store.postgres.liveness import gone

# Owners with unexpired leases whose process is gone (liveness.py): their leases count
# for nothing and are taken over now.
_CLAIM = (
    "WITH gone AS (SELECT o.owner FROM (SELECT DISTINCT lease_owner AS owner FROM feeds"
    f" WHERE lease_until > $1 AND lease_owner <> $4) o WHERE {gone('o.owner')}),"
    " busy AS (SELECT host, COUNT(*) AS n FROM feeds WHERE lease_until > $1"
    " AND lease_owner NOT IN (SELECT owner FROM gone) GROUP BY host),"
    " due AS (SELECT f.id, f.next_check_at, f.host, ROW_NUMBER() OVER"
    " (PARTITION BY f.host ORDER BY f.next_check_at, f.id) AS n FROM feeds f"
    " WHERE NOT f.paused AND f.next_check_at <= $1 AND (f.lease_until IS NULL"
    " OR f.lease_until <= $1 OR f.lease_owner IN (SELECT owner FROM gone))"
    " AND NOT (f.id = ANY($6::bigint[]))),"
    " pick AS (SELECT due.id FROM due LEFT JOIN busy ON busy.host = due.host"
    " WHERE due.n + COALESCE(busy.n, 0) <= $2 ORDER BY due.next_check_at, due.id LIMIT $3),"
    " locked AS (SELECT id FROM feeds WHERE id IN (SELECT id FROM pick)"
    " FOR UPDATE SKIP LOCKED)"
    " UPDATE feeds f SET lease_owner = $4, lease_token = f.lease_token + 1, lease_until = $5"
    " FROM locked WHERE f.id = locked.id RETURNING f.*"
)


class PgFeedLeases:
    db: PgDatabase

    async def claim_feeds(
        self,
        owner: str,
        now: datetime,
        *,
        limit: int,
        lease_for: timedelta,
        per_host: int,
        exclude: Collection[int] = (),
    ) -> list[FeedClaim]:
        if limit <= 0:
            return []
        await self.db.alive(owner)
        async with self.db.transaction() as conn:
            await conn.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_KEY}, {CLAIM_LOCK})")
            rows = await conn.fetch(
                _CLAIM, now, per_host, limit, owner, now + lease_for, sorted(exclude)
            )
        rows = sorted(rows, key=lambda r: (r["next_check_at"], r["id"]))
        return [
            FeedClaim(_row_to_feed(r), Lease(r["lease_owner"], r["lease_token"], r["lease_until"]))
            for r in rows
        ]

    async def finish_feeds(
        self, results: Sequence[tuple[FeedClaim, FetchState]], now: datetime
    ) -> list[int]:
        if not results:
            return []
        async with self.db.transaction() as conn:
            # Locked in id order (as every multi-row lock here), so two finishes never
            # wait on each other in a circle.
            rows = await conn.fetch(
                "SELECT id, lease_token FROM feeds WHERE id = ANY($1::bigint[])"
                " ORDER BY id FOR UPDATE",
                [c.feed.id for c, _ in results],
            )
            tokens = {r[0]: r[1] for r in rows}
            held, lost = fenced(results, tokens)
            await write_fetch_states(conn, [(c.feed.id, s) for c, s in held], now)
            await conn.execute(
                "UPDATE feeds SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = ANY($1::bigint[])",
                [c.feed.id for c, _ in held],
            )
        return lost

    async def release_feeds(self, claims: Sequence[FeedClaim]) -> None:
        if not claims:
            return
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE feeds SET lease_owner = NULL, lease_until = NULL"
                " WHERE (id, lease_token) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
                [c.feed.id for c in claims],
                [c.lease.token for c in claims],
            )
