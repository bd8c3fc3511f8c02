"""FeedStore on PostgreSQL: the feed list, who uses each feed, conditional-GET state, health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg

from bot.core.models import Alert, Channel, Feed
from bot.core.ports import FetchState, Lease, LeaseLost
from bot.store.postgres.database import PgDatabase, changed
from bot.store.postgres.outbox import insert_alerts

if TYPE_CHECKING:
    from bot.store.postgres.database import Conn


def _row_to_feed(row: asyncpg.Record) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        trusted=row["trusted"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        primed=row["primed"],
        failures=row["failures"],
        last_error=row["last_error"],
        failing_since=row["failing_since"],
        paused=row["paused"],
        paused_at=row["paused_at"],
        last_checked_at=row["last_checked_at"],
        content_hash=row["content_hash"],
        ttl_seconds=row["ttl_seconds"],
    )


_SUCCESS = (
    "UPDATE feeds SET etag = $1, last_modified = $2, next_check_at = $3, last_checked_at = $4,"
    " title = COALESCE($5, title), content_hash = COALESCE($6, content_hash),"
    " ttl_seconds = COALESCE($7, ttl_seconds), failures = 0, failing_since = NULL,"
    " last_error = NULL WHERE id = $8"
)
_FAILURE = (
    "UPDATE feeds SET next_check_at = $1, last_checked_at = $2, failures = failures + 1,"
    " failing_since = COALESCE(failing_since, $2), last_error = $3 WHERE id = $4"
)


def _success_row(feed_id: int, s: FetchState, now: datetime) -> tuple[object, ...]:
    return (
        s.etag,
        s.last_modified,
        s.next_check_at,
        now,
        s.title,
        s.content_hash,
        s.ttl_seconds,
        feed_id,
    )


def _failure_row(feed_id: int, s: FetchState, now: datetime) -> tuple[object, ...]:
    return (s.next_check_at, now, (s.error or "")[:500], feed_id)


async def write_fetch_states(
    conn: Conn, states: Sequence[tuple[int, FetchState]], now: datetime
) -> None:
    """Record fetch results (feed id, state) inside the caller's transaction. executemany
    pipelines the rows: a poll cycle of a thousand unchanged feeds is one round trip and
    one commit, not a thousand."""
    ok = [_success_row(i, s, now) for i, s in states if s.error is None]
    failed = [_failure_row(i, s, now) for i, s in states if s.error is not None]
    if ok:
        await conn.executemany(_SUCCESS, ok)
    if failed:
        await conn.executemany(_FAILURE, failed)


async def check_feed_lease(conn: Conn, feed_id: int, lease: Lease) -> None:
    """LeaseLost unless `lease` is still the feed's: another owner claimed the feed since,
    and its newer result must stand. The row stays locked until the caller's transaction
    ends, so no claim can take the feed over in between."""
    token = await conn.fetchval("SELECT lease_token FROM feeds WHERE id = $1 FOR UPDATE", feed_id)
    if token != lease.token:
        raise LeaseLost(f"feed {feed_id}: the lease of {lease.owner} was taken over")


class PgFeeds:
    db: PgDatabase

    async def add_feed(self, url: str, *, trusted: bool, added_by: str | None) -> Feed:
        """Add a feed, or return the existing one with that URL (one fetch per URL)."""
        now = datetime.now(UTC)
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO feeds (url, trusted, added_by, added_at, next_check_at)"
                " VALUES ($1, $2, $3, $4, $4) ON CONFLICT (url) DO UPDATE"
                " SET trusted = feeds.trusted OR excluded.trusted RETURNING *",
                url,
                trusted,
                added_by,
                now,
            )
        assert row is not None
        return _row_to_feed(row)

    async def list_feeds(self) -> list[Feed]:
        async with self.db.reading() as conn:
            return [_row_to_feed(r) for r in await conn.fetch("SELECT * FROM feeds ORDER BY id")]

    async def get_feed(self, feed_id: int) -> Feed | None:
        async with self.db.reading() as conn:
            row = await conn.fetchrow("SELECT * FROM feeds WHERE id = $1", feed_id)
        return _row_to_feed(row) if row is not None else None

    async def find_feed(self, ref: str) -> Feed | None:
        ref = ref.strip()
        number = ref.removeprefix("#")
        if number.isdigit():
            if int(number) >= 2**63:
                return None  # beyond any id (and any BIGINT)
            return await self.get_feed(int(number))
        async with self.db.reading() as conn:
            row = await conn.fetchrow("SELECT * FROM feeds WHERE url = $1", ref)
        return _row_to_feed(row) if row is not None else None

    async def due_feeds(self, now: datetime, limit: int) -> list[Feed]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM feeds WHERE NOT paused AND next_check_at <= $1"
                " ORDER BY next_check_at, id LIMIT $2",
                now,
                limit,
            )
        return [_row_to_feed(r) for r in rows]

    async def save_fetch_state(self, feed_id: int, state: FetchState, now: datetime) -> None:
        await self.save_fetch_states([(feed_id, state)], now)

    async def save_fetch_states(
        self, states: Sequence[tuple[int, FetchState]], now: datetime
    ) -> None:
        if not states:
            return
        async with self.db.transaction() as conn:
            await write_fetch_states(conn, states, now)

    async def pause_feed(
        self,
        feed_id: int,
        state: FetchState,
        notices: Sequence[Alert],
        now: datetime,
        *,
        lease: Lease | None = None,
    ) -> None:
        async with self.db.transaction() as conn:
            if lease is not None:
                await check_feed_lease(conn, feed_id, lease)
            await conn.execute(_FAILURE, *_failure_row(feed_id, state, now))
            await conn.execute(
                "UPDATE feeds SET paused = TRUE, paused_at = $1, lease_owner = NULL,"
                " lease_until = NULL WHERE id = $2",
                now,
                feed_id,
            )
            await insert_alerts(conn, notices, now)

    async def move_feed(self, feed_id: int, url: str) -> bool:
        try:
            async with self.db.transaction() as conn:
                status = await conn.execute(
                    "UPDATE feeds SET url = $1 WHERE id = $2"
                    " AND NOT EXISTS (SELECT 1 FROM feeds WHERE url = $1)",
                    url,
                    feed_id,
                )
        except asyncpg.UniqueViolationError:
            return False  # another feed took the URL at the same moment
        return changed(status) > 0

    async def resume_feed(self, feed_id: int, now: datetime) -> Feed | None:
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE feeds SET paused = FALSE, paused_at = NULL, failures = 0,"
                " failing_since = NULL, last_error = NULL, next_check_at = $1 WHERE id = $2"
                " RETURNING *",
                now,
                feed_id,
            )
        return _row_to_feed(row) if row is not None else None

    async def attach_feed(
        self, url: str, channel: Channel, *, added_by: str, title: str | None = None
    ) -> tuple[Feed, bool]:
        now = datetime.now(UTC)
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO feeds (url, title, trusted, added_by, added_at, next_check_at)"
                " VALUES ($1, $2, FALSE, $3, $4, $4) ON CONFLICT (url) DO NOTHING",
                url,
                title,
                added_by,
                now,
            )
            # Locked until commit: a detach of the feed's last channel at the same moment
            # waits, and so cannot delete the feed under this new attachment.
            row = await conn.fetchrow("SELECT * FROM feeds WHERE url = $1 FOR UPDATE", url)
            assert row is not None
            status = await conn.execute(
                "INSERT INTO feed_channels"
                " (feed_id, platform, workspace, channel, added_by, added_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                row["id"],
                channel.platform,
                channel.workspace,
                channel.channel,
                added_by,
                now,
            )
        return _row_to_feed(row), changed(status) > 0

    async def import_feed(
        self,
        url: str,
        *,
        title: str | None,
        operator: bool,
        channels: Sequence[Channel],
        added_by: str,
    ) -> tuple[Feed, bool]:
        now = datetime.now(UTC)
        async with self.db.transaction() as conn:
            inserted = await conn.fetchval(
                "INSERT INTO feeds (url, title, trusted, added_by, added_at, next_check_at)"
                " VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (url) DO NOTHING RETURNING id",
                url,
                title,
                operator,
                added_by,
                now,
            )
            if inserted is None:
                await conn.execute(
                    "UPDATE feeds SET title = COALESCE(title, $1), trusted = trusted OR $2"
                    " WHERE url = $3",
                    title,
                    operator,
                    url,
                )
            # Locked until commit, as in attach_feed: a detach cannot delete it meanwhile.
            row = await conn.fetchrow("SELECT * FROM feeds WHERE url = $1 FOR UPDATE", url)
            assert row is not None
            await conn.executemany(
                "INSERT INTO feed_channels"
                " (feed_id, platform, workspace, channel, added_by, added_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                [(row["id"], c.platform, c.workspace, c.channel, added_by, now) for c in channels],
            )
        return _row_to_feed(row), inserted is not None

    async def detach_feed(self, feed_id: int, channel: Channel) -> int | None:
        async with self.db.transaction() as conn:
            # One attach or detach of a feed at a time (SQLite has one writer at all): two
            # channels detaching at once would each count the other and leave it polled.
            await conn.execute("SELECT 1 FROM feeds WHERE id = $1 FOR UPDATE", feed_id)
            status = await conn.execute(
                "DELETE FROM feed_channels WHERE feed_id = $1 AND platform = $2"
                " AND workspace = $3 AND channel = $4",
                feed_id,
                channel.platform,
                channel.workspace,
                channel.channel,
            )
            if changed(status) == 0:
                return None
            left: int = await conn.fetchval(
                "SELECT COUNT(*) FROM feed_channels WHERE feed_id = $1", feed_id
            )
            if left == 0:
                # Nobody uses it any more: stop polling it (its seen set goes with it).
                await conn.execute("DELETE FROM feeds WHERE id = $1 AND NOT trusted", feed_id)
        return left

    async def feed_channels(self, feed_id: int) -> list[Channel]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT platform, workspace, channel FROM feed_channels WHERE feed_id = $1"
                " ORDER BY added_at, platform, workspace, channel",
                feed_id,
            )
        return [Channel(r[0], r[1], r[2]) for r in rows]

    async def channels_by_feed(self) -> dict[int, list[Channel]]:
        found: dict[int, list[Channel]] = {}
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT feed_id, platform, workspace, channel FROM feed_channels"
                " ORDER BY added_at, feed_id, platform, workspace, channel"
            )
        for r in rows:
            found.setdefault(r[0], []).append(Channel(r[1], r[2], r[3]))
        return found
