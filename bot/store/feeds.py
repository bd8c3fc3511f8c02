"""FeedStore on SQLite: the feed list, its conditional-GET state and health."""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite

from bot.core.models import Feed
from bot.core.ports import FetchState
from bot.store.database import Database, from_db_time, to_db_time


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
    )


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
        async with self.db.transaction() as conn:
            if state.error is None:
                await conn.execute(
                    "UPDATE feeds SET etag = ?, last_modified = ?, next_check_at = ?,"
                    " last_checked_at = ?, title = COALESCE(?, title), failures = 0,"
                    " failing_since = NULL, last_error = NULL WHERE id = ?",
                    (
                        state.etag,
                        state.last_modified,
                        to_db_time(state.next_check_at),
                        to_db_time(now),
                        state.title,
                        feed_id,
                    ),
                )
            else:
                await conn.execute(
                    "UPDATE feeds SET next_check_at = ?, last_checked_at = ?,"
                    " failures = failures + 1, failing_since = COALESCE(failing_since, ?),"
                    " last_error = ? WHERE id = ?",
                    (
                        to_db_time(state.next_check_at),
                        to_db_time(now),
                        to_db_time(now),
                        state.error,
                        feed_id,
                    ),
                )
