"""FeedStore on SQLite: the feed list, who uses each feed, conditional-GET state and health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from bot.core.models import Alert, Channel, Feed
from bot.core.ports import FetchState, Lease, LeaseLost
from bot.store.database import Database, from_db_time, to_db_time
from bot.store.outbox import insert_alerts


def _row_to_feed(row: aiosqlite.Row) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        trusted=bool(row["trusted"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        primed=bool(row["primed"]),
        failures=row["failures"],
        last_error=row["last_error"],
        failing_since=from_db_time(row["failing_since"]),
        paused=bool(row["paused"]),
        paused_at=from_db_time(row["paused_at"]),
        last_checked_at=from_db_time(row["last_checked_at"]),
        content_hash=row["content_hash"],
        ttl_seconds=row["ttl_seconds"],
    )


_SUCCESS = (
    "UPDATE feeds SET etag = ?, last_modified = ?, next_check_at = ?, last_checked_at = ?,"
    " title = COALESCE(?, title), content_hash = COALESCE(?, content_hash),"
    " ttl_seconds = COALESCE(?, ttl_seconds), failures = 0, failing_since = NULL,"
    " last_error = NULL WHERE id = ?"
)
_FAILURE = (
    "UPDATE feeds SET next_check_at = ?, last_checked_at = ?, failures = failures + 1,"
    " failing_since = COALESCE(failing_since, ?), last_error = ? WHERE id = ?"
)


def _success_row(feed_id: int, s: FetchState, stamp: str) -> tuple[object, ...]:
    return (
        s.etag,
        s.last_modified,
        to_db_time(s.next_check_at),
        stamp,
        s.title,
        s.content_hash,
        s.ttl_seconds,
        feed_id,
    )


def _failure_row(feed_id: int, s: FetchState, stamp: str) -> tuple[object, ...]:
    return (to_db_time(s.next_check_at), stamp, stamp, (s.error or "")[:500], feed_id)


async def write_fetch_states(
    conn: aiosqlite.Connection, states: Sequence[tuple[int, FetchState]], stamp: str
) -> None:
    """Record fetch results (feed id, state) inside the caller's transaction. executemany:
    a poll cycle of a thousand unchanged feeds is one statement and one commit, not a
    thousand."""
    ok = [_success_row(i, s, stamp) for i, s in states if s.error is None]
    failed = [_failure_row(i, s, stamp) for i, s in states if s.error is not None]
    if ok:
        await conn.executemany(_SUCCESS, ok)
    if failed:
        await conn.executemany(_FAILURE, failed)


async def check_feed_lease(conn: aiosqlite.Connection, feed_id: int, lease: Lease) -> None:
    """LeaseLost unless `lease` is still the feed's (inside the writer's transaction):
    another owner claimed the feed since, and its newer result must stand."""
    async with conn.execute("SELECT lease_token FROM feeds WHERE id = ?", (feed_id,)) as cur:
        row = await cur.fetchone()
    if row is None or row[0] != lease.token:
        raise LeaseLost(f"feed {feed_id}: the lease of {lease.owner} was taken over")


class SqliteFeeds:
    db: Database

    async def add_feed(self, url: str, *, trusted: bool, added_by: str | None) -> Feed:
        """Add a feed, or return the existing one with that URL (one fetch per URL)."""
        now = to_db_time(datetime.now(UTC))
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO feeds (url, trusted, added_by, added_at, next_check_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE"
                " SET trusted = MAX(trusted, excluded.trusted)",
                (url, int(trusted), added_by, now, now),
            )
            async with conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)) as cur:
                row = await cur.fetchone()
        assert row is not None
        return _row_to_feed(row)

    async def list_feeds(self) -> list[Feed]:
        async with (
            self.db.reading() as conn,
            conn.execute("SELECT * FROM feeds ORDER BY id") as cur,
        ):
            return [_row_to_feed(r) for r in await cur.fetchall()]

    async def get_feed(self, feed_id: int) -> Feed | None:
        async with (
            self.db.reading() as conn,
            conn.execute("SELECT * FROM feeds WHERE id = ?", (feed_id,)) as cur,
        ):
            row = await cur.fetchone()
        return _row_to_feed(row) if row is not None else None

    async def find_feed(self, ref: str) -> Feed | None:
        ref = ref.strip()
        number = ref.removeprefix("#")
        if number.isdigit():
            return await self.get_feed(int(number))
        async with (
            self.db.reading() as conn,
            conn.execute("SELECT * FROM feeds WHERE url = ?", (ref,)) as cur,
        ):
            row = await cur.fetchone()
        return _row_to_feed(row) if row is not None else None

    async def due_feeds(self, now: datetime, limit: int) -> list[Feed]:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT * FROM feeds WHERE paused = 0 AND next_check_at <= ?"
                " ORDER BY next_check_at LIMIT ?",
                (to_db_time(now), limit),
            ) as cur,
        ):
            return [_row_to_feed(r) for r in await cur.fetchall()]

    async def save_fetch_state(self, feed_id: int, state: FetchState, now: datetime) -> None:
        await self.save_fetch_states([(feed_id, state)], now)

    async def save_fetch_states(
        self, states: Sequence[tuple[int, FetchState]], now: datetime
    ) -> None:
        if not states:
            return
        async with self.db.transaction() as conn:
            await write_fetch_states(conn, states, to_db_time(now))

    async def pause_feed(
        self,
        feed_id: int,
        state: FetchState,
        notices: Sequence[Alert],
        now: datetime,
        *,
        lease: Lease | None = None,
    ) -> None:
        stamp = to_db_time(now)
        async with self.db.transaction() as conn:
            if lease is not None:
                await check_feed_lease(conn, feed_id, lease)
            await conn.execute(_FAILURE, _failure_row(feed_id, state, stamp))
            await conn.execute(
                "UPDATE feeds SET paused = 1, paused_at = ?, lease_owner = NULL,"
                " lease_until = NULL WHERE id = ?",
                (stamp, feed_id),
            )
            await insert_alerts(conn, notices, stamp)

    async def move_feed(self, feed_id: int, url: str) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE feeds SET url = ? WHERE id = ?"
                " AND NOT EXISTS (SELECT 1 FROM feeds WHERE url = ?)",
                (url, feed_id, url),
            )
            return cur.rowcount > 0

    async def resume_feed(self, feed_id: int, now: datetime) -> Feed | None:
        stamp = to_db_time(now)
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE feeds SET paused = 0, paused_at = NULL, failures = 0,"
                " failing_since = NULL, last_error = NULL, next_check_at = ? WHERE id = ?",
                (stamp, feed_id),
            )
            async with conn.execute("SELECT * FROM feeds WHERE id = ?", (feed_id,)) as cur:
                row = await cur.fetchone()
        return _row_to_feed(row) if row is not None else None

    async def attach_feed(
        self, url: str, channel: Channel, *, added_by: str, title: str | None = None
    ) -> tuple[Feed, bool]:
        stamp = to_db_time(datetime.now(UTC))
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO feeds (url, title, trusted, added_by, added_at, next_check_at)"
                " VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT (url) DO NOTHING",
                (url, title, added_by, stamp, stamp),
            )
            async with conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)) as cur:
                row = await cur.fetchone()
            assert row is not None
            cur = await conn.execute(
                "INSERT OR IGNORE INTO feed_channels"
                " (feed_id, platform, workspace, channel, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (row["id"], channel.platform, channel.workspace, channel.channel, added_by, stamp),
            )
            attached = cur.rowcount > 0
        return _row_to_feed(row), attached

    async def import_feed(
        self,
        url: str,
        *,
        title: str | None,
        operator: bool,
        channels: Sequence[Channel],
        added_by: str,
    ) -> tuple[Feed, bool]:
        stamp = to_db_time(datetime.now(UTC))
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO feeds (url, title, trusted, added_by, added_at, next_check_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING",
                (url, title, int(operator), added_by, stamp, stamp),
            )
            created = cur.rowcount > 0
            if not created:
                await conn.execute(
                    "UPDATE feeds SET title = COALESCE(title, ?), trusted = MAX(trusted, ?)"
                    " WHERE url = ?",
                    (title, int(operator), url),
                )
            async with conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)) as found:
                row = await found.fetchone()
            assert row is not None
            await conn.executemany(
                "INSERT OR IGNORE INTO feed_channels"
                " (feed_id, platform, workspace, channel, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (row["id"], c.platform, c.workspace, c.channel, added_by, stamp)
                    for c in channels
                ],
            )
        return _row_to_feed(row), created

    async def detach_feed(self, feed_id: int, channel: Channel) -> int | None:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM feed_channels WHERE feed_id = ? AND platform = ?"
                " AND workspace = ? AND channel = ?",
                (feed_id, channel.platform, channel.workspace, channel.channel),
            )
            if cur.rowcount == 0:
                return None
            async with conn.execute(
                "SELECT COUNT(*) FROM feed_channels WHERE feed_id = ?", (feed_id,)
            ) as count_cur:
                row = await count_cur.fetchone()
            left = int(row[0]) if row else 0
            if left == 0:
                # Nobody uses it any more: stop polling it (its seen set goes with it).
                await conn.execute("DELETE FROM feeds WHERE id = ? AND trusted = 0", (feed_id,))
        return left

    async def feed_channels(self, feed_id: int) -> list[Channel]:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT platform, workspace, channel FROM feed_channels WHERE feed_id = ?"
                " ORDER BY added_at, platform, workspace, channel",
                (feed_id,),
            ) as cur,
        ):
            return [Channel(r[0], r[1], r[2]) for r in await cur.fetchall()]

    async def channels_by_feed(self) -> dict[int, list[Channel]]:
        found: dict[int, list[Channel]] = {}
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT feed_id, platform, workspace, channel FROM feed_channels ORDER BY added_at"
            ) as cur,
        ):
            for r in await cur.fetchall():
                found.setdefault(r[0], []).append(Channel(r[1], r[2], r[3]))
        return found
