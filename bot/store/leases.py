"""Feed leases on SQLite: which process refreshes a due feed, fenced by a token.

SQLite serves one process, so a claim never meets another owner's lease in practice;
the same contract is kept (claims, fencing, the per-host count) so that the watcher runs
the same code on both backends and the contract suite checks both alike.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

import aiosqlite

from bot.core.ports import FeedClaim, FetchState, Lease
from bot.store.database import Database, from_db_time, to_db_time
from bot.store.feeds import _row_to_feed, write_fetch_states
from bot.store.fencing import fenced

# Due feeds not leased, numbered per host oldest first, beside the live leases of their
# host: a feed is taken when its number plus those leases stays within the cap.
_CLAIMABLE = (
    "SELECT id FROM (SELECT f.id, f.next_check_at,"
    " ROW_NUMBER() OVER (PARTITION BY f.host ORDER BY f.next_check_at, f.id) AS n,"
    " (SELECT COUNT(*) FROM feeds b WHERE b.host = f.host AND b.lease_until > :now) AS busy"
    " FROM feeds f WHERE f.paused = 0 AND f.next_check_at <= :now"
    " AND (f.lease_until IS NULL OR f.lease_until <= :now)"
    " AND f.id NOT IN (SELECT value FROM json_each(:exclude)))"
    " WHERE n + busy <= :per_host ORDER BY next_check_at, id LIMIT :limit"
)


def lease_of(row: aiosqlite.Row) -> Lease:
    until = from_db_time(row["lease_until"])
    assert until is not None
    return Lease(row["lease_owner"], row["lease_token"], until)


class SqliteFeedLeases:
    db: Database

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
        stamp = to_db_time(now)
        params = {
            "now": stamp,
            "per_host": per_host,
            "limit": limit,
            "exclude": json.dumps(sorted(exclude)),
        }
        async with self.db.transaction() as conn:
            async with conn.execute(_CLAIMABLE, params) as cur:
                ids = [r[0] for r in await cur.fetchall()]
            if not ids:
                return []
            async with conn.execute(
                "UPDATE feeds SET lease_owner = ?, lease_token = lease_token + 1,"
                " lease_until = ? WHERE id IN (SELECT value FROM json_each(?)) RETURNING *",
                (owner, to_db_time(now + lease_for), json.dumps(ids)),
            ) as cur:
                rows = {r["id"]: r for r in await cur.fetchall()}
        return [FeedClaim(_row_to_feed(rows[i]), lease_of(rows[i])) for i in ids]

    async def finish_feeds(
        self, results: Sequence[tuple[FeedClaim, FetchState]], now: datetime
    ) -> list[int]:
        if not results:
            return []
        stamp = to_db_time(now)
        ids = json.dumps([c.feed.id for c, _ in results])
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT id, lease_token FROM feeds WHERE id IN (SELECT value FROM json_each(?))",
                (ids,),
            ) as cur:
                tokens = {r[0]: r[1] for r in await cur.fetchall()}
            held, lost = fenced(results, tokens)
            await write_fetch_states(conn, [(c.feed.id, s) for c, s in held], stamp)
            await conn.execute(
                "UPDATE feeds SET lease_owner = NULL, lease_until = NULL"
                " WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([c.feed.id for c, _ in held]),),
            )
        return lost

    async def release_feeds(self, claims: Sequence[FeedClaim]) -> None:
        if not claims:
            return
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE feeds SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_token = ?",
                [(c.feed.id, c.lease.token) for c in claims],
            )


async def free_leases(db: Database) -> None:
    """Free every feed and channel lease: a SQLite file is one process's, so what it finds
    leased at start was held by the process before it (killed, say), and waiting for
    those leases to expire would only hold the restarted bot up. (On PostgreSQL other
    live processes hold leases: there they are taken over only once expired.)"""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE lease_until IS NOT NULL"
        )
        await conn.execute("UPDATE channel_leases SET expires_at = ''")
